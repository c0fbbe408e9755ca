//! WaitGroup and sleep, from goroutines and plain threads.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use goro::sync::WaitGroup;
use goro::Runtime;

#[test]
fn sleep_parks_only_the_goroutine() {
    // One worker: if sleep blocked the thread, the counter could not move meanwhile.
    Runtime::builder()
        .workers(1)
        .run(|| {
            let ticks = Arc::new(AtomicUsize::new(0));
            let t = ticks.clone();
            let sleeper = goro::go(move || {
                let start = Instant::now();
                goro::time::sleep(Duration::from_millis(50));
                (start.elapsed(), t.load(Ordering::Relaxed))
            });
            let t = ticks.clone();
            let counter = goro::go(move || {
                for _ in 0..20 {
                    t.fetch_add(1, Ordering::Relaxed);
                    goro::time::sleep(Duration::from_millis(1));
                }
            });
            let (slept, seen) = sleeper.join().unwrap();
            counter.join().unwrap();
            assert!(slept >= Duration::from_millis(50));
            assert!(
                seen >= 10,
                "only {seen} ticks while sleeping: the worker was blocked"
            );
        })
        .unwrap();
}

#[test]
fn timers_fire_in_deadline_order() {
    let order = Runtime::builder()
        .workers(1)
        .run(|| {
            let order = Arc::new(std::sync::Mutex::new(Vec::new()));
            let delays = [30u64, 10, 50, 20, 40, 0, 5];
            let hs: Vec<_> = delays
                .iter()
                .map(|&d| {
                    let order = order.clone();
                    goro::go(move || {
                        goro::time::sleep(Duration::from_millis(d));
                        order.lock().unwrap().push(d);
                    })
                })
                .collect();
            for h in hs {
                h.join().unwrap();
            }
            Arc::try_unwrap(order).unwrap().into_inner().unwrap()
        })
        .unwrap();
    assert_eq!(order, vec![0, 5, 10, 20, 30, 40, 50]);
}

#[test]
fn sleep_on_a_plain_thread_sleeps_the_thread() {
    let t = Instant::now();
    goro::time::sleep(Duration::from_millis(10));
    assert!(t.elapsed() >= Duration::from_millis(10));
}

#[test]
fn waitgroup_stress_goroutines_and_threads() {
    Runtime::builder()
        .workers(2)
        .run(|| {
            for _ in 0..200 {
                let wg = WaitGroup::new();
                let hits = Arc::new(AtomicUsize::new(0));
                wg.add(20);
                for i in 0..20 {
                    let (wg, hits) = (wg.clone(), hits.clone());
                    if i % 5 == 0 {
                        std::thread::spawn(move || {
                            hits.fetch_add(1, Ordering::Relaxed);
                            wg.done();
                        });
                    } else {
                        goro::go(move || {
                            hits.fetch_add(1, Ordering::Relaxed);
                            wg.done();
                        });
                    }
                }
                let waiters: Vec<_> = (0..3)
                    .map(|_| {
                        let (wg, hits) = (wg.clone(), hits.clone());
                        goro::go(move || {
                            wg.wait();
                            hits.load(Ordering::Relaxed)
                        })
                    })
                    .collect();
                wg.wait();
                assert_eq!(hits.load(Ordering::Relaxed), 20);
                for w in waiters {
                    assert_eq!(w.join().unwrap(), 20);
                }
            }
        })
        .unwrap();
}

/// `done` past zero is the caller's bug (Go: "negative WaitGroup counter"): it panics with
/// that message, and the count stays at zero instead of wrapping around.
#[test]
fn waitgroup_done_past_zero_panics_and_keeps_the_count_at_zero() {
    let wg = WaitGroup::new();
    wg.add(1);
    wg.done();
    let w = wg.clone();
    let e = goro::run(move || goro::go(move || w.done()).join())
        .unwrap()
        .expect_err("done past zero panics");
    let msg = e.panic_message().unwrap_or_default();
    assert!(msg.contains("negative WaitGroup counter"), "{msg}");
    assert_eq!(wg.count(), 0);
    // Still usable: wait returns at once, and a new round works.
    wg.wait();
    wg.add(1);
    wg.done();
    wg.wait();
}
