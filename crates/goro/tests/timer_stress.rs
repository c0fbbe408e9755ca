//! Timers under load: ordering, arming from anywhere, stop/reset from other threads, and
//! `sleep` from goroutines and plain threads. (Go's timer semantics, line by line:
//! go_semantics/timers.rs.)

#[path = "common/mod.rs"]
mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{on_1_and_2_workers, thread};
use goro::time::{after, Ticker, Timer};
use goro::Runtime;

#[test]
fn ten_thousand_random_timers_fire_in_deadline_order() {
    on_1_and_2_workers(|| {
        let mut x = 88172645463325252u64;
        // Each timer's true deadline lies between `lo` and `hi`: `after` reads the clock
        // somewhere between our two readings.
        let timers: Vec<(Instant, Instant, goro::Receiver<Instant>)> = (0..10_000)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                let d = Duration::from_micros(x % 100_000);
                let lo = Instant::now() + d;
                let rx = after(d);
                (lo, Instant::now() + d, rx)
            })
            .collect();
        let fired: Vec<Instant> = timers.iter().map(|t| t.2.recv().unwrap()).collect();
        for (t, f) in timers.iter().zip(&fired) {
            assert!(*f >= t.0, "fired {:?} early", t.0 - *f);
        }
        // A timer surely due before another (its `hi` before the other's `lo`) fired no later.
        let mut by_hi: Vec<usize> = (0..timers.len()).collect();
        by_hi.sort_by_key(|&i| timers[i].1);
        let mut by_lo = by_hi.clone();
        by_lo.sort_by_key(|&i| timers[i].0);
        let (mut k, mut latest) = (0, None::<Instant>);
        for &j in &by_lo {
            while k < by_hi.len() && timers[by_hi[k]].1 < timers[j].0 {
                latest = latest.max(Some(fired[by_hi[k]]));
                k += 1;
            }
            if let Some(l) = latest {
                assert!(
                    fired[j] >= l,
                    "a later deadline fired before an earlier one"
                );
            }
        }
    });
}

#[test]
fn timers_armed_on_a_plain_thread_wake_a_goroutine() {
    on_1_and_2_workers(|| {
        let got = thread(|| Timer::new(Duration::from_millis(5)))
            .recv()
            .unwrap();
        // Armed on the thread (the timer thread fires it); received here.
        assert!(got.c().recv_timeout(Duration::from_secs(5)).is_ok());
        // Reset from a goroutine: now on this worker's heap.
        got.reset(Duration::from_millis(1));
        assert!(got.c().recv_timeout(Duration::from_secs(5)).is_ok());
    });
}

#[test]
fn stop_and_reset_from_other_goroutines_and_threads() {
    on_1_and_2_workers(|| {
        for round in 0..2_000u32 {
            let t = std::sync::Arc::new(Timer::new(Duration::from_micros(u64::from(round % 50))));
            let t2 = t.clone();
            let stopped = if round % 2 == 0 {
                goro::go(move || {
                    t2.stop();
                })
                .join()
                .unwrap();
                true
            } else {
                thread(move || {
                    t2.reset(Duration::from_secs(3600));
                })
                .recv()
                .unwrap();
                false
            };
            assert!(
                t.c().try_recv().is_err(),
                "stale value (round {round}, stop: {stopped})"
            );
        }
    });
}

#[test]
fn a_ticker_keeps_its_period_and_reset_changes_it() {
    on_1_and_2_workers(|| {
        // Ticks stay on the period's grid: the sixth comes at least six periods in.
        let start = Instant::now();
        let t = Ticker::new(Duration::from_millis(2)).unwrap();
        let mut last = start;
        for _ in 0..6 {
            let now = t.c().recv().unwrap();
            assert!(now > last);
            last = now;
        }
        assert!(last >= start + Duration::from_millis(12));
        t.reset(Duration::from_millis(20)).unwrap();
        let start = Instant::now();
        t.c().recv().unwrap();
        assert!(start.elapsed() >= Duration::from_millis(19));
        assert!(t.reset(Duration::ZERO).is_err());
        assert!(Ticker::new(Duration::ZERO).is_err());
    });
}

