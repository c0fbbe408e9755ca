//! The channel itself: buffer, wait queues and the operations on them (Go's `hchan`).
//!
//! See the folder's module doc (`chan/mod.rs`) for the invariants and the protocol; this file
//! is their implementation. Every `*_locked` function runs with `lock` held and returns the
//! unparkers to use after unlocking, so nobody is ever woken while the lock is held and no
//! user code (a value's `Drop`) runs under it.

use std::cell::UnsafeCell;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicUsize, Ordering};
use std::time::Instant;

use super::error::{
    CapacityError, CloseError, RecvTimeoutError, SendTimeoutError, TryRecvError, TrySendError,
};
use crate::sched::trace::{self, ChanOp};
use crate::wait::lock::RawLock;
use crate::wait::waiter::{Claimed, Signal, WaitQueue, Waiter};

/// Which wait queue of a channel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Queue {
    Recv,
    Send,
}

/// Everything behind the lock. `repr(C)` for the layout of [`Chan`]: the queues and the flags
/// first, in the channel's first cache line; the buffer after them, in the second.
#[repr(C)]
pub(crate) struct State<T> {
    recvq: WaitQueue,
    sendq: WaitQueue,
    /// Closed for both sides: by `close`, by the last `Sender`, or by the last `Receiver`.
    closed: bool,
    /// `close` was called (a second call is an error, C9).
    close_called: bool,
    buf: VecDeque<T>,
}

impl<T> State<T> {
    pub(crate) fn queue(&mut self, q: Queue) -> &mut WaitQueue {
        match q {
            Queue::Recv => &mut self.recvq,
            Queue::Send => &mut self.sendq,
        }
    }
}

/// A channel. Shared by its `Sender`s and `Receiver`s through an `Arc`.
///
/// # Layout
///
/// A send or receive on an unbuffered channel touches only the first cache line (64 bytes):
/// the lock, the mirrors, the wait queues and the flags. On a ring of goroutines each hop
/// reaches a channel that was last used a lap ago, out of the L1 cache: with the fields in
/// Rust's order a hop missed three lines of the channel, now one. A buffered channel's
/// buffer and count are in the second line; the handle counts, used only when a handle is
/// made or dropped, after them. `align(64)` puts the `Arc`'s reference counts in a line of
/// their own, before the channel (256 bytes in all instead of 176).
#[repr(C, align(64))]
pub(crate) struct Chan<T> {
    lock: RawLock,
    // Mirrors of the locked state, written (Release) just before each unlock and read
    // (Acquire) without the lock by the fast paths of `try_send`, `try_recv`, `len`. The queue
    // lengths saturate at `u32::MAX`; only "none" matters to the fast paths.
    recv_waiting: AtomicU32,
    send_waiting: AtomicU32,
    closed: AtomicBool,
    /// `cap == 0`, kept in the first line: an unbuffered channel never reads the second.
    unbuffered: bool,
    state: UnsafeCell<State<T>>,
    /// Mirror of the buffer's length (buffered channels only; always 0 for unbuffered ones).
    count: AtomicUsize,
    cap: usize,
    /// Live `Sender` and `Receiver` handles; the last of either closes the channel.
    pub(crate) senders: AtomicUsize,
    pub(crate) receivers: AtomicUsize,
    /// The word every `Sender` holds (the address its `Arc` points at), set once when the
    /// channel is made: what the leak check looks for on stacks (`debug::leaks`). A
    /// `Receiver` holds [`Chan::receiver_word`].
    pub(crate) handle_word: AtomicUsize,
    /// Senders held by timers (`WeakSender`s, counted in `senders` too): they will send, so
    /// a receiver is never leaked while one exists.
    pub(crate) weak_senders: AtomicUsize,
}

// The layout described above: everything an unbuffered operation touches in the first 64
// bytes, the buffer from the second line on.
const _: () = {
    use std::mem::{offset_of, size_of};
    assert!(offset_of!(Chan<u64>, state) + offset_of!(State<u64>, close_called) < 64);
    assert!(offset_of!(Chan<u64>, state) + offset_of!(State<u64>, buf) >= 64);
    assert!(size_of::<WaitQueue>() == 20);
};

