//! `Timer` and `Ticker`: a channel that receives the time once, or every period, and can be
//! stopped and reset, with Go 1.23's guarantee that no stale value is received after `stop` or
//! `reset` returns (SEMANTICS T2).
//!
//! # Protocol
//!
//! A timer is a [`TimerCore`] shared by the user's `Timer` (or `Ticker`) and, weakly, by heap
//! entries (`sched::timers`). The core holds, under a small mutex, a generation `gen`, whether
//! it is armed, and the period of a ticker. Its channel has capacity 1.
//!
//! 1. Arming (`new`, `reset`) bumps `gen`, marks the core armed and pushes an entry
//!    `(deadline, Weak<core>, gen)` on the heap of the arming thread: its worker's heap on a
//!    worker, the timer thread's heap on a plain OS thread. So a timer armed from anywhere
//!    fires, and no cross-thread queue is needed.
//! 2. An entry comes due. Its heap's thread locks the core; if `gen` is still the entry's and
//!    the core is armed, it sends the time without waiting (a ticker's full channel drops the
//!    tick: T3), then either disarms the core (a timer) or arms the next tick in the same heap
//!    with the same `gen` (a ticker). A mismatch means the entry is stale: it does nothing.
//! 3. `stop` locks the core, bumps `gen` (every entry armed so far is now stale), disarms it and,
//!    still holding the lock, takes any value waiting in the channel. Once the lock is released
//!    no entry of the old generation can send (step 2 checks `gen` under the same lock), and
//!    nothing it sent before is left: no stale value (T2). `stop` returns true if the timer was
//!    armed or its value had not been received yet, as Go 1.23 does for its unbuffered timer
//!    channels.
//! 4. `reset` is `stop` then step 1, under one lock.
//!
//! Stale entries stay in their heap until they come due or the heap compacts. The lock order is
//! core, then channel: firing, `stop` and `reset` take them in that order; a receiver takes only
//! the channel's.
//!
//! Dropping a `Timer` or `Ticker` stops it. [`armed`] counts the timers of this module (and of
//! `after`/`tick`) that are armed now, for leak checks.

use std::fmt;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use crate::chan::{chan, Receiver, Sender};
use crate::sched::timers::{Due, Fire};
use crate::sched::worker;

/// Timers armed now (see [`armed`]).
static ARMED: AtomicUsize = AtomicUsize::new(0);

/// How many timers are armed right now: `Timer`s and `Ticker`s not stopped or fired, and
/// `after`/`tick` channels not yet fired or dropped (a dropped one counts until its heap next
/// looks at it). For leak checks: a program that cancels its contexts and stops its timers
/// returns to the count it started with.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// goro::run(|| {
///     let before = goro::time::armed();
///     let t = goro::time::Timer::new(Duration::from_secs(60));
///     assert_eq!(goro::time::armed(), before + 1);
///     t.stop();
///     assert_eq!(goro::time::armed(), before);
/// })
/// .unwrap();
/// ```
pub fn armed() -> usize {
    ARMED.load(Ordering::Relaxed)
}

/// One armed `after`/`tick` entry or context deadline in the [`armed`] count, for as long as
/// it exists.
pub(crate) type Armed = crate::sched::Counted;

/// A new unit of the [`armed`] count.
pub(crate) fn armed_token() -> Armed {
    crate::sched::Counted::new(&ARMED)
}

/// The next tick of a ticker that was due at `when`: a whole number of periods later, and
/// after `now` (ticks missed while the worker was busy are skipped, as in Go).
pub(crate) fn next_tick(when: Instant, period: Duration, now: Instant) -> Instant {
    let behind = now.saturating_duration_since(when);
    let periods = behind.as_nanos() / period.as_nanos().max(1) + 1;
    let skip = period.saturating_mul(u32::try_from(periods).unwrap_or(u32::MAX));
    when.checked_add(skip).unwrap_or(now + period)
}

/// A deadline `d` from now. A timeout too large to represent waits "forever" (about a
/// century). Every timeout in goro goes through here.
pub(crate) fn deadline_after(d: Duration) -> Instant {
    let now = Instant::now();
    now.checked_add(d)
        .unwrap_or_else(|| now + Duration::from_secs(100 * 365 * 24 * 3600))
}

