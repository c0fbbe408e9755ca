//! Time: `sleep` parks only the calling goroutine.
//!
//! This folder owns Go's `time` package. A sleeping goroutine arms a timer in its worker's heap
//! (`sched::timers`) and parks; the worker wakes it when the deadline passes, and an idle
//! worker sleeps on its futex no longer than its earliest timer. `after`, `Timer` and `Ticker`
//! come next.

use std::time::{Duration, Instant};

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
