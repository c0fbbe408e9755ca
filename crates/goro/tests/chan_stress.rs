//! Channels and select at full size: the classic CSP programs, stress with cases switched off
//! at run time, timeouts racing with hand-offs, plain OS threads without a runtime, and
//! goroutines unwound while blocked.

#[path = "common/mod.rs"]
mod common;

use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{drop_counter, drops, on_1_and_2_workers, thread, Counted};
use goro::{chan, Receiver, RecvTimeoutError, Sender};

/// The concurrent prime sieve: a generator and one filter goroutine per prime.
fn sieve(n: usize) -> Vec<u64> {
    let (tx, mut rx) = chan::<u64>(0);
    goro::go(move || {
        for i in 2.. {
            if tx.send(i).is_err() {
                return; // the last filter is gone
            }
        }
    });
    let mut primes = Vec::with_capacity(n);
    for _ in 0..n {
        let p = rx.recv().unwrap();
        primes.push(p);
        let (next_tx, next_rx) = chan::<u64>(0);
        let input = rx;
        goro::go(move || {
            for v in &input {
                if v % p != 0 && next_tx.send(v).is_err() {
                    return;
                }
            }
        });
        rx = next_rx;
    }
    primes
}

#[test]
fn prime_sieve_on_unbuffered_channels() {
    on_1_and_2_workers(|| {
        let primes = sieve(1000);
        assert_eq!(&primes[..10], [2, 3, 5, 7, 11, 13, 17, 19, 23, 29]);
        assert_eq!(primes[999], 7919);
    });
}

/// McIlroy's power series (Squinting at Power Series), on demand channels: a consumer sends a
/// request, then receives one coefficient.
mod powser {
    use super::*;

    /// i128: the loops compute some terms ahead of the 15 checked (up to `AHEAD` per split
    /// in a cycle), past 20!, the last factorial an i64 holds.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub struct Rat(pub i128, pub i128);

    fn gcd(a: i128, b: i128) -> i128 {
        if b == 0 {
            a.abs()
        } else {
            gcd(b, a % b)
        }
    }

    impl Rat {
        fn new(n: i128, d: i128) -> Rat {
            let g = gcd(n, d).max(1) * d.signum();
            Rat(n / g, d / g)
        }
        fn mul(self, o: Rat) -> Rat {
            Rat::new(self.0 * o.0, self.1 * o.1)
        }
    }

    /// The consumer's end of a series.
    pub struct Ps {
        req: Sender<()>,
        dat: Receiver<Rat>,
    }

    /// The producer's end.
    pub struct PsOut {
        req: Receiver<()>,
        dat: Sender<Rat>,
    }

    pub fn pair() -> (PsOut, Ps) {
        let (req_tx, req_rx) = chan(0);
        let (dat_tx, dat_rx) = chan(0);
        (
            PsOut {
                req: req_rx,
                dat: dat_tx,
            },
            Ps {
                req: req_tx,
                dat: dat_rx,
            },
        )
    }

    impl Ps {
        pub fn get(&self) -> Option<Rat> {
            self.req.send(()).ok()?;
            self.dat.recv().ok()
        }
    }

    impl PsOut {
        /// Waits for a demand, then answers it; false when the consumer is gone.
        fn put(&self, r: Rat) -> bool {
            self.req.recv().is_ok() && self.dat.send(r).is_ok()
        }
    }

