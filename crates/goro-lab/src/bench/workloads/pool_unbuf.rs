//! pool_unbuf: the most common worker pool in Go code, on an unbuffered jobs channel.
//!
//! goro's version (`on_goro`), and where one applies its twins on crossbeam-channel with OS
//! threads (`on_crossbeam`) and on tokio (`on_tokio`). The Go twin is
//! `benches/go/pool_unbuf.go`.

use super::*;

/// The workload's definition: what `goro bench` and its comparisons run under this name.
pub(crate) const POOL_UNBUF: Workload = Workload {
    name: "pool_unbuf",
    note: "8 pool goroutines range over an unbuffered jobs channel; 2,000 jobs of 200 us CPU",
    caveat: None,
    run: on_goro,
    size: 2_000,
    crossbeam: None,
    tokio: None,
};

/// Goroutines in this workload's pool, and in longlived8.
pub const POOL: usize = 8;

/// One job of this workload.
pub const POOL_JOB: Duration = Duration::from_micros(200);

/// pool_unbuf: the most common worker pool in Go code. [`POOL`] goroutines range over an
/// unbuffered jobs channel that one feeder goroutine fills with `jobs` jobs of [`POOL_JOB`]
/// each; results go to a channel of 64 that the caller drains. Ops are jobs; the ideal is
/// jobs x 200 us / workers.
pub fn on_goro(jobs: u64) -> Measure {
    let t = Instant::now();
    let (jobs_tx, jobs_rx) = chan::<u64>(0);
    let (res_tx, res_rx) = chan::<u64>(64);
    for _ in 0..POOL {
        let (jobs, res) = (jobs_rx.clone(), res_tx.clone());
        go(move || {
            for j in &jobs {
                spin_for(POOL_JOB);
                res.send(j).expect("the caller drains results");
            }
        });
    }
    drop((jobs_rx, res_tx));
    go(move || {
        for j in 0..jobs {
            jobs_tx.send(j).expect("the pool is alive");
        }
    });
    let sum: u64 = res_rx.iter().sum();
    let elapsed = t.elapsed();
    assert_eq!(sum, jobs * jobs.saturating_sub(1) / 2, "pool_unbuf sum");
    Measure {
        ideal: Some(POOL_JOB * jobs as u32 / workers()),
        ..Measure::timed(jobs, elapsed, sum)
    }
}
