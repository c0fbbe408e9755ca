//! Park and unpark: the one waiting primitive that channels, timers, mutexes and I/O build on.
//!
//! An [`Unparker`] is a `Send + Sync` handle to whoever called [`park`]: a goroutine or a plain
//! OS thread. Every synchronisation object stores unparkers in its wait queue, so it works from
//! both without knowing which it holds. Like `std::thread::park`, parking consumes a *token*:
//! an unpark that arrives before the park makes the park return at once, and `park` may return
//! spuriously, so callers always park in a loop that re-checks their condition.
//!
//! # The goroutine state word
//!
//! Each goroutine has one atomic state ([`ParkState`]):
//!
//! ```text
//!            unpark                     park (token present)
//!   RUNNING ---------> NOTIFIED   NOTIFIED ---------------> RUNNING
//!      |  park                         (park returns at once)
//!      v
//!   PARKED ----------> QUEUED ---------------------------> RUNNING
//!           unpark      (in its home worker's queue)  resumed by the home worker
//!
//!   DEAD: returned; every unpark is ignored.
//! ```
//!
//! # Protocol
//!
//! 1. The goroutine calls `park`. If the state is NOTIFIED it swaps it to RUNNING (Acquire)
//!    and returns: the token was consumed.
//! 2. Otherwise it CASes RUNNING -> PARKED (Release: the unparker that moves it out of PARKED
//!    sees everything the goroutine wrote) and suspends. The CAS happens *before* the switch;
//!    that is safe because only the goroutine's home worker can resume it, and that worker is
//!    busy running the goroutine until the switch completes.
//!    If the CAS fails, an unpark slipped in between steps 1 and 2: consume it as in step 1.
//! 3. An unparker CASes (AcqRel): RUNNING -> NOTIFIED (the goroutine will see the token),
//!    PARKED -> QUEUED (the unparker alone now owns the duty to enqueue it), and NOTIFIED or
//!    QUEUED to itself. That last CAS writes the same value but is still a read-modify-write
//!    in the state's modification order, so the worker's Acquire in step 5 synchronises with
//!    *every* unparker, not only the first: without it, a second unparker's writes could stay
//!    invisible to a goroutine that the first one had already queued, and a wake-up would be
//!    lost.
//! 4. The unparker that made PARKED -> QUEUED pushes the goroutine to its home worker: the
//!    `runnext` slot if the unparker runs on that worker, else the worker's inbox, waking the
//!    worker if it sleeps.
//! 5. The home worker, before resuming a goroutine taken from a queue, CASes QUEUED -> RUNNING
//!    (Acquire). A goroutine queued by `yield_now` is RUNNING or NOTIFIED already and keeps its
//!    token. Before a goroutine's first run a plain store of RUNNING does: unparkers are made
//!    only by a running goroutine (`Unparker::current`), so nobody else can touch the word yet.
//! 6. When the goroutine returns, the worker stores DEAD.
//!
//! `loom` checks steps 1-5 in `tests` below (`RUSTFLAGS="--cfg loom" cargo test -p goro --lib
//! loom`).

use std::sync::Arc;
use std::thread::Thread;

use crate::loom::{AtomicU8, Ordering};

use crate::sched::goroutine::GoroutineHeader;
use crate::sched::worker;

const RUNNING: u8 = 0;
const NOTIFIED: u8 = 1;
const PARKED: u8 = 2;
const QUEUED: u8 = 3;
const DEAD: u8 = 4;

/// The state word of one goroutine; see the module doc for the protocol.
#[derive(Debug)]
pub(crate) struct ParkState(AtomicU8);

impl ParkState {
    /// A new goroutine is QUEUED: it sits in a run queue until a worker starts it.
    pub(crate) fn new() -> Self {
        ParkState(AtomicU8::new(QUEUED))
    }

    /// Steps 1-2, on the goroutine: true if it must now suspend, false if a token was consumed.
    pub(crate) fn prepare_park(&self) -> bool {
        // Look before trying: a failed compare-exchange costs a locked instruction too.
        if self.0.load(Ordering::Relaxed) == NOTIFIED {
            self.0.swap(RUNNING, Ordering::Acquire);
            return false;
        }
        match self
            .0
            .compare_exchange(RUNNING, PARKED, Ordering::Release, Ordering::Relaxed)
        {
            Ok(_) => true,
            Err(_) => {
                // Only an unparker can have changed RUNNING, and only to NOTIFIED.
                self.0.swap(RUNNING, Ordering::Acquire);
                false
            }
        }
    }

