//! sieve5000: the concurrent prime sieve, one filter goroutine per prime.
//!
//! goro's version (`on_goro`), and where one applies its twins on crossbeam-channel with OS
//! threads (`on_crossbeam`) and on tokio (`on_tokio`). The Go twin is
//! `benches/go/sieve5000.go`.

use super::*;

/// The workload's definition: what `goro bench` and its comparisons run under this name.
pub(crate) const SIEVE5000: Workload = Workload {
    name: "sieve5000",
    note: "concurrent prime sieve on unbuffered channels up to the 5,000th prime (48611)",
    caveat: None,
    run: on_goro,
    size: 5_000,
    crossbeam: None,
    tokio: None,
};

/// sieve5000: the concurrent prime sieve, one filter goroutine per prime on unbuffered
/// channels, up to the `n`-th prime. Ops are primes.
pub fn on_goro(n: u64) -> Measure {
    let t = Instant::now();
    let (tx, mut rx) = chan::<u64>(0);
    goro::go(move || {
        for i in 2.. {
            if tx.send(i).is_err() {
                return;
            }
        }
    });
    let mut last = 0;
    for _ in 0..n {
        let p = rx.recv().expect("sieve stage");
        last = p;
        let (next_tx, next_rx) = chan::<u64>(0);
        let input = std::mem::replace(&mut rx, next_rx);
        goro::go(move || {
            for v in &input {
                if v % p != 0 && next_tx.send(v).is_err() {
                    return;
                }
            }
        });
    }
    let elapsed = t.elapsed();
    drop(rx); // the filters wind down, each closing the channel before it
    if n == 5000 {
        assert_eq!(last, 48611);
    }
    Measure::timed(n, elapsed, last)
}