    /// Two consumers of one series, each served at its own pace: what one side has pulled
    /// ahead is kept for the other. One select loop over six cases, most of them switched
    /// off at any moment: a demand from a side that has none outstanding, a demand sent
    /// upstream, the coefficient coming back, and a reply to each side that has one queued.
    /// Serving both sides while a fetch is in flight is what lets a series feed on itself.
    /// Upstream is asked only while the side that lags holds fewer than `AHEAD` values, so
    /// production follows the slower consumer, and the split ends when either side leaves: in
    /// a feedback loop one side is the loop itself, which always wants more and would
    /// otherwise compute until its coefficients overflow.
    pub fn split(u: Ps) -> (Ps, Ps) {
        const AHEAD: usize = 4;
        let (a_out, a) = pair();
        let (b_out, b) = pair();
        goro::go(move || {
            let outs = [a_out, b_out];
            let mut pending: [VecDeque<Rat>; 2] = [VecDeque::new(), VecDeque::new()];
            let mut wants = [false, false];
            let mut live = [true, true];
            let (mut asked, mut in_flight) = (false, false);
            while live[0] && live[1] {
                let need = (0..2).any(|s| wants[s] && pending[s].is_empty())
                    && (0..2).all(|s| !live[s] || pending[s].len() < AHEAD);
                let demand = |s: usize| (live[s] && !wants[s]).then_some(&outs[s].req);
                let reply = |s: usize| (wants[s] && !pending[s].is_empty()).then_some(&outs[s].dat);
                let front = |s: usize| pending[s].front().copied().unwrap_or(Rat(0, 1));
                enum Ev {
                    Demand(usize, bool),
                    Asked,
                    Got(Option<Rat>),
                    Replied(usize, bool),
                }
                let ev = goro::select! {
                    recv(demand(0)) -> r => Ev::Demand(0, r.is_ok()),
                    recv(demand(1)) -> r => Ev::Demand(1, r.is_ok()),
                    send((need && !asked).then_some(&u.req), ()) -> r => {
                        if r.is_err() { return }
                        Ev::Asked
                    },
                    recv(in_flight.then_some(&u.dat)) -> r => Ev::Got(r.ok()),
                    send(reply(0), front(0)) -> r => Ev::Replied(0, r.is_ok()),
                    send(reply(1), front(1)) -> r => Ev::Replied(1, r.is_ok()),
                };
                match ev {
                    Ev::Demand(s, true) => wants[s] = true,
                    Ev::Demand(s, false) | Ev::Replied(s, false) => {
                        live[s] = false;
                        wants[s] = false;
                        pending[s].clear();
                    }
                    Ev::Asked => (asked, in_flight) = (true, true),
                    Ev::Got(None) => return,
                    Ev::Got(Some(v)) => {
                        (asked, in_flight) = (false, false);
                        for s in 0..2 {
                            if live[s] {
                                pending[s].push_back(v);
                            }
                        }
                    }
                    Ev::Replied(s, true) => {
                        pending[s].pop_front();
                        wants[s] = false;
                    }
                }
            }
        });
        (a, b)
    }

    /// c + the integral of u: c, u0/1, u1/2, u2/3, ...
    pub fn integ(c: Rat, u: Ps, out: PsOut) {
        goro::go(move || {
            if !out.put(c) {
                return;
            }
            for k in 1.. {
                let Some(v) = u.get() else { return };
                if !out.put(v.mul(Rat::new(1, k))) {
                    return;
                }
            }
        });
    }

    pub fn scale(c: Rat, u: Ps) -> Ps {
        let (out, ps) = pair();
        goro::go(move || {
            while let Some(v) = u.get() {
                if !out.put(c.mul(v)) {
                    return;
                }
            }
        });
        ps
    }

    /// exp: the series equal to its own integral plus 1, built as a feedback loop.
    pub fn exp() -> Ps {
        let (out, e) = pair();
        let (result, feedback) = split(e);
        integ(Rat(1, 1), feedback, out);
        result
    }

    /// sin and cos: sin = integral of cos, cos = 1 - integral of sin.
    pub fn sin_cos() -> (Ps, Ps) {
        let (sin_out, sin) = pair();
        let (cos_out, cos) = pair();
        let (sin_result, sin_feedback) = split(sin);
        let (cos_result, cos_feedback) = split(cos);
        integ(Rat(0, 1), cos_feedback, sin_out);
        integ(Rat(1, 1), scale(Rat(-1, 1), sin_feedback), cos_out);
        (sin_result, cos_result)
    }
}

