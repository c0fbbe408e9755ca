//! Time: sleeping, timeouts, timers and tickers that park only the calling goroutine (Go's
//! `time` package).
//!
//! This folder owns the user-facing half of timers:
//!
//! * [`sleep`] / [`sleep_until`] park the goroutine with a wake-up on its worker's heap.
//! * [`after`] and [`tick`] return a channel that receives the time once, or every period.
//! * [`Timer`] and [`Ticker`] (`timer.rs`) can be stopped and reset, with Go 1.23's guarantee
//!   that no stale value is received afterwards; its module doc has the protocol.
//! * [`after_func()`] (`after_func.rs`) calls a function on a goroutine of its own after a
//!   delay, and can be stopped or reset.
//! * `thread.rs` is the timer thread that serves timers armed on plain OS threads.
//!
//! The heaps themselves are `sched::timers`: one per worker, touched only by its thread, fired
//! by the worker loop every tick; an idle worker sleeps no longer than its earliest deadline.
//! A timer lives on the heap of the thread that armed it, so timers armed anywhere fire, with
//! no cross-thread queue.

pub(crate) mod after_func;
pub(crate) mod thread;
pub(crate) mod timer;

use std::time::{Duration, Instant};

use crate::chan::{chan, Receiver, WeakSender};
use crate::sched::timers::{Due, Fire};
use crate::sched::worker;

pub use after_func::{after_func, AfterFunc};
pub use timer::{armed, Ticker, Timer, ZeroPeriod};

/// Pauses the calling goroutine for at least `d` (Go's `time.Sleep`). Other goroutines keep
/// running on its worker meanwhile (SEMANTICS T4). On a plain OS thread it is
/// `std::thread::sleep`.
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
#[doc(alias = "Sleep")]
pub fn sleep(d: Duration) {
    if d.is_zero() {
        return;
    }
    sleep_until(timer::deadline_after(d));
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
/// zero fires at once (SEMANTICS T1). The usual timeout case of a `select!`.
///
/// The timer holds the channel only weakly: once the receiver is dropped (the `select!` took
/// another case), the timer is garbage and its heap drops it, as in Go 1.23. Use a [`Timer`]
/// to stop one explicitly.
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
    every(d, None)
}

/// A channel that receives the time every `d` (Go's `time.Tick`): a ticker that nobody can
/// stop, collected once the receiver is dropped. A slow receiver misses ticks. A period of
/// zero gives a channel that never receives (Go returns a nil channel).
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// goro::run(|| {
///     let ticks = goro::time::tick(Duration::from_millis(1));
///     for _ in 0..3 {
///         ticks.recv().unwrap();
///     }
/// })
/// .unwrap();
/// ```
#[doc(alias = "Tick")]
pub fn tick(d: Duration) -> Receiver<Instant> {
    if d.is_zero() {
        return crate::chan::never();
    }
    every(d, Some(d))
}

fn every(d: Duration, period: Option<Duration>) -> Receiver<Instant> {
    let (tx, rx) = chan(1);
    if d.is_zero() {
        let _ = tx.try_send_quiet(Instant::now());
        return rx;
    }
    timer::arm(timer::deadline_after(d), send_entry(tx, period));
    rx
}

/// A timer entry that sends the time on `tx` without waiting, and again every `period` if
/// there is one (`after`, `tick`). It holds the channel weakly, so a timer whose receiver was
/// dropped is garbage; a full channel drops the tick (a slow receiver).
pub(crate) fn send_entry(tx: crate::chan::Sender<Instant>, period: Option<Duration>) -> Fire {
    Fire::Call(Box::new(SendTime {
        tx: WeakSender::from_sender(tx),
        period,
        _armed: timer::armed_token(),
    }))
}

/// See [`send_entry`].
struct SendTime {
    tx: WeakSender<Instant>,
    period: Option<Duration>,
    /// Counted among the armed timers while it is in a heap.
    _armed: timer::Armed,
}

impl Due for SendTime {
    fn is_stale(&self) -> bool {
        self.tx.is_dead()
    }

    fn fire(self: Box<Self>, when: Instant, now: Instant) -> Option<(Instant, Box<dyn Due>)> {
        // A full channel drops the tick (a slow receiver); a dead one ends the timer.
        let _ = self.tx.try_send(now)?;
        let period = self.period?;
        Some((timer::next_tick(when, period, now), self))
    }
}
