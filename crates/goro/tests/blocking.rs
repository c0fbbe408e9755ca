//! goro::blocking and goro::io: blocking work off the workers.

#[path = "common/mod.rs"]
mod common;

use std::io::Write;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::{on_1_and_2_workers, rerun_in_child};

#[test]
fn a_blocking_call_does_not_stop_other_goroutines_on_its_worker() {
    goro::Runtime::builder()
        .workers(1)
        .run(|| {
            let progress = Arc::new(AtomicUsize::new(0));
            let p = progress.clone();
            let sleeper = goro::go(move || {
                goro::blocking(|| std::thread::sleep(Duration::from_millis(200)));
                p.load(Ordering::SeqCst)
            });
            let p = progress.clone();
            goro::go(move || {
                for _ in 0..50 {
                    p.fetch_add(1, Ordering::SeqCst);
                    goro::time::sleep(Duration::from_millis(1));
                }
            });
            let seen = sleeper.join().unwrap();
            assert!(
                seen >= 20,
                "only {seen} steps while the call blocked: the worker was held"
            );
        })
        .unwrap();
}

#[test]
fn a_blocking_call_borrows_from_the_caller_and_returns_or_panics() {
    on_1_and_2_workers(|| {
        let data: Vec<u64> = (0..10_000).collect();
        let mut out = String::new();
        let sum = goro::blocking(|| {
            out.push_str("written by the pool");
            data.iter().sum::<u64>()
        });
        assert_eq!(sum, 49_995_000);
        assert_eq!(out, "written by the pool");
        let h = goro::go(|| goro::blocking(|| panic!("inside the pool")));
        assert!(h.join().is_err(), "the panic comes back to the caller");
        // Many at once, more than there are workers.
        let hs: Vec<_> = (0..64)
            .map(|i| {
                goro::go(move || {
                    goro::blocking(move || {
                        std::thread::sleep(Duration::from_millis(5));
                        i
                    })
                })
            })
            .collect();
        let total: u64 = hs.into_iter().map(|h| h.join().unwrap()).sum();
        assert_eq!(total, (0..64).sum());
    });
    // On a plain thread it runs in place.
    assert_eq!(goro::blocking(|| 7), 7);
}

#[test]
#[ignore = "run by try_blocking_reports_a_full_pool in a child with GORO_BLOCKING_THREADS=2"]
fn child_full_pool() {
    goro::run(|| {
        let gate = Arc::new(std::sync::Barrier::new(3));
        let hs: Vec<_> = (0..2)
            .map(|_| {
                let g = gate.clone();
                goro::go(move || {
                    goro::blocking(move || {
                        g.wait();
                    })
                })
            })
            .collect();
        goro::time::sleep(Duration::from_millis(50));
        let e = goro::try_blocking(|| 1).unwrap_err();
        println!("refused: {e}");
        assert_eq!((e.0)(), 1, "the closure comes back");
        gate.wait();
        for h in hs {
            h.join().unwrap();
        }
        assert_eq!(goro::try_blocking(|| 2).ok(), Some(2));
    })
    .unwrap();
}

#[test]
fn try_blocking_reports_a_full_pool() {
    let out = rerun_in_child("child_full_pool", &[("GORO_BLOCKING_THREADS", "2")]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("refused: goro: the blocking pool is at its cap of 2 threads"),
        "{stdout}"
    );
}

#[test]
#[ignore = "run by stdin_lines_reach_goroutines with stdin piped"]
fn child_read_stdin() {
    goro::run(|| {
        let other = goro::go(|| {
            for i in 0..5 {
                goro::time::sleep(Duration::from_millis(1));
                let _ = i;
            }
        });
        let lines: Vec<String> = goro::io::stdin().lines().map(Result::unwrap).collect();
        other.join().unwrap();
        println!("lines: {lines:?}");
    })
    .unwrap();
}

#[test]
fn stdin_lines_reach_goroutines() {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "child_read_stdin",
            "--nocapture",
            "--include-ignored",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"alpha\nbeta\r\ngamma")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains(r#"lines: ["alpha", "beta", "gamma"]"#),
        "{stdout}"
    );
}

#[test]
fn files_go_through_the_pool() {
    on_1_and_2_workers(|| {
        let p = std::env::temp_dir().join(format!("goro-test-{}", std::process::id()));
        goro::io::write_file(&p, "contents").unwrap();
        assert_eq!(goro::io::read_to_string(&p).unwrap(), "contents");
        std::fs::remove_file(&p).unwrap();
        assert!(goro::io::read_file(&p).is_err());
    });
}