#[test]
fn mcilroy_power_series_exp_sin_cos() {
    use powser::Rat;
    on_1_and_2_workers(|| {
        let e = powser::exp();
        let mut fact = 1;
        for k in 0..15i128 {
            fact *= k.max(1);
            assert_eq!(e.get(), Some(Rat(1, fact)), "exp coefficient {k}");
        }
        let (sin, cos) = powser::sin_cos();
        let mut fact = 1;
        for k in 0..15i128 {
            fact *= k.max(1);
            let (s, c) = (sin.get().unwrap(), cos.get().unwrap());
            let sign = if (k / 2) % 2 == 0 { 1 } else { -1 };
            let (want_s, want_c) = if k % 2 == 0 {
                (Rat(0, 1), Rat(sign, fact))
            } else {
                (Rat(sign, fact), Rat(0, 1))
            };
            assert_eq!((s, c), (want_s, want_c), "coefficient {k}");
        }
    });
}

/// Plain and select senders and receivers, goroutines and threads, over unbuffered and small
/// buffered channels, with select cases switched off at random each round.
#[test]
fn select_stress_with_cases_switched_off_at_run_time() {
    const PER_SENDER: u64 = 3_000;
    on_1_and_2_workers(|| {
        let caps = [0, 0, 1, 2];
        let chans: Vec<(Sender<u64>, Receiver<u64>)> = caps.iter().map(|&c| chan(c)).collect();
        let txs: Vec<Sender<u64>> = chans.iter().map(|c| c.0.clone()).collect();
        let rxs: Vec<Receiver<u64>> = chans.iter().map(|c| c.1.clone()).collect();
        drop(chans);
        let senders = 8u64;
        let mut hs = Vec::new();
        let mut threads = Vec::new();
        for s in 0..senders {
            let txs = txs.clone();
            let body = move || {
                for i in 0..PER_SENDER {
                    let v = s * PER_SENDER + i;
                    if s % 2 == 0 {
                        txs[(s as usize / 2) % 4].send(v).unwrap(); // plain sender
                        continue;
                    }
                    let on: Vec<bool> = (0..4).map(|_| fastrand::bool()).collect();
                    let pick = |k: usize| (on[k] || k == i as usize % 4).then(|| &txs[k]);
                    goro::select! {
                        send(pick(0), v) -> r => r.unwrap(),
                        send(pick(1), v) -> r => r.unwrap(),
                        send(pick(2), v) -> r => r.unwrap(),
                        send(pick(3), v) -> r => r.unwrap(),
                    }
                }
            };
            if s == 3 {
                threads.push(thread(body));
            } else {
                hs.push(goro::go(body));
            }
        }
        let seen = Arc::new(
            (0..senders * PER_SENDER)
                .map(|_| AtomicUsize::new(0))
                .collect::<Vec<_>>(),
        );
        let mut receivers = Vec::new();
        for rx in &rxs {
            // One plain receiver per channel, so every plain sender can finish.
            let (rx, seen) = (rx.clone(), seen.clone());
            receivers.push(goro::go(move || {
                for v in &rx {
                    seen[v as usize].fetch_add(1, Ordering::Relaxed);
                }
            }));
        }
        for r in 0..3 {
            let (rxs, seen) = (rxs.clone(), seen.clone());
            let body = move || {
                let mut open = [true; 4];
                while open.iter().any(|&o| o) {
                    let on: Vec<bool> = (0..4).map(|k| open[k] && fastrand::u8(..4) != 0).collect();
                    if !on.iter().any(|&o| o) {
                        continue;
                    }
                    let pick = |k: usize| on[k].then(|| &rxs[k]);
                    let (k, got) = goro::select! {
                        recv(pick(0)) -> v => (0, v),
                        recv(pick(1)) -> v => (1, v),
                        recv(pick(2)) -> v => (2, v),
                        recv(pick(3)) -> v => (3, v),
                    };
                    match got {
                        Ok(v) => {
                            seen[v as usize].fetch_add(1, Ordering::Relaxed);
                        }
                        Err(_) => open[k] = false,
                    }
                }
            };
            if r == 0 {
                threads.push(thread(body));
            } else {
                receivers.push(goro::go(body));
            }
        }
        drop(rxs);
        hs.into_iter().for_each(|h| h.join().unwrap());
        let mut threads = threads.into_iter();
        threads.next().unwrap().recv().unwrap(); // the sender thread
        for tx in &txs {
            tx.close().unwrap();
        }
        drop(txs);
        receivers.into_iter().for_each(|h| h.join().unwrap());
        threads.for_each(|t| t.recv().unwrap());
        for (v, n) in seen.iter().enumerate() {
            assert_eq!(n.load(Ordering::Relaxed), 1, "value {v}");
        }
    });
}