// SAFETY: `state` is only accessed with `lock` held (or through `&mut self`), and values of `T`
// cross threads only by moving, so `T: Send` is all that is needed, for `Sync` as for `Send`.
unsafe impl<T: Send> Send for Chan<T> {}
// SAFETY: as above.
unsafe impl<T: Send> Sync for Chan<T> {}

/// What a blocked operation ended with.
pub(crate) enum Outcome {
    /// A counterpart completed it; `closed` if it completed because the channel closed.
    Done {
        closed: bool,
    },
    TimedOut,
}

impl<T> Chan<T> {
    pub(crate) fn new(cap: usize) -> Result<Self, CapacityError> {
        let mut buf = VecDeque::new();
        buf.try_reserve_exact(cap)
            .map_err(|_| CapacityError { cap })?;
        Ok(Chan {
            lock: RawLock::new(),
            recv_waiting: AtomicU32::new(0),
            send_waiting: AtomicU32::new(0),
            closed: AtomicBool::new(false),
            unbuffered: cap == 0,
            state: UnsafeCell::new(State {
                recvq: WaitQueue::default(),
                sendq: WaitQueue::default(),
                closed: false,
                close_called: false,
                buf,
            }),
            count: AtomicUsize::new(0),
            cap,
            senders: AtomicUsize::new(1),
            receivers: AtomicUsize::new(1),
            handle_word: AtomicUsize::new(0),
            weak_senders: AtomicUsize::new(0),
        })
    }

    pub(crate) fn cap(&self) -> usize {
        self.cap
    }

    pub(crate) fn len(&self) -> usize {
        self.count.load(Ordering::Acquire)
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }

    /// Why a send on this closed channel failed: with a sender alive, the channel closed by
    /// `close` or with its last receiver.
    pub(crate) fn send_failure(&self) -> super::SendFailure {
        if self.receivers.load(Ordering::Acquire) == 0 {
            super::SendFailure::ReceiversGone
        } else {
            super::SendFailure::Closed
        }
    }

    /// Records linked in the receive and send queues (stale ones included).
    pub(crate) fn waiting(&self) -> (usize, usize) {
        (
            self.recv_waiting.load(Ordering::Acquire) as usize,
            self.send_waiting.load(Ordering::Acquire) as usize,
        )
    }

    /// The channel's identity for lock ordering and dumps.
    pub(crate) fn addr(&self) -> usize {
        self as *const Self as usize
    }

    pub(crate) fn lock(&self) {
        self.lock.lock();
    }

    /// The word every `Receiver` of this channel holds (see `RecvArc`).
    fn receiver_word(&self) -> usize {
        self.addr() | 1
    }

    /// What a goroutine blocked on this channel tells the leak check: the word held by the
    /// handles that could complete its wait (the senders for a receive, the receivers for a
    /// send: dropping the last of them completes it too) and how many of those there are.
    pub(crate) fn holding(&self, q: Queue) -> crate::wait::reason::Holding {
        match q {
            Queue::Recv => crate::wait::reason::Holding {
                word: self.handle_word.load(Ordering::Relaxed),
                handles: if self.weak_senders.load(Ordering::Relaxed) > 0 {
                    usize::MAX
                } else {
                    self.senders.load(Ordering::Relaxed)
                },
            },
            Queue::Send => crate::wait::reason::Holding {
                word: self.receiver_word(),
                handles: self.receivers.load(Ordering::Relaxed),
            },
        }
    }

    /// Publishes the mirrors, then unlocks.
    pub(crate) fn unlock(&self) {
        // SAFETY: the caller holds the lock.
        let st = unsafe { &*self.state.get() };
        if !self.unbuffered {
            self.count.store(st.buf.len(), Ordering::Release);
        }
        self.recv_waiting.store(st.recvq.len(), Ordering::Release);
        self.send_waiting.store(st.sendq.len(), Ordering::Release);
        self.closed.store(st.closed, Ordering::Release);
        self.lock.unlock();
    }

    /// The locked state.
    ///
    /// # Safety
    ///
    /// The caller holds the lock, and uses the reference only until it unlocks.
    #[allow(clippy::mut_from_ref)]
    pub(crate) unsafe fn state(&self) -> &mut State<T> {
        // SAFETY: exclusive by the caller's contract.
        unsafe { &mut *self.state.get() }
    }

