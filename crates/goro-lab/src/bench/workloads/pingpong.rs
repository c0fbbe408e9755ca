//! pingpong: the main goroutine and one partner, two unbuffered channels, round trips.
//!
//! goro's version (`on_goro`), and where one applies its twins on crossbeam-channel with OS
//! threads (`on_crossbeam`) and on tokio (`on_tokio`). The Go twin is
//! `benches/go/pingpong.go`.

use super::*;

/// The workload's definition: what `goro bench` and its comparisons run under this name.
pub(crate) const PINGPONG: Workload = Workload {
    name: "pingpong",
    note: "main goroutine and one partner, two unbuffered channels, 1,000,000 round trips",
    caveat: None,
    run: on_goro,
    size: 1_000_000,
    crossbeam: Some((on_crossbeam, 100)),
    tokio: Some(|n, w| super::no_bytes(on_tokio(n, w))),
};

/// pingpong: the caller and one partner bounce a value over two unbuffered channels `n`
/// times.
pub fn on_goro(n: u64) -> Measure {
    let (ping_tx, ping_rx) = chan::<u64>(0);
    let (pong_tx, pong_rx) = chan::<u64>(0);
    goro::go(move || {
        for v in &ping_rx {
            if pong_tx.send(v + 1).is_err() {
                return;
            }
        }
    });
    let t = Instant::now();
    let mut v = 0;
    for _ in 0..n {
        ping_tx.send(v).expect("partner alive");
        v = pong_rx.recv().expect("partner alive");
    }
    let elapsed = t.elapsed();
    assert_eq!(v, n);
    Measure::timed(n, elapsed, v)
}

/// pingpong: the caller and one partner thread, two rendezvous channels, `n` round trips.
pub fn on_crossbeam(n: u64) -> (u64, Duration) {
    let (ping_tx, ping_rx) = bounded::<u64>(0);
    let (pong_tx, pong_rx) = bounded::<u64>(0);
    let partner = std::thread::spawn(move || {
        for v in ping_rx {
            if pong_tx.send(v + 1).is_err() {
                return;
            }
        }
    });
    let t = Instant::now();
    let mut v = 0;
    for _ in 0..n {
        ping_tx.send(v).expect("partner alive");
        v = pong_rx.recv().expect("partner alive");
    }
    let elapsed = t.elapsed();
    drop(ping_tx);
    partner.join().expect("partner");
    assert_eq!(v, n);
    (n, elapsed)
}

/// pingpong: the caller's task and one partner, two channels of capacity 1, `n` round trips.
pub fn on_tokio(n: u64, workers: usize) -> (u64, Duration) {
    super::on_runtime(workers, async move {
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