/// Timeouts racing with hand-offs: every value either arrives exactly once or comes back to
/// its sender; a timed-out waiter leaves nothing linked.
#[test]
fn timeouts_racing_with_handoffs_lose_nothing() {
    on_1_and_2_workers(|| {
        let counter = drop_counter();
        let (tx, rx) = chan::<Counted>(0);
        let c = counter.clone();
        let sender = goro::go(move || {
            let (mut sent, mut back) = (0u64, 0u64);
            for i in 0..3000 {
                match tx.send_timeout(Counted(i, c.clone()), Duration::from_micros(50)) {
                    Ok(()) => sent += 1,
                    Err(e) => {
                        assert!(e.is_timeout());
                        assert_eq!(e.into_inner().0, i);
                        back += 1;
                    }
                }
            }
            (sent, back)
        });
        let mut got = 0u64;
        let mut last = None;
        loop {
            match rx.recv_timeout(Duration::from_micros(70)) {
                Ok(v) => {
                    assert!(last < Some(v.0), "FIFO");
                    last = Some(v.0);
                    got += 1;
                }
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Closed) => break,
            }
        }
        let (sent, back) = sender.join().unwrap();
        assert_eq!((sent + back, got), (3000, sent));
        assert_eq!(drops(&counter), 3000);
        assert_eq!(rx.__waiting(), (0, 0));
    });
}

#[test]
fn timeouts_wait_at_least_their_time_on_goroutines_and_threads() {
    let check = || {
        let (tx, rx) = chan::<u8>(0);
        let t = Instant::now();
        assert_eq!(
            rx.recv_timeout(Duration::from_millis(10)),
            Err(RecvTimeoutError::Timeout)
        );
        assert!(t.elapsed() >= Duration::from_millis(10));
        let t = Instant::now();
        assert!(tx.send_timeout(1, Duration::from_millis(10)).is_err());
        assert!(t.elapsed() >= Duration::from_millis(10));
        assert_eq!(rx.__waiting(), (0, 0));
    };
    check();
    on_1_and_2_workers(check);
}

#[test]
fn plain_threads_without_a_runtime() {
    // FIFO and exactly-once over every capacity, threads only.
    for cap in [0, 1, 16] {
        let (tx, rx) = chan::<u64>(cap);
        let producers: Vec<_> = (0..4u64)
            .map(|p| {
                let tx = tx.clone();
                std::thread::spawn(move || {
                    for i in 0..5_000 {
                        tx.send(p << 32 | i).unwrap();
                    }
                })
            })
            .collect();
        drop(tx);
        let consumers: Vec<_> = (0..3)
            .map(|_| {
                let rx = rx.clone();
                std::thread::spawn(move || {
                    let mut last = [None::<u64>; 4];
                    let mut n = 0;
                    for v in &rx {
                        let p = (v >> 32) as usize;
                        assert!(last[p] < Some(v), "per-producer FIFO");
                        last[p] = Some(v);
                        n += 1;
                    }
                    n
                })
            })
            .collect();
        drop(rx);
        producers.into_iter().for_each(|h| h.join().unwrap());
        let total: usize = consumers.into_iter().map(|h| h.join().unwrap()).sum();
        assert_eq!(total, 20_000, "capacity {cap}");
    }
    // Close wakes blocked threads; select and after work on threads.
    let (tx, rx) = chan::<u8>(0);
    let waiters: Vec<_> = (0..4)
        .map(|_| {
            let rx = rx.clone();
            std::thread::spawn(move || rx.recv())
        })
        .collect();
    std::thread::sleep(Duration::from_millis(20));
    tx.close().unwrap();
    for w in waiters {
        assert!(w.join().unwrap().is_err());
    }
    let (tx, rx) = chan::<u8>(0);
    let t = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(5));
        tx.send(4).unwrap();
    });
    goro::select! {
        recv(rx) -> v => assert_eq!(v, Ok(4)),
        recv(goro::time::after(Duration::from_secs(10))) -> _ => panic!("timed out"),
    }
    t.join().unwrap();
    goro::select! {
        recv(rx) -> v => assert!(v.is_err()),
    }
}

