//! Waiter records and wait queues: Go's `sudog` and `waitq`.
//!
//! A goroutine (or OS thread) that must block on a channel writes a [`Waiter`] on its own
//! stack, links it into the channel's receive or send queue, and parks. A counterpart that
//! finds it there moves the value straight between the two stacks, then wakes it. No heap
//! allocation happens per blocking operation.
//!
//! ```text
//!  blocked goroutine's stack                 channel (under its lock)
//!  +----------------------------+            recvq: head -> [Waiter] -> [Waiter] -> nil
//!  | slot: Option<T>  <----------------------------- slot   |
//!  | Signal {state, case, ...} <------------------- signal  |
//!  | Waiter {prev, next, ...}   |            sendq: head -> nil
//!  +----------------------------+
//! ```
//!
//! One [`Signal`] belongs to one blocking operation. A plain `send`/`recv` links one waiter to
//! it; a `select` links one waiter per case, in different channels, all pointing at the same
//! signal, and the first counterpart to claim the signal wins the whole select.
//!
//! # Protocol of a signal
//!
//! `state` moves WAITING -> CLAIMED -> DONE, once:
//!
//! 1. The owner creates the signal (WAITING) with a [`UnparkerRef`] to itself, links its waiters
//!    while holding the channels' locks, releases them, and waits: it parks while the state
//!    is WAITING, spins while it is CLAIMED, and returns once it reads DONE (Acquire).
//! 2. A counterpart holding a channel's lock pops a waiter and CASes the signal WAITING ->
//!    CLAIMED (Acquire: it sees what the owner wrote before linking). If the CAS fails the
//!    record is stale (another case of the same select won, or the owner gave up): the
//!    counterpart drops it from the queue and looks at the next one.
//! 3. The winner moves the value through the waiter's `slot` and records which case completed
//!    and whether it completed because the channel closed. It unlocks, then, holding a
//!    [`Claimed`], wakes the owner and only then stores DONE (Release: publishes the slot and the
//!    fields). The owner cannot return while the state is CLAIMED, so its stack frame (the
//!    signal) and its goroutine stay alive until DONE: waking needs no reference count. An
//!    owner woken before DONE finds CLAIMED and spins for the few instructions left.
//! 4. An owner that stops waiting (a timeout, or its stack unwinding at shutdown) CASes
//!    WAITING -> CLAIMED itself. If that succeeds nobody else will touch the records once they
//!    are unlinked, so it locks the channels and unlinks them. If it fails a counterpart is in
//!    step 3; the owner waits for DONE and takes the result as if it had not given up.
//! 5. A select's other waiters stay linked until their owner unlinks them (under each lock)
//!    after DONE; until then counterparts skip them by step 2.
//!
//! Queue links (`prev`, `next`, `linked`) are touched only under the lock of the channel whose
//! queue holds the waiter.
//!
//! `loom` checks steps 1-4 in `tests` below (`RUSTFLAGS="--cfg loom" cargo test -p goro --lib
//! loom`): exactly one party completes a signal, and the owner sees the value once it sees
//! DONE.

use std::cell::Cell;
use std::ptr;

use crate::loom::{AtomicU8, Ordering};

use crate::wait::park::{park_quiet, park_until, UnparkerRef};

const WAITING: u8 = 0;
const CLAIMED: u8 = 1;
const DONE: u8 = 2;

/// One blocking operation's completion flag; see the module doc.
pub(crate) struct Signal {
    state: AtomicU8,
    /// The case that completed; written by the claimer before DONE.
    case: Cell<usize>,
    /// True if the case completed because its channel closed; written by the claimer.
    closed: Cell<bool>,
    /// Who to wake (step 3).
    waker: UnparkerRef,
}

// SAFETY: `state` is atomic. `case` and `closed` are written only by the single thread that
// won the WAITING -> CLAIMED CAS, before its Release store of DONE, and read by the owner only
// after its Acquire load of DONE. `waker` is only read.
unsafe impl Sync for Signal {}

/// A claimed signal whose owner is still to be woken: step 3 after the unlock. Holding one
/// keeps the owner waiting, so the pointer stays valid until [`Claimed::wake`] consumes it.
#[derive(Debug)]
pub(crate) struct Claimed(*const Signal);

// SAFETY: the signal is `Sync`, and the owner keeps it alive until `wake` (protocol step 3).
unsafe impl Send for Claimed {}

