//! Async ends of goro channels: `recv_async` and `send_async` beside goroutines' `send` and
//! `recv`, and futures dropped while pending, racing their counterparts.

mod common;

use std::future::Future;
use std::pin::pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

/// A value that records its drop, and fails the test if it is dropped twice.
struct Counted {
    id: usize,
    drops: Arc<Vec<AtomicUsize>>,
}

impl Drop for Counted {
    fn drop(&mut self) {
        let n = self.drops[self.id].fetch_add(1, Ordering::SeqCst);
        assert_eq!(n, 0, "value {} dropped twice", self.id);
    }
}

fn counters(n: usize) -> Arc<Vec<AtomicUsize>> {
    Arc::new((0..n).map(|_| AtomicUsize::new(0)).collect())
}

const ROUNDS: usize = 100_000;

/// Receivers that give up: each round polls `recv_async` once and, if it is pending, drops
/// it, racing a goroutine that sends. Every value is received or dropped, exactly once.
#[test]
fn dropped_receive_futures_lose_no_value_and_drop_none_twice() {
    common::on_1_and_2_workers(|| {
        let drops = counters(ROUNDS);
        let (tx, rx) = goro::chan::<Counted>(0);
        let d = drops.clone();
        let sender = goro::go(move || {
            for id in 0..ROUNDS {
                let v = Counted {
                    id,
                    drops: d.clone(),
                };
                if tx.send(v).is_err() {
                    unreachable!("the receiver outlives the sender");
                }
            }
        });
        let mut cx = Context::from_waker(Waker::noop());
        let mut received = 0usize;
        // Until the sender is done and its end dropped: the channel then reports closed.
        loop {
            let mut f = pin!(rx.recv_async());
            match f.as_mut().poll(&mut cx) {
                Poll::Ready(Ok(_v)) => received += 1,
                Poll::Ready(Err(_)) => break,
                Poll::Pending => {
                    goro::yield_now(); // let the sender race the drop
                    if let Poll::Ready(Ok(_v)) = f.as_mut().poll(&mut cx) {
                        received += 1;
                    }
                    // Else dropped while linked: withdrawn, or completed just before (the
                    // value it got is dropped with it).
                }
            }
        }
        assert!(received > 0);
        sender.join().unwrap();
        drop(rx);
        assert_eq!(
            drops
                .iter()
                .filter(|c| c.load(Ordering::SeqCst) == 1)
                .count(),
            ROUNDS
        );
    });
}

/// Senders that give up: each round polls `send_async` once and drops it if it is pending,
/// racing a goroutine that receives. Every value is received or dropped with its future,
/// exactly once.
#[test]
fn dropped_send_futures_lose_no_value_and_drop_none_twice() {
    common::on_1_and_2_workers(|| {
        let drops = counters(ROUNDS);
        let (tx, rx) = goro::chan::<Counted>(0);
        let got = Arc::new(AtomicUsize::new(0));
        let g = got.clone();
        let receiver = goro::go(move || {
            for v in &rx {
                g.fetch_add(1, Ordering::SeqCst);
                drop(v);
            }
        });
        let mut cx = Context::from_waker(Waker::noop());
        for id in 0..ROUNDS {
            let v = Counted {
                id,
                drops: drops.clone(),
            };
            let mut f = pin!(tx.send_async(v));
            if f.as_mut().poll(&mut cx).is_pending() {
                goro::yield_now();
                let _ = f.as_mut().poll(&mut cx);
            }
        }
        drop(tx);
        receiver.join().unwrap();
        assert_eq!(
            drops
                .iter()
                .filter(|c| c.load(Ordering::SeqCst) == 1)
                .count(),
            ROUNDS,
            "every value dropped once"
        );
        assert!(got.load(Ordering::SeqCst) > 0);
    });
}