/// Goroutines still blocked in send, receive and select when `run` returns are unwound, and
/// their waiter records leave the channels, which outlive the runtime.
#[test]
fn blocked_goroutines_unwound_at_shutdown_leave_no_waiters() {
    // Receivers only, senders only, and selects that receive from one and send to another.
    let chans: Vec<(Sender<u8>, Receiver<u8>)> = (0..4).map(|_| chan(0)).collect();
    let ends = chans.clone();
    goro::Runtime::builder()
        .workers(2)
        .run(move || {
            for _ in 0..10 {
                let e = ends.clone();
                goro::go(move || e[0].1.recv());
                let e = ends.clone();
                goro::go(move || e[1].0.send(1));
                let e = ends.clone();
                goro::go(move || {
                    goro::select! {
                        recv(e[2].1) -> _ => {},
                        send(e[3].0, 2) -> _ => {},
                    }
                });
            }
            goro::time::sleep(Duration::from_millis(20));
            assert_eq!(ends[0].1.__waiting(), (10, 0));
            assert_eq!(ends[1].1.__waiting(), (0, 10));
            assert_eq!(ends[2].1.__waiting(), (10, 0));
            assert_eq!(ends[3].1.__waiting(), (0, 10));
        })
        .unwrap();
    for (tx, rx) in &chans {
        assert_eq!(rx.__waiting(), (0, 0));
        // Nobody is there to pair with: the channels are empty and usable.
        assert!(tx.try_send(1).unwrap_err().is_full());
        assert!(rx.try_recv().is_err());
    }
}

/// A select that times out races with senders: every value is received exactly once or comes
/// back to its sender, and nothing stays linked.
#[test]
fn select_timeouts_racing_with_senders_lose_nothing() {
    on_1_and_2_workers(|| {
        let counter = drop_counter();
        let (a_tx, a) = chan::<Counted>(0);
        let (b_tx, b) = chan::<Counted>(1);
        let senders: Vec<_> = [a_tx, b_tx]
            .into_iter()
            .enumerate()
            .map(|(k, tx)| {
                let c = counter.clone();
                goro::go(move || {
                    let mut sent = 0u64;
                    for i in 0..2000 {
                        let v = Counted(k as u64 * 10_000 + i, c.clone());
                        match tx.send_timeout(v, Duration::from_micros(30)) {
                            Ok(()) => sent += 1,
                            Err(e) => drop(e.into_inner()),
                        }
                        if i % 16 == 0 {
                            goro::yield_now();
                        }
                    }
                    sent
                })
            })
            .collect();
        let mut got = 0u64;
        let (mut a_open, mut b_open) = (true, true);
        while a_open || b_open {
            let mut sel = goro::Select::new();
            let ta = sel.recv(a_open.then_some(&a));
            let tb = sel.recv(b_open.then_some(&b));
            match sel.select_timeout(Duration::from_micros(40)) {
                None => {}
                Some(i) if i == ta.index() => match sel.recv_result(&ta) {
                    Some(Ok(_)) => got += 1,
                    _ => a_open = false,
                },
                Some(_) => match sel.recv_result(&tb) {
                    Some(Ok(_)) => got += 1,
                    _ => b_open = false,
                },
            }
        }
        let sent: u64 = senders.into_iter().map(|h| h.join().unwrap()).sum();
        assert_eq!(got, sent);
        assert_eq!(drops(&counter), 4000, "every value dropped exactly once");
        assert_eq!((a.__waiting(), b.__waiting()), ((0, 0), (0, 0)));
    });
}

#[test]
fn select_with_only_a_default_runs_it() {
    let v = goro::select! {
        default => 7,
    };
    assert_eq!(v, 7);
}