/// Puts an entry on the calling thread's heap: its worker's, or the timer thread's.
pub(crate) fn arm(when: Instant, fire: Fire) {
    if let Err(fire) = worker::arm_timer(when, fire) {
        super::thread::arm(when, fire);
    }
}

struct State {
    armed: bool,
    period: Option<Duration>,
}

/// The shared part of a `Timer` or `Ticker`; see the module doc.
pub(crate) struct TimerCore {
    st: Mutex<State>,
    /// Written only under `st`'s lock; read without it to spot stale heap entries.
    gen: AtomicU64,
    tx: Sender<Instant>,
}

impl TimerCore {
    pub(crate) fn gen(&self) -> u64 {
        self.gen.load(Ordering::Relaxed)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.st.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The heap entry of an armed `Timer` or `Ticker`: stale once the timer is gone or its
/// generation moved (stopped or reset).
struct TimerFire {
    core: Weak<TimerCore>,
    gen: u64,
}

impl Due for TimerFire {
    fn is_stale(&self) -> bool {
        self.core.upgrade().is_none_or(|c| c.gen() != self.gen)
    }

    fn fire(self: Box<Self>, when: Instant, now: Instant) -> Option<(Instant, Box<dyn Due>)> {
        let next = fire(&*self.core.upgrade()?, self.gen, when, now)?;
        Some((next, self))
    }
}

/// Step 2: fires the entry armed with `gen`, due at `when`. Returns the next tick's deadline
/// if the core is a ticker still armed with `gen`.
pub(crate) fn fire(core: &TimerCore, gen: u64, when: Instant, now: Instant) -> Option<Instant> {
    let mut st = core.lock();
    if core.gen() != gen || !st.armed {
        return None;
    }
    let _ = core.tx.try_send_quiet(now); // full: a slow ticker receiver misses this tick
    match st.period {
        Some(p) => Some(next_tick(when, p, now)),
        None => {
            st.armed = false;
            ARMED.fetch_sub(1, Ordering::Relaxed);
            None
        }
    }
}

/// The shared machinery of `Timer` and `Ticker`.
struct Handle {
    core: Arc<TimerCore>,
    rx: Receiver<Instant>,
}

impl Handle {
    fn new() -> Handle {
        let (tx, rx) = chan(1);
        let core = Arc::new(TimerCore {
            st: Mutex::new(State {
                armed: false,
                period: None,
            }),
            gen: AtomicU64::new(0),
            tx,
        });
        Handle { core, rx }
    }

    /// Step 3, under the lock already held.
    fn stop_locked(&self, st: &mut State) -> bool {
        self.core.gen.store(self.core.gen() + 1, Ordering::Relaxed);
        let was_armed = std::mem::replace(&mut st.armed, false);
        if was_armed {
            ARMED.fetch_sub(1, Ordering::Relaxed);
        }
        let unreceived = self.rx.try_recv_quiet().is_ok();
        was_armed || unreceived
    }

    fn stop(&self) -> bool {
        let mut st = self.core.lock();
        self.stop_locked(&mut st)
    }

    /// Step 4: stops, then arms for `d` from now (`period`: a ticker's).
    fn reset(&self, d: Duration, period: Option<Duration>) -> bool {
        let mut st = self.core.lock();
        let was = self.stop_locked(&mut st);
        st.period = period;
        if d.is_zero() && period.is_none() {
            // Fires at once, as Go's timer with a deadline in the past does.
            let _ = self.core.tx.try_send_quiet(Instant::now());
            return was;
        }
        st.armed = true;
        ARMED.fetch_add(1, Ordering::Relaxed);
        let fire = Fire::Call(Box::new(TimerFire {
            core: Arc::downgrade(&self.core),
            gen: self.core.gen(),
        }));
        arm(deadline_after(d), fire);
        was
    }
}

/// A single event: the time is sent on [`Timer::c`] once, at least the given duration after
/// the timer was made or last reset (Go's `time.Timer`, with Go 1.23's semantics: after
/// [`stop`](Timer::stop) or [`reset`](Timer::reset) returns, no stale value can be received).
/// Dropping the timer stops it.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// goro::run(|| {
///     let t = goro::time::Timer::new(Duration::from_millis(5));
///     let (_tx, work) = goro::chan::<()>(0);
///     goro::select! {
///         recv(work) -> _ => unreachable!("nobody sends"),
///         recv(t.c()) -> at => assert!(at.is_ok()),
///     }
/// })
/// .unwrap();
/// ```
#[doc(alias = "NewTimer")]
pub struct Timer {
    h: Handle,
}

impl Timer {
    /// A timer that fires once, `d` from now (at once for zero).
    pub fn new(d: Duration) -> Timer {
        let h = Handle::new();
        h.reset(d, None);
        Timer { h }
    }

    /// The channel the time is sent on. Receive from it, or use it in a `select!`.
    pub fn c(&self) -> &Receiver<Instant> {
        &self.h.rx
    }

    /// Stops the timer. True if that prevented it from being received: it was armed, or it
    /// had fired and its value was still waiting (which is taken away). False if it had
    /// already been received or stopped.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// goro::run(|| {
    ///     let t = goro::time::Timer::new(Duration::from_millis(1));
    ///     goro::time::sleep(Duration::from_millis(5));
    ///     assert!(t.stop(), "fired but not received: stop takes the value away");
    ///     assert!(t.c().try_recv().is_err());
    ///     assert!(!t.stop());
    /// })
    /// .unwrap();
    /// ```
    pub fn stop(&self) -> bool {
        self.h.stop()
    }

    /// Stops the timer and arms it again for `d` from now. Returns what [`stop`](Self::stop)
    /// would have; no value from before the reset can be received after it.
    pub fn reset(&self, d: Duration) -> bool {
        self.h.reset(d, None)
    }
}

impl Drop for Timer {
    fn drop(&mut self) {
        self.h.stop();
    }
}

impl fmt::Debug for Timer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Timer")
            .field("armed", &self.h.core.lock().armed)
            .finish_non_exhaustive()
    }
}

