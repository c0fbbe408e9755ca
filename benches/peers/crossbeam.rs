//! The lab's workloads on crossbeam-channel and plain OS threads, written the way
//! crossbeam's own documentation writes them: `bounded` channels, `std::thread::scope` or
//! `spawn` + `join`, and `select!`. Each returns the operations done and the time they took.

use std::time::{Duration, Instant};

use crossbeam_channel::{bounded, never, select};

/// pingpong: the caller and one partner thread, two rendezvous channels, `n` round trips.
pub fn pingpong(n: u64) -> (u64, Duration) {
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

/// spsc: a producer thread sends `n` integers on a channel of capacity `cap`; the caller
/// receives until it is disconnected.
pub fn spsc(n: u64, cap: usize) -> (u64, Duration) {
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

/// mpmc4x4: 4 producer and 4 consumer threads on a channel of capacity 128.
pub fn mpmc4x4(n: u64) -> (u64, Duration) {
    let (tx, rx) = bounded::<u64>(128);
    let per = n / 4;
    let t = Instant::now();
    let sum: u64 = std::thread::scope(|s| {
        for p in 0..4 {
            let tx = tx.clone();
            s.spawn(move || {
                for i in 0..per {
                    tx.send(p * per + i).expect("consumers alive");
                }
            });
        }
        drop(tx);
        let consumers: Vec<_> = (0..4)
            .map(|_| {
                let rx = rx.clone();
                s.spawn(move || rx.iter().sum::<u64>())
            })
            .collect();
        consumers
            .into_iter()
            .map(|h| h.join().expect("consumer"))
            .sum()
    });
    let elapsed = t.elapsed();
    let m = per * 4;
    assert_eq!(sum, m * (m - 1) / 2);
    (m, elapsed)
}

/// select2_b64: two producer threads on capacity-64 channels; the caller receives every
/// value with a two-case `select!`.
pub fn select2(n: u64) -> (u64, Duration) {
    let half = n / 2;
    let (a_tx, a) = bounded::<u64>(64);
    let (b_tx, b) = bounded::<u64>(64);
    let t = Instant::now();
    let producers: Vec<_> = [a_tx, b_tx]
        .into_iter()
        .map(|tx| {
            std::thread::spawn(move || {
                for i in 0..half {
                    tx.send(i).expect("selector alive");
                }
            })
        })
        .collect();
    // A producer that is done disconnects its channel; crossbeam's way to switch the case off
    // is to put `never()` in its place.
    let (mut a, mut b) = (a, b);
    let (mut got, mut sum) = (0, 0);
    while got < 2 * half {
        select! {
            recv(a) -> v => match v {
                Ok(v) => { got += 1; sum += v; }
                Err(_) => a = never(),
            },
            recv(b) -> v => match v {
                Ok(v) => { got += 1; sum += v; }
                Err(_) => b = never(),
            },
        }
    }
    let elapsed = t.elapsed();
    producers
        .into_iter()
        .for_each(|h| h.join().expect("producer"));
    assert_eq!(sum, half * (half - 1));
    (2 * half, elapsed)
}

/// ring503: 503 threads in a ring of rendezvous channels pass a counter `hops` times.
pub fn ring503(hops: u64) -> (u64, Duration) {
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

/// spawn, as OS threads: `n` threads that each bump a counter, spawned and joined in batches
/// of 1,000 (a million threads cannot all exist at once).
pub fn spawn(n: u64) -> (u64, Duration) {
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
