//! The tour's channel stops: rendezvous against queue, `select` with `default`, and Go's
//! readword/timeout program.

use std::time::{Duration, Instant};

/// Sends `n` integers from a producer goroutine to the caller over a channel of capacity
/// `cap`; returns the time per message.
fn hand_off(n: u64, cap: usize) -> f64 {
    let (tx, rx) = goro::chan::<u64>(cap);
    let t = Instant::now();
    goro::go(move || {
        for i in 0..n {
            if tx.send(i).is_err() {
                return;
            }
        }
    });
    let sum: u64 = rx.iter().sum();
    assert_eq!(sum, n * (n - 1) / 2);
    t.elapsed().as_nanos() as f64 / n as f64
}

/// Unbuffered against buffered hand-off.
pub fn unbuffered_vs_buffered(scale: f64) -> String {
    let n = ((1_000_000.0 * scale) as u64).max(100);
    let unbuf = hand_off(n, 0);
    let buf = hand_off(n, 100);
    format!(
        "{} values: unbuffered {unbuf:.0} ns each, capacity 100 {buf:.0} ns each ({:.1}x)",
        super::thousands(n),
        unbuf / buf
    )
}

/// A producer that never waits for a slow consumer: each update is offered with a `select`
/// that has a `default`, and dropped when the consumer's buffer is full.
pub fn select_default(scale: f64) -> String {
    let updates = ((1000.0 * scale) as u64).max(20);
    let (tx, rx) = goro::chan::<u64>(4);
    let consumer = goro::go(move || {
        let mut got = 0u64;
        for _ in &rx {
            got += 1;
            goro::time::sleep(Duration::from_micros(200)); // a slow consumer
        }
        got
    });
    let (mut offered, mut dropped) = (0u64, 0u64);
    let t = Instant::now();
    for i in 0..updates {
        offered += 1;
        goro::select! {
            send(tx, i) -> r => r.expect("the consumer is alive"),
            default => dropped += 1,
        }
        goro::time::sleep(Duration::from_micros(20)); // an update every 20 us
    }
    let producer_ms = t.elapsed().as_secs_f64() * 1e3;
    drop(tx);
    let delivered = consumer.join().unwrap_or(0);
    format!(
        "{offered} updates offered in {producer_ms:.1} ms: {delivered} delivered, {dropped} dropped \
         while the consumer was busy; the producer never waited"
    )
}
