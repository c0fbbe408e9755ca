//! SEMANTICS.md, Runtime: R1-R3, R6 and R7 (R4's monitor is tested in scheduler.rs,
//! R5's deadlock report in deadlock.rs).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use goro::sync::WaitGroup;
use goro::{JoinError, Runtime};

#[test]
fn r1_go_returns_handle_join_gives_value_or_panic() {
    let r = Runtime::builder()
        .workers(2)
        .run(|| {
            let ok = goro::go(|| "value");
            let bad = goro::go(|| -> u8 { panic!("goroutine failure") });
            let after = goro::go(|| 3);
            (ok.join().unwrap(), bad.join(), after.join().unwrap())
        })
        .unwrap();
    assert_eq!(r.0, "value");
    match r.1 {
        Err(e @ JoinError::Panicked(_)) => assert_eq!(e.panic_message(), Some("goroutine failure")),
        other => panic!("expected a panic, got {other:?}"),
    }
    assert_eq!(r.2, 3, "the runtime survived the panic");
}

struct CountDrop(Arc<AtomicUsize>);
impl Drop for CountDrop {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

#[test]
fn r2_run_returns_when_main_returns_and_unwinds_the_rest() {
    let drops = Arc::new(AtomicUsize::new(0));
    let d = drops.clone();
    let exit = Runtime::builder()
        .workers(2)
        .exit_report(false)
        .run_and_report(move || {
            crate::common::park_forever_holding((0..100).map(|_| CountDrop(d.clone())));
            "main done"
        })
        .unwrap();
    assert_eq!(exit.value, "main done");
    assert_eq!(exit.unwound, 100);
    assert_eq!(
        drops.load(Ordering::SeqCst),
        100,
        "every parked goroutine's destructors ran"
    );
}

#[test]
fn r3_chain_of_10000_goroutines_forwarding_one_value() {
    fn link(depth: u32, v: u64) -> u64 {
        if depth == 0 {
            return v;
        }
        goro::go(move || link(depth - 1, v + 1)).join().unwrap()
    }
    let v = Runtime::builder()
        .workers(2)
        .run(|| link(10_000, 0))
        .unwrap();
    assert_eq!(v, 10_000);
}

/// Go's daisy chain: `left <- 1 + <-right` through 10,000 goroutines on unbuffered channels.
#[test]
fn r3_chain_of_10000_goroutines_on_channels() {
    crate::common::on_1_and_2_workers(|| {
        const N: u64 = 10_000;
        let (leftmost_tx, leftmost) = goro::chan::<u64>(0);
        let mut left = leftmost_tx;
        for _ in 0..N {
            let (right_tx, right) = goro::chan::<u64>(0);
            let l = left;
            goro::go(move || l.send(1 + right.recv().unwrap()).unwrap());
            left = right_tx;
        }
        goro::go(move || left.send(1).unwrap());
        assert_eq!(leftmost.recv(), Ok(N + 1));
    });
}

fn park_many(n: usize) {
    let woke = Runtime::builder()
        .workers(2)
        .run(move || {
            let gate = WaitGroup::new();
            gate.add(1);
            let started = WaitGroup::new();
            started.add(n);
            let woke = Arc::new(AtomicUsize::new(0));
            let hs: Vec<_> = (0..n)
                .map(|_| {
                    let (gate, started, woke) = (gate.clone(), started.clone(), woke.clone());
                    goro::go(move || {
                        started.done();
                        gate.wait();
                        woke.fetch_add(1, Ordering::Relaxed);
                    })
                })
                .collect();
            started.wait();
            gate.done();
            for h in hs {
                h.join().unwrap();
            }
            woke.load(Ordering::Relaxed)
        })
        .unwrap();
    assert_eq!(woke, n);
}

#[test]
fn r3_100000_goroutines_parked_at_once() {
    park_many(100_000);
}

/// The full size; `goro bench parked1M` runs it too. Ignored in the default suite for time.
#[test]
#[ignore = "heavy: about 4 GiB of address space touched page by page; run with --ignored"]
fn r3_1000000_goroutines_parked_at_once() {
    park_many(1_000_000);
}

fn overflow_child(guard: &str, stack: Option<&str>) -> (std::process::ExitStatus, String) {
    let mut env = vec![("GORO_R6_CHILD", "1"), ("GORO_GUARD", guard)];
    if let Some(n) = stack {
        env.push(("GORO_R6_STACK", n));
    }
    let out = crate::common::rerun_in_child("runtime::r6_child", &env);
    (
        out.status,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn r6_stack_overflow_is_reported_and_aborts() {
    use std::os::unix::process::ExitStatusExt;
    for guard in ["madvise", "mprotect"] {
        let (status, err) = overflow_child(guard, None);
        assert_eq!(
            status.signal(),
            Some(libc_sigabrt()),
            "guard {guard}: {status:?}\n{err}"
        );
        let line = err
            .lines()
            .find(|l| l.contains("stack overflow"))
            .unwrap_or_else(|| panic!("no report: {err}"));
        assert!(line.starts_with("fatal error: goroutine "), "{line}");
        // The size the program asked for (the default), not the slot's usable size.
        assert!(line.contains("stack of 256 KiB"), "{line}");
        assert!(err.contains("created by "), "spawn site missing: {err}");
        assert!(
            err.contains("runtime.rs:"),
            "spawn site should point at this file: {err}"
        );
    }
}

#[test]
fn r6_the_overflow_report_names_the_stack_size_asked_for() {
    for (asked, says) in [("16384", "stack of 16 KiB"), ("100000", "stack of 98 KiB")] {
        let (_, err) = overflow_child("madvise", Some(asked));
        assert!(err.contains(says), "asked {asked}: {err}");
    }
}

fn libc_sigabrt() -> i32 {
    6
}

#[test]
#[ignore = "run as a child process by r6_stack_overflow_is_reported_and_aborts"]
fn r6_child() {
    if std::env::var("GORO_R6_CHILD").is_err() {
        return;
    }
    match std::env::var("GORO_R6_STACK") {
        Ok(n) => {
            let n: usize = n.parse().unwrap();
            let _ = goro::run(move || {
                goro::Builder::new()
                    .stack_size(n)
                    .spawn(|| recurse(0))
                    .unwrap()
                    .join()
            });
        }
        Err(_) => {
            let _ = goro::run(|| goro::go(|| recurse(0)).join());
        }
    }
}

#[inline(never)]
#[allow(unconditional_recursion)] // on purpose: it must overflow the stack
fn recurse(n: u64) -> u64 {
    let buf = std::hint::black_box([n; 512]);
    recurse(buf[7] + 1) + buf[3]
}

/// The goroutine a run's panic names, and its message.
fn ended_by(r: Result<impl std::fmt::Debug, goro::RunError>) -> goro::GoroutinePanic {
    match r {
        Err(goro::RunError::Panicked(p)) => p,
        other => panic!("expected the run to end with a panic, got {other:?}"),
    }
}

#[test]
fn r7_a_detached_goroutine_that_panics_ends_the_run() {
    let drops = Arc::new(AtomicUsize::new(0));
    let d = drops.clone();
    let line = line!() + 8;
    let r = Runtime::builder()
        .workers(2)
        .exit_report(false)
        .run(move || {
            let _mine = CountDrop(d.clone());
            goro::Builder::new()
                .name("fetcher")
                .spawn(|| panic!("no route to host"))
                .unwrap();
            // Only the panic can end the run before this does.
            goro::time::sleep(std::time::Duration::from_secs(30));
        });
    let p = ended_by(r);
    assert_eq!(p.message(), Some("no route to host"));
    assert_eq!(p.name(), Some("fetcher"));
    assert_eq!((p.site().file(), p.site().line()), (file!(), line));
    assert!(p.id() > 1);
    assert_eq!(
        p.to_string(),
        format!(
            "goroutine {} \"fetcher\" (created at {}) panicked: no route to host",
            p.id(),
            p.site()
        )
    );
    assert_eq!(
        drops.load(Ordering::SeqCst),
        1,
        "main was unwound: its destructors ran"
    );
}

#[test]
fn r7_a_handle_dropped_unjoined_after_the_panic_ends_the_run() {
    // On the goroutine that held it, and on a plain thread it was sent to.
    for on_thread in [false, true] {
        let r = Runtime::builder()
            .workers(1)
            .exit_report(false)
            .run(move || {
                let h = goro::go(|| -> u8 { panic!("late") });
                while !h.is_finished() {
                    goro::yield_now();
                }
                goro::yield_now(); // nothing ends yet: the handle could still join
                if on_thread {
                    std::thread::spawn(move || drop(h)).join().unwrap();
                } else {
                    drop(h);
                }
                goro::time::sleep(std::time::Duration::from_secs(60));
            });
        assert_eq!(ended_by(r).message(), Some("late"), "on_thread {on_thread}");
    }
}

#[test]
fn r7_a_joined_or_recovered_panic_does_not_end_the_run() {
    let r = Runtime::builder().workers(2).run(|| {
        let joined = goro::go(|| -> u8 { panic!("joined") }).join();
        // Go's recover: the goroutine catches its own panic.
        let recovered = goro::go(|| std::panic::catch_unwind(|| panic!("recovered")).is_err());
        goro::time::sleep(std::time::Duration::from_millis(20));
        (
            joined.unwrap_err().panic_message().map(String::from),
            recovered.join().unwrap(),
        )
    });
    assert_eq!(r.unwrap(), (Some("joined".to_string()), true));
}

#[test]
fn r7_unhandled_panics_can_be_ignored() {
    let r = Runtime::builder()
        .workers(2)
        .unhandled_panic(goro::UnhandledPanic::Ignore)
        .run(|| {
            for i in 0..10 {
                drop(goro::go(move || panic!("ignored {i}")));
            }
            goro::time::sleep(std::time::Duration::from_millis(20));
            goro::go(|| 4).join().unwrap()
        });
    assert_eq!(r.unwrap(), 4);
}

#[test]
fn r7_a_dedicated_goroutine_that_panics_ends_the_run_too() {
    let r = Runtime::builder().workers(1).exit_report(false).run(|| {
        goro::Builder::new()
            .name("own thread")
            .dedicated(true)
            .spawn(|| panic!("on its own thread"))
            .unwrap();
        goro::time::sleep(std::time::Duration::from_secs(60));
    });
    let p = ended_by(r);
    assert_eq!(
        (p.name(), p.message()),
        (Some("own thread"), Some("on its own thread"))
    );
}

#[test]
fn r7_main_panicking_names_main() {
    let r = Runtime::builder()
        .workers(1)
        .run(|| -> u8 { panic!("in main") });
    let p = ended_by(r);
    assert_eq!((p.name(), p.message()), (Some("main"), Some("in main")));
    assert!(p.id() > 0);
    assert_eq!(p.site().file(), file!());
}

#[test]
fn r7_a_handle_that_outlives_its_run_drops_its_panic_quietly() {
    let h = Runtime::builder()
        .workers(1)
        .run(|| {
            let h = goro::go(|| -> u8 { std::panic::panic_any(String::from("after the end")) });
            while !h.is_finished() {
                goro::yield_now();
            }
            h
        })
        .unwrap();
    // Its run is over: nothing is left to end, and nothing unwinds into this thread.
    drop(h);
    assert!(!std::thread::panicking());
}
