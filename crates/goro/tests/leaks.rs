//! The leak check (`debug::leaks`): goroutines blocked for ever on channels that only other
//! blocked goroutines hold are named while the program runs on; goroutines that a live
//! goroutine, a plain thread or a timer can still wake are not.

use std::time::{Duration, Instant};

#[path = "common/mod.rs"]
mod common;

use common::{on_1_and_2_workers, start_cycle};
use goro::debug::{leak_report, leaks};
use goro::WaitReason;

/// Waits until `n` goroutines besides the caller are parked on channels.
fn until_blocked(n: usize) {
    let until = Instant::now() + Duration::from_secs(10);
    loop {
        let blocked = goro::debug::goroutines()
            .iter()
            .filter(|g| {
                matches!(
                    g.reason,
                    Some(WaitReason::ChanReceive | WaitReason::ChanSend | WaitReason::Select)
                )
            })
            .count();
        if blocked >= n {
            return;
        }
        assert!(
            Instant::now() < until,
            "only {blocked} of {n} goroutines blocked: {:?}",
            goro::debug::goroutines()
        );
        goro::time::sleep(Duration::from_millis(1));
    }
}

fn ids(gs: &[goro::debug::Goroutine]) -> Vec<u64> {
    gs.iter().map(|g| g.id).collect()
}

#[test]
fn a_cycle_of_two_goroutines_is_found_while_main_runs_on() {
    on_1_and_2_workers(|| {
        let cycle = start_cycle();
        until_blocked(2);
        let found = leaks();
        assert_eq!(ids(&found), cycle.to_vec(), "{found:?}");
        assert!(found
            .iter()
            .all(|g| g.reason == Some(WaitReason::ChanReceive)));
        let report = leak_report();
        assert_eq!(
            report
                .matches("1 goroutine(s) [chan receive (leaked)] created at")
                .count(),
            2,
            "{report}"
        );
        // A check leaves nothing behind that changes the next one (the scan's own frames
        // held the handles it looked for).
        for _ in 0..3 {
            assert_eq!(ids(&leaks()), cycle.to_vec());
        }
    });
}

/// A goroutine that selects on two channels whose senders a second goroutine holds, which
/// waits on a channel whose sender the first holds.
#[inline(never)]
fn start_select_cycle() -> [u64; 2] {
    let (tx_a, rx_a) = goro::chan::<u32>(0);
    let (tx_b, rx_b) = goro::chan::<u32>(1);
    let (tx_c, rx_c) = goro::chan::<u32>(0);
    let selecting = goro::go(move || {
        goro::select! {
            recv(rx_a) -> _v => {},
            recv(rx_b) -> _v => {},
        }
        drop(tx_c);
    });
    let holding = goro::go(move || {
        let _ = rx_c.recv();
        drop((tx_a, tx_b));
    });
    [selecting.id(), holding.id()]
}

#[test]
fn a_select_whose_every_channel_is_unreachable_is_found() {
    on_1_and_2_workers(|| {
        let cycle = start_select_cycle();
        until_blocked(2);
        assert_eq!(ids(&leaks()), cycle.to_vec());
        let report = leak_report();
        assert!(report.contains("[select (leaked)]"), "{report}");
        assert!(report.contains("[chan receive (leaked)]"), "{report}");
    });
}

/// A goroutine that makes a channel, gives its sender to a plain thread and waits: its stack
/// may still hold a copy of the sender it gave away, which must not count.
#[inline(never)]
fn start_wait_for_thread(go_ahead: std::sync::mpsc::Receiver<()>) -> goro::JoinHandle<u32> {
    goro::go(move || {
        let (tx, rx) = goro::chan::<u32>(0);
        std::thread::spawn(move || {
            go_ahead.recv().unwrap();
            tx.send(5).unwrap();
        });
        rx.recv().unwrap()
    })
}

#[test]
fn a_goroutine_waiting_on_a_sender_it_gave_to_a_thread_is_not_named() {
    on_1_and_2_workers(|| {
        let (go_tx, go_rx) = std::sync::mpsc::channel();
        let h = start_wait_for_thread(go_rx);
        until_blocked(1);
        assert!(leaks().is_empty());
        go_tx.send(()).unwrap();
        assert_eq!(h.join().unwrap(), 5);
    });
}