#[test]
fn a_loop_of_long_timeouts_that_finish_early_does_not_pile_up_timers() {
    // Each turn arms an hour-long `after` and takes the other case at once: the timer is
    // garbage as soon as the select drops its receiver, and the heaps drop such entries as
    // they grow (without that, 100,000 would still be armed). Other tests of this binary arm
    // at most about 10,000 at a time.
    on_1_and_2_workers(|| {
        let (tx, rx) = goro::chan(1);
        for i in 0..100_000u32 {
            tx.send(i).unwrap();
            goro::select! {
                recv(rx) -> v => assert_eq!(v, Ok(i)),
                recv(after(Duration::from_secs(3600))) -> _ => unreachable!(),
            }
        }
        let armed = goro::time::armed();
        assert!(armed < 50_000, "{armed} timers still armed");
    });
}

/// Busy work between polls: a little computation, no goro call, no park.
fn work() {
    let mut x = 0u64;
    for i in 0..2_000u64 {
        x = std::hint::black_box(x.wrapping_add(i));
    }
}

/// Runs `f` as the main goroutine, which never parks or yields, on 1 worker and on 2 (the
/// other idle), and returns how long each run took. A timer armed by a goroutine that then
/// computes sits in its busy worker's heap: the monitor fires it for the worker.
fn busy_main_times(f: impl Fn() + Clone + 'static) -> Vec<Duration> {
    [1, 2]
        .into_iter()
        .map(|w| {
            let f = f.clone();
            let t = Instant::now();
            goro::Runtime::builder()
                .workers(w)
                .run(f)
                .unwrap_or_else(|e| panic!("with {w} workers: {e}"));
            t.elapsed()
        })
        .collect()
}

/// A deadline ends a loop that polls its context in a `select!` with `default`, though the
/// loop never parks and the deadline's timer lives on its busy worker (it used to run for
/// ever). Go ends it at 50 ms; the bound here only tells "ends" from "never".
#[test]
fn a_deadline_fires_while_its_worker_is_busy_polling_select_default() {
    let took = busy_main_times(|| {
        let (ctx, _cancel) =
            goro::context::Context::background().with_timeout(Duration::from_millis(50));
        let done = ctx.done();
        loop {
            goro::select! {
                recv(done) -> _ => break,
                default => work(),
            }
        }
        assert!(ctx.err().is_some());
    });
    for t in took {
        assert!(
            t >= Duration::from_millis(50) && t < Duration::from_secs(10),
            "{t:?}"
        );
    }
}

/// The same with `time::after` and with `Context::is_done`.
#[test]
fn after_and_is_done_fire_while_their_worker_is_busy() {
    let took = busy_main_times(|| {
        let timeout = goro::time::after(Duration::from_millis(50));
        loop {
            goro::select! {
                recv(timeout) -> _ => break,
                default => work(),
            }
        }
    });
    let took2 = busy_main_times(|| {
        let (ctx, _cancel) =
            goro::context::Context::background().with_timeout(Duration::from_millis(50));
        while !ctx.is_done() {
            work();
        }
    });
    for t in took.into_iter().chain(took2) {
        assert!(
            t >= Duration::from_millis(50) && t < Duration::from_secs(10),
            "{t:?}"
        );
    }
}

