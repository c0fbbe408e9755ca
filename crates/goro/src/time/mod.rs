//! Time: `sleep` parks only the calling goroutine.
//!
//! This folder owns Go's `time` package. A sleeping goroutine arms a timer in its worker's heap
//! (`sched::timers`) and parks; the worker wakes it when the deadline passes, and an idle
//! worker sleeps on its futex no longer than its earliest timer. [`after`] arms a timer on the
//! calling worker that sends the time on a channel of capacity 1. `Timer` and `Ticker` come
//! next.

use std::time::{Duration, Instant};

use crate::chan::{chan, Receiver};
use crate::sched::worker;

/// Pauses the calling goroutine for at least `d` (Go's `time.Sleep`). Other goroutines keep
/// running on its worker meanwhile. On a plain OS thread it is `std::thread::sleep`.
///
/// # Examples
///
/// ```
/// use std::time::{Duration, Instant};
/// goro::run(|| {
///     let t = Instant::now();
///     goro::time::sleep(Duration::from_millis(5));
///     assert!(t.elapsed() >= Duration::from_millis(5));
/// })
/// .unwrap();
/// ```
pub fn sleep(d: Duration) {
    if d.is_zero() {
        return;
    }
    sleep_until(Instant::now() + d);
}

/// Pauses the calling goroutine until `deadline`.
pub fn sleep_until(deadline: Instant) {
    if !worker::sleep_until(deadline) {
        let now = Instant::now();
        if deadline > now {
            std::thread::sleep(deadline - now);
        }
    }
}

/// A channel that receives the time once, at least `d` from now (Go's `time.After`); `d` of
/// zero fires at once. The usual timeout case of a `select!`.
///
/// The timer lives on the calling worker's heap and sends without blocking (the channel has
/// capacity 1), so a receiver that stopped listening costs nothing but the timer entry until it
/// fires. Called from a plain OS thread, a helper thread sleeps and sends instead.
///
/// # Examples
///
/// ```
/// use std::time::{Duration, Instant};
/// goro::run(|| {
///     let start = Instant::now();
///     let fired = goro::time::after(Duration::from_millis(5)).recv().unwrap();
///     assert!(fired >= start + Duration::from_millis(5));
/// })
/// .unwrap();
/// ```
#[doc(alias = "After")]
pub fn after(d: Duration) -> Receiver<Instant> {
    let (tx, rx) = chan(1);
    let now = Instant::now();
    if d.is_zero() {
        let _ = tx.try_send(now);
        return rx;
    }
    let deadline = now
        .checked_add(d)
        .unwrap_or(now + Duration::from_secs(100 * 365 * 24 * 3600));
    let send: Box<dyn FnOnce() + Send> = Box::new(move || {
        let _ = tx.try_send(Instant::now());
    });
    if let Err(send) = worker::call_at(deadline, send) {
        std::thread::Builder::new()
            .name("goro-after".into())
            .spawn(move || {
                sleep_until(deadline);
                send();
            })
            .expect("goro::time::after: cannot start a timer thread");
    }
    rx
}
