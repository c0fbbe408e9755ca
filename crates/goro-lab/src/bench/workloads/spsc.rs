//! spsc_unbuf and spsc_b100: one producer, one consumer, on an unbuffered channel and on one of capacity 100.
//!
//! goro's version (`on_goro`), and where one applies its twins on crossbeam-channel with OS
//! threads (`on_crossbeam`) and on tokio (`on_tokio`). The Go twin is
//! `benches/go/spsc.go`.

use super::*;

/// The workload's definition: what `goro bench` and its comparisons run under this name.
pub(crate) const SPSC_UNBUF: Workload = Workload {
    name: "spsc_unbuf",
    note: "one producer sends 10,000,000 ints on an unbuffered channel; main ranges over it",
    caveat: None,
    run: on_goro_unbuf,
    size: 10_000_000,
    crossbeam: Some((|n| on_crossbeam(n, 0), 100)),
    tokio: None,
};

/// The workload's definition: what `goro bench` and its comparisons run under this name.
pub(crate) const SPSC_B100: Workload = Workload {
    name: "spsc_b100",
    note: "one producer sends 10,000,000 ints on a channel of capacity 100",
    caveat: None,
    run: on_goro_b100,
    size: 10_000_000,
    crossbeam: Some((|n| on_crossbeam(n, 100), 1)),
    tokio: None,
};

/// spsc: one producer sends `n` integers on a channel of capacity `cap`, then closes it; the
/// caller ranges over it.
pub fn on_goro(n: u64, cap: usize) -> Measure {
    let (tx, rx) = chan::<u64>(cap);
    let t = Instant::now();
    goro::go(move || {
        for i in 0..n {
            tx.send(i).expect("receiver alive");
        }
    });
    let sum: u64 = rx.iter().sum();
    let elapsed = t.elapsed();
    assert_eq!(sum, n * (n - 1) / 2);
    Measure::timed(n, elapsed, sum)
}

/// spsc_unbuf: [`on_goro`] on an unbuffered channel.
pub fn on_goro_unbuf(n: u64) -> Measure {
    on_goro(n, 0)
}

/// spsc_b100: [`on_goro`] on a channel of capacity 100.
pub fn on_goro_b100(n: u64) -> Measure {
    on_goro(n, 100)
}

/// spsc: a producer thread sends `n` integers on a channel of capacity `cap`; the caller
/// receives until it is disconnected.
pub fn on_crossbeam(n: u64, cap: usize) -> (u64, Duration) {
    let (tx, rx) = bounded::<u64>(cap);
    let t = Instant::now();
    let producer = std::thread::spawn(move || {
        for i in 0..n {
            tx.send(i).expect("receiver alive");
        }
    });
    let sum: u64 = rx.iter().sum();
    let elapsed = t.elapsed();
    producer.join().expect("producer");
    assert_eq!(sum, n * (n - 1) / 2);
    (n, elapsed)
}
