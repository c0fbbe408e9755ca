//! ring503: 503 goroutines in a ring of unbuffered channels pass a counter around.
//!
//! goro's version (`on_goro`), and where one applies its twins on crossbeam-channel with OS
//! threads (`on_crossbeam`) and on tokio (`on_tokio`). The Go twin is
//! `benches/go/ring503.go`.

use super::*;

/// The workload's definition: what `goro bench` and its comparisons run under this name.
pub(crate) const RING503: Workload = Workload {
    name: "ring503",
    note: "503 goroutines in a ring of unbuffered channels pass a counter 10,000,000 hops",
    caveat: None,
    run: on_goro,
    size: 10_000_000,
    crossbeam: Some((on_crossbeam, 100)),
    tokio: Some(|n, w| super::no_bytes(on_tokio(n, w))),
};

/// Goroutines in the ring.
pub const RING: usize = 503;

/// ring503: 503 goroutines in a ring of unbuffered channels pass a counter `hops` times; the
/// one that receives 0 reports it. The ring then winds down by closing channels.
pub fn on_goro(hops: u64) -> Measure {
    let (done_tx, done_rx) = chan::<usize>(1);
    let chans: Vec<_> = (0..RING).map(|_| chan::<u64>(0)).collect();
    let mut rxs: Vec<_> = chans.iter().map(|(_, rx)| Some(rx.clone())).collect();
    let txs: Vec<_> = chans.iter().map(|(tx, _)| tx.clone()).collect();
    let first = txs[0].clone();
    drop(chans);
    for (i, next) in txs.into_iter().cycle().skip(1).take(RING).enumerate() {
        let rx = rxs[i].take().expect("one receiver per goroutine");
        let done = done_tx.clone();
        goro::go(move || {
            for v in &rx {
                if v == 0 {
                    let _ = done.send(i);
                    return;
                }
                if next.send(v - 1).is_err() {
                    return;
                }
            }
        });
    }
    let t = Instant::now();
    first.send(hops).expect("ring alive");
    drop(first);
    let last = done_rx.recv().expect("ring reported");
    let elapsed = t.elapsed();
    assert_eq!(last as u64, hops % RING as u64);
    Measure::timed(hops, elapsed, last as u64)
}

/// ring503: 503 threads in a ring of rendezvous channels pass a counter `hops` times.
pub fn on_crossbeam(hops: u64) -> (u64, Duration) {
    const RING: usize = 503;
    let chans: Vec<_> = (0..RING).map(|_| bounded::<u64>(0)).collect();
    let (done_tx, done_rx) = bounded::<usize>(1);
    let mut threads = Vec::with_capacity(RING);
    for i in 0..RING {
        let rx = chans[i].1.clone();
        let next = chans[(i + 1) % RING].0.clone();
        let done = done_tx.clone();
        threads.push(std::thread::spawn(move || {
            for v in rx {
                if v == 0 {
                    let _ = done.send(i);
                    return;
                }
                if next.send(v - 1).is_err() {
                    return;
                }
            }
        }));
    }
    let first = chans[0].0.clone();
    drop(chans); // the ring winds down as each thread that leaves drops its ends
    let t = Instant::now();
    first.send(hops).expect("ring alive");
    drop(first);
    let last = done_rx.recv().expect("ring reported");
    let elapsed = t.elapsed();
    threads
        .into_iter()
        .for_each(|h| h.join().expect("ring thread"));
    assert_eq!(last as u64, hops % RING as u64);
    (hops, elapsed)
}

/// ring503: 503 tasks in a ring of capacity-1 channels pass a counter `hops` times.
pub fn on_tokio(hops: u64, workers: usize) -> (u64, Duration) {
    const RING: usize = 503;
    super::on_runtime(workers, async move {
        let (txs, mut rxs): (Vec<_>, Vec<_>) = (0..RING)
            .map(|_| mpsc::channel::<u64>(1))
            .map(|(t, r)| (t, Some(r)))
            .unzip();
        let (done_tx, mut done_rx) = mpsc::channel::<usize>(1);
        for i in 0..RING {
            let mut rx = rxs[i].take().expect("one receiver per task");
            let next = txs[(i + 1) % RING].clone();
            let done = done_tx.clone();
            tokio::spawn(async move {
                while let Some(v) = rx.recv().await {
                    if v == 0 {
                        let _ = done.send(i).await;
                        return;
                    }
                    if next.send(v - 1).await.is_err() {
                        return;
                    }
                }
            });
        }
        let first = txs[0].clone();
        drop(txs);
        let t = Instant::now();
        first.send(hops).await.expect("ring alive");
        let last = done_rx.recv().await.expect("ring reported");
        let elapsed = t.elapsed();
        assert_eq!(last as u64, hops % RING as u64);
        (hops, elapsed)
    })
}
