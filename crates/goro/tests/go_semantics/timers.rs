//! SEMANTICS: Timers (Go 1.23 semantics).

use std::time::{Duration, Instant};

use goro::time::{after, sleep, Ticker, Timer};

use crate::common::on_1_and_2_workers;

#[test]
fn t1_after_yields_the_fire_time_at_least_d_later_and_zero_fires_at_once() {
    on_1_and_2_workers(|| {
        let start = Instant::now();
        let fired = after(Duration::from_millis(10)).recv().unwrap();
        assert!(fired >= start + Duration::from_millis(10));
        let zero = after(Duration::ZERO);
        assert!(zero.try_recv().is_ok(), "after(0) must be ready at once");
    });
    // From a plain thread too.
    let start = Instant::now();
    let fired = after(Duration::from_millis(5)).recv().unwrap();
    assert!(fired >= start + Duration::from_millis(5));
}

/// Races `stop` or `reset` against the firing of a timer due about now, many times: after
/// either returns, nothing stale may be received.
fn no_stale_value(rounds: u32) {
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    for i in 0..rounds {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let t = Timer::new(Duration::from_micros(x % 40));
        if x % 7 == 0 {
            goro::yield_now();
        } else {
            for _ in 0..(x % 300) {
                std::hint::spin_loop();
            }
        }
        if i % 2 == 0 {
            t.stop();
            assert!(
                t.c().try_recv().is_err(),
                "stale value after stop (round {i})"
            );
        } else {
            t.reset(Duration::from_secs(3600));
            assert!(
                t.c().try_recv().is_err(),
                "stale value after reset (round {i})"
            );
            assert!(t.stop(), "a reset timer is armed");
        }
    }
}

#[test]
fn t2_no_stale_value_after_stop_or_reset() {
    on_1_and_2_workers(|| no_stale_value(50_000));
    // On a plain thread the timer thread fires concurrently with stop and reset.
    no_stale_value(50_000);
}

#[test]
fn t2_stop_reports_whether_it_prevented_the_value() {
    on_1_and_2_workers(|| {
        let t = Timer::new(Duration::from_secs(3600));
        assert!(t.stop(), "armed: stop prevents it");
        assert!(!t.stop(), "already stopped");
        let t = Timer::new(Duration::from_millis(1));
        sleep(Duration::from_millis(5));
        assert!(t.stop(), "fired but not received: stop takes it back");
        assert!(t.c().try_recv().is_err());
        let t = Timer::new(Duration::from_millis(1));
        t.c().recv().unwrap();
        assert!(!t.stop(), "already received");
        // A reset timer fires again, once.
        t.reset(Duration::from_millis(1));
        t.c().recv().unwrap();
        assert!(t.c().recv_timeout(Duration::from_millis(20)).is_err());
    });
}

#[test]
fn t3_a_ticker_drops_ticks_for_a_slow_receiver_and_stop_ends_it() {
    on_1_and_2_workers(|| {
        let t = Ticker::new(Duration::from_millis(1)).unwrap();
        sleep(Duration::from_millis(30));
        // About 30 ticks came due; at most one is waiting.
        assert!(t.c().try_recv().is_ok());
        assert!(t.c().try_recv().is_err(), "ticks were queued, not dropped");
        let mut got = 0;
        let start = Instant::now();
        while start.elapsed() < Duration::from_millis(30) {
            if t.c().recv_timeout(Duration::from_millis(50)).is_ok() {
                got += 1;
            }
            sleep(Duration::from_millis(10));
        }
        assert!(got <= 4, "{got} ticks for a receiver that looked 3-4 times");
        t.stop();
        assert!(t.c().try_recv().is_err(), "a tick from before stop");
        assert!(
            t.c().recv_timeout(Duration::from_millis(20)).is_err(),
            "ticked after stop"
        );
    });
}

#[test]
fn t4_sleep_parks_only_the_goroutine() {
    goro::Runtime::builder()
        .workers(1)
        .run(|| {
            let (tx, rx) = goro::chan(2);
            let tx2 = tx.clone();
            goro::go(move || {
                sleep(Duration::from_millis(100));
                tx.send("sleeper").unwrap();
            });
            goro::go(move || {
                for _ in 0..1000 {
                    goro::yield_now();
                }
                tx2.send("worker").unwrap();
            });
            assert_eq!(rx.recv().unwrap(), "worker", "the sleep held the worker");
            assert_eq!(rx.recv().unwrap(), "sleeper");
        })
        .unwrap();
}

// T5 (a pending timer is live work for the deadlock detector) comes with the detector.
