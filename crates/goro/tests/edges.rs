//! The runtime's edges (docs/DESIGN.md, "What goro promises at its edges"): user code that
//! panics where the runtime runs it, panics seen across goroutines, shutdown that must end.
//!
//! Each shape that could abort or crash the process runs in a child process (this binary
//! again, one `child_*` test selected) under a time limit, and the parent reads how it ended.

mod common;

use common::{child, child_passes};

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const LIMIT: Duration = Duration::from_secs(30);

/// A value whose `Drop` panics.
struct Bomb(&'static str);

impl Drop for Bomb {
    fn drop(&mut self) {
        panic!("{}", self.0);
    }
}

/// After `run` has returned on this thread, the thread is a plain thread again: asking it for
/// the current goroutine, the workers, a sleep or a spawn must not read the worker's frame.
fn thread_is_plain_again() {
    assert_eq!(goro::current_id(), None);
    assert_eq!(goro::current_name(), None);
    let _ = goro::workers();
    goro::time::sleep(Duration::from_millis(1));
    let r = catch_unwind(|| drop(goro::go(|| 1)));
    assert!(r.is_err(), "go outside a runtime panics");
    println!("CHILD DONE");
}

// ---- 1. No user code unwinds into a worker's own stack ----

/// A goroutine that catches the shutdown's unwind and then panics (`.unwrap()` on what it
/// caught), on worker 0 and on worker 1.
#[test]
#[ignore = "run by catching_the_shutdown_unwind_then_panicking_is_contained"]
fn child_catch_shutdown_unwind_then_panic() {
    for w in [1, 2] {
        let r = goro::Runtime::builder().workers(w).run(|| {
            let parked = goro::sync::WaitGroup::new();
            for _ in 0..4 {
                let (tx, rx) = goro::chan::<u8>(0);
                let p = parked.clone();
                p.add(1);
                goro::go(move || {
                    let _tx = tx; // the channel stays open: the receive never ends
                    p.done();
                    let r = catch_unwind(AssertUnwindSafe(|| rx.recv()));
                    r.unwrap().unwrap();
                });
            }
            parked.wait();
            goro::time::sleep(Duration::from_millis(5));
            7
        });
        assert_eq!(r.unwrap(), 7, "with {w} workers");
    }
    thread_is_plain_again();
}

#[test]
fn catching_the_shutdown_unwind_then_panicking_is_contained() {
    child_passes("child_catch_shutdown_unwind_then_panic", LIMIT);
}

/// The `Drop` of a detached goroutine's result, and of its panic payload, panics: with
/// unhandled panics ignored (goro drops every payload), and by default (the first payload
/// comes back from `run`, goro drops the others).
#[test]
#[ignore = "run by a_detached_result_whose_drop_panics_is_contained"]
fn child_detached_result_drop_panics() {
    for (w, what) in [1, 2].into_iter().flat_map(|w| {
        [
            (w, goro::UnhandledPanic::Ignore),
            (w, goro::UnhandledPanic::EndRun),
        ]
    }) {
        let r = goro::Runtime::builder()
            .workers(w)
            .unhandled_panic(what)
            .exit_report(false)
            .run(|| {
                // A joined result whose drop panics is the joiner's own business.
                let h = goro::go(|| Bomb("joined"));
                let v = h.join().unwrap();
                assert!(catch_unwind(AssertUnwindSafe(|| drop(v))).is_err());
                for _ in 0..8 {
                    drop(goro::go(|| Bomb("result")));
                    drop(goro::go(|| std::panic::panic_any(Bomb("payload"))));
                }
                goro::time::sleep(Duration::from_millis(20));
                5
            });
        match what {
            goro::UnhandledPanic::Ignore => assert_eq!(r.unwrap(), 5, "with {w} workers"),
            _ => {
                let p = match r {
                    Err(goro::RunError::Panicked(p)) => p.into_payload(),
                    r => panic!("with {w} workers: {:?}", r.map(|_| ())),
                };
                assert!(p.is::<Bomb>());
                assert!(catch_unwind(AssertUnwindSafe(|| drop(p))).is_err());
            }
        }
    }
    thread_is_plain_again();
}

#[test]
fn a_detached_result_whose_drop_panics_is_contained() {
    child_passes("child_detached_result_drop_panics", LIMIT);
}

/// At shutdown, what an unstarted goroutine captured panics as it is dropped.
#[test]
#[ignore = "run by an_unstarted_goroutine_whose_capture_panics_is_contained"]
fn child_unstarted_capture_panics() {
    for w in [1, 2] {
        let r = goro::Runtime::builder()
            .workers(w)
            .exit_report(false)
            .run(|| {
                for _ in 0..16 {
                    let b = Bomb("capture");
                    goro::go(move || drop(b));
                }
                3
            });
        assert_eq!(r.unwrap(), 3, "with {w} workers");
    }
    thread_is_plain_again();
}

#[test]
fn an_unstarted_goroutine_whose_capture_panics_is_contained() {
    child_passes("child_unstarted_capture_panics", LIMIT);
}

#[allow(dead_code)]
fn unused(_: &AtomicUsize, _: Arc<()>) {
    let _ = Ordering::SeqCst;
}

// ---- 3. Shutdown ends, always ----

/// Sends on an unbuffered channel that nobody receives from when dropped: Go's
/// `defer func() { done <- x }()` with nobody left to take it.
struct SendOnDrop(Option<goro::Sender<u8>>);

impl Drop for SendOnDrop {
    fn drop(&mut self) {
        if let Some(tx) = self.0.take() {
            let _ = tx.send(1);
        }
    }
}

/// A goroutine parked inside a destructor that runs while its own panic unwinds, when main
/// returns: shutdown must not throw its unwind into that destructor (an abort), and `run`
/// still returns.
#[test]
#[ignore = "run by a_goroutine_parked_in_a_destructor_during_a_panic_does_not_abort_shutdown"]
fn child_parked_in_drop_during_panic() {
    let exit = goro::Runtime::builder()
        .workers(2)
        .shutdown_grace(Duration::from_millis(200))
        .run_and_report(|| {
            let (tx, rx) = goro::chan::<u8>(0);
            let h = goro::go(move || {
                let _g = SendOnDrop(Some(tx));
                panic!("boom");
            });
            goro::time::sleep(Duration::from_millis(50));
            drop(h);
            // Open until the process ends, never read: the send parks until shutdown. (A
            // receiver dropped as main returns would end it first, and the panic, whose
            // unwind would then finish before shutdown, would end the run.)
            std::mem::forget(rx);
            9
        })
        .unwrap();
    // Its panic finished unwinding after main returned, so, as in a Go program already
    // exiting, it did not end the run: main's value comes back.
    assert_eq!(exit.value, 9);
    // Its destructor's send gave up at shutdown (nobody could ever receive), so the unwind
    // finished: nothing abandoned, and no panic left counted on this thread.
    assert_eq!(exit.abandoned, 0, "{exit:?}");
    assert!(!std::thread::panicking());
    println!("CHILD DONE");
}

#[test]
fn a_goroutine_parked_in_a_destructor_during_a_panic_does_not_abort_shutdown() {
    child_passes("child_parked_in_drop_during_panic", LIMIT);
}

/// Sets a flag when dropped.
struct SetOnDrop(Arc<std::sync::atomic::AtomicBool>);

impl Drop for SetOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

/// A destructor that sends on a channel nobody will ever receive from, run by shutdown's
/// unwind: the send gives up and hands its value back, the destructor finishes, nothing is
/// abandoned.
#[test]
fn a_destructor_waiting_on_a_channel_at_shutdown_gives_up_and_finishes() {
    struct SendThenMark(Option<goro::Sender<u8>>, Arc<AtomicUsize>);
    impl Drop for SendThenMark {
        fn drop(&mut self) {
            if let Some(tx) = self.0.take() {
                if let Err(e) = tx.send(7) {
                    assert_eq!(e.0, 7, "the value comes back");
                    self.1.fetch_add(1, Ordering::SeqCst);
                }
            }
        }
    }
    let finished = Arc::new(AtomicUsize::new(0));
    let f2 = finished.clone();
    let exit = goro::Runtime::builder()
        .workers(1)
        .exit_report(false)
        .run_and_report(move || {
            let (tx, rx) = goro::chan::<u8>(0);
            std::mem::forget(rx); // open for ever, never read
            common::park_forever_holding([SendThenMark(Some(tx), f2)]);
        })
        .unwrap();
    assert_eq!(exit.abandoned, 0, "{exit:?}");
    assert_eq!(
        finished.load(Ordering::SeqCst),
        1,
        "the destructor finished"
    );
}

/// A value whose `Drop` spawns a goroutine: run during shutdown's unwind, `go` must not panic.
struct SpawnOnDrop(Arc<AtomicUsize>);

impl Drop for SpawnOnDrop {
    fn drop(&mut self) {
        let n = self.0.clone();
        let h = goro::go(move || n.fetch_add(1, Ordering::SeqCst));
        if let Err(e) = h.join() {
            assert!(matches!(e, goro::JoinError::Cancelled), "{e}");
            self.0.fetch_add(100, Ordering::SeqCst);
        }
    }
}

#[test]
fn go_during_shutdown_returns_a_cancelled_handle() {
    let n = Arc::new(AtomicUsize::new(0));
    let n2 = n.clone();
    goro::Runtime::builder()
        .workers(1)
        .exit_report(false)
        .run(move || {
            common::park_forever_holding([SpawnOnDrop(n2)]);
        })
        .unwrap();
    // The spawned goroutine never ran; its join said Cancelled.
    assert_eq!(n.load(Ordering::SeqCst), 100);
    // The same from a plain thread through a handle of a runtime that has shut down.
    let handle = goro::run(|| goro::Handle::current().unwrap()).unwrap();
    let e = handle.go(|| 1).join().unwrap_err();
    assert!(matches!(e, goro::JoinError::Cancelled), "{e}");
}

/// The request-isolation loop: each request handled inside `catch_unwind`, the request
/// channel held open by another goroutine. It catches shutdown's unwind too, and parks again:
/// it is unwound again, then abandoned after the shutdown grace; `run` returns.
#[test]
fn a_goroutine_that_catches_every_unwind_is_abandoned_and_run_returns() {
    let grace = Duration::from_millis(200);
    let caught = Arc::new(AtomicUsize::new(0));
    let c2 = caught.clone();
    let start = Instant::now();
    let exit = goro::Runtime::builder()
        .workers(2)
        .shutdown_grace(grace)
        .run_and_report(move || {
            let (req_tx, req_rx) = goro::chan::<u32>(0);
            let ready = goro::sync::WaitGroup::new();
            ready.add(1);
            let r2 = ready.clone();
            goro::go(move || {
                r2.done();
                loop {
                    match catch_unwind(AssertUnwindSafe(|| req_rx.recv())) {
                        Ok(Ok(_)) => {}
                        Ok(Err(_)) => break, // closed
                        Err(_) => {
                            c2.fetch_add(1, Ordering::SeqCst);
                        }
                    }
                }
            });
            // Held open by someone who never closes it (a plain thread, a global).
            std::mem::forget(req_tx);
            ready.wait();
            goro::time::sleep(Duration::from_millis(10));
        })
        .unwrap();
    let took = start.elapsed();
    assert_eq!(exit.abandoned, 1, "{exit:?}");
    assert!(caught.load(Ordering::SeqCst) >= 2, "unwound more than once");
    assert!(
        took < grace * 10 + Duration::from_secs(5),
        "run took {took:?}"
    );
}

/// A `Drop` that joins another goroutine of the same worker while shutdown unwinds: `run`
/// returns; the pair is unwound, or abandoned after the grace, never spun on for ever.
#[test]
fn a_drop_that_joins_a_goroutine_of_its_worker_does_not_hang_shutdown() {
    struct JoinOnDrop(Option<goro::JoinHandle<()>>);
    impl Drop for JoinOnDrop {
        fn drop(&mut self) {
            if let Some(h) = self.0.take() {
                let _ = h.join();
            }
        }
    }
    let start = Instant::now();
    let exit = goro::Runtime::builder()
        .workers(1)
        .shutdown_grace(Duration::from_millis(200))
        .exit_report(false)
        .run_and_report(|| {
            let gate = common::gate_never_opened();
            let g2 = gate.clone();
            let b = goro::go(move || g2.wait());
            let a = goro::go(move || {
                let _j = JoinOnDrop(Some(b));
                gate.wait();
            });
            goro::time::sleep(Duration::from_millis(10));
            drop(a);
        })
        .unwrap();
    assert!(exit.abandoned <= 2);
    assert!(start.elapsed() < Duration::from_secs(10));
}

/// goro's own `ErrGroup` lets shutdown's unwind through instead of recording it as a job's
/// panic: after `run`, `wait` reports no panic.
#[test]
fn an_errgroup_does_not_take_the_shutdown_unwind_for_a_panic() {
    let g: Arc<goro::sync::ErrGroup<String>> = Arc::new(goro::sync::ErrGroup::new());
    let g2 = g.clone();
    goro::Runtime::builder()
        .workers(1)
        .exit_report(false)
        .run(move || {
            let gate = common::gate_never_opened();
            g2.go(move || {
                gate.wait();
                Ok(())
            });
            goro::time::sleep(Duration::from_millis(10));
        })
        .unwrap();
    assert_eq!(g.wait(), Ok(()));
}

// ---- 4. The blocking pool when the OS refuses a thread ----

/// Caps the process's address space just above what it uses now, so that starting a thread
/// (a 2 MiB stack mapping) fails while small allocations still succeed.
fn cap_address_space() {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap();
    let pages: u64 = statm.split_whitespace().next().unwrap().parse().unwrap();
    // SAFETY: sysconf has no preconditions.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) } as u64;
    let limit = pages * page + (3 << 19);
    let r = libc::rlimit {
        rlim_cur: limit,
        rlim_max: limit,
    };
    // SAFETY: a valid rlimit for this process.
    assert_eq!(unsafe { libc::setrlimit(libc::RLIMIT_AS, &r) }, 0);
}

/// Two goroutines call `blocking` 20,000 times each while the OS refuses every new thread:
/// each call runs (inline, on its own goroutine), none is lost to another caller.
#[test]
#[ignore = "run by blocking_calls_survive_refused_threads"]
fn child_blocking_with_threads_refused() {
    goro::Runtime::builder()
        .workers(2)
        .run(|| {
            let inline = Arc::new(AtomicUsize::new(0));
            // The callers start, and get their stacks, before the cap.
            let (go_tx, go_rx) = goro::chan::<()>(0);
            let started = goro::sync::WaitGroup::new();
            let hs: Vec<_> = (0..2)
                .map(|_| {
                    let inline = inline.clone();
                    let (go_rx, started) = (go_rx.clone(), started.clone());
                    started.add(1);
                    goro::go(move || {
                        started.done();
                        let _ = go_rx.recv();
                        let mut sum = 0u64;
                        for i in 0..20_000u64 {
                            sum += goro::blocking(|| {
                                let name = std::thread::current().name().map(String::from);
                                if name.as_deref() != Some("goro-blocking") {
                                    inline.fetch_add(1, Ordering::Relaxed);
                                }
                                i
                            });
                        }
                        sum
                    })
                })
                .collect();
            started.wait();
            goro::time::sleep(Duration::from_millis(20));
            cap_address_space();
            drop(go_tx);
            for h in hs {
                assert_eq!(h.join().unwrap(), 20_000 * 19_999 / 2);
            }
            assert!(inline.load(Ordering::Relaxed) > 0, "no thread was refused");
            // `try_blocking` hands the closure back rather than lose it.
            let r = goro::try_blocking(|| 5);
            assert!(matches!(r, Ok(5) | Err(_)));
            if let Err(full) = r {
                assert_eq!((full.0)(), 5);
            }
        })
        .unwrap();
    println!("CHILD DONE");
}

#[test]
fn blocking_calls_survive_refused_threads() {
    child_passes(
        "child_blocking_with_threads_refused",
        Duration::from_secs(120),
    );
}

/// Waits until the goroutine of `h` says it started (on `started`), or has ended without
/// starting (its join is ready); true if it started.
fn started_or_refused<T>(h: &goro::JoinHandle<T>, started: &goro::Receiver<()>) -> bool {
    loop {
        if h.is_finished() {
            return false;
        }
        goro::select! {
            recv(started) -> _ => return true,
            recv(goro::time::after(Duration::from_millis(10))) -> _ => {}
        }
    }
}

/// The address space capped while goroutines keep starting and parking, each on its own
/// stack: the first goroutine the system refuses a stack ends at once with
/// `JoinError::NoStack` (its closure dropped, a `Drop` that panics caught), nothing aborts,
/// and once the parked goroutines finish their stacks serve new goroutines again.
#[test]
#[ignore = "run by a_goroutine_refused_a_stack_fails_its_join_not_the_process"]
fn child_goroutines_with_stacks_refused() {
    struct PanicsOnDrop;
    impl Drop for PanicsOnDrop {
        fn drop(&mut self) {
            panic!("a captured value that panics when dropped");
        }
    }
    goro::Runtime::builder()
        .workers(2)
        .exit_report(false)
        .run(|| {
            let (gate_tx, gate_rx) = goro::chan::<()>(0);
            let (started_tx, started_rx) = goro::chan::<()>(0);
            // Both workers' threads up (each maps its signal stack when it starts) before the
            // cap.
            let warm: Vec<_> = (0..8).map(|i| goro::go(move || i)).collect();
            warm.into_iter().for_each(|h| drop(h.join()));
            goro::time::sleep(Duration::from_millis(20));
            cap_address_space();
            let mut parked = Vec::new();
            let mut refused = None;
            for _ in 0..1_000_000 {
                let (gate_rx, started_tx) = (gate_rx.clone(), started_tx.clone());
                let guard = PanicsOnDrop;
                let h = goro::go(move || {
                    let _ = started_tx.send(());
                    let _ = gate_rx.recv();
                    std::mem::forget(guard);
                    1u32
                });
                if started_or_refused(&h, &started_rx) {
                    parked.push(h);
                } else {
                    refused = Some(h.join());
                    break;
                }
            }
            match refused {
                Some(Err(goro::JoinError::NoStack(e))) => {
                    let text = goro::JoinError::NoStack(e).to_string();
                    assert!(text.contains("no memory for its stack"), "{text}");
                }
                other => panic!("no goroutine was refused a stack: {other:?}"),
            }
            drop(gate_tx);
            let n = parked.len();
            assert!(n > 0);
            let sum: u32 = parked.into_iter().map(|h| h.join().unwrap()).sum();
            assert_eq!(sum as usize, n);
            // Their stacks are back in the pool: new goroutines start.
            for _ in 0..n.min(100) {
                assert_eq!(goro::go(|| 2).join().unwrap(), 2);
            }
        })
        .unwrap();
    println!("CHILD DONE");
}

/// With no room left for even the main goroutine's stack, `run` says so and runs nothing.
#[test]
#[ignore = "run by a_runtime_refused_its_main_stack_returns_an_error"]
fn child_runtime_with_no_room_for_a_stack() {
    cap_address_space();
    let ran = std::rc::Rc::new(std::cell::Cell::new(false));
    let ran2 = ran.clone();
    let r = goro::Runtime::builder()
        .workers(2)
        .run(move || ran2.set(true));
    match r {
        Err(e @ goro::RunError::Refused(_)) => {
            assert!(e.to_string().contains("main goroutine's stack"), "{e}")
        }
        other => panic!("{other:?}"),
    }
    assert!(!ran.get());
    println!("CHILD DONE");
}

#[test]
fn a_runtime_refused_its_main_stack_returns_an_error() {
    child_passes(
        "child_runtime_with_no_room_for_a_stack",
        Duration::from_secs(60),
    );
}

/// A refused goroutine's captured value whose `Drop` waits: it sends on an unbuffered
/// channel that a goroutine of the same (only) worker receives from 300 ms later. The drop
/// must not hold the worker's thread, or that goroutine could never run.
#[test]
#[ignore = "run by a_refused_goroutines_drop_that_waits_does_not_hold_its_worker"]
fn child_refused_goroutine_with_a_waiting_drop() {
    struct SendOnDrop(Option<goro::Sender<u8>>);
    impl Drop for SendOnDrop {
        fn drop(&mut self) {
            if let Some(tx) = self.0.take() {
                let _ = tx.send(9);
            }
        }
    }
    goro::Runtime::builder()
        .workers(1)
        .exit_report(false)
        .run(|| {
            let (gate_tx, gate_rx) = goro::chan::<()>(0);
            let (started_tx, started_rx) = goro::chan::<()>(0);
            let (drop_tx, drop_rx) = goro::chan::<u8>(0);
            let receiver = goro::go(move || {
                goro::time::sleep(Duration::from_millis(300));
                drop_rx.iter().count()
            });
            goro::time::sleep(Duration::from_millis(20));
            cap_address_space();
            let mut parked = Vec::new();
            let refused = loop {
                let (gate_rx, started_tx) = (gate_rx.clone(), started_tx.clone());
                let guard = SendOnDrop(Some(drop_tx.clone()));
                let h = goro::go(move || {
                    let _ = started_tx.send(());
                    let _ = gate_rx.recv();
                    let mut guard = guard;
                    guard.0 = None; // a goroutine that ran sends nothing
                });
                if !started_or_refused(&h, &started_rx) {
                    break h.join();
                }
                parked.push(h);
            };
            assert!(
                matches!(refused, Err(goro::JoinError::NoStack(_))),
                "{refused:?}"
            );
            drop(drop_tx);
            drop(gate_tx);
            parked.into_iter().for_each(|h| h.join().unwrap());
            // The refused goroutine's value was sent, from its drop, and nothing else.
            assert_eq!(receiver.join().unwrap(), 1);
        })
        .unwrap();
    println!("CHILD DONE");
}

#[test]
fn a_refused_goroutines_drop_that_waits_does_not_hold_its_worker() {
    child_passes(
        "child_refused_goroutine_with_a_waiting_drop",
        Duration::from_secs(60),
    );
}

#[test]
fn a_goroutine_refused_a_stack_fails_its_join_not_the_process() {
    child_passes(
        "child_goroutines_with_stacks_refused",
        Duration::from_secs(120),
    );
}

// ---- 2. A panic is never seen by another goroutine of its thread ----

/// Goroutine A panics and its cleanup parks (a `Drop` that sends, which a plain thread takes
/// 50 ms later); goroutine B, on the same worker, never sees `std::thread::panicking()` and
/// never finds a std `Mutex` it used poisoned.
#[test]
fn a_goroutine_never_sees_another_goroutines_panic() {
    goro::Runtime::builder()
        .workers(1)
        .run(|| {
            let (tx, rx) = goro::chan::<u8>(0);
            let dropping = Arc::new(std::sync::atomic::AtomicBool::new(false));
            let d2 = dropping.clone();
            let d3 = dropping.clone();
            // Takes A's value 30 ms after A's cleanup began: A's send waits meanwhile.
            let taker = std::thread::spawn(move || {
                while !d3.load(Ordering::SeqCst) {
                    std::thread::sleep(Duration::from_millis(1));
                }
                std::thread::sleep(Duration::from_millis(30));
                rx.recv().unwrap()
            });
            let a = goro::go(move || {
                let _g = SendOnDrop(Some(tx));
                let _flag = SetOnDrop(d2);
                panic!("a panics");
            });
            let b = goro::go(move || {
                let m = std::sync::Mutex::new(0);
                // Until A's cleanup has begun, then a while longer.
                let mut after = 0;
                while after < 50 {
                    if dropping.load(Ordering::SeqCst) {
                        after += 1;
                    }
                    assert!(!std::thread::panicking(), "b saw another goroutine's panic");
                    *m.lock().unwrap() += 1;
                    goro::yield_now();
                }
                assert!(!m.is_poisoned());
            });
            assert!(a.join().is_err());
            b.join().unwrap();
            assert_eq!(taker.join().unwrap(), 1);
        })
        .unwrap();
}

/// A panic hook that hands each message to a logger through a channel (so it parks) while a
/// second goroutine of the same worker panics: no "panicked while processing panic" abort.
#[test]
#[ignore = "run by a_panic_hook_that_parks_does_not_abort"]
fn child_panic_hook_parks() {
    let (tx, rx) = goro::chan::<String>(0);
    let logger = std::thread::spawn(move || {
        let mut n = 0;
        while let Ok(m) = rx.recv() {
            assert!(m.contains("boom"), "{m}");
            std::thread::sleep(Duration::from_millis(5));
            n += 1;
        }
        n
    });
    let tx = std::sync::Mutex::new(Some(tx));
    std::panic::set_hook(Box::new(move |info| {
        let t = tx.lock().unwrap().clone();
        if let Some(t) = t {
            let _ = t.send(info.to_string());
        }
    }));
    goro::Runtime::builder()
        .workers(1)
        .run(|| {
            let hs: Vec<_> = (0..4)
                .map(|i| goro::go(move || panic!("boom {i}")))
                .collect();
            for h in hs {
                assert!(h.join().is_err());
            }
        })
        .unwrap();
    let _ = std::panic::take_hook(); // drops the hook's sender: the logger ends
    assert_eq!(logger.join().unwrap(), 4);
    println!("CHILD DONE");
}

#[test]
fn a_panic_hook_that_parks_does_not_abort() {
    child_passes("child_panic_hook_parks", LIMIT);
}

// ---- 6. The monitor tells a blocked thread from a computing one ----

/// One worker. A goroutine holds a `std::sync::Mutex` guard across a park; another goroutine
/// of the same worker locks it and blocks the worker's thread in the kernel for good (the
/// holder cannot run to release it): the documented hazard of every M:N runtime. The monitor
/// must say that the thread is blocked, name the goroutine and the likely cause, and not
/// call it a goroutine that computes.
#[test]
#[ignore = "run by the_monitor_names_a_goroutine_that_blocks_its_worker_thread"]
fn child_std_mutex_across_a_park() {
    static M: std::sync::Mutex<u32> = std::sync::Mutex::new(0);
    goro::Runtime::builder()
        .workers(1)
        .run(|| {
            let held = goro::sync::WaitGroup::new();
            held.add(1);
            let h2 = held.clone();
            let holder = goro::go(move || {
                let mut g = M.lock().unwrap();
                h2.done();
                goro::time::sleep(Duration::from_millis(20)); // parks holding the guard
                *g += 1;
            });
            held.wait();
            let blocker = goro::go(|| *M.lock().unwrap() += 1);
            holder.join().unwrap();
            blocker.join().unwrap();
        })
        .unwrap();
}

/// A goroutine that calls `std::thread::sleep`: blocked, not computing.
#[test]
#[ignore = "run by the_monitor_names_a_goroutine_that_blocks_its_worker_thread"]
fn child_thread_sleep_on_a_goroutine() {
    goro::Runtime::builder()
        .workers(1)
        .run(|| goro::go(|| std::thread::sleep(Duration::from_millis(300))).join())
        .unwrap()
        .unwrap();
    println!("CHILD DONE");
}

#[test]
fn the_monitor_names_a_goroutine_that_blocks_its_worker_thread() {
    for name in [
        "child_std_mutex_across_a_park",
        "child_thread_sleep_on_a_goroutine",
    ] {
        let e = child(name, &[], Duration::from_secs(2));
        assert!(
            e.out
                .contains("has blocked worker 0's thread in the kernel")
                && e.out.contains("std::sync::Mutex")
                && e.out.contains("tests/edges.rs"),
            "{name}: no warning naming the blocked goroutine and the cause:\n{}",
            e.out
        );
        assert!(!e.out.contains("without yielding"), "{name}: {}", e.out);
    }
}

// ---- 7. A goroutine's panic names the goroutine ----

#[test]
#[ignore = "run by a_goroutine_panic_names_the_goroutine"]
fn child_named_goroutine_panics() {
    goro::run(|| {
        let h = goro::Builder::new()
            .name("fetcher")
            .spawn(|| panic!("no route to host"))
            .unwrap();
        assert!(h.join().is_err());
    })
    .unwrap();
    println!("CHILD DONE");
}

#[test]
fn a_goroutine_panic_names_the_goroutine() {
    let out = child_passes("child_named_goroutine_panics", LIMIT);
    let line = out
        .lines()
        .find(|l| l.contains("\"fetcher\""))
        .unwrap_or_else(|| panic!("no line names the goroutine:\n{out}"));
    assert!(
        line.starts_with("goroutine ") && line.contains("(created at crates/goro/tests/edges.rs:"),
        "{line}"
    );
    assert!(out.contains("no route to host"), "{out}");
}

/// A goroutine that never yields keeps worker 1 past the shutdown grace: `run` returns, and
/// the exit report does not count that goroutine as unwound.
#[test]
fn goroutines_left_on_a_stuck_worker_are_not_counted_as_unwound() {
    static STOP: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
    let exit = goro::Runtime::builder()
        .workers(2)
        .shutdown_grace(Duration::from_millis(100))
        .exit_report(false)
        .run_and_report(|| {
            let on = Arc::new(AtomicUsize::new(usize::MAX));
            let on2 = on.clone();
            // Started by worker 1 while main keeps worker 0 busy without yielding.
            goro::go(move || {
                let gate = common::gate_never_opened();
                let here = std::thread::current()
                    .name()
                    .and_then(|n| n.strip_prefix("goro-worker-"))
                    .and_then(|i| i.parse::<usize>().ok());
                // A second goroutine, queued on this worker, which never gets to start it.
                goro::go(move || gate.wait());
                on2.store(here.unwrap_or(usize::MAX - 1), Ordering::SeqCst);
                while !STOP.load(Ordering::SeqCst) {
                    std::hint::spin_loop();
                }
            });
            while on.load(Ordering::SeqCst) == usize::MAX {
                std::hint::spin_loop();
            }
            on.load(Ordering::SeqCst)
        })
        .unwrap();
    STOP.store(true, Ordering::SeqCst);
    assert_eq!(exit.value, 1, "the spinner ran on worker 1");
    assert_eq!(exit.stuck_workers, 1);
    // The second goroutine never started (its worker was busy): it is dropped unstarted and
    // counted; the spinner, left running, is not.
    assert_eq!(exit.unwound, 1, "{exit:?}");
}

/// The soft and hard limits on open file descriptors.
fn fd_limits() -> (u64, u64) {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: a valid out-parameter.
    assert_eq!(unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) }, 0);
    (lim.rlim_cur, lim.rlim_max)
}

