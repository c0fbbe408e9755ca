//! parked1M: a million goroutines parked on one channel: the time to start them and the memory each keeps.
//!
//! goro's version (`on_goro`), and where one applies its twins on crossbeam-channel with OS
//! threads (`on_crossbeam`) and on tokio (`on_tokio`). The Go twin is
//! `benches/go/parked1m.go`.

use super::*;

/// The workload's definition: what `goro bench` and its comparisons run under this name.
pub(crate) const PARKED1M: Workload = Workload {
    name: "parked1M",
    note: "1,000,000 goroutines parked receiving from one channel, then woken by close",
    caveat: None,
    run: on_goro,
    size: 1_000_000,
    crossbeam: None,
    tokio: Some(|n, w| {
        let (ops, el, bytes) = on_tokio(n, w, super::rss_bytes);
        (ops, el, Some(bytes))
    }),
};

/// parked1M: start `n` goroutines that each block receiving from one channel; the time is to
/// start them all, and the memory is the resident bytes they added. Then close the channel,
/// which wakes them all, and wait for all.
pub fn on_goro(n: u64) -> Measure {
    let (gate_tx, gate) = chan::<()>(0);
    let started = WaitGroup::new();
    let finished = WaitGroup::new();
    let woken = Arc::new(AtomicU64::new(0));
    // Memory the allocator kept from earlier workloads would make these goroutines look
    // cheaper than they are.
    crate::alloc::release_free_memory();
    let rss0 = super::rss_bytes();
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
            let _ = gate.recv();
            woken.fetch_add(1, Ordering::Relaxed);
            finished.done();
        });
    }
    started.wait();
    let elapsed = t.elapsed();
    // Let the last starters reach the gate before reading memory.
    goro::time::sleep(std::time::Duration::from_millis(20));
    let rss1 = super::rss_bytes();
    gate_tx.close().expect("closed once");
    finished.wait();
    let woke = woken.load(Ordering::Relaxed);
    assert_eq!(woke, n, "every parked goroutine woke");
    Measure {
        ops: n,
        elapsed,
        bytes_per_op: Some(rss1.saturating_sub(rss0) / n),
        result: woke,
        ideal: None,
    }
}

/// parked1M: `n` tasks that each wait on one `watch` channel; the time to start them all, and
/// the resident bytes they added per task (VmRSS). Then one send wakes them all.
pub fn on_tokio(n: u64, workers: usize, rss: fn() -> u64) -> (u64, Duration, u64) {
    super::on_runtime(workers, async move {
        let (gate_tx, gate_rx) = watch::channel(false);
        let (started_tx, mut started_rx) = mpsc::channel::<()>(1);
        let (done_tx, mut done_rx) = mpsc::channel::<()>(1);
        let rss0 = rss();
        let t = Instant::now();
        for _ in 0..n {
            let (mut gate, started, done) = (gate_rx.clone(), started_tx.clone(), done_tx.clone());
            tokio::spawn(async move {
                drop(started);
                let _ = gate.changed().await;
                drop(done);
            });
        }
        drop((started_tx, done_tx));
        let _ = started_rx.recv().await; // every task has started and dropped its sender
        let elapsed = t.elapsed();
        tokio::time::sleep(Duration::from_millis(20)).await;
        let bytes = rss().saturating_sub(rss0) / n;
        let _ = gate_tx.send(true);
        let _ = done_rx.recv().await;
        (n, elapsed, bytes)
    })
}
