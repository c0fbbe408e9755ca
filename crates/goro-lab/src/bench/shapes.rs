//! Real-program shapes: workloads where the micro-benchmarks' favourite placement (everything
//! on one worker) is wrong. Each keeps goro honest about spreading work over every core and
//! about a busy goroutine's neighbours. Their Go twins are in benches/go/shapes.go.
//!
//! CPU work is a spin on the wall clock ([`spin_for`]), so that one job costs the same in
//! Rust and in Go whatever the compilers make of a loop, and the ideal wall time is known:
//! jobs x job length / workers.

use std::time::{Duration, Instant};

use goro::context::Context;
use goro::{chan, go};

use super::Measure;

/// Keeps the CPU busy for `d` of wall time.
pub fn spin_for(d: Duration) {
    let t = Instant::now();
    while t.elapsed() < d {
        std::hint::spin_loop();
    }
}

/// Workers the runtime runs on (1 outside one).
fn workers() -> u32 {
    goro::workers().map_or(1, |n| n as u32)
}

/// Goroutines in [`pool_unbuf`]'s pool and in [`longlived8`].
pub const POOL: usize = 8;

/// One job of [`pool_unbuf`].
pub const POOL_JOB: Duration = Duration::from_micros(200);

/// pool_unbuf: the most common worker pool in Go code. [`POOL`] goroutines range over an
/// unbuffered jobs channel that one feeder goroutine fills with `jobs` jobs of [`POOL_JOB`]
/// each; results go to a channel of 64 that the caller drains. Ops are jobs; the ideal is
/// jobs x 200 us / workers.
pub fn pool_unbuf(jobs: u64) -> Measure {
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

/// One round's work in [`longlived8`].
pub const LONG_WORK: Duration = Duration::from_micros(500);

/// longlived8: [`POOL`] long-lived goroutines, each `rounds` times computing for
/// [`LONG_WORK`] and then waiting on an unbuffered channel until the caller takes its result.
/// Ops are rounds of all eight; the ideal is 8 x rounds x 500 us / workers.
pub fn longlived8(rounds: u64) -> Measure {
    let t = Instant::now();
    let (tx, rx) = chan::<u64>(0);
    for _ in 0..POOL {
        let tx = tx.clone();
        go(move || {
            for r in 0..rounds {
                spin_for(LONG_WORK);
                tx.send(r).expect("the caller takes every result");
            }
        });
    }
    drop(tx);
    let n = rx.iter().count() as u64;
    let elapsed = t.elapsed();
    assert_eq!(n, rounds * POOL as u64, "longlived8 results");
    Measure {
        ideal: Some(LONG_WORK * (rounds * POOL as u64) as u32 / workers()),
        ..Measure::timed(rounds, elapsed, n)
    }
}

/// Sleepers in [`hog_latency`].
pub const SLEEPERS: usize = 10;

/// hog_latency: [`SLEEPERS`] goroutines each sleep 1 ms in a loop; once they run, a CPU-bound
/// goroutine loops for `ms` milliseconds, polling `ctx.is_done()` between small pieces of
/// work. The figure ("ns/op") is the 99th percentile of how late the sleepers' sleeps ended
/// while the loop ran; ops is 1.
pub fn hog_latency(ms: u64) -> Measure {
    const NAP: Duration = Duration::from_millis(1);
    let (ctx, _cancel) = Context::background().with_timeout(Duration::from_millis(ms + 5));
    let sleepers: Vec<_> = (0..SLEEPERS)
        .map(|_| {
            let ctx = ctx.clone();
            go(move || {
                let mut late = Vec::with_capacity(ms as usize * 2);
                while !ctx.is_done() {
                    let t = Instant::now();
                    goro::time::sleep(NAP);
                    late.push(t.elapsed().saturating_sub(NAP));
                }
                late
            })
        })
        .collect();
    // The sleepers are in their loops before the hog starts, as in a program that gets busy
    // after it has set up.
    goro::time::sleep(Duration::from_millis(5));
    let hog = go(move || {
        let mut x = 1u64;
        while !ctx.is_done() {
            for _ in 0..1000 {
                // xorshift: work the optimiser cannot drop.
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
            }
        }
        std::hint::black_box(x)
    });
    hog.join().expect("the hog ends at its deadline");
    let mut late: Vec<Duration> = sleepers
        .into_iter()
        .flat_map(|s| s.join().expect("sleeper"))
        .collect();
    late.sort_unstable();
    let p99 = late
        .get(late.len() * 99 / 100)
        .copied()
        .unwrap_or(Duration::ZERO);
    Measure::timed(1, p99, late.len() as u64)
}

/// nonblock_select_race: Go's TestNonblockSelectRace. Each round fills one channel of
/// capacity 1, spawns a goroutine that selects on it and a second one with a `default`
/// case, fills the second from the caller, takes one of the two back without blocking, and
/// waits for the goroutine's answer: one of the two must have been ready. Ops are rounds.
pub fn nonblock_select_race(rounds: u64) -> Measure {
    let (done_tx, done_rx) = chan::<bool>(1);
    let t = Instant::now();
    for _ in 0..rounds {
        let (c1_tx, c1) = chan::<u32>(1);
        let (c2_tx, c2) = chan::<u32>(1);
        c1_tx.send(1).expect("room for one");
        let done = done_tx.clone();
        // The caller keeps its own receivers: in goro a channel whose receivers are all gone
        // refuses sends, and the goroutine may be done before the caller sends on c2.
        let (r1, r2) = (c1.clone(), c2.clone());
        go(move || {
            let ready = goro::select! {
                recv(r1) -> _ => true,
                recv(r2) -> _ => true,
                default => false,
            };
            let _ = done.send(ready);
        });
        c2_tx.send(1).expect("room for one");
        goro::select! {
            recv(c1) -> _ => {},
            default => {},
        }
        assert!(done_rx.recv().expect("answer"), "no channel was ready");
    }
    Measure::timed(rounds, t.elapsed(), rounds)
}