#[test]
#[ignore = "run by the_fd_limit_is_raised_at_start_unless_kept"]
fn child_fd_limit() {
    // This process only: 256 descriptors, at most 512.
    let lim = libc::rlimit {
        rlim_cur: 256,
        rlim_max: 512,
    };
    // SAFETY: a valid input; lowering limits needs no privilege.
    assert_eq!(unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &lim) }, 0);
    let inside = goro::Runtime::builder()
        .exit_report(false)
        .run(fd_limits)
        .unwrap();
    let keep = std::env::var("GORO_FD_LIMIT").is_ok_and(|v| v == "keep");
    assert_eq!(inside, if keep { (256, 512) } else { (512, 512) });
    let off = goro::Runtime::builder()
        .raise_fd_limit(false)
        .exit_report(false)
        .run(fd_limits)
        .unwrap();
    assert_eq!(off, inside, "turning it off leaves the limit as it is");
    println!("CHILD DONE");
}

#[test]
fn the_fd_limit_is_raised_at_start_unless_kept() {
    // Go raises the soft limit to the hard one at start (since 1.19); a server with the
    // usual 1,024 runs out of descriptors at about a thousand clients.
    child_passes("child_fd_limit", LIMIT);
    let e = child("child_fd_limit", &[("GORO_FD_LIMIT", "keep")], LIMIT);
    assert!(
        !e.timed_out && e.code == Some(0) && e.out.contains("CHILD DONE"),
        "{}",
        e.out
    );
}

/// A panic hook that takes 100 ms of CPU (a slow backtrace, a logger) before printing.
#[test]
#[ignore = "run by a_slow_panic_hook_is_not_called_a_hog"]
fn child_slow_panic_hook() {
    std::panic::set_hook(Box::new(|_| {
        let t = Instant::now();
        while t.elapsed() < Duration::from_millis(100) {
            std::hint::spin_loop();
        }
        eprintln!("slow hook done");
    }));
    goro::Runtime::builder()
        .workers(1)
        .run(|| {
            let h = goro::go(|| -> u32 { panic!("on purpose") });
            assert!(h.join().is_err());
        })
        .unwrap();
    println!("CHILD DONE");
}

#[test]
fn a_slow_panic_hook_is_not_called_a_hog() {
    // The monitor used to warn that the goroutine "has computed for 10ms ... without
    // yielding" while the hook printed its panic.
    let out = child_passes("child_slow_panic_hook", LIMIT);
    assert!(out.contains("slow hook done"), "{out}");
    assert!(!out.contains("without yielding"), "{out}");
}
