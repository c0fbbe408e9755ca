//! The lab's workloads on tokio's multi-thread runtime, written the way tokio's own docs write
//! them: `tokio::spawn`, `tokio::sync::mpsc` (tokio has no rendezvous channel; capacity 1 is
//! the closest), `oneshot`-like join handles, and `watch` for a broadcast wake-up. Each
//! builds a runtime with `workers` threads and returns the operations done and the time they
//! took.

use std::future::Future;
use std::pin::Pin;
use std::time::{Duration, Instant};

use tokio::sync::{mpsc, watch};

/// Runs `body` as a task on a fresh multi-thread runtime of `workers` threads. As a task, not
/// in `block_on` itself: `block_on` polls on the calling thread, which is not one of the
/// runtime's workers, so every hand-off with it would cross threads.
fn on_runtime<R: Send + 'static>(
    workers: usize,
    body: impl Future<Output = R> + Send + 'static,
) -> R {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .enable_time()
        .build()
        .expect("tokio runtime");
    rt.block_on(async move { tokio::spawn(body).await.expect("benchmark task") })
}

/// spawn: `n` tasks, each drops its clone of a sender when done; the caller waits until the
/// channel reports that every sender is gone (tokio's documented way to wait for tasks).
pub fn spawn(n: u64, workers: usize) -> (u64, Duration) {
    on_runtime(workers, async move {
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

fn skynet_node(num: u64, size: u64) -> Pin<Box<dyn Future<Output = u64> + Send>> {
    Box::pin(async move {
        if size == 1 {
            return num;
        }
        let child = size / 10;
        let handles: Vec<_> = (0..10)
            .map(|i| tokio::spawn(skynet_node(num + i * child, child)))
            .collect();
        let mut sum = 0;
        for h in handles {
            sum += h.await.expect("skynet task");
        }
        sum
    })
}

/// skynet: a 10-ary tree of tasks; each returns its subtree's sum through its join handle.
pub fn skynet(leaves: u64, workers: usize) -> (u64, Duration) {
    on_runtime(workers, async move {
        let t = Instant::now();
        let sum = tokio::spawn(skynet_node(0, leaves)).await.expect("root");
        let elapsed = t.elapsed();
        assert_eq!(sum, leaves * (leaves - 1) / 2);
        let (mut nodes, mut level) = (0, leaves);
        while level >= 1 {
            nodes += level;
            level /= 10;
        }
        (nodes, elapsed)
    })
}

/// pingpong: the caller's task and one partner, two channels of capacity 1, `n` round trips.
pub fn pingpong(n: u64, workers: usize) -> (u64, Duration) {
    on_runtime(workers, async move {
        let (ping_tx, mut ping_rx) = mpsc::channel::<u64>(1);
        let (pong_tx, mut pong_rx) = mpsc::channel::<u64>(1);
        tokio::spawn(async move {
            while let Some(v) = ping_rx.recv().await {
                if pong_tx.send(v + 1).await.is_err() {
                    return;
                }
            }
        });
        let t = Instant::now();
        let mut v = 0;
        for _ in 0..n {
            ping_tx.send(v).await.expect("partner alive");
            v = pong_rx.recv().await.expect("partner alive");
        }
        let elapsed = t.elapsed();
        assert_eq!(v, n);
        (n, elapsed)
    })
}

/// ring503: 503 tasks in a ring of capacity-1 channels pass a counter `hops` times.
pub fn ring503(hops: u64, workers: usize) -> (u64, Duration) {
    const RING: usize = 503;
    on_runtime(workers, async move {
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

/// parked1M: `n` tasks that each wait on one `watch` channel; the time to start them all, and
/// the resident bytes they added per task (VmRSS). Then one send wakes them all.
pub fn parked(n: u64, workers: usize, rss: fn() -> u64) -> (u64, Duration, u64) {
    on_runtime(workers, async move {
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
