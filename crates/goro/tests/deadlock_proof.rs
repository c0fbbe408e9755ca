//! The deadlock report is fatal only when it is proven (docs/DESIGN.md, "What goro promises
//! at its edges"): correct programs that wait on a plain thread, or on another runtime, go on;
//! a true deadlock still ends `run`.
//!
//! No test harness (`harness = false`): each shape runs in a child process of its own that
//! calls `goro::run` on its main thread, so the only threads are the ones a shape makes.

use std::process::Command;
use std::time::{Duration, Instant};

use goro::{RunError, Runtime};

const GRACE: Duration = Duration::from_millis(200);
/// Longer than the grace: a wait this long looks like a deadlock to a detector that sees only
/// its own runtime.
const LATE: Duration = Duration::from_millis(700);

fn builder() -> goro::RuntimeBuilder {
    Runtime::builder()
        .workers(2)
        .exit_report(false)
        .deadlock_detection(Some(GRACE))
}

/// Every goroutine waits for ever: still fatal.
fn true_deadlock() {
    let r = builder().run(|| {
        let (tx, _rx) = goro::chan::<u32>(0);
        tx.send(1).unwrap();
    });
    match r {
        Err(RunError::Deadlock(d)) => assert!(d.contains("chan send"), "{d}"),
        other => panic!("expected a deadlock, got {other:?}"),
    }
}

/// Main receives what a `std::thread` sends after the grace.
fn thread_sends_late() {
    let v = builder()
        .run(|| {
            let (tx, rx) = goro::chan::<u32>(0);
            std::thread::spawn(move || {
                std::thread::sleep(LATE);
                tx.send(42).unwrap();
            });
            rx.recv().unwrap()
        })
        .unwrap();
    assert_eq!(v, 42);
}

/// A goroutine waits for a `goro::sync::Mutex` that a plain thread holds past the grace.
fn thread_holds_a_mutex() {
    let v = builder()
        .run(|| {
            let m = std::sync::Arc::new(goro::sync::Mutex::new(1));
            let (locked_tx, locked_rx) = std::sync::mpsc::channel();
            let m2 = m.clone();
            std::thread::spawn(move || {
                let mut g = m2.lock();
                locked_tx.send(()).unwrap();
                std::thread::sleep(LATE);
                *g += 1;
            });
            locked_rx.recv().unwrap();
            let v = *m.lock();
            v
        })
        .unwrap();
    assert_eq!(v, 2);
}

/// Runtime A waits for a goroutine of runtime B that sleeps past the grace; B's send lands.
fn another_runtime_sends_late() {
    let (tx, rx) = goro::chan::<u32>(0);
    let b = std::thread::spawn(move || {
        builder()
            .run(move || {
                goro::time::sleep(LATE);
                tx.send(7)
            })
            .unwrap()
    });
    let v = builder().run(move || rx.recv().unwrap()).unwrap();
    assert_eq!(v, 7);
    assert!(b.join().unwrap().is_ok(), "B's value was lost");
}

const SHAPES: &[(&str, fn())] = &[
    ("true_deadlock", true_deadlock),
    ("thread_sends_late", thread_sends_late),
    ("thread_holds_a_mutex", thread_holds_a_mutex),
    ("another_runtime_sends_late", another_runtime_sends_late),
];

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--shape") {
        let name = &args[i + 1];
        let (_, f) = SHAPES
            .iter()
            .find(|(n, _)| n == name)
            .expect("a known shape");
        f();
        println!("SHAPE PASSED");
        return;
    }
    let filter = args.iter().skip(1).find(|a| !a.starts_with('-'));
    let mut failed = 0;
    for (name, _) in SHAPES {
        if filter.is_some_and(|f| !name.contains(f.as_str())) {
            continue;
        }
        let start = Instant::now();
        let out = Command::new(std::env::current_exe().unwrap())
            .args(["--shape", name])
            .env("GORO_SIGQUIT", "0")
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        let ok = out.status.success() && stdout.contains("SHAPE PASSED");
        println!(
            "deadlock_proof {name} ... {} ({:.1?})",
            if ok { "ok" } else { "FAILED" },
            start.elapsed()
        );
        if !ok {
            failed += 1;
            println!("{stdout}{}", String::from_utf8_lossy(&out.stderr));
        }
    }
    assert_eq!(failed, 0, "{failed} shape(s) failed");
}
