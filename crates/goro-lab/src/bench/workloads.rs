//! The workloads themselves, each run inside a fresh runtime by `bench::run` and by the tour.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use goro::sync::WaitGroup;
use goro::{chan, Sender};

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
        ideal: None,
    }
}

fn skynet_node(out: Sender<u64>, num: u64, size: u64) {
    if size == 1 {
        let _ = out.send(num);
        return;
    }
    let child = size / 10;
    let (tx, rx) = chan(0);
    for i in 0..10 {
        let tx = tx.clone();
        goro::go(move || skynet_node(tx, num + i * child, child));
    }
    drop(tx);
    let sum = (0..10).map(|_| rx.recv().expect("skynet child")).sum();
    let _ = out.send(sum);
}

/// skynet: a 10-ary tree of goroutines with `leaves` leaves; each leaf sends its number on its
/// parent's unbuffered channel, each inner node sends its children's sum. Ops are all
/// goroutines of the tree.
pub fn skynet(leaves: u64) -> Measure {
    let t = Instant::now();
    let (tx, rx) = chan(0);
    goro::go(move || skynet_node(tx, 0, leaves));
    let sum = rx.recv().expect("skynet root");
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
        ideal: None,
    }
}

/// pingpong: the caller and one partner bounce a value over two unbuffered channels `n`
/// times.
pub fn pingpong(n: u64) -> Measure {
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

/// spsc: one producer sends `n` integers on a channel of capacity `cap`, then closes it; the
/// caller ranges over it.
pub fn spsc(n: u64, cap: usize) -> Measure {
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

/// spsc_unbuf: [`spsc`] on an unbuffered channel.
pub fn spsc_unbuf(n: u64) -> Measure {
    spsc(n, 0)
}

/// spsc_b100: [`spsc`] on a channel of capacity 100.
pub fn spsc_b100(n: u64) -> Measure {
    spsc(n, 100)
}

/// mpmc4x4_b128: 4 producers and 4 consumers share a channel of capacity 128; `n` messages in
/// all.
pub fn mpmc4x4_b128(n: u64) -> Measure {
    let (tx, rx) = chan::<u64>(128);
    let per = n / 4;
    let t = Instant::now();
    for p in 0..4 {
        let tx = tx.clone();
        goro::go(move || {
            for i in 0..per {
                tx.send(p * per + i).expect("consumers alive");
            }
        });
    }
    drop(tx);
    let consumers: Vec<_> = (0..4)
        .map(|_| {
            let rx = rx.clone();
            goro::go(move || rx.iter().fold((0u64, 0u64), |(c, s), v| (c + 1, s + v)))
        })
        .collect();
    drop(rx);
    let (count, sum) = consumers
        .into_iter()
        .map(|h| h.join().expect("consumer"))
        .fold((0, 0), |(c, s), (c2, s2)| (c + c2, s + s2));
    let elapsed = t.elapsed();
    let m = per * 4;
    assert_eq!((count, sum), (m, m * (m - 1) / 2));
    Measure::timed(m, elapsed, sum)
}

/// select2_b64: two producers each send `n / 2` values on their own channel of capacity 64;
/// the caller receives all of them with two-case selects. A producer's channel closes when it
/// is done; its case is then switched off.
pub fn select2_b64(n: u64) -> Measure {
    let half = n / 2;
    let (a_tx, a_rx) = chan::<u64>(64);
    let (b_tx, b_rx) = chan::<u64>(64);
    let t = Instant::now();
    for tx in [a_tx, b_tx] {
        goro::go(move || {
            for i in 0..half {
                tx.send(i).expect("selector alive");
            }
        });
    }
    let (mut a, mut b) = (Some(&a_rx), Some(&b_rx));
    let (mut got, mut sum) = (0u64, 0u64);
    while got < 2 * half {
        goro::select! {
            recv(a) -> v => match v {
                Ok(v) => { got += 1; sum += v; }
                Err(_) => a = None,
            },
            recv(b) -> v => match v {
                Ok(v) => { got += 1; sum += v; }
                Err(_) => b = None,
            },
        }
    }
    let elapsed = t.elapsed();
    assert_eq!(sum, half * (half - 1));
    Measure::timed(2 * half, elapsed, sum)
}

/// Goroutines in [`ring503`].
pub const RING: usize = 503;

/// ring503: 503 goroutines in a ring of unbuffered channels pass a counter `hops` times; the
/// one that receives 0 reports it. The ring then winds down by closing channels.
pub fn ring503(hops: u64) -> Measure {
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

/// sieve5000: the concurrent prime sieve, one filter goroutine per prime on unbuffered
/// channels, up to the `n`-th prime. Ops are primes.
pub fn sieve(n: u64) -> Measure {
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

/// Resident set size of this process, from /proc/self/status.
pub fn rss_bytes() -> u64 {
    let s = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    s.lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024)
}

/// parked1M: start `n` goroutines that each block receiving from one channel; the time is to
/// start them all, and the memory is the resident bytes they added. Then close the channel,
/// which wakes them all, and wait for all.
pub fn parked(n: u64) -> Measure {
    let (gate_tx, gate) = chan::<()>(0);
    let started = WaitGroup::new();
    let finished = WaitGroup::new();
    let woken = Arc::new(AtomicU64::new(0));
    // Memory the allocator kept from earlier workloads would make these goroutines look
    // cheaper than they are.
    crate::alloc::release_free_memory();
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
            let _ = gate.recv();
            woken.fetch_add(1, Ordering::Relaxed);
            finished.done();
        });
    }
    started.wait();
    let elapsed = t.elapsed();
    // Let the last starters reach the gate before reading memory.
    goro::time::sleep(std::time::Duration::from_millis(20));
    let rss1 = rss_bytes();
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
