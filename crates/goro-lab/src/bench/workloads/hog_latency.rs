//! hog_latency: sleepers' lateness beside a goroutine that computes for a second.
//!
//! goro's version (`on_goro`), and where one applies its twins on crossbeam-channel with OS
//! threads (`on_crossbeam`) and on tokio (`on_tokio`). The Go twin is
//! `benches/go/hog_latency.go`.

use super::*;

/// The workload's definition: what `goro bench` and its comparisons run under this name.
pub(crate) const HOG_LATENCY: Workload = Workload {
    name: "hog_latency",
    note: "p99 lateness of 10 goroutines' 1 ms sleeps beside a 1 s CPU loop polling ctx.is_done()",
    caveat: None,
    run: on_goro,
    size: 1_000,
    crossbeam: None,
    tokio: None,
};

/// Sleepers in this workload.
pub const SLEEPERS: usize = 10;

/// hog_latency: [`SLEEPERS`] goroutines each sleep 1 ms in a loop; once they run, a CPU-bound
/// goroutine loops for `ms` milliseconds, polling `ctx.is_done()` between small pieces of
/// work. The figure ("ns/op") is the 99th percentile of how late the sleepers' sleeps ended
/// while the loop ran; ops is 1.
pub fn on_goro(ms: u64) -> Measure {
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