    /// A receive would not block right now, judging by the mirrors (no lock).
    pub(crate) fn looks_recv_ready(&self) -> bool {
        !self.looks_empty() || self.is_closed()
    }

    /// A send would not block right now, judging by the mirrors (no lock).
    pub(crate) fn looks_send_ready(&self) -> bool {
        !self.looks_full() || self.is_closed()
    }

    /// "Obviously cannot send now" without the lock (Go's `full`).
    fn looks_full(&self) -> bool {
        if self.unbuffered {
            self.recv_waiting.load(Ordering::Acquire) == 0
        } else {
            self.count.load(Ordering::Acquire) == self.cap
        }
    }

    /// "Obviously nothing to receive now" without the lock (Go's `empty`).
    fn looks_empty(&self) -> bool {
        if self.unbuffered {
            self.send_waiting.load(Ordering::Acquire) == 0
        } else {
            self.count.load(Ordering::Acquire) == 0
        }
    }

    /// A send that does not block, under the lock: hands `v` to a waiting receiver (bypassing
    /// the buffer, C22), else buffers it, else gives it back.
    ///
    /// Always inlined, like [`try_recv_locked`](Self::try_recv_locked): called from several
    /// places (send, `try_send`, select), it was otherwise kept out of line in a program with
    /// many channels of one type, a call and a frame more on every operation.
    #[inline(always)]
    pub(crate) fn try_send_locked(
        &self,
        st: &mut State<T>,
        v: T,
    ) -> Result<Option<Claimed>, TrySendError<T>> {
        if st.closed {
            return Err(TrySendError::Closed(v));
        }
        if let Some(w) = st.recvq.pop_claimed() {
            // SAFETY: a receiving waiter's slot is its owner's `Option<T>` (`None`), alive
            // until the owner sees DONE, which `complete` publishes after this write.
            unsafe { *(w.slot() as *mut Option<T>) = Some(v) };
            return Ok(Some(w.signal().complete(w.case(), false)));
        }
        if !self.unbuffered && st.buf.len() < self.cap {
            st.buf.push_back(v);
            return Ok(None);
        }
        Err(TrySendError::Full(v))
    }

    /// A receive that does not block, under the lock: the buffer's head first (refilled from
    /// the first blocked sender, keeping FIFO), else a blocked sender's value directly, else
    /// "closed" once drained.
    #[inline(always)]
    pub(crate) fn try_recv_locked(
        &self,
        st: &mut State<T>,
    ) -> Result<(T, Option<Claimed>), TryRecvError> {
        let head = if self.unbuffered {
            None
        } else {
            st.buf.pop_front()
        };
        if let Some(v) = head {
            let mut wake = None;
            if let Some(w) = st.sendq.pop_claimed() {
                // SAFETY: a sending waiter's slot is its owner's `Option<T>` holding the value.
                let sent = unsafe { (*(w.slot() as *mut Option<T>)).take() };
                st.buf.extend(sent);
                wake = Some(w.signal().complete(w.case(), false));
            }
            return Ok((v, wake));
        }
        if let Some(w) = st.sendq.pop_claimed() {
            // SAFETY: as above.
            let sent = unsafe { (*(w.slot() as *mut Option<T>)).take() };
            let wake = Some(w.signal().complete(w.case(), false));
            match sent {
                Some(v) => return Ok((v, wake)),
                None => unreachable!("goro: a blocked sender's slot was empty"),
            }
        }
        if st.closed {
            Err(TryRecvError::Closed)
        } else {
            Err(TryRecvError::Empty)
        }
    }

    pub(crate) fn try_send(&self, v: T) -> Result<(), TrySendError<T>> {
        // Fast path (Go's chansend with block == false). Read `closed` first: if it was still
        // open after we saw "full", it was open at that instant too, so Full is linearizable.
        if !self.closed.load(Ordering::Acquire) && self.looks_full() {
            return Err(TrySendError::Full(v));
        }
        self.lock();
        // SAFETY: locked until the `unlock` below.
        let r = self.try_send_locked(unsafe { self.state() }, v);
        self.unlock();
        r.map(|wake| {
            trace::chan(ChanOp::Send, self.addr());
            wake_one(wake);
        })
    }

