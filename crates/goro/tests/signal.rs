//! `signal::notify`: signals arrive as channel values; nobody listening gives a signal its
//! default effect back; a goroutine waiting for a signal is not a deadlock. Tests that raise
//! a signal whose default ends the process run in a child process.

mod common;

use std::time::Duration;

use goro::signal::{self, Signal};

const LIMIT: Duration = Duration::from_secs(30);

fn raise(s: Signal) {
    // SAFETY: raise(3) has no preconditions.
    unsafe { libc::raise(s.number()) };
}

#[test]
#[ignore = "run by signals_arrive_on_every_channel_that_asked"]
fn child_signals_arrive() {
    goro::run(|| {
        let a = signal::notify(&[Signal::User1, Signal::User2]).unwrap();
        let b = signal::notify(&[Signal::User1]).unwrap();
        raise(Signal::User1);
        assert_eq!(a.recv_timeout(LIMIT), Ok(Signal::User1));
        assert_eq!(b.recv_timeout(LIMIT), Ok(Signal::User1));
        raise(Signal::User2);
        assert_eq!(a.recv_timeout(LIMIT), Ok(Signal::User2));
        // b did not ask for SIGUSR2.
        assert!(b.recv_timeout(Duration::from_millis(50)).is_err());
        // A full buffer drops deliveries instead of blocking (b has one place).
        for _ in 0..5 {
            raise(Signal::User1);
            goro::time::sleep(Duration::from_millis(5));
        }
        goro::time::sleep(Duration::from_millis(50));
        assert_eq!(b.len(), 1);
        // In a select, beside a timer, as a server's main loop waits.
        let got = goro::select! {
            recv(b) -> s => s.ok(),
            recv(goro::time::after(LIMIT)) -> _ => None,
        };
        assert_eq!(got, Some(Signal::User1));
    })
    .unwrap();
    println!("CHILD DONE");
}

#[test]
fn signals_arrive_on_every_channel_that_asked() {
    common::child_passes("child_signals_arrive", LIMIT);
}

#[test]
#[ignore = "run by a_signal_nobody_listens_for_any_more_has_its_default_effect"]
fn child_nobody_listens() {
    let rx = signal::notify(&[Signal::Terminate]).unwrap();
    raise(Signal::Terminate);
    assert_eq!(rx.recv_timeout(LIMIT), Ok(Signal::Terminate));
    drop(rx);
    println!("LISTENED ONCE");
    raise(Signal::Terminate);
    std::thread::sleep(LIMIT); // SIGTERM's default action ends the process before this does
    println!("CHILD DONE");
}

#[test]
fn a_signal_nobody_listens_for_any_more_has_its_default_effect() {
    let e = common::child("child_nobody_listens", &[], LIMIT * 2);
    assert!(!e.timed_out, "{}", e.out);
    assert!(e.out.contains("LISTENED ONCE"), "{}", e.out);
    assert_eq!(e.signal, Some(libc::SIGTERM), "{}", e.out);
}

#[test]
#[ignore = "run by waiting_for_a_signal_is_not_a_deadlock"]
fn child_waiting_for_a_signal() {
    let got = goro::Runtime::builder()
        .deadlock_detection(Some(Duration::from_millis(100)))
        .deadlock_fatal_unproven(true)
        .run(|| {
            let sigs = signal::notify(&[Signal::Hangup]).unwrap();
            std::thread::spawn(|| {
                std::thread::sleep(Duration::from_millis(600));
                raise(Signal::Hangup);
            });
            sigs.recv()
        })
        .unwrap();
    assert_eq!(got, Ok(Signal::Hangup));
    println!("CHILD DONE");
}

#[test]
fn waiting_for_a_signal_is_not_a_deadlock() {
    common::child_passes("child_waiting_for_a_signal", LIMIT);
}
