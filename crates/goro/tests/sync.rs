//! goro::sync under stress: goroutines and plain threads together, one and two workers.

#[path = "common/mod.rs"]
mod common;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::{on_1_and_2_workers, thread};
use goro::sync::{Cond, ErrGroup, Mutex, Once, OnceLock, RwLock, Semaphore, WaitGroup};
use goro::Runtime;

/// Runs `each` on `g` goroutines and `t` threads at once and waits for all.
fn crowd(g: usize, t: usize, each: impl Fn(usize) + Send + Sync + 'static) {
    let each = Arc::new(each);
    let wg = WaitGroup::new();
    wg.add(g + t);
    for i in 0..g {
        let (each, wg) = (each.clone(), wg.clone());
        goro::go(move || {
            each(i);
            wg.done();
        });
    }
    for i in 0..t {
        let (each, wg) = (each.clone(), wg.clone());
        std::thread::spawn(move || {
            each(g + i);
            wg.done();
        });
    }
    wg.wait();
}

#[test]
fn mutex_counts_every_increment_from_goroutines_and_threads() {
    on_1_and_2_workers(|| {
        let m = Arc::new(Mutex::new(0u64));
        let m2 = m.clone();
        crowd(16, 4, move |_| {
            for _ in 0..2_000 {
                let mut g = m2.lock();
                let v = *g;
                if v % 64 == 0 {
                    goro::yield_now(); // hold it across a switch now and then
                }
                *g = v + 1;
            }
        });
        assert_eq!(*m.lock(), 20 * 2_000);
    });
}

#[test]
fn mutex_try_lock_and_into_inner() {
    let m = Mutex::new(vec![1]);
    {
        let g = m.lock();
        assert!(m.try_lock().is_none());
        assert!(m.is_locked());
        drop(g);
    }
    m.try_lock().unwrap().push(2);
    assert_eq!(m.into_inner(), vec![1, 2]);
}

#[test]
fn mutex_waiter_is_served_while_a_goroutine_hammers_the_lock() {
    // On one worker a goroutine holds the lock across a yield, unlocks and relocks at once.
    // In normal mode the woken waiter always finds it taken again; starving mode (after 1 ms
    // of waiting) hands the mutex over at the next unlock. Without it the waiter would never
    // finish its ten acquisitions.
    goro::Runtime::builder()
        .workers(1)
        .run(|| {
            let m = Arc::new(Mutex::new(0u64));
            let stop = Arc::new(AtomicBool::new(false));
            let (m2, stop2) = (m.clone(), stop.clone());
            let (started_tx, started) = goro::chan(1);
            let hog = goro::go(move || {
                while !stop2.load(Ordering::Relaxed) {
                    let mut g = m2.lock();
                    *g += 1;
                    let _ = started_tx.try_send(());
                    goro::yield_now();
                    drop(g);
                }
            });
            started.recv().unwrap();
            let m3 = m.clone();
            let (tx, rx) = goro::chan(1);
            goro::go(move || {
                for _ in 0..10 {
                    *m3.lock() += 1;
                }
                tx.send(()).unwrap();
            });
            let served = rx.recv_timeout(Duration::from_secs(20)).is_ok();
            stop.store(true, Ordering::Relaxed);
            hog.join().unwrap();
            assert!(served, "the goroutine was starved of the mutex");
        })
        .unwrap();
}

#[test]
fn rwlock_readers_share_and_writers_exclude() {
    on_1_and_2_workers(|| {
        let l = Arc::new(RwLock::new(0u64));
        // Two readers at once: the first holds its share until the second has one too.
        let (tx, rx) = goro::chan::<()>(0);
        let l2 = l.clone();
        let first = goro::go(move || {
            let _r = l2.read();
            rx.recv().unwrap();
        });
        goro::yield_now();
        let l3 = l.clone();
        goro::go(move || {
            let _r = l3.read();
            tx.send(()).unwrap();
        })
        .join()
        .unwrap();
        first.join().unwrap();
        // Writers and readers: every write is seen whole.
        let l4 = l.clone();
        crowd(8, 2, move |i| {
            for _ in 0..1_000 {
                if i % 3 == 0 {
                    let mut w = l4.write();
                    *w += 1;
                    let v = *w;
                    goro::yield_now();
                    assert_eq!(*w, v, "a write was interleaved");
                } else {
                    let r = l4.read();
                    let v = *r;
                    goro::yield_now();
                    assert_eq!(*r, v, "a write happened under a read lock");
                }
            }
        });
        assert_eq!(*l.read(), 4 * 1_000);
    });
}

#[test]
fn rwlock_writer_is_not_starved_by_a_stream_of_readers() {
    on_1_and_2_workers(|| {
        let l = Arc::new(RwLock::new(()));
        let stop = Arc::new(AtomicBool::new(false));
        let mut readers = Vec::new();
        for _ in 0..4 {
            let (l, stop) = (l.clone(), stop.clone());
            readers.push(goro::go(move || {
                while !stop.load(Ordering::Relaxed) {
                    let _r = l.read();
                    goro::yield_now();
                }
            }));
        }
        goro::yield_now();
        for _ in 0..100 {
            drop(l.write());
        }
        stop.store(true, Ordering::Relaxed);
        for r in readers {
            r.join().unwrap();
        }
    });
}