    pub(crate) fn try_recv(&self) -> Result<T, TryRecvError> {
        // Fast path (Go's chanrecv with block == false).
        if self.looks_empty() {
            if !self.closed.load(Ordering::Acquire) {
                // Empty, then still open: it was empty and open when we looked.
                return Err(TryRecvError::Empty);
            }
            // Closed now. It may have been filled and closed since we looked: look again, or a
            // value sent before the close would be reported as "closed" (C23).
            if self.looks_empty() {
                return Err(TryRecvError::Closed);
            }
        }
        self.lock();
        // SAFETY: locked until the `unlock` below.
        let r = self.try_recv_locked(unsafe { self.state() });
        self.unlock();
        r.map(|(v, wake)| {
            trace::chan(ChanOp::Recv, self.addr());
            wake_one(wake);
            v
        })
    }

    #[inline(always)]
    pub(crate) fn send(&self, v: T, deadline: Option<Instant>) -> Result<(), SendTimeoutError<T>> {
        self.lock();
        // SAFETY: locked; every path below unlocks (directly or in `block`).
        let st = unsafe { self.state() };
        let v = match self.try_send_locked(st, v) {
            Ok(wake) => {
                self.unlock();
                trace::chan(ChanOp::Send, self.addr());
                wake_one(wake);
                return Ok(());
            }
            Err(TrySendError::Closed(v)) => {
                self.unlock();
                return Err(SendTimeoutError::Closed(v));
            }
            Err(TrySendError::Full(v)) => v,
        };
        if deadline.is_some_and(|d| d <= Instant::now()) {
            self.unlock();
            return Err(SendTimeoutError::Timeout(v));
        }
        let mut slot = Some(v);
        // SAFETY: locked; `slot` outlives the call and is not touched until it returns.
        match unsafe {
            self.block(
                Queue::Send,
                &mut slot as *mut Option<T> as *mut (),
                deadline,
            )
        } {
            Outcome::Done { closed: false } => {
                trace::chan(ChanOp::Send, self.addr());
                Ok(())
            }
            Outcome::Done { closed: true } => Err(SendTimeoutError::Closed(taken(slot))),
            Outcome::TimedOut => Err(SendTimeoutError::Timeout(taken(slot))),
        }
    }

    #[inline(always)]
    pub(crate) fn recv(&self, deadline: Option<Instant>) -> Result<T, RecvTimeoutError> {
        self.lock();
        // SAFETY: locked; every path below unlocks.
        let st = unsafe { self.state() };
        match self.try_recv_locked(st) {
            Ok((v, wake)) => {
                self.unlock();
                trace::chan(ChanOp::Recv, self.addr());
                wake_one(wake);
                return Ok(v);
            }
            Err(TryRecvError::Closed) => {
                self.unlock();
                trace::chan(ChanOp::RecvClosed, self.addr());
                return Err(RecvTimeoutError::Closed);
            }
            Err(TryRecvError::Empty) => {}
        }
        if deadline.is_some_and(|d| d <= Instant::now()) {
            self.unlock();
            return Err(RecvTimeoutError::Timeout);
        }
        let mut slot: Option<T> = None;
        // SAFETY: locked; `slot` outlives the call and is not touched until it returns.
        match unsafe {
            self.block(
                Queue::Recv,
                &mut slot as *mut Option<T> as *mut (),
                deadline,
            )
        } {
            Outcome::Done { closed: false } => {
                trace::chan(ChanOp::Recv, self.addr());
                Ok(taken(slot))
            }
            Outcome::Done { closed: true } => {
                trace::chan(ChanOp::RecvClosed, self.addr());
                Err(RecvTimeoutError::Closed)
            }
            Outcome::TimedOut => Err(RecvTimeoutError::Timeout),
        }
    }