impl Claimed {
    /// Step 3, second half: wakes the owner, then publishes DONE.
    pub(crate) fn wake(self) {
        // SAFETY: the owner waits for DONE before its frame (holding the signal) can end, and
        // only this `Claimed` stores DONE.
        let s = unsafe { &*self.0 };
        if let UnparkerRef::Async(cell) = &s.waker {
            // A future's task: take its waker while the signal is alive, publish DONE (after
            // which the future may be dropped, signal and all), then wake the task.
            // SAFETY: the cell lives in the future beside the signal, alive until DONE.
            let w = unsafe { cell.as_ref() }.take();
            s.state.store(DONE, Ordering::Release);
            if let Some(w) = w {
                // The waker is the executor's code, and this may run where nothing may
                // unwind (a channel closed by a timer on a worker's own stack).
                let woken = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| w.wake()));
                if let Err(p) = woken {
                    crate::stack::switch::drop_payload(p);
                }
            }
            return;
        }
        // SAFETY: the goroutine cannot return while the state is CLAIMED.
        unsafe { s.waker.wake() };
        // Release: pairs with the owner's Acquire in `is_done`; publishes the slot and fields.
        s.state.store(DONE, Ordering::Release);
    }
}

impl Signal {
    /// A signal not tied to a recorded wait (the model-checking tests).
    #[cfg(loom)]
    pub(crate) fn new() -> Self {
        Self::new_waiting(crate::wait::reason::WaitReason::Park, 0)
    }

    /// A signal for a blocking operation of the calling goroutine that waits for `reason` on
    /// `object` (recorded for dumps in the same step).
    pub(crate) fn new_waiting(reason: crate::wait::reason::WaitReason, object: usize) -> Self {
        Self::new_waiting_on(reason, object, None)
    }

    /// [`new_waiting`](Self::new_waiting) for an operation that waits for ever, registering
    /// what it waits on for the leak check in the same step (`wait::set_holds`).
    pub(crate) fn new_waiting_on(
        reason: crate::wait::reason::WaitReason,
        object: usize,
        holds: Option<&dyn crate::wait::reason::Holds>,
    ) -> Self {
        Signal {
            state: AtomicU8::new(WAITING),
            case: Cell::new(usize::MAX),
            closed: Cell::new(false),
            waker: UnparkerRef::current_waiting(
                reason,
                object,
                holds.map(crate::wait::reason::erase),
            ),
        }
    }

    /// A signal for a channel future (`chan::future`): the counterpart wakes the waker kept
    /// in `cell`, which must live as long as the signal.
    pub(crate) fn new_async(cell: &crate::wait::park::AsyncWaker) -> Self {
        Signal {
            state: AtomicU8::new(WAITING),
            case: Cell::new(usize::MAX),
            closed: Cell::new(false),
            waker: UnparkerRef::Async(std::ptr::NonNull::from(cell)),
        }
    }

    /// True once a counterpart has claimed the signal (or the owner withdrew): no waiting.
    pub(crate) fn is_claimed(&self) -> bool {
        self.state.load(Ordering::Acquire) != WAITING
    }