/// A future waiting on a channel is woken by a goroutine's send, a thread's send, and a
/// close; a sender future by a receive and by the last receiver leaving.
#[test]
fn pending_futures_are_woken_by_every_kind_of_counterpart() {
    common::on_1_and_2_workers(|| {
        let (tx, rx) = goro::chan::<u32>(0);
        let t2 = tx.clone();
        goro::go(move || t2.send(1).unwrap());
        assert_eq!(goro::block_on(rx.recv_async()), Ok(1));
        let t3 = tx.clone();
        std::thread::spawn(move || t3.send(2).unwrap());
        assert_eq!(goro::block_on(rx.recv_async()), Ok(2));
        let t4 = tx.clone();
        goro::go(move || t4.close().unwrap());
        assert_eq!(goro::block_on(rx.recv_async()), Err(goro::RecvError));
        drop(tx);

        let (tx, rx) = goro::chan::<String>(1);
        goro::block_on(tx.send_async("buffered".into())).unwrap();
        let h = goro::go(move || {
            let a = rx.recv().unwrap();
            let b = rx.recv().unwrap();
            drop(rx); // the next send_async finds every receiver gone
            (a, b)
        });
        goro::block_on(tx.send_async("waited".into())).unwrap();
        assert_eq!(h.join().unwrap(), ("buffered".into(), "waited".into()));
        let e = goro::block_on(tx.send_async("late".into())).unwrap_err();
        assert!(e.receivers_gone());
        assert_eq!(e.0, "late");
    });
}

/// A receiver as a stream: every value, then the end; an item pending when the stream is
/// dropped is withdrawn, and the value it would have taken goes to the next receiver.
#[cfg(feature = "stream")]
#[test]
fn a_receiver_stream_yields_every_value_then_ends() {
    use futures_core::Stream;
    common::on_1_and_2_workers(|| {
        let (tx, rx) = goro::chan::<u32>(0);
        let other = rx.clone();
        let mut s = Box::pin(rx.into_stream());
        let mut cx = Context::from_waker(Waker::noop());
        assert!(s.as_mut().poll_next(&mut cx).is_pending());
        drop(s); // withdrawn while pending
        let h = goro::go(move || other.recv());
        tx.send(9).unwrap(); // goes to the one receiver left waiting
        assert_eq!(h.join().unwrap(), Ok(9));

        let (tx, rx) = goro::chan::<u32>(0);
        goro::go(move || (0..1000).for_each(|i| tx.send(i).unwrap()));
        let mut s = pin!(rx.into_stream());
        let mut sum = 0;
        while let Some(v) = goro::block_on(std::future::poll_fn(|cx| s.as_mut().poll_next(cx))) {
            sum += v;
        }
        assert_eq!(sum, 999 * 1000 / 2);
        let mut cx = Context::from_waker(Waker::noop());
        assert_eq!(s.as_mut().poll_next(&mut cx), Poll::Ready(None), "fused");
    });
}

/// A waker that panics when woken (an executor's bug) does not unwind into the goroutine
/// that completes the operation: its send still returns.
#[test]
fn a_panicking_waker_does_not_unwind_into_the_sender() {
    use std::sync::Arc;
    use std::task::Wake;
    struct Bad;
    impl Wake for Bad {
        fn wake(self: Arc<Self>) {
            panic!("a waker that panics");
        }
    }
    common::on_1_and_2_workers(|| {
        let (tx, rx) = goro::chan::<u32>(0);
        let waker = Waker::from(Arc::new(Bad));
        let mut cx = Context::from_waker(&waker);
        let mut f = Box::pin(rx.recv_async());
        assert!(f.as_mut().poll(&mut cx).is_pending());
        let h = goro::go(move || tx.send(5));
        assert_eq!(h.join().unwrap(), Ok(()), "the sender was not unwound");
        let mut cx = Context::from_waker(Waker::noop());
        assert_eq!(f.as_mut().poll(&mut cx), Poll::Ready(Ok(5)));
    });
}
