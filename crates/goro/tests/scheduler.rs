//! The scheduler's promises: round-robin yield, stealing, pinning, no starvation across
//! workers, idle workers that sleep; and, at the end, placement: where goroutines start.
//! (The runtime lines of the Go checklist: go_semantics/runtime.rs.)

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::ThreadId;
use std::time::{Duration, Instant};

use goro::sync::WaitGroup;
use goro::Runtime;

mod common;

#[test]
fn yield_now_round_robins() {
    let order = Runtime::builder()
        .workers(1)
        .run(|| {
            let order = Arc::new(Mutex::new(Vec::new()));
            let hs: Vec<_> = (0..3)
                .map(|id| {
                    let order = order.clone();
                    goro::go(move || {
                        for _ in 0..4 {
                            order.lock().unwrap().push(id);
                            goro::yield_now();
                        }
                    })
                })
                .collect();
            for h in hs {
                h.join().unwrap();
            }
            Arc::try_unwrap(order).unwrap().into_inner().unwrap()
        })
        .unwrap();
    // Goroutines not yet started begin newest first; from then on every turn visits all three
    // in the same order.
    let first: Vec<_> = order[..3].to_vec();
    let mut sorted = first.clone();
    sorted.sort_unstable();
    assert_eq!(sorted, [0, 1, 2], "{order:?}");
    assert_eq!(order, first.repeat(4), "not round-robin: {order:?}");
}

#[test]
fn an_endless_chain_of_new_goroutines_cannot_starve_an_older_one() {
    // One worker. Each link of the chain spawns the next and returns, so the newest goroutine
    // is always a fresh one; the old goroutine must still get its turn soon.
    let links = Runtime::builder()
        .workers(1)
        .run(|| {
            let flag = Arc::new(AtomicBool::new(false));
            let f = flag.clone();
            let old = goro::go(move || f.store(true, Ordering::Release));
            let count = Arc::new(AtomicUsize::new(0));
            fn link(flag: Arc<AtomicBool>, count: Arc<AtomicUsize>) {
                if flag.load(Ordering::Acquire) || count.fetch_add(1, Ordering::Relaxed) > 100_000 {
                    return;
                }
                goro::go(move || link(flag, count));
            }
            let (f, c) = (flag.clone(), count.clone());
            goro::go(move || link(f, c));
            old.join().unwrap();
            count.load(Ordering::Relaxed)
        })
        .unwrap();
    assert!(
        links < 1_000,
        "the old goroutine waited behind {links} newer ones"
    );
}

#[test]
fn cpu_bound_goroutine_does_not_stop_another_worker() {
    Runtime::builder()
        .workers(2)
        .run(|| {
            let flag = Arc::new(AtomicBool::new(false));
            let f = flag.clone();
            // Spins without yielding until the other goroutine sets the flag: that can only
            // happen if the second worker runs it.
            let spinner = goro::go(move || {
                while !f.load(Ordering::Acquire) {
                    std::hint::spin_loop();
                }
            });
            let f = flag.clone();
            let setter = goro::go(move || f.store(true, Ordering::Release));
            setter.join().unwrap();
            spinner.join().unwrap();
        })
        .unwrap();
}

#[test]
fn idle_workers_steal_unstarted_goroutines() {
    let other = Runtime::builder()
        .workers(2)
        .run(|| {
            let main_thread = std::thread::current().id();
            let seen = Arc::new(Mutex::new(HashSet::<ThreadId>::new()));
            let hs: Vec<_> = (0..200)
                .map(|_| {
                    let seen = seen.clone();
                    goro::go(move || {
                        seen.lock().unwrap().insert(std::thread::current().id());
                        goro::time::sleep(Duration::from_millis(2));
                    })
                })
                .collect();
            // The main goroutine keeps worker 0 busy (without yielding), so only worker 1 can
            // run them: wait until it has, or give up after a long while.
            let t = Instant::now();
            while t.elapsed() < Duration::from_secs(10)
                && !seen.lock().unwrap().iter().any(|t| *t != main_thread)
            {
                std::hint::spin_loop();
            }
            for h in hs {
                h.join().unwrap();
            }
            let other = seen.lock().unwrap().iter().any(|t| *t != main_thread);
            other
        })
        .unwrap();
    assert!(other, "no goroutine ran on the idle worker");
}