    /// Step 2: true if the caller now owns the completion.
    pub(crate) fn try_claim(&self) -> bool {
        // Acquire pairs with the channel unlock after the owner linked its records; AcqRel so
        // that the owner's own CAS in step 4 orders after ours.
        self.state
            .compare_exchange(WAITING, CLAIMED, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
    }

    /// Step 3, first half, by the claimer under the channel lock: records the outcome. The
    /// returned [`Claimed`] must be used, after unlocking.
    pub(crate) fn complete(&self, case: usize, closed: bool) -> Claimed {
        self.case.set(case);
        self.closed.set(closed);
        Claimed(self)
    }

    /// True while nobody has claimed the signal (a snapshot).
    pub(crate) fn is_waiting(&self) -> bool {
        self.state.load(Ordering::Acquire) == WAITING
    }

    pub(crate) fn is_done(&self) -> bool {
        self.state.load(Ordering::Acquire) == DONE
    }

    /// Step 4: true if the owner withdrew before anyone claimed the signal.
    pub(crate) fn abort(&self) -> bool {
        self.try_claim()
    }

    /// Waits for DONE: parks while nobody has claimed the signal, spins while the claimer
    /// finishes.
    #[inline(always)]
    pub(crate) fn wait(&self) {
        loop {
            match self.state.load(Ordering::Acquire) {
                DONE => return,
                CLAIMED => self.wait_spinning(),
                _ => park_quiet(),
            }
        }
    }

    /// Waits for DONE, or until `deadline` (none: for ever). At the deadline it calls
    /// `withdraw`, which must try step 4 (claim the signal for the owner, then unlink the
    /// records) and say whether it won. True if a counterpart completed the signal, false if
    /// the owner withdrew.
    ///
    /// A claimed signal, not only a done one, ends the parking: the claimer wakes the owner
    /// before it publishes DONE (step 3), so an owner that woke in between and parked again
    /// would sleep until its deadline. It spins for DONE instead.
    pub(crate) fn wait_until(
        &self,
        deadline: Option<std::time::Instant>,
        withdraw: impl FnOnce() -> bool,
    ) -> bool {
        let Some(d) = deadline else {
            let mut withdraw = Some(withdraw);
            loop {
                match self.state.load(Ordering::Acquire) {
                    DONE => return true,
                    CLAIMED => self.wait_spinning(),
                    _ => {
                        park_quiet();
                        // Still waiting after a wake-up: spurious, or shutdown's teardown
                        // resumed a goroutine whose destructor waits while it unwinds. That
                        // wait can never be answered (nothing else runs on its worker) and
                        // no unwind may be thrown into it: it gives up, as on a closed
                        // channel, so the destructor can finish (a send hands its value back).
                        if self.state.load(Ordering::Relaxed) == WAITING
                            && crate::sched::worker::waits_give_up()
                        {
                            if let Some(w) = withdraw.take() {
                                if w() {
                                    return false;
                                }
                            }
                        }
                    }
                }
            }
        };
        loop {
            if !self.is_waiting() {
                self.wait();
                return true;
            }
            if std::time::Instant::now() >= d {
                if withdraw() {
                    return false;
                }
                // Claimed while we gave up: the counterpart finishes it.
                self.wait();
                return true;
            }
            park_until(d);
        }
    }

    /// Waits for DONE without parking: used while unwinding (a withdrawal that lost the race),
    /// and while a claimer finishes step 3.
    pub(crate) fn wait_spinning(&self) {
        let mut n = 0u32;
        while !self.is_done() {
            n += 1;
            if n < 64 {
                std::hint::spin_loop();
            } else {
                std::thread::yield_now();
            }
        }
    }

    /// After DONE: the case that completed.
    pub(crate) fn case(&self) -> usize {
        self.case.get()
    }

    /// After DONE: true if it completed because its channel closed.
    pub(crate) fn closed(&self) -> bool {
        self.closed.get()
    }
}

/// One blocked operation on one channel: Go's `sudog`. Lives on the owner's stack.
pub(crate) struct Waiter {
    prev: Cell<*const Waiter>,
    next: Cell<*const Waiter>,
    linked: Cell<bool>,
    signal: *const Signal,
    case: usize,
    /// Points at the owner's `Option<T>` for the channel's `T`: `Some(v)` to send, or `None`
    /// for a receiver to be filled.
    slot: *mut (),
}

impl Waiter {
    pub(crate) fn new(signal: &Signal, case: usize, slot: *mut ()) -> Self {
        Waiter {
            prev: Cell::new(ptr::null()),
            next: Cell::new(ptr::null()),
            linked: Cell::new(false),
            signal,
            case,
            slot,
        }
    }

    pub(crate) fn signal(&self) -> &Signal {
        // SAFETY: the signal lives in the owner's frame beside the waiter and outlives it.
        unsafe { &*self.signal }
    }

    pub(crate) fn case(&self) -> usize {
        self.case
    }

    pub(crate) fn slot(&self) -> *mut () {
        self.slot
    }
}

/// A FIFO of waiters: an intrusive doubly-linked list threaded through the records.
///
/// Packed to 20 bytes so that both queues of a channel fit in its first cache line with the
/// lock and the flags (see `Chan`); the fields are only ever copied, never borrowed, and an
/// unaligned load costs nothing on the targets goro supports.
#[repr(C, packed(4))]
pub(crate) struct WaitQueue {
    head: *const Waiter,
    tail: *const Waiter,
    /// Linked records; saturates at `u32::MAX` (only a mirror for the fast paths reads it).
    len: u32,
}

impl Default for WaitQueue {
    fn default() -> Self {
        WaitQueue {
            head: ptr::null(),
            tail: ptr::null(),
            len: 0,
        }
    }
}

impl WaitQueue {
    /// Number of linked records, stale ones included (at most `u32::MAX`).
    pub(crate) fn len(&self) -> u32 {
        self.len
    }

    /// Links `w` at the tail.
    ///
    /// # Safety
    ///
    /// `w` must stay at its address, and the channel lock be held, until it is unlinked.
    pub(crate) unsafe fn push_back(&mut self, w: &Waiter) {
        debug_assert!(!w.linked.get());
        w.prev.set(self.tail);
        w.next.set(ptr::null());
        if self.tail.is_null() {
            self.head = w;
        } else {
            // SAFETY: a linked record is alive (caller contract of `push_back`).
            unsafe { (*self.tail).next.set(w) };
        }
        self.tail = w;
        w.linked.set(true);
        self.len = self.len.saturating_add(1);
    }

