//! The workloads themselves, each run inside a fresh runtime by `bench::run` and by the tour.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use goro::sync::WaitGroup;

pub use super::Measure;

/// spawn: start `n` goroutines that each call `WaitGroup::done`, then wait for all.
pub fn spawn_wait(n: u64) -> Measure {
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
    }
}

fn skynet_node(num: u64, size: u64) -> u64 {
    if size == 1 {
        return num;
    }
    let child = size / 10;
    let hs: Vec<_> = (0..10)
        .map(|i| goro::go(move || skynet_node(num + i * child, child)))
        .collect();
    hs.into_iter()
        .map(|h| h.join().expect("skynet goroutine panicked"))
        .sum()
}

/// skynet: a 10-ary tree of goroutines with `leaves` leaves; each returns the sum of its
/// subtree's numbers. Ops are all goroutines of the tree.
pub fn skynet(leaves: u64) -> Measure {
    let t = Instant::now();
    let sum = goro::go(move || skynet_node(0, leaves))
        .join()
        .expect("skynet root panicked");
    let elapsed = t.elapsed();
    assert_eq!(sum, leaves * (leaves - 1) / 2, "skynet sum");
    let mut nodes = 0;
    let mut level = leaves;
    while level >= 1 {
        nodes += level;
        level /= 10;
    }
    Measure {
        ops: nodes,
        elapsed,
        bytes_per_op: None,
        result: sum,
    }
}

/// Resident set size of this process, from /proc/self/status.
pub fn rss_bytes() -> u64 {
    let s = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    s.lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024)
}

/// parked1M: start `n` goroutines that each block on a gate; the time is to start them all,
/// and the memory is the resident bytes they added. Then open the gate and wait for all.
pub fn parked(n: u64) -> Measure {
    let gate = WaitGroup::new();
    gate.add(1);
    let started = WaitGroup::new();
    let finished = WaitGroup::new();
    let woken = Arc::new(AtomicU64::new(0));
    let rss0 = rss_bytes();
    let t = Instant::now();
    started.add(n as usize);
    finished.add(n as usize);
    for _ in 0..n {
        let (gate, started, finished, woken) = (
            gate.clone(),
            started.clone(),
            finished.clone(),
            woken.clone(),
        );
        goro::go(move || {
            started.done();
            gate.wait();
            woken.fetch_add(1, Ordering::Relaxed);
            finished.done();
        });
    }
    started.wait();
    let elapsed = t.elapsed();
    // Let the last starters reach the gate before reading memory.
    goro::time::sleep(std::time::Duration::from_millis(20));
    let rss1 = rss_bytes();
    gate.done();
    finished.wait();
    let woke = woken.load(Ordering::Relaxed);
    assert_eq!(woke, n, "every parked goroutine woke");
    Measure {
        ops: n,
        elapsed,
        bytes_per_op: Some(rss1.saturating_sub(rss0) / n),
        result: woke,
    }
}