    /// Links a waiter for `slot` into queue `q`, unlocks, and parks until a counterpart
    /// completes it or `deadline` passes (waiter protocol, `waiter.rs`).
    ///
    /// # Safety
    ///
    /// The lock is held on entry (it is released here), and `slot` points at an `Option<T>`
    /// that outlives the call.
    #[inline(always)]
    unsafe fn block(&self, q: Queue, slot: *mut (), deadline: Option<Instant>) -> Outcome {
        let reason = match q {
            Queue::Recv => crate::wait::reason::WaitReason::ChanReceive,
            Queue::Send => crate::wait::reason::WaitReason::ChanSend,
        };
        // Records the wait reason and this channel for dumps while it looks up the waker.
        let blocked = Blocked { ch: self, q };
        let holds: Option<&dyn crate::wait::reason::Holds> = deadline.is_none().then_some(&blocked);
        let signal = Signal::new_waiting_on(reason, self.addr(), holds);
        let waiter = Waiter::new(&signal, 0, slot);
        // SAFETY: locked; `waiter` stays in this frame, and is unlinked before the frame ends:
        // by the counterpart that completes it, by the timeout path, or by `Withdraw` if the
        // stack unwinds.
        unsafe { self.state().queue(q).push_back(&waiter) };
        self.unlock();
        let guard = Withdraw {
            ch: self,
            q,
            signal: &signal,
            waiter: &waiter,
        };
        let outcome = if signal.wait_until(deadline, || guard.withdraw()) {
            Outcome::Done {
                closed: signal.closed(),
            }
        } else {
            Outcome::TimedOut
        };
        std::mem::forget(guard);
        outcome
    }

    /// Closes the channel and wakes every blocked sender and receiver (C13, C14). `explicit`
    /// is a call to `close` (a second one is an error); the last handle closes implicitly.
    pub(crate) fn close(&self, explicit: bool) -> Result<(), CloseError> {
        self.lock();
        // SAFETY: locked until the `unlock` below.
        let st = unsafe { self.state() };
        if explicit && st.close_called {
            self.unlock();
            return Err(CloseError);
        }
        st.close_called |= explicit;
        if st.closed {
            self.unlock();
            return Ok(());
        }
        st.closed = true;
        let mut wake = Vec::with_capacity(st.recvq.len() as usize + st.sendq.len() as usize);
        let mut each = |w: &Waiter| wake.push(w.signal().complete(w.case(), true));
        st.recvq.drain_claimed(&mut each);
        st.sendq.drain_claimed(&mut each);
        self.unlock();
        let op = if explicit {
            ChanOp::Close
        } else {
            ChanOp::CloseDropped
        };
        trace::chan(op, self.addr());
        for w in wake {
            w.wake();
        }
        Ok(())
    }
}

/// Unlinks a blocked operation's waiter if its stack unwinds (or on timeout, explicitly), or
/// when a channel future that is still linked is dropped (`chan::future`).
pub(crate) struct Withdraw<'a, T> {
    pub(crate) ch: &'a Chan<T>,
    pub(crate) q: Queue,
    pub(crate) signal: &'a Signal,
    pub(crate) waiter: &'a Waiter,
}

impl<T> Withdraw<'_, T> {
    /// Waiter protocol step 4: true if nobody had claimed the operation.
    fn withdraw(&self) -> bool {
        if !self.signal.abort() {
            return false;
        }
        self.ch.lock();
        // SAFETY: locked until the `unlock` below.
        unsafe { self.ch.state() }.queue(self.q).remove(self.waiter);
        self.ch.unlock();
        true
    }
}

impl<T> Drop for Withdraw<'_, T> {
    fn drop(&mut self) {
        // The owner gives up for good (a blocked operation's frame unwinding, a pending future
        // dropped): the record must leave the queue before the memory holding it goes.
        if !self.withdraw() {
            self.signal.wait_spinning();
        }
    }
}

/// Takes the value out of a slot that the protocol says is full.
fn taken<T>(slot: Option<T>) -> T {
    match slot {
        Some(v) => v,
        None => unreachable!("goro: channel slot empty after completion"),
    }
}

pub(crate) fn wake_one(w: Option<Claimed>) {
    if let Some(w) = w {
        w.wake();
    }
}

/// A goroutine blocked in one queue of a channel, as the leak check sees it.
struct Blocked<'a, T> {
    ch: &'a Chan<T>,
    q: Queue,
}

impl<T> crate::wait::reason::Holds for Blocked<'_, T> {
    fn holds(&self, out: &mut Vec<crate::wait::reason::Holding>) {
        out.push(self.ch.holding(self.q));
    }
}