    /// Links `w` at the head (a waiter that was woken and lost the race goes back first).
    ///
    /// # Safety
    ///
    /// As for [`push_back`](Self::push_back).
    pub(crate) unsafe fn push_front(&mut self, w: &Waiter) {
        debug_assert!(!w.linked.get());
        w.next.set(self.head);
        w.prev.set(ptr::null());
        if self.head.is_null() {
            self.tail = w;
        } else {
            // SAFETY: a linked record is alive (caller contract).
            unsafe { (*self.head).prev.set(w) };
        }
        self.head = w;
        w.linked.set(true);
        self.len = self.len.saturating_add(1);
    }

    /// The first record whose owner still waits; stale ones are dropped on the way. Its signal
    /// may still be withdrawn before the caller claims it.
    pub(crate) fn front_waiting(&mut self) -> Option<&Waiter> {
        while !self.head.is_null() {
            // SAFETY: linked records are alive until unlinked, and we hold the lock.
            let w = unsafe { &*self.head };
            if w.signal().is_waiting() {
                return Some(w);
            }
            self.remove(w);
        }
        None
    }

    /// Unlinks `w` if it is still linked (in this queue).
    pub(crate) fn remove(&mut self, w: &Waiter) {
        if !w.linked.get() {
            return;
        }
        let (p, n) = (w.prev.get(), w.next.get());
        if p.is_null() {
            self.head = n;
        } else {
            // SAFETY: linked records are alive.
            unsafe { (*p).next.set(n) };
        }
        if n.is_null() {
            self.tail = p;
        } else {
            // SAFETY: linked records are alive.
            unsafe { (*n).prev.set(p) };
        }
        w.linked.set(false);
        self.len = self.len.saturating_sub(1);
    }

    /// Pops records until one whose signal this caller claims (step 2); stale ones are dropped
    /// from the queue on the way.
    pub(crate) fn pop_claimed(&mut self) -> Option<&Waiter> {
        while !self.head.is_null() {
            // SAFETY: linked records are alive until unlinked, and we hold the lock.
            let w = unsafe { &*self.head };
            self.remove(w);
            if w.signal().try_claim() {
                return Some(w);
            }
        }
        None
    }

    /// Pops every record, claiming those still WAITING (used by `close`).
    pub(crate) fn drain_claimed(&mut self, mut each: impl FnMut(&Waiter)) {
        while let Some(w) = self.pop_claimed() {
            each(w);
        }
    }
}

#[cfg(all(test, loom))]
mod tests {
    use super::*;
    use crate::loom::UnsafeCell;
    use loom::sync::Arc;

    /// The owner's side of a blocked operation: wait for DONE (or withdraw first if
    /// `withdraw`), then read the slot if a counterpart completed it.
    fn owner(sig: &Signal, slot: &UnsafeCell<u32>, withdraw: bool) -> Option<u32> {
        if withdraw && sig.abort() {
            return None;
        }
        while !sig.is_done() {
            loom::thread::yield_now();
        }
        // The claimer's write must happen before this read (DONE is Release/Acquire): loom
        // reports a data race otherwise.
        // SAFETY: loom checks exactly this access.
        Some(slot.with(|p| unsafe { *p }))
    }

    /// A counterpart: claim, fill the slot, wake and publish DONE.
    fn claimer(sig: &Signal, slot: &UnsafeCell<u32>, v: u32) -> bool {
        if !sig.try_claim() {
            return false;
        }
        // SAFETY: only the claimer writes, and loom checks it against the owner's read.
        slot.with_mut(|p| unsafe { *p = v });
        sig.complete(0, false).wake();
        true
    }

    fn model(claimers: u32, withdraw: bool) {
        let mut b = loom::model::Builder::new();
        b.preemption_bound = Some(3);
        b.check(move || {
            let shared = Arc::new((Signal::new(), UnsafeCell::new(0u32)));
            let hs: Vec<_> = (1..=claimers)
                .map(|v| {
                    let s = shared.clone();
                    loom::thread::spawn(move || claimer(&s.0, &s.1, v))
                })
                .collect();
            let got = owner(&shared.0, &shared.1, withdraw);
            let won: Vec<u32> = hs
                .into_iter()
                .zip(1..)
                .filter_map(|(h, v)| h.join().unwrap().then_some(v))
                .collect();
            match got {
                // Withdrew: nobody completed it.
                None => assert!(won.is_empty()),
                // Exactly one counterpart completed it, and its value is what the owner read.
                Some(v) => assert_eq!(won, [v]),
            }
        });
    }

    #[test]
    fn loom_signal_one_claimer() {
        model(1, false);
    }

    #[test]
    fn loom_signal_two_claimers_one_wins() {
        model(2, false);
    }

    #[test]
    fn loom_signal_withdraw_races_a_claimer() {
        model(1, true);
    }
}