/// A wait with a deadline that a counterpart completes must return at once, not at the
/// deadline. The counterpart wakes the waiter before it publishes the completion; a waiter
/// that woke in between and parked again (it did, once) slept until its deadline. Eight pairs
/// of a plain thread and a goroutine hand values over while two more threads keep every core
/// busy, so the OS often preempts a waker between its two steps. Each wait has 10 s of
/// deadline; a round over 5 s is such a lost wake-up.
#[test]
fn deadline_waits_completed_by_a_counterpart_return_at_once() {
    goro::Runtime::builder()
        .workers(2)
        .run(|| {
            let long = Duration::from_secs(10);
            let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
            let spinners: Vec<_> = (0..2)
                .map(|_| {
                    let stop = stop.clone();
                    std::thread::spawn(move || {
                        while !stop.load(Ordering::Relaxed) {
                            std::hint::spin_loop();
                        }
                    })
                })
                .collect();
            let rounds = 3_000u32;
            let pairs: Vec<_> = (0..8)
                .map(|_| {
                    let (tx, rx) = chan::<u32>(0);
                    // Every unit held from the start: each release(1) lets one wait through.
                    let sem = Arc::new(goro::sync::Semaphore::new(u64::from(rounds)));
                    assert!(sem.try_acquire(u64::from(rounds)));
                    let sem2 = sem.clone();
                    let partner = thread(move || {
                        for i in 0..rounds {
                            if i % 3 == 2 {
                                sem2.release(1);
                            } else {
                                tx.send(i).unwrap();
                            }
                        }
                    });
                    let waiter = goro::go(move || {
                        let mut worst = Duration::ZERO;
                        for i in 0..rounds {
                            let t = Instant::now();
                            match i % 3 {
                                0 => assert_eq!(rx.recv_timeout(long), Ok(i)),
                                1 => {
                                    let mut sel = goro::Select::new();
                                    let tok = sel.recv(&rx);
                                    assert_eq!(sel.select_timeout(long), Some(0));
                                    assert_eq!(sel.recv_result(&tok), Some(Ok(i)));
                                }
                                _ => assert_eq!(sem.acquire_timeout(1, long), Ok(true)),
                            }
                            worst = worst.max(t.elapsed());
                        }
                        worst
                    });
                    (partner, waiter)
                })
                .collect();
            let mut worst = Duration::ZERO;
            for (partner, waiter) in pairs {
                worst = worst.max(waiter.join().unwrap());
                partner.recv().unwrap();
            }
            stop.store(true, Ordering::Relaxed);
            for s in spinners {
                s.join().unwrap();
            }
            assert!(
                worst < Duration::from_secs(5),
                "a wait ran to its deadline: {worst:?}"
            );
        })
        .unwrap();
}

#[test]
fn select_with_a_default_timeout_waits_that_long_and_no_longer_than_a_case() {
    common::on_1_and_2_workers(|| {
        // Nothing ready: the default runs, after the timeout, not before.
        let (_keep, quiet) = goro::chan::<u8>(0);
        let start = std::time::Instant::now();
        let r = goro::select! {
            recv(quiet) -> v => v.ok(),
            default(std::time::Duration::from_millis(20)) => None,
        };
        assert_eq!(r, None);
        assert!(start.elapsed() >= std::time::Duration::from_millis(20));
        // A case that becomes ready within the timeout wins.
        let (tx, rx) = goro::chan::<u8>(0);
        goro::go(move || {
            goro::time::sleep(std::time::Duration::from_millis(5));
            tx.send(7).unwrap();
        });
        let r = goro::select! {
            recv(rx) -> v => v.ok(),
            default(std::time::Duration::from_secs(30)) => None,
        };
        assert_eq!(r, Some(7));
        // A zero timeout is a plain default; a timeout too long to add to now waits forever
        // (here: until the ready case).
        let (tx, rx) = goro::chan::<u8>(1);
        assert_eq!(
            goro::select! { recv(rx) -> v => v.ok(), default(std::time::Duration::ZERO) => None },
            None
        );
        tx.send(1).unwrap();
        assert_eq!(
            goro::select! { recv(rx) -> v => v.ok(), default(std::time::Duration::MAX) => None },
            Some(1)
        );
    });
}