/// Ticker and `tick` periods must be positive (Go panics on a period of zero).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ZeroPeriod;

impl fmt::Display for ZeroPeriod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a ticker's period must be positive")
    }
}

impl std::error::Error for ZeroPeriod {}

/// Sends the time on [`Ticker::c`] every period. A receiver that falls behind misses ticks
/// rather than finding them queued (SEMANTICS T3); ticks missed while the worker was busy are
/// skipped, so ticks stay on the period's grid. Dropping the ticker stops it.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// goro::run(|| {
///     let start = std::time::Instant::now();
///     let t = goro::time::Ticker::new(Duration::from_millis(2)).unwrap();
///     for _ in 0..3 {
///         t.c().recv().unwrap();
///     }
///     assert!(start.elapsed() >= Duration::from_millis(6));
///     t.stop();
/// })
/// .unwrap();
/// ```
#[doc(alias = "NewTicker")]
pub struct Ticker {
    h: Handle,
}

impl Ticker {
    /// A ticker with period `d`; the first tick comes `d` from now.
    pub fn new(d: Duration) -> Result<Ticker, ZeroPeriod> {
        if d.is_zero() {
            return Err(ZeroPeriod);
        }
        let h = Handle::new();
        h.reset(d, Some(d));
        Ok(Ticker { h })
    }

    /// The channel ticks are sent on.
    pub fn c(&self) -> &Receiver<Instant> {
        &self.h.rx
    }

    /// Stops the ticker; no tick from before is received after this returns.
    pub fn stop(&self) {
        self.h.stop();
    }

    /// Stops the ticker and starts it again with period `d`; the next tick comes `d` from now.
    pub fn reset(&self, d: Duration) -> Result<(), ZeroPeriod> {
        if d.is_zero() {
            return Err(ZeroPeriod);
        }
        self.h.reset(d, Some(d));
        Ok(())
    }
}

impl Drop for Ticker {
    fn drop(&mut self) {
        self.h.stop();
    }
}

impl fmt::Debug for Ticker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let st = self.h.core.lock();
        f.debug_struct("Ticker")
            .field("armed", &st.armed)
            .field("period", &st.period)
            .finish_non_exhaustive()
    }
}