#[test]
fn a_started_goroutine_never_changes_thread() {
    Runtime::builder()
        .workers(2)
        .run(|| {
            let handle = goro::Handle::current().unwrap();
            let hs: Vec<_> = (0..50)
                .map(|_| {
                    let handle = handle.clone();
                    goro::go(move || {
                        let home = std::thread::current().id();
                        for _ in 0..20 {
                            // Woken from a plain thread, from the other worker, and by timers.
                            let me = goro::Unparker::current();
                            let done = Arc::new(AtomicBool::new(false));
                            let d = done.clone();
                            std::thread::spawn(move || {
                                d.store(true, Ordering::Release);
                                me.unpark();
                            });
                            while !done.load(Ordering::Acquire) {
                                goro::park();
                            }
                            assert_eq!(std::thread::current().id(), home);
                            handle.go(|| ()).join().unwrap();
                            assert_eq!(std::thread::current().id(), home);
                            goro::time::sleep(Duration::from_micros(100));
                            assert_eq!(std::thread::current().id(), home);
                            goro::yield_now();
                            assert_eq!(std::thread::current().id(), home);
                        }
                    })
                })
                .collect();
            for h in hs {
                h.join().unwrap();
            }
        })
        .unwrap();
}

#[test]
fn spawn_and_join_from_plain_threads() {
    Runtime::builder()
        .workers(2)
        .run(|| {
            let handle = goro::Handle::current().unwrap();
            let threads: Vec<_> = (0..4u64)
                .map(|t| {
                    let handle = handle.clone();
                    std::thread::spawn(move || {
                        let hs: Vec<_> = (0..100u64)
                            .map(|i| handle.go(move || t * 1000 + i))
                            .collect();
                        hs.into_iter().map(|h| h.join().unwrap()).sum::<u64>()
                    })
                })
                .collect();
            // And a plain thread joining a goroutine spawned here.
            let g = goro::go(|| 11);
            let t = std::thread::spawn(move || g.join().unwrap());
            let total: u64 = threads.into_iter().map(|t| t.join().unwrap()).sum();
            assert_eq!(total, (0..4).map(|t| t * 100_000 + 4950).sum::<u64>());
            assert_eq!(t.join().unwrap(), 11);
        })
        .unwrap();
}

#[test]
fn go_outside_a_runtime_is_a_clear_error() {
    let e = goro::Builder::new().spawn(|| 1).unwrap_err();
    assert_eq!(e.kind(), goro::SpawnErrorKind::NoRuntime);
    assert_eq!(e.into_inner()(), 1, "the closure comes back");
    let msg = std::panic::catch_unwind(|| goro::go(|| 1)).unwrap_err();
    assert!(msg
        .downcast_ref::<String>()
        .unwrap()
        .contains("not inside a goro runtime"));
}

#[test]
fn handle_after_shutdown_refuses_and_returns_the_closure() {
    let h = goro::run(|| goro::Handle::current().unwrap()).unwrap();
    assert!(h.is_shut_down());
    let e = goro::Builder::new().spawn_on(&h, || 5).unwrap_err();
    assert_eq!(e.kind(), goro::SpawnErrorKind::ShutDown);
    assert_eq!(e.into_inner()(), 5);
}

#[test]
fn nested_run_and_bad_settings_are_errors() {
    let inner = goro::run(|| matches!(goro::run(|| ()), Err(goro::RunError::Nested))).unwrap();
    assert!(inner);
    let e = Runtime::builder().workers(0).run(|| ()).unwrap_err();
    assert!(e.to_string().contains("0 workers"), "{e}");
    let e = Runtime::builder().stack_size(100).run(|| ()).unwrap_err();
    assert!(e.to_string().contains("stack size"), "{e}");
}

#[test]
fn main_panic_comes_back_as_run_error() {
    let e = goro::run(|| -> u8 { panic!("main failed") }).unwrap_err();
    assert_eq!(e.panic_message(), Some("main failed"));
}