    /// Step 3: true if the caller moved the goroutine out of PARKED and must enqueue it.
    pub(crate) fn unpark(&self) -> bool {
        let mut s = self.0.load(Ordering::Relaxed);
        loop {
            let next = match s {
                RUNNING => NOTIFIED,
                PARKED => QUEUED,
                NOTIFIED | QUEUED => s,
                _ => return false,
            };
            match self
                .0
                .compare_exchange_weak(s, next, Ordering::AcqRel, Ordering::Relaxed)
            {
                Ok(_) => return s == PARKED,
                Err(now) => s = now,
            }
        }
    }

    /// Step 5, on the home worker before resuming a queued goroutine.
    /// True while the goroutine is parked (a snapshot, for dumps).
    pub(crate) fn is_parked(&self) -> bool {
        self.0.load(Ordering::Relaxed) == PARKED
    }

    pub(crate) fn on_resume(&self) {
        let _ = self
            .0
            .compare_exchange(QUEUED, RUNNING, Ordering::Acquire, Ordering::Relaxed);
    }

    /// Step 5 for a goroutine's first run: no `Unparker` can exist before it starts (they are
    /// made only by the running goroutine), so nobody else touches the word and a plain store
    /// does, without the locked instruction.
    pub(crate) fn on_start(&self) {
        self.0.store(RUNNING, Ordering::Relaxed);
    }

    /// Step 6: the goroutine returned (or was unwound at shutdown).
    pub(crate) fn on_exit(&self) {
        self.0.store(DEAD, Ordering::Release);
    }
}

/// A handle that wakes one parked goroutine or OS thread. `Send + Sync + Clone`.
///
/// # Examples
///
/// ```
/// let v = goro::run(|| {
///     let me = goro::Unparker::current();
///     let flag = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
///     let f = flag.clone();
///     goro::go(move || {
///         f.store(true, std::sync::atomic::Ordering::Release);
///         me.unpark();
///     });
///     while !flag.load(std::sync::atomic::Ordering::Acquire) {
///         goro::park();
///     }
///     7
/// });
/// assert_eq!(v.unwrap(), 7);
/// ```
#[derive(Clone, Debug)]
#[doc(alias = "goready")]
pub struct Unparker(Target);

#[derive(Clone, Debug)]
enum Target {
    GoroutineHeader(Arc<GoroutineHeader>),
    Thread(Thread),
}

impl Unparker {
    /// An unparker for the caller: the running goroutine, or else the current OS thread.
    pub fn current() -> Unparker {
        match worker::current_goroutine_for_waking() {
            Some(g) => Unparker(Target::GoroutineHeader(g)),
            None => Unparker(Target::Thread(std::thread::current())),
        }
    }

    /// Wakes the parked goroutine or thread, or makes its next [`park`] return at once.
    pub fn unpark(&self) {
        match &self.0 {
            Target::GoroutineHeader(g) => {
                if g.park.unpark() {
                    worker::schedule_woken(g);
                }
            }
            Target::Thread(t) => t.unpark(),
        }
    }

    /// True if both wake the same goroutine or thread.
    pub fn same_as(&self, other: &Unparker) -> bool {
        match (&self.0, &other.0) {
            (Target::GoroutineHeader(a), Target::GoroutineHeader(b)) => Arc::ptr_eq(a, b),
            (Target::Thread(a), Target::Thread(b)) => a.id() == b.id(),
            _ => false,
        }
    }
}

/// A way to wake whoever calls it, that does not own its goroutine: the channel waiters'
/// protocol (`wait/waiter.rs`) keeps the goroutine alive until the wake-up is done, so this
/// skips the reference count an [`Unparker`] pays on every blocking operation.
#[derive(Debug)]
pub(crate) enum UnparkerRef {
    GoroutineHeader(std::ptr::NonNull<GoroutineHeader>),
    Thread(Thread),
    /// A future's task (`chan::future`): the waker in the cell, which lives in the pinned
    /// future beside the signal.
    Async(std::ptr::NonNull<AsyncWaker>),
}

/// Where a pending channel future keeps its task's latest waker: the poll replaces it, the
/// counterpart that completes the operation takes it (`waiter::Claimed::wake`).
#[derive(Debug, Default)]
pub(crate) struct AsyncWaker(std::sync::Mutex<Option<std::task::Waker>>);

impl AsyncWaker {
    pub(crate) fn set(&self, w: &std::task::Waker) {
        let mut cell = self.0.lock().unwrap_or_else(|e| e.into_inner());
        match &*cell {
            Some(old) if old.will_wake(w) => {}
            _ => *cell = Some(w.clone()),
        }
    }

