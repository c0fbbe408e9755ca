//! longlived8: eight long-lived goroutines that compute, then wait on a channel.
//!
//! goro's version (`on_goro`), and where one applies its twins on crossbeam-channel with OS
//! threads (`on_crossbeam`) and on tokio (`on_tokio`). The Go twin is
//! `benches/go/longlived8.go`.

use super::*;

/// The workload's definition: what `goro bench` and its comparisons run under this name.
pub(crate) const LONGLIVED8: Workload = Workload {
    name: "longlived8",
    note: "8 goroutines, each 200 rounds of 500 us CPU then an unbuffered send to main",
    caveat: None,
    run: on_goro,
    size: 200,
    crossbeam: None,
    tokio: None,
};

/// One round's work in this workload.
pub const LONG_WORK: Duration = Duration::from_micros(500);

/// longlived8: [`POOL`] long-lived goroutines, each `rounds` times computing for
/// [`LONG_WORK`] and then waiting on an unbuffered channel until the caller takes its result.
/// Ops are rounds of all eight; the ideal is 8 x rounds x 500 us / workers.
pub fn on_goro(rounds: u64) -> Measure {
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