#[test]
fn cond_wakes_one_and_all() {
    on_1_and_2_workers(|| {
        let state = Arc::new((Mutex::new(0u32), Cond::new()));
        let woke = Arc::new(AtomicUsize::new(0));
        let mut hs = Vec::new();
        for _ in 0..8 {
            let (state, woke) = (state.clone(), woke.clone());
            hs.push(goro::go(move || {
                let (m, c) = &*state;
                let mut g = m.lock();
                while *g == 0 {
                    g = c.wait(g);
                }
                woke.fetch_add(1, Ordering::SeqCst);
            }));
        }
        // Wait until all eight are waiting, then release them all at once.
        while format!("{:?}", state.1) != "Cond { waiting: 8 }" {
            goro::yield_now();
        }
        *state.0.lock() = 1;
        state.1.notify_all();
        for h in hs {
            h.join().unwrap();
        }
        assert_eq!(woke.load(Ordering::SeqCst), 8);
        // notify_one hands items to a consumer one by one.
        let q = Arc::new((Mutex::new(Vec::<u32>::new()), Cond::new()));
        let q2 = q.clone();
        let consumer = thread(move || {
            let mut got = Vec::new();
            let (m, c) = &*q2;
            let mut g = m.lock();
            while got.len() < 100 {
                while g.is_empty() {
                    g = c.wait(g);
                }
                got.extend(g.drain(..));
            }
            got
        });
        for i in 0..100 {
            q.0.lock().push(i);
            q.1.notify_one();
            if i % 10 == 0 {
                goro::yield_now();
            }
        }
        assert_eq!(consumer.recv().unwrap(), (0..100).collect::<Vec<_>>());
        let (m, c) = &*q;
        let (_g, timed_out) = c.wait_timeout(m.lock(), Duration::from_millis(5));
        assert!(timed_out);
    });
}

#[test]
fn semaphore_bounds_concurrency_and_serves_in_order() {
    on_1_and_2_workers(|| {
        let sem = Arc::new(Semaphore::new(3));
        let (now, most) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        let (s, n, m) = (sem.clone(), now.clone(), most.clone());
        crowd(20, 4, move |i| {
            let w = (i % 3 + 1) as u64;
            for _ in 0..50 {
                s.acquire(w).unwrap();
                let c = n.fetch_add(w as usize, Ordering::SeqCst) + w as usize;
                m.fetch_max(c, Ordering::SeqCst);
                goro::yield_now();
                n.fetch_sub(w as usize, Ordering::SeqCst);
                s.release(w);
            }
        });
        assert!(most.load(Ordering::SeqCst) <= 3);
        assert_eq!(sem.available(), 3);
        // A large request at the head is not overtaken by small ones.
        sem.acquire(2).unwrap();
        let s2 = sem.clone();
        let big = goro::go(move || {
            s2.acquire(3).unwrap();
            s2.release(3);
        });
        // Once the big request is queued, a small one that would fit must wait behind it.
        for _ in 0..5_000 {
            if !sem.try_acquire(1) {
                break;
            }
            sem.release(1);
            goro::time::sleep(Duration::from_millis(1));
        }
        assert_eq!(sem.acquire_timeout(1, Duration::from_millis(5)), Ok(false));
        sem.release(2);
        big.join().unwrap();
        assert!(sem.acquire(4).is_err(), "more than the size");
        sem.acquire(3).unwrap();
        assert_eq!(sem.acquire_timeout(1, Duration::from_millis(2)), Ok(false));
        sem.release(3);
    });
}

#[test]
fn once_runs_one_initialiser_and_retries_after_a_panic() {
    on_1_and_2_workers(|| {
        let cell = Arc::new(OnceLock::new());
        let runs = Arc::new(AtomicUsize::new(0));
        let (c, r) = (cell.clone(), runs.clone());
        crowd(16, 4, move |i| {
            let v = *c.get_or_init(|| {
                r.fetch_add(1, Ordering::SeqCst);
                goro::yield_now();
                i
            });
            assert_eq!(Some(&v), c.get());
        });
        assert_eq!(runs.load(Ordering::SeqCst), 1);
        let cell = Arc::new(OnceLock::<u32>::new());
        let c = cell.clone();
        let panicked = goro::go(move || {
            c.get_or_init(|| panic!("first initialiser fails"));
        })
        .join();
        assert!(panicked.is_err());
        assert_eq!(*cell.get_or_init(|| 5), 5);
        assert_eq!(cell.set(6), Err(6));
        let once = Once::new();
        once.call_once(|| {});
        assert!(once.is_completed());
    });
}