    pub(crate) fn take(&self) -> Option<std::task::Waker> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).take()
    }
}

impl UnparkerRef {
    /// For the running goroutine (recording why it is about to wait, and on what, in the same
    /// look at the worker), or else the current OS thread.
    pub(crate) fn current_waiting(
        reason: super::reason::WaitReason,
        object: usize,
        holds: Option<std::ptr::NonNull<dyn super::reason::Holds>>,
    ) -> UnparkerRef {
        match worker::current_goroutine_ptr_for_wait(reason as u8, object, holds) {
            Some(g) => UnparkerRef::GoroutineHeader(g),
            None => UnparkerRef::Thread(std::thread::current()),
        }
    }

    /// Wakes the goroutine or thread (park protocol step 3).
    ///
    /// # Safety
    ///
    /// A goroutine target must still be alive: its owner's protocol guarantees it cannot
    /// return before this call has completed.
    pub(crate) unsafe fn wake(&self) {
        match self {
            UnparkerRef::GoroutineHeader(g) => {
                // SAFETY: alive by the caller's contract.
                let g = unsafe { g.as_ref() };
                if g.park.unpark() {
                    worker::schedule_woken(g);
                }
            }
            UnparkerRef::Thread(t) => t.unpark(),
            // A future's task is woken by `waiter::Claimed::wake` itself, which must publish
            // DONE between taking the waker and waking it.
            UnparkerRef::Async(_) => {
                unreachable!("goro: a channel future's waker is woken by its claimer")
            }
        }
    }
}

/// Blocks the calling goroutine (or OS thread) until an [`Unparker`] for it is used.
///
/// Consumes one pending unpark if there is one. May return spuriously: park in a loop that
/// checks the condition you wait for. On a goroutine this parks only the goroutine; its worker
/// runs others meanwhile.
#[doc(alias = "gopark")]
pub fn park() {
    super::reason::set(super::reason::WaitReason::Park);
    park_quiet();
}

/// [`park`] without recording a wait reason: for primitives that recorded their own.
#[inline(always)]
pub(crate) fn park_quiet() {
    if !worker::park_current() {
        std::thread::park();
    }
}

/// Like [`park`], but returns by `deadline` at the latest (spuriously, like `park`).
pub(crate) fn park_until(deadline: std::time::Instant) {
    if !worker::park_current_until(deadline) {
        let now = std::time::Instant::now();
        if deadline > now {
            std::thread::park_timeout(deadline - now);
        }
    }
}

#[cfg(all(test, loom))]
mod tests {
    use super::*;
    use crate::loom::AtomicBool;
    use loom::sync::Arc;

    /// `wakers` threads each set their flag and unpark; the goroutine checks the flags and
    /// parks. A parked goroutine is "suspended" until the wakers are done (they are joined);
    /// then one of them must have queued it: if none did, a wake-up was lost. Flags are
    /// Relaxed, so the goroutine sees them only through the state word's edges.
    fn check(wakers: usize) {
        let mut b = loom::model::Builder::new();
        b.preemption_bound = Some(3);
        b.check(move || {
            let st = Arc::new(ParkState::new());
            st.on_resume(); // started and running
            let flags: Arc<Vec<AtomicBool>> =
                Arc::new((0..wakers).map(|_| AtomicBool::new(false)).collect());
            let queued = Arc::new(AtomicBool::new(false));
            let mut hs: Vec<_> = (0..wakers)
                .map(|i| {
                    let (s2, f2, q2) = (st.clone(), flags.clone(), queued.clone());
                    loom::thread::spawn(move || {
                        f2[i].store(true, Ordering::Relaxed);
                        if s2.unpark() {
                            q2.store(true, Ordering::Relaxed);
                        }
                    })
                })
                .collect();
            loop {
                if flags.iter().all(|f| f.load(Ordering::Relaxed)) {
                    break;
                }
                if st.prepare_park() {
                    for h in hs.drain(..) {
                        h.join().unwrap();
                    }
                    assert!(
                        queued.load(Ordering::Relaxed),
                        "parked goroutine was never queued"
                    );
                    queued.store(false, Ordering::Relaxed);
                    st.on_resume();
                }
            }
            for h in hs {
                h.join().unwrap();
            }
        });
    }

    #[test]
    fn loom_no_lost_wakeup() {
        check(1);
    }

    #[test]
    fn loom_two_wakers() {
        check(2);
    }
}
