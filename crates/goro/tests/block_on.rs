//! `goro::block_on`: futures on goroutines, parking the goroutine between polls.

mod common;

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

/// A one-shot: `fire` makes the future ready and wakes whoever polled it last.
#[derive(Clone, Default)]
struct Shot(Arc<Mutex<(bool, Option<Waker>)>>);

impl Shot {
    fn fire(&self) {
        let w = {
            let mut s = self.0.lock().unwrap();
            s.0 = true;
            s.1.take()
        };
        if let Some(w) = w {
            w.wake();
        }
    }
}

impl Future for Shot {
    type Output = ();
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let mut s = self.0.lock().unwrap();
        if s.0 {
            return Poll::Ready(());
        }
        s.1 = Some(cx.waker().clone());
        Poll::Pending
    }
}

#[test]
fn a_waiting_future_parks_only_its_goroutine() {
    goro::Runtime::builder()
        .workers(1)
        .run(|| {
            assert_eq!(goro::block_on(async { 5 }), 5);
            let shot = Shot::default();
            let s2 = shot.clone();
            std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(100));
                s2.fire();
            });
            // On the one worker, a ticker keeps ticking while main waits in block_on.
            let ticks = Arc::new(AtomicUsize::new(0));
            let t = ticks.clone();
            let ticker = goro::go(move || {
                for _ in 0..20 {
                    goro::time::sleep(Duration::from_millis(1));
                    t.fetch_add(1, Ordering::SeqCst);
                }
            });
            goro::block_on(shot);
            ticker.join().unwrap();
            assert_eq!(ticks.load(Ordering::SeqCst), 20);
        })
        .unwrap();
}

#[test]
fn goroutines_wake_each_others_futures() {
    common::on_1_and_2_workers(|| {
        // 1,000 goroutines wait on futures a single goroutine fires.
        let shots: Vec<Shot> = (0..1000).map(|_| Shot::default()).collect();
        let hs: Vec<_> = shots
            .iter()
            .cloned()
            .map(|s| goro::go(move || goro::block_on(s)))
            .collect();
        goro::go(move || shots.iter().for_each(Shot::fire));
        for h in hs {
            h.join().unwrap();
        }
        // Nested: a future that itself blocks on another.
        let inner = Shot::default();
        let i2 = inner.clone();
        goro::go(move || i2.fire());
        let v = goro::block_on(async move {
            goro::block_on(inner);
            3
        });
        assert_eq!(v, 3);
    });
}

#[test]
fn a_panicking_future_unwinds_into_the_caller_and_is_dropped() {
    goro::run(|| {
        struct Dropped(Arc<AtomicUsize>);
        impl Drop for Dropped {
            fn drop(&mut self) {
                self.0.fetch_add(1, Ordering::SeqCst);
            }
        }
        let drops = Arc::new(AtomicUsize::new(0));
        let d = Dropped(drops.clone());
        let shot = Shot::default();
        let s2 = shot.clone();
        goro::go(move || s2.fire());
        // It panics after a wait, on its second poll.
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            goro::block_on(async move {
                let _d = d;
                shot.await;
                panic!("in the future");
            })
        }));
        assert!(r.is_err());
        assert_eq!(drops.load(Ordering::SeqCst), 1, "the future was dropped");
        assert_eq!(goro::go(|| 1).join().unwrap(), 1, "the runtime is whole");
    })
    .unwrap();
}

#[test]
fn a_goroutine_in_block_on_shows_in_dumps_and_is_not_a_deadlock() {
    let shot = Shot::default();
    let s2 = shot.clone();
    let r = goro::Runtime::builder()
        .deadlock_detection(Some(Duration::from_millis(50)))
        .deadlock_fatal_unproven(true)
        .exit_report(false)
        .run(move || {
            let s3 = s2.clone();
            let h = goro::Builder::new()
                .name("awaiting")
                .spawn(move || goro::block_on(s3))
                .unwrap();
            goro::time::sleep(Duration::from_millis(20));
            let dump = goro::debug::dump();
            assert!(dump.contains("\"awaiting\" [block_on"), "{dump}");
            // Only a thread goro cannot see fires it, well past the deadlock grace.
            std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(300));
                s2.fire();
            });
            h.join().unwrap();
            "done"
        });
    assert_eq!(r.unwrap(), "done");
    drop(shot);
}