/// With one worker, a loop that polls a `select!` with `default` for 300 ms and a goroutine
/// on a 1 ms ticker both progress: the monitor flags the loop after 10 ms of CPU time, and
/// the loop's next non-blocking select yields (before, the ticker ran only after the loop).
/// The same holds for `Context::is_done`, `try_recv`, `try_send` and `Mutex::try_lock`.
#[test]
fn a_loop_polling_through_goro_shares_its_worker() {
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    use std::sync::Arc;
    for w in [1, 2] {
        let ticks = goro::Runtime::builder()
            .workers(w)
            .hog_warnings(false)
            .run(|| {
                let ticks = Arc::new(AtomicUsize::new(0));
                let stop = Arc::new(AtomicBool::new(false));
                let (t2, s2) = (ticks.clone(), stop.clone());
                let ticker = goro::go(move || {
                    let t = Ticker::new(Duration::from_millis(1)).unwrap();
                    while !s2.load(Ordering::Relaxed) {
                        let _ = t.c().recv();
                        t2.fetch_add(1, Ordering::Relaxed);
                    }
                });
                goro::yield_now(); // the ticker starts
                let (ctx, _cancel) =
                    goro::context::Context::background().with_timeout(Duration::from_millis(300));
                let done = ctx.done();
                let (tx, rx) = goro::chan::<u8>(1);
                let m = goro::sync::Mutex::new(0u8);
                let mut round = 0u32;
                loop {
                    round = round.wrapping_add(1);
                    // Each kind of polling call takes its turn.
                    match round % 4 {
                        0 => goro::select! {
                            recv(done) -> _ => break,
                            default => work(),
                        },
                        1 => {
                            if ctx.is_done() {
                                break;
                            }
                            work();
                        }
                        2 => {
                            let _ = tx.try_send(1);
                            let _ = rx.try_recv();
                            work();
                        }
                        _ => {
                            drop(m.try_lock());
                            work();
                        }
                    }
                }
                stop.store(true, Ordering::Relaxed);
                ticker.join().unwrap();
                ticks.load(Ordering::Relaxed)
            })
            .unwrap();
        assert!(
            ticks >= 5,
            "with {w} workers the ticker ran {ticks} times in 300 ms"
        );
    }
}

/// A goroutine that only sleeps (it never made an `Unparker`, so it has no recorded home),
/// on a worker that then computes past its deadline: the monitor fires its timer for the
/// worker, and the goroutine is queued on that worker and wakes. (A wake-up that needed the
/// home it did not have was lost, and the join below waited for ever.)
#[test]
fn a_sleeper_whose_timer_the_monitor_fires_still_wakes() {
    for w in [1, 2] {
        goro::Runtime::builder()
            .workers(w)
            .hog_warnings(false)
            .run(|| {
                let sleepers: Vec<_> = (0..4)
                    .map(|_| goro::go(|| goro::time::sleep(Duration::from_millis(5))))
                    .collect();
                goro::yield_now(); // they start and sleep
                let t = Instant::now();
                while t.elapsed() < Duration::from_millis(30) {
                    work(); // no goro call: the timers are overdue on a busy worker
                }
                for s in sleepers {
                    s.join().unwrap();
                }
            })
            .unwrap();
    }
}

#[test]
fn a_yielding_goroutine_runs_after_the_sleepers_whose_time_came_while_it_ran() {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    // One worker: a sleeper's 1 ms deadline passes while another goroutine computes for
    // 5 ms; when that one yields (as a preemption point does), the sleeper runs first. Its
    // deadline is fired either by the worker at the yield or by the monitor into the inbox;
    // either way the yielder queues behind it. Before, the yielder went back first and ran
    // a whole further slice while the sleeper waited.
    for _ in 0..20 {
        let woke_first = goro::Runtime::builder()
            .workers(1)
            .hog_warnings(false)
            .run(|| {
                let woke = Arc::new(AtomicBool::new(false));
                let w2 = woke.clone();
                let sleeper = goro::go(move || {
                    goro::time::sleep(Duration::from_millis(1));
                    w2.store(true, Ordering::SeqCst);
                });
                goro::yield_now(); // the sleeper arms its timer
                let t = Instant::now();
                while t.elapsed() < Duration::from_millis(5) {
                    std::hint::spin_loop();
                }
                goro::yield_now();
                let first = woke.load(Ordering::SeqCst);
                sleeper.join().unwrap();
                first
            })
            .unwrap();
        assert!(
            woke_first,
            "the yielder ran again before the overdue sleeper"
        );
    }
}

// ---- sleep and the order timers fire in ----

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

// ---- after_func ----

#[test]
fn after_func_calls_on_a_goroutine_even_when_the_handle_is_dropped() {
    on_1_and_2_workers(|| {
        let (tx, rx) = goro::chan(4);
        for i in 0..3u32 {
            let tx = tx.clone();
            // Dropped at once: Go's runtime keeps the timer, so does goro's.
            drop(goro::time::after_func(
                Duration::from_millis(2),
                move || {
                    let _ = tx.try_send((i, goro::current_id().is_some()));
                },
            ));
        }
        let mut got: Vec<_> = (0..3).map(|_| rx.recv().unwrap()).collect();
        got.sort_unstable();
        assert_eq!(got, vec![(0, true), (1, true), (2, true)]);
    });
}

