//! spawn: start goroutines that each call `WaitGroup::done`, then wait for all.
//!
//! goro's version (`on_goro`), and where one applies its twins on crossbeam-channel with OS
//! threads (`on_crossbeam`) and on tokio (`on_tokio`). The Go twin is
//! `benches/go/spawn.go`.

use super::*;

/// The workload's definition: what `goro bench` and its comparisons run under this name.
pub(crate) const SPAWN: Workload = Workload {
    name: "spawn",
    note: "1,000,000 goroutines each call WaitGroup::done",
    caveat: None,
    run: on_goro,
    size: 1_000_000,
    crossbeam: Some((on_crossbeam, 100)),
    tokio: Some(|n, w| super::no_bytes(on_tokio(n, w))),
};

/// spawn: start `n` goroutines that each call `WaitGroup::done`, then wait for all.
pub fn on_goro(n: u64) -> Measure {
    let wg = WaitGroup::new();
    let t = Instant::now();
    wg.add(n as usize);
    for _ in 0..n {
        let wg = wg.clone();
        goro::go(move || wg.done());
    }
    wg.wait();
    Measure {
        ops: n,
        elapsed: t.elapsed(),
        bytes_per_op: None,
        result: n - wg.count() as u64,
        ideal: None,
    }
}

/// spawn, as OS threads: `n` threads that each bump a counter, spawned and joined in batches
/// of 1,000 (a million threads cannot all exist at once).
pub fn on_crossbeam(n: u64) -> (u64, Duration) {
    use std::sync::atomic::{AtomicU64, Ordering};
    let count = AtomicU64::new(0);
    let t = Instant::now();
    let mut left = n;
    while left > 0 {
        let batch = left.min(1000);
        std::thread::scope(|s| {
            for _ in 0..batch {
                s.spawn(|| count.fetch_add(1, Ordering::Relaxed));
            }
        });
        left -= batch;
    }
    let elapsed = t.elapsed();
    assert_eq!(count.load(Ordering::Relaxed), n);
    (n, elapsed)
}

/// spawn: `n` tasks, each drops its clone of a sender when done; the caller waits until the
/// channel reports that every sender is gone (tokio's documented way to wait for tasks).
pub fn on_tokio(n: u64, workers: usize) -> (u64, Duration) {
    super::on_runtime(workers, async move {
        let (done_tx, mut done_rx) = mpsc::channel::<()>(1);
        let t = Instant::now();
        for _ in 0..n {
            let done = done_tx.clone();
            tokio::spawn(async move {
                drop(done);
            });
        }
        drop(done_tx);
        let _ = done_rx.recv().await;
        (n, t.elapsed())
    })
}