#[test]
fn errgroup_first_error_wins_and_the_limit_holds() {
    on_1_and_2_workers(|| {
        let g = ErrGroup::with_limit(2);
        let (now, most) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        for i in 0..20 {
            let (n, m) = (now.clone(), most.clone());
            g.go(move || {
                let c = n.fetch_add(1, Ordering::SeqCst) + 1;
                m.fetch_max(c, Ordering::SeqCst);
                goro::time::sleep(Duration::from_micros(200));
                n.fetch_sub(1, Ordering::SeqCst);
                if i == 7 {
                    Err(i)
                } else {
                    Ok(())
                }
            });
        }
        assert_eq!(g.wait(), Err(7));
        assert!(most.load(Ordering::SeqCst) <= 2);
        let g: ErrGroup<()> = ErrGroup::new();
        g.go(|| Ok(()));
        assert_eq!(g.wait(), Ok(()));
        let g: ErrGroup<()> = ErrGroup::new();
        g.go(|| panic!("a job panics"));
        let h = goro::go(move || g.wait());
        assert!(h.join().is_err(), "wait resumes the panic");
    });
}

#[test]
fn waiters_unwound_at_shutdown_leave_no_record_behind() {
    // Goroutines parked on primitives that outlive the runtime: when `run` returns their stacks
    // unwind, and each must take its waiter record out of the list first. Using the primitives
    // afterwards would touch dead stacks otherwise.
    let m = Arc::new(Mutex::new(0));
    let l = Arc::new(RwLock::new(0));
    let sem = Arc::new(Semaphore::new(1));
    let cond = Arc::new((Mutex::new(()), Cond::new()));
    let (m2, l2, s2, c2) = (m.clone(), l.clone(), sem.clone(), cond.clone());
    goro::Runtime::builder()
        .workers(2)
        .exit_report(false)
        .run(move || {
            let held = m2.lock();
            let written = l2.write();
            s2.acquire(1).unwrap();
            for _ in 0..4 {
                let (m, l, s, c) = (m2.clone(), l2.clone(), s2.clone(), c2.clone());
                goro::go(move || drop(m.lock()));
                goro::go(move || drop(l.read()));
                goro::go(move || s.acquire(1).unwrap());
                goro::go(move || {
                    let g = c.0.lock();
                    drop(c.1.wait(g));
                });
            }
            goro::time::sleep(Duration::from_millis(20));
            std::mem::forget((held, written)); // still held when main returns
        })
        .unwrap();
    // Nobody is queued any more: the records are gone with their stacks.
    cond.1.notify_all();
    sem.release(1);
    assert!(sem.try_acquire(1));
    assert!(m.try_lock().is_none(), "still held by the forgotten guard");
    assert!(l.try_read().is_none());
}

// ---- WaitGroup ----

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

#[test]
fn waitgroup_go_counts_each_goroutine_until_it_returns_or_panics() {
    on_1_and_2_workers(|| {
        let wg = WaitGroup::new();
        let ran = Arc::new(AtomicUsize::new(0));
        let handles: Vec<_> = (0..50u64)
            .map(|i| {
                let ran = ran.clone();
                wg.go(move || {
                    goro::time::sleep(Duration::from_millis(i % 5));
                    ran.fetch_add(1, Ordering::SeqCst);
                    i
                })
            })
            .collect();
        // One that panics still counts down, so `wait` returns.
        let boom = wg.go(|| -> u64 { std::panic::panic_any("on purpose") });
        wg.wait();
        assert_eq!(ran.load(Ordering::SeqCst), 50);
        assert_eq!(wg.count(), 0);
        let sum: u64 = handles.into_iter().map(|h| h.join().unwrap()).sum();
        assert_eq!(sum, (0..50).sum());
        assert!(boom.join().is_err());
    });
}

#[test]
fn a_waitgroup_done_guard_counts_down_once_on_every_way_out() {
    on_1_and_2_workers(|| {
        let wg = WaitGroup::new();
        let ok = wg.add_guard();
        let panics = wg.add_guard();
        let on_thread = wg.add_guard();
        assert_eq!(wg.count(), 3);
        let a = goro::go(move || {
            let _done = ok;
            goro::time::sleep(Duration::from_millis(5));
        });
        let b = goro::go(move || {
            let _done = panics;
            panic!("on purpose");
        });
        std::thread::spawn(move || drop(on_thread));
        wg.wait();
        assert_eq!(wg.count(), 0);
        a.join().unwrap();
        assert!(b.join().is_err());
    });
}

#[test]
fn an_errgroup_clone_is_the_same_group() {
    // A goroutine of the group adds more work through a clone; `wait` waits for all of it
    // and returns the first error, whichever goroutine returned it.
    on_1_and_2_workers(|| {
        let g: ErrGroup<String> = ErrGroup::new();
        let done = Arc::new(AtomicUsize::new(0));
        let (g2, d) = (g.clone(), done.clone());
        g.go(move || {
            for i in 0..5 {
                let d = d.clone();
                g2.go(move || {
                    goro::time::sleep(Duration::from_millis(2));
                    d.fetch_add(1, Ordering::SeqCst);
                    if i == 4 {
                        Err("the fifth failed".to_string())
                    } else {
                        Ok(())
                    }
                });
            }
            Ok(())
        });
        assert_eq!(g.wait(), Err("the fifth failed".to_string()));
        assert_eq!(done.load(Ordering::SeqCst), 5);
    });
}