#[test]
fn after_func_stopped_in_time_never_calls_and_reset_calls_again() {
    on_1_and_2_workers(|| {
        let calls = Arc::new(AtomicUsize::new(0));
        let c = calls.clone();
        let t = goro::time::after_func(Duration::from_millis(20), move || {
            c.fetch_add(1, Ordering::SeqCst);
        });
        assert!(t.stop(), "it was pending");
        assert!(!t.stop(), "already stopped");
        goro::time::sleep(Duration::from_millis(60));
        assert_eq!(calls.load(Ordering::SeqCst), 0, "a stopped call happened");
        // Reset arms it again, after a stop and after a call alike.
        assert!(!t.reset(Duration::from_millis(1)));
        let wait_for = |n: usize| {
            let start = Instant::now();
            while calls.load(Ordering::SeqCst) < n {
                assert!(start.elapsed() < Duration::from_secs(10), "never called");
                goro::time::sleep(Duration::from_millis(1));
            }
        };
        wait_for(1);
        assert!(!t.stop(), "nothing pending after the call");
        t.reset(Duration::from_millis(1));
        wait_for(2);
        goro::time::sleep(Duration::from_millis(20));
        assert_eq!(calls.load(Ordering::SeqCst), 2);
    });
}

#[test]
fn after_func_from_a_plain_thread_calls_on_a_thread() {
    let (tx, rx) = std::sync::mpsc::channel();
    let _t = goro::time::after_func(Duration::from_millis(2), move || {
        let _ = tx.send(goro::current_id());
    });
    assert_eq!(rx.recv_timeout(Duration::from_secs(10)), Ok(None));
}

/// Panics when dropped: what a hostile closure captures.
struct PanicsOnDrop;

impl Drop for PanicsOnDrop {
    fn drop(&mut self) {
        panic!("a captured value panicked in its Drop");
    }
}

/// `after_func` closures whose captures panic when dropped, dropped on the worker: a stopped
/// call whose handle is gone (its heap entry holds the last reference when it comes due),
/// and a call that panics when called.
#[test]
#[ignore = "run by after_func_closures_that_panic_do_not_take_the_worker_down"]
fn child_after_func_hostile() {
    goro::Runtime::builder()
        .workers(1)
        .unhandled_panic(goro::UnhandledPanic::Ignore)
        .run(|| {
            let bomb = PanicsOnDrop;
            let t = goro::time::after_func(Duration::from_millis(5), move || {
                let _keep = &bomb;
            });
            assert!(t.stop());
            drop(t); // the heap entry now holds the closure alone
            let calls = Arc::new(AtomicUsize::new(0));
            let c = calls.clone();
            drop(goro::time::after_func(
                Duration::from_millis(1),
                move || {
                    c.fetch_add(1, Ordering::SeqCst);
                    panic!("the call panics");
                },
            ));
            goro::time::sleep(Duration::from_millis(30));
            assert_eq!(calls.load(Ordering::SeqCst), 1);
            // The worker is still whole: timers and goroutines go on.
            assert_eq!(goro::go(|| 7).join().unwrap(), 7);
        })
        .unwrap();
    // By default the call's panic, which nobody joins, ends the run as it ends a Go program,
    // and names what ran it.
    let r = goro::Runtime::builder().workers(1).run(|| {
        drop(goro::time::after_func(Duration::from_millis(1), || {
            panic!("the call panics")
        }));
        goro::time::sleep(Duration::from_secs(30));
    });
    let e = r.unwrap_err();
    assert_eq!(e.panic_message(), Some("the call panics"));
    assert!(e.to_string().contains("\"time.AfterFunc\""), "{e}");
    println!("CHILD DONE");
}

#[test]
fn after_func_closures_that_panic_do_not_take_the_worker_down() {
    common::child_passes("child_after_func_hostile", Duration::from_secs(30));
}