fn cpu_time() -> Duration {
    // SAFETY: getrusage fills the struct we pass.
    let ru = unsafe {
        let mut ru: libc_rusage::Rusage = std::mem::zeroed();
        libc_rusage::getrusage(0, &mut ru);
        ru
    };
    let tv = |t: libc_rusage::Timeval| Duration::from_micros((t.sec * 1_000_000 + t.usec) as u64);
    tv(ru.utime) + tv(ru.stime)
}

/// Just enough of getrusage(2) for the idle test, without a libc dependency in the tests.
mod libc_rusage {
    #[repr(C)]
    #[derive(Clone, Copy)]
    pub struct Timeval {
        pub sec: i64,
        pub usec: i64,
    }
    #[repr(C)]
    pub struct Rusage {
        pub utime: Timeval,
        pub stime: Timeval,
        pub rest: [i64; 14],
    }
    extern "C" {
        pub fn getrusage(who: i32, usage: *mut Rusage) -> i32;
    }
}

#[test]
fn an_idle_runtime_uses_no_cpu() {
    // CPU time is per process: measure in a child so other tests' threads do not count.
    if std::env::var("GORO_IDLE_CHILD").is_err() {
        let out =
            common::rerun_in_child("an_idle_runtime_uses_no_cpu", &[("GORO_IDLE_CHILD", "1")]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        return;
    }
    let used = Runtime::builder()
        .workers(2)
        .run(|| {
            goro::time::sleep(Duration::from_millis(20)); // let start-up settle
            let before = cpu_time();
            goro::time::sleep(Duration::from_millis(300));
            cpu_time() - before
        })
        .unwrap();
    // Two busy workers would burn ~600 ms of CPU here; sleeping ones almost nothing.
    assert!(
        used < Duration::from_millis(60),
        "idle runtime used {used:?} of CPU in 300 ms"
    );
}

#[test]
fn shutdown_leaves_a_goroutine_that_never_yields_and_says_so() {
    static STOP: AtomicBool = AtomicBool::new(false);
    let exit = Runtime::builder()
        .workers(2)
        .shutdown_grace(Duration::from_millis(50))
        .exit_report(false)
        .run_and_report(|| {
            let started = Arc::new(AtomicUsize::new(0));
            let s = started.clone();
            goro::go(move || {
                s.store(1, Ordering::Release);
                while !STOP.load(Ordering::Acquire) {
                    std::hint::spin_loop();
                }
            });
            // Busy here without yielding, so the other worker must be the one that takes it.
            while started.load(Ordering::Acquire) == 0 {
                std::hint::spin_loop();
            }
        })
        .unwrap();
    STOP.store(true, Ordering::Release);
    assert_eq!(exit.stuck_workers, 1);
    // It was left running, not unwound.
    assert_eq!(exit.unwound, 0);
}

#[test]
fn many_goroutines_from_many_spawners() {
    let n = Runtime::builder()
        .workers(2)
        .run(|| {
            let count = Arc::new(AtomicUsize::new(0));
            let wg = WaitGroup::new();
            for _ in 0..100 {
                let (count, wg2) = (count.clone(), wg.clone());
                wg.add(1);
                goro::go(move || {
                    let inner = WaitGroup::new();
                    for _ in 0..1000 {
                        inner.add(1);
                        let (count, inner) = (count.clone(), inner.clone());
                        goro::go(move || {
                            count.fetch_add(1, Ordering::Relaxed);
                            inner.done();
                        });
                    }
                    inner.wait();
                    wg2.done();
                });
            }
            wg.wait();
            count.load(Ordering::Relaxed)
        })
        .unwrap();
    assert_eq!(n, 100_000);
}

#[test]
fn goroutines_that_never_started_report_cancelled() {
    struct Flag(Arc<AtomicBool>);
    impl Drop for Flag {
        fn drop(&mut self) {
            self.0.store(true, Ordering::SeqCst);
        }
    }
    let dropped = Arc::new(AtomicBool::new(false));
    let d = dropped.clone();
    // One worker, and main returns without yielding: the goroutine never gets to run.
    let h = Runtime::builder()
        .workers(1)
        .exit_report(false)
        .run(move || {
            let flag = Flag(d);
            goro::go(move || {
                let _f = flag;
                1
            })
        })
        .unwrap();
    assert!(h.is_finished());
    assert!(matches!(h.join(), Err(goro::JoinError::Cancelled)));
    assert!(
        dropped.load(Ordering::SeqCst),
        "the unstarted closure was dropped"
    );
}

#[test]
fn a_thread_joining_a_goroutine_unwound_at_shutdown_is_released() {
    let (tx, rx) = std::sync::mpsc::channel();
    let exit = Runtime::builder()
        .workers(2)
        .exit_report(false)
        .run_and_report(move || {
            let gate = common::gate_never_opened();
            let started = WaitGroup::new();
            started.add(1);
            let (g2, s2) = (gate.clone(), started.clone());
            let h = goro::go(move || {
                s2.done();
                g2.wait(); // never opened
            });
            started.wait();
            tx.send(std::thread::spawn(move || h.join())).unwrap();
        })
        .unwrap();
    assert_eq!(exit.unwound, 1);
    let joiner = rx.recv().unwrap();
    assert!(matches!(
        joiner.join().unwrap(),
        Err(goro::JoinError::Cancelled)
    ));
}

#[test]
fn an_unstarted_goroutine_waiting_behind_older_work_can_still_be_stolen() {
    // On worker 0, R (started earlier, so older in the local FIFO) spins until F runs. F is
    // newer, so worker 0 sets it aside to run R first: worker 1 must still be able to take it.
    for _ in 0..50 {
        Runtime::builder()
            .workers(2)
            .run(|| {
                let flag = Arc::new(AtomicBool::new(false));
                let f1 = flag.clone();
                let r = goro::go(move || {
                    goro::yield_now(); // now started, and back in the local queue
                    while !f1.load(Ordering::Acquire) {
                        std::hint::spin_loop();
                    }
                });
                goro::yield_now();
                let f2 = flag.clone();
                let f = goro::go(move || f2.store(true, Ordering::Release));
                f.join().unwrap();
                r.join().unwrap();
            })
            .unwrap();
    }
}

#[test]
fn join_races_with_completion_from_goroutines_and_threads() {
    // Joins that start before, during and after the goroutine completes, from goroutines and
    // from plain threads: every value arrives once, and nothing is lost or dropped twice.
    Runtime::builder()
        .workers(2)
        .run(|| {
            let payload = Arc::new(());
            for i in 0..20_000u64 {
                let p = payload.clone();
                let h = goro::go(move || {
                    if i % 3 == 0 {
                        goro::yield_now();
                    }
                    drop(p);
                    Box::new(i) // a heap value, so a double drop or a leak would show
                });
                if i % 7 == 0 {
                    // Joined from a plain thread; its answer comes back on a channel, which
                    // parks this goroutine (std's `join` would block the worker under it).
                    let (tx, rx) = goro::chan(1);
                    std::thread::spawn(move || tx.send(h.join().unwrap()));
                    assert_eq!(*rx.recv().unwrap(), i);
                } else {
                    if i % 2 == 0 {
                        goro::yield_now();
                    }
                    assert_eq!(*h.join().unwrap(), i);
                }
            }
            assert_eq!(Arc::strong_count(&payload), 1);
        })
        .unwrap();
}

#[test]
fn shutdown_waits_for_slow_unwinding_beyond_the_grace_period() {
    // Unwinding takes far longer than the grace period; that is not a stuck worker, and every
    // destructor must have run when `run` returns.
    struct Slow(Arc<AtomicUsize>);
    impl Drop for Slow {
        fn drop(&mut self) {
            let t = Instant::now();
            while t.elapsed() < Duration::from_micros(200) {
                std::hint::spin_loop();
            }
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }
    let drops = Arc::new(AtomicUsize::new(0));
    let d = drops.clone();
    let exit = Runtime::builder()
        .workers(2)
        .shutdown_grace(Duration::from_millis(10))
        .exit_report(false)
        .run_and_report(move || {
            common::park_forever_holding((0..1000).map(|_| Slow(d.clone())));
        })
        .unwrap();
    assert_eq!(exit.stuck_workers, 0);
    assert_eq!(exit.unwound, 1000);
    assert_eq!(
        drops.load(Ordering::SeqCst),
        1000,
        "run returned before the unwinding ended"
    );
}

#[test]
#[ignore = "run by the_monitor_names_a_goroutine_that_does_not_yield in a child process"]
fn child_spinning_goroutine() {
    goro::Runtime::builder()
        .workers(1)
        .run(|| {
            let h = goro::go(|| {
                let t = std::time::Instant::now();
                let mut x = 0u64;
                while t.elapsed() < std::time::Duration::from_millis(80) {
                    x = std::hint::black_box(x.wrapping_add(1));
                }
            });
            h.join().unwrap();
        })
        .unwrap();
}

#[test]
fn the_monitor_names_a_goroutine_that_does_not_yield() {
    let out = common::rerun_in_child("child_spinning_goroutine", &[]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains("has computed for")
            && err.contains("without yielding")
            && err.contains("tests/scheduler.rs"),
        "no warning naming the goroutine and its spawn site: {err}"
    );
    assert_eq!(
        err.matches("without yielding").count(),
        1,
        "one warning per goroutine: {err}"
    );
    let quiet = common::rerun_in_child("child_spinning_goroutine", &[("GORO_MONITOR", "0")]);
    let err = String::from_utf8_lossy(&quiet.stderr);
    assert!(
        !err.contains("without yielding"),
        "GORO_MONITOR=0 must silence it: {err}"
    );
}

/// `Builder::dedicated`: a loop that computes for 200 ms without calling goro runs on a
/// thread of its own, so the one worker's other goroutines keep running (a ticker ticks
/// through it); it still talks to them over channels, spawns onto the runtime, and its panic
/// reaches its join.
#[test]
fn a_dedicated_goroutine_does_not_hold_up_its_spawners_worker() {
    let ticks = Runtime::builder()
        .workers(1)
        .hog_warnings(false)
        .run(|| {
            let ticks = Arc::new(AtomicUsize::new(0));
            let t2 = ticks.clone();
            let (stop_tx, stop_rx) = goro::chan::<()>(0);
            let ticker = goro::go(move || {
                let t = goro::time::Ticker::new(Duration::from_millis(1)).unwrap();
                loop {
                    goro::select! {
                        recv(t.c()) -> _ => { t2.fetch_add(1, Ordering::Relaxed); },
                        recv(stop_rx) -> _ => break,
                    }
                }
            });
            let (tx, rx) = goro::chan::<u64>(0);
            let crunch = goro::Builder::new()
                .name("crunch")
                .dedicated(true)
                .spawn(move || {
                    assert_eq!(goro::current_id(), None, "a thread of its own");
                    let start = std::time::Instant::now();
                    let mut x = 0u64;
                    while start.elapsed() < Duration::from_millis(200) {
                        x = std::hint::black_box(x.wrapping_add(1));
                    }
                    tx.send(x).unwrap();
                    goro::go(|| 7).join().unwrap()
                })
                .unwrap();
            assert!(rx.recv().unwrap() > 0);
            assert_eq!(crunch.join().unwrap(), 7);
            let during = ticks.load(Ordering::Relaxed);
            drop(stop_tx);
            ticker.join().unwrap();
            let boom = goro::Builder::new()
                .dedicated(true)
                .spawn(|| -> u8 { panic!("dedicated boom") })
                .unwrap();
            assert_eq!(
                boom.join().unwrap_err().panic_message(),
                Some("dedicated boom")
            );
            during
        })
        .unwrap();
    // About 200 at a 1 ms period; a worker held by the loop would give at most 1.
    assert!(
        ticks >= 50,
        "the ticker ticked {ticks} times during the loop"
    );
}

// ---- Placement: where the scheduler starts goroutines ----
//
// Where the scheduler starts goroutines (crates/goro/src/sched/placement.rs). The rules
// themselves depend on time (how long a run lasted, how long a queue waited), so their
// logic is tested as pure functions in that module, and their effect is measured by the
// benchmarks (`goro bench pool_unbuf longlived8 sieve5000 ring503 ...`). The tests here
// check what must hold however the machine is loaded: every goroutine runs, once, on one
// thread, whichever worker the rules picked, and a goroutine queued behind one that never
// lets its worker go is started by another worker, however it was queued.

fn spin(d: Duration) {
    let t = Instant::now();
    while t.elapsed() < d {
        std::hint::spin_loop();
    }
}

#[test]
fn a_lone_goroutine_queued_behind_one_that_never_yields_still_runs() {
    // One spawn wakes no other worker (the spawner most likely waits for it next); if the
    // spawner keeps its worker instead, the monitor must wake an idle worker to take it.
    // Without that this waits for ever: the other worker sleeps with nothing to look at.
    for round in 0..5 {
        Runtime::builder()
            .workers(2)
            .hog_warnings(false)
            .exit_report(false)
            .run(move || {
                // Let the other worker fall asleep first.
                goro::time::sleep(Duration::from_millis(5 + round));
                let ran = Arc::new(AtomicBool::new(false));
                let r = ran.clone();
                let h = goro::go(move || r.store(true, Ordering::Release));
                while !ran.load(Ordering::Acquire) {
                    std::hint::spin_loop();
                }
                h.join().unwrap();
            })
            .unwrap();
    }
}

#[test]
fn every_job_of_a_pool_runs_once_wherever_its_goroutines_started() {
    // The unbuffered worker pool, where a busy worker hands its unstarted goroutines to an
    // idle one (placement rule 3): whichever worker each pool goroutine started on, each job
    // is done exactly once, each goroutine stays on the thread it started on, and all of
    // them run. On 1, 2 and 3 workers.
    for workers in 1..=3 {
        let (done, threads_per_goroutine) = Runtime::builder()
            .workers(workers)
            .hog_warnings(false)
            .exit_report(false)
            .run(|| {
                let (jobs_tx, jobs_rx) = goro::chan::<u32>(0);
                let (res_tx, res_rx) = goro::chan::<(u32, usize, ThreadId)>(64);
                for id in 0..8 {
                    let (jobs, res) = (jobs_rx.clone(), res_tx.clone());
                    goro::go(move || {
                        for j in &jobs {
                            spin(Duration::from_micros(150));
                            res.send((j, id, std::thread::current().id())).unwrap();
                        }
                    });
                }
                drop((jobs_rx, res_tx));
                goro::go(move || {
                    for j in 0..400 {
                        jobs_tx.send(j).unwrap();
                    }
                });
                let mut done = vec![0u32; 400];
                let mut threads: HashMap<usize, Vec<ThreadId>> = HashMap::new();
                for (j, id, t) in res_rx.iter() {
                    done[j as usize] += 1;
                    let seen = threads.entry(id).or_default();
                    if !seen.contains(&t) {
                        seen.push(t);
                    }
                }
                (done, threads)
            })
            .unwrap();
        assert!(
            done.iter().all(|&n| n == 1),
            "{workers} workers: jobs not done exactly once"
        );
        assert_eq!(threads_per_goroutine.len(), 8, "{workers} workers");
        assert!(
            threads_per_goroutine.values().all(|t| t.len() == 1),
            "{workers} workers: a pool goroutine changed thread"
        );
    }
}

#[test]
fn a_spawner_that_keeps_spawning_loses_nothing_to_thieves() {
    // A goroutine spawning 20,000 others without a pause, each computing a little: thieves
    // take from its queue (placement rule 2), its own worker gives some away between runs
    // (rule 3). Every goroutine runs exactly once.
    let counts = Runtime::builder()
        .workers(2)
        .hog_warnings(false)
        .exit_report(false)
        .run(|| {
            let counts = Arc::new(Mutex::new(vec![0u8; 20_000]));
            let left = Arc::new(AtomicUsize::new(20_000));
            let wg = goro::sync::WaitGroup::new();
            wg.add(20_000);
            for i in 0..20_000 {
                let (counts, left, wg) = (counts.clone(), left.clone(), wg.clone());
                goro::go(move || {
                    if i % 100 == 0 {
                        spin(Duration::from_micros(200));
                    }
                    counts.lock().unwrap()[i] += 1;
                    left.fetch_sub(1, Ordering::Relaxed);
                    wg.done();
                });
            }
            wg.wait();
            assert_eq!(left.load(Ordering::Relaxed), 0);
            let v = counts.lock().unwrap().clone();
            v
        })
        .unwrap();
    assert!(counts.iter().all(|&n| n == 1));
}
