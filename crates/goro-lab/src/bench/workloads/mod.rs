//! The workloads of `goro bench`, one file per workload name. Each file holds the
//! workload's definition (its entry in [`WORKLOADS`]: name, what one run does, size), goro's
//! version, and, where the workload makes sense for them, its twins on crossbeam-channel with
//! OS threads and on tokio's multi-thread runtime. The Go twin has the same name in
//! `benches/go`. Changing a workload means changing its file and its Go twin.
//!
//! CPU work in the real-program shapes is a spin on the wall clock ([`spin_for`]), so that
//! one job costs the same in Rust and in Go whatever the compilers make of a loop, and the
//! ideal wall time is known: jobs x job length / workers.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crossbeam_channel::bounded;
use goro::context::Context;
use goro::sync::WaitGroup;
use goro::{chan, go, Sender};
use tokio::sync::{mpsc, watch};

pub use super::Measure;

mod hog_latency;
mod longlived8;
mod mpmc4x4_b128;
mod nonblock_select_race;
mod parked1m;
mod pingpong;
mod pool_unbuf;
mod ring503;
mod select2_b64;
mod sieve5000;
mod skynet1m;
mod spawn;
mod spsc;

pub use hog_latency::{on_goro as hog_latency, SLEEPERS};
pub use longlived8::{on_goro as longlived8, LONG_WORK};
pub use mpmc4x4_b128::on_goro as mpmc4x4_b128;
pub use nonblock_select_race::on_goro as nonblock_select_race;
pub use parked1m::on_goro as parked;
pub use pingpong::on_goro as pingpong;
pub use pingpong::on_tokio as pingpong_on_tokio;
pub use pool_unbuf::{on_goro as pool_unbuf, POOL, POOL_JOB};
pub use ring503::on_goro as ring503;
pub use select2_b64::on_goro as select2_b64;
pub use sieve5000::on_goro as sieve;
pub use skynet1m::on_goro as skynet;
pub use spawn::on_goro as spawn_wait;
pub use spsc::{on_goro as spsc, on_goro_b100 as spsc_b100, on_goro_unbuf as spsc_unbuf};

/// A peer's version of a workload: size in, (ops, elapsed) out.
pub(crate) type PeerRun = fn(u64) -> (u64, Duration);

/// tokio's version: size and workers in, (ops, elapsed, resident bytes per task) out.
pub(crate) type TokioRun = fn(u64, usize) -> (u64, Duration, Option<u64>);

/// One workload: its definition and every version of it.
pub(crate) struct Workload {
    pub(crate) name: &'static str,
    /// What one run does (in `--json`).
    pub(crate) note: &'static str,
    /// Where goro's version differs from the definition for now; printed on the line.
    pub(crate) caveat: Option<&'static str>,
    /// goro's version.
    pub(crate) run: fn(u64) -> Measure,
    /// The size of one full run.
    pub(crate) size: u64,
    /// crossbeam-channel on OS threads, with the factor its size is divided by: where every
    /// operation is a thread hand-off (a futex sleep and wake, microseconds) or a thread
    /// spawn, the full size would take minutes, so those run at 1/100 of it; the time per
    /// operation is what is compared.
    pub(crate) crossbeam: Option<(PeerRun, u64)>,
    /// tokio's multi-thread runtime.
    pub(crate) tokio: Option<TokioRun>,
}

/// Every workload, in the order `goro bench` runs them.
pub(crate) const WORKLOADS: &[Workload] = &[
    pingpong::PINGPONG,
    spsc::SPSC_UNBUF,
    spsc::SPSC_B100,
    mpmc4x4_b128::MPMC4X4_B128,
    spawn::SPAWN,
    skynet1m::SKYNET1M,
    select2_b64::SELECT2_B64,
    ring503::RING503,
    sieve5000::SIEVE5000,
    parked1m::PARKED1M,
    pool_unbuf::POOL_UNBUF,
    longlived8::LONGLIVED8,
    hog_latency::HOG_LATENCY,
    nonblock_select_race::NONBLOCK_SELECT_RACE,
];

fn no_bytes((ops, el): (u64, Duration)) -> (u64, Duration, Option<u64>) {
    (ops, el, None)
}

/// Resident set size of this process, from /proc/self/status.
pub fn rss_bytes() -> u64 {
    let s = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    s.lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024)
}

/// Keeps the CPU busy for `d` of wall time.
pub fn spin_for(d: Duration) {
    let t = Instant::now();
    while t.elapsed() < d {
        std::hint::spin_loop();
    }
}

/// Workers the runtime runs on (1 outside one).
pub(crate) fn workers() -> u32 {
    goro::workers().map_or(1, |n| n as u32)
}

/// Runs `body` as a task on a fresh multi-thread runtime of `workers` threads. As a task, not
/// in `block_on` itself: `block_on` polls on the calling thread, which is not one of the
/// runtime's workers, so every hand-off with it would cross threads.
pub(crate) fn on_runtime<R: Send + 'static>(
    workers: usize,
    body: impl Future<Output = R> + Send + 'static,
) -> R {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .enable_time()
        .build()
        .expect("tokio runtime");
    rt.block_on(async move { tokio::spawn(body).await.expect("benchmark task") })
}