#[test]
fn a_receiver_whose_sender_main_holds_is_not_named() {
    on_1_and_2_workers(|| {
        let (tx, rx) = goro::chan::<u32>(0);
        let h = goro::go(move || rx.recv());
        until_blocked(1);
        assert!(leaks().is_empty());
        tx.send(7).unwrap();
        assert_eq!(h.join().unwrap(), Ok(7));
    });
}

#[test]
fn a_chain_that_ends_at_a_live_goroutine_is_not_named() {
    on_1_and_2_workers(|| {
        // `first` waits on `a`, whose sender `second` holds; `second` waits on `b`, whose
        // sender a goroutine waiting on a WaitGroup holds.
        let (tx_a, rx_a) = goro::chan::<u32>(0);
        let (tx_b, rx_b) = goro::chan::<u32>(0);
        let first = goro::go(move || rx_a.recv());
        let second = goro::go(move || {
            let v = rx_b.recv().unwrap_or(0);
            tx_a.send(v + 1)
        });
        let gate = goro::sync::WaitGroup::new();
        gate.add(1);
        let g = gate.clone();
        let holder = goro::go(move || {
            g.wait();
            tx_b.send(1)
        });
        until_blocked(2);
        assert!(leaks().is_empty());
        gate.done();
        holder.join().unwrap().unwrap();
        second.join().unwrap().unwrap();
        assert_eq!(first.join().unwrap(), Ok(2));
    });
}

#[test]
fn a_goroutine_waiting_for_a_plain_thread_is_not_named() {
    on_1_and_2_workers(|| {
        let (tx, rx) = goro::chan::<u32>(0);
        let (go_tx, go_rx) = std::sync::mpsc::channel::<()>();
        let t = std::thread::spawn(move || {
            go_rx.recv().unwrap();
            tx.send(3).unwrap();
        });
        let h = goro::go(move || rx.recv());
        until_blocked(1);
        assert!(leaks().is_empty());
        go_tx.send(()).unwrap();
        assert_eq!(h.join().unwrap(), Ok(3));
        t.join().unwrap();
    });
}

#[inline(never)]
fn start_waits_with_deadlines() {
    let (tx_a, rx_a) = goro::chan::<u32>(0);
    let (tx_b, rx_b) = goro::chan::<u32>(0);
    goro::go(move || {
        let _ = rx_a.recv_timeout(Duration::from_secs(30));
        drop(tx_a);
    });
    goro::go(move || {
        goro::select! {
            recv(rx_b) -> _v => {},
            recv(goro::time::after(Duration::from_secs(30))) -> _v => {},
        }
        drop(tx_b);
    });
}

#[test]
fn waits_with_a_deadline_are_not_named() {
    on_1_and_2_workers(|| {
        start_waits_with_deadlines();
        until_blocked(2);
        assert!(leaks().is_empty());
    });
}

#[test]
fn the_check_is_empty_outside_a_runtime() {
    assert!(leaks().is_empty());
    assert!(leak_report().is_empty());
}

#[test]
#[ignore = "run by the_check_does_not_wait_for_a_full_blocking_pool in a child process"]
fn child_full_pool() {
    goro::Runtime::builder()
        .workers(2)
        .exit_report(false)
        .run(|| {
            let cycle = start_cycle();
            until_blocked(2);
            // The pool's only thread (GORO_BLOCKING_THREADS=1) is taken by a call that
            // returns only once the check has.
            let (go_tx, go_rx) = std::sync::mpsc::channel::<()>();
            let busy = goro::go(move || goro::blocking(move || go_rx.recv().is_ok()));
            let until = Instant::now() + Duration::from_secs(10);
            while !goro::debug::goroutines()
                .iter()
                .any(|g| g.reason == Some(WaitReason::BlockingCall))
            {
                assert!(Instant::now() < until, "the blocking call never started");
                goro::time::sleep(Duration::from_millis(1));
            }
            assert!(leaks().is_empty());
            go_tx.send(()).unwrap();
            assert!(busy.join().unwrap());
            // With the pool free again, the check runs.
            assert_eq!(ids(&leaks()), cycle.to_vec());
        })
        .unwrap();
}

#[test]
fn the_check_does_not_wait_for_a_full_blocking_pool() {
    let mut child = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "child_full_pool", "--include-ignored"])
        .env("GORO_BLOCKING_THREADS", "1")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // A check that waited for the pool would never return: give up on it after a minute.
    let until = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if Instant::now() > until {
            let _ = child.kill();
            panic!("the leak check waited for a full blocking pool");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut err = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
    assert!(status.success(), "{err}");
}
