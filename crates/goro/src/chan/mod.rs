//! Channels: typed, multi-producer multi-consumer, unbuffered or buffered (Go's `chan T`).
//!
//! This folder owns the channel: [`chan`] makes one and returns its two ends, a [`Sender`] and
//! a [`Receiver`], both `Clone + Send + Sync`. `hchan` holds the buffer, the wait queues and
//! every operation (the records that blocked goroutines leave on their stacks, and the futex
//! lock, are `crate::wait`'s); `future` the async ends, [`Receiver::recv_async`] and
//! [`Sender::send_async`], which follow the same waiter protocol with a task's waker; `error`
//! the errors, each of which hands back a value that could not be sent. `select!` (in
//! `crate::select`) works on the same structures.
//!
//! # Invariants (each holds whenever the lock is free)
//!
//! 1. Capacity 0 is a rendezvous: the buffer stays empty and a value passes straight from a
//!    sender's stack to a receiver's. Capacity `n > 0`: the buffer holds at most `n` values,
//!    in the order sent.
//! 2. Receivers wait only while the buffer is empty; senders wait only while it is full (or,
//!    unbuffered, while no receiver waits). So at most one of the two queues holds live waiters.
//! 3. Waiters are served in arrival order (C22). A queue may also hold *stale* records, from a
//!    select that another case won or an operation that timed out; whoever meets one drops it.
//! 4. Once closed, a channel stays closed; closing empties both queues. Receivers then drain
//!    the buffer and see "closed" forever after; senders get their value back.
//! 5. `count`, `closed` and the queue lengths have atomic mirrors, written just before every
//!    unlock, that the lock-free fast paths read.
//!
//! # Protocol
//!
//! * **send**: lock. Closed: unlock, give the value back. A receiver waits: claim it, write
//!   the value into its slot (bypassing the buffer), unlock, wake it. Room in the buffer: push,
//!   unlock. Otherwise link a waiter holding the value, unlock, park until a receiver or
//!   `close` completes it (`waiter.rs`); if it was `close`, the value is still in the slot and
//!   goes back to the caller.
//! * **recv**: lock. A buffered value: take the head; if a sender waits, move its value to the
//!   tail and wake it (FIFO is kept). A sender waits (unbuffered): take its value directly.
//!   Closed: report closed. Otherwise link a waiter with an empty slot and park.
//! * **close**: lock; mark closed; claim every waiter of both queues with "closed"; unlock;
//!   wake them all.
//! * **try_send / try_recv** first look at the mirrors without the lock, as Go's `chansend`
//!   and `chanrecv` do when they may not block. A send that sees "open", then "full", may
//!   report Full: the channel was open and full at the instant it looked. A receive that sees
//!   "empty", then "open", may report Empty; if it sees "closed" it must look at the buffer
//!   once more, because values sent before the close may have arrived in between (C23). All
//!   other cases take the lock.
//! * The last `Sender` dropped closes the channel (a forgotten close cannot leak a receiver);
//!   the last `Receiver` dropped closes it too, so blocked and later senders get their value
//!   back instead of waiting forever.
//!
//! A `Receiver` holds its channel through `RecvArc`, an `Arc` kept as the channel's address
//! with the low bit set, so that the words a sender and a receiver leave on a stack differ:
//! the leak check (`debug::leaks`) looks for one side's handles on goroutine stacks.
//!
//! A send happens before the receive that takes its value completes (the lock, or the
//! waiter's Release/Acquire on DONE, orders them), and on an unbuffered channel the receive
//! happens before the send completes, because the sender is woken only after the receiver has
//! the value: the Go memory model's channel rules (M1-M4).

mod error;
mod future;
mod hchan;

use std::fmt;
use std::iter::FusedIterator;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::time::timer::deadline_after;

#[cfg(feature = "stream")]
pub use self::future::RecvStream;
pub use self::future::{RecvFuture, SendFuture};
pub(crate) use self::hchan::{wake_one, Chan, Queue};
pub use error::{
    CapacityError, CloseError, RecvError, RecvTimeoutError, SendError, SendFailure,
    SendTimeoutError, TryRecvError, TrySendError,
};

/// [`chan`], with a name for the execution trace: `goro trace view` and its replay show
/// `jobs` instead of the channel's address. Costs nothing when no runtime traces.
///
/// # Examples
///
/// ```
/// let (tx, rx) = goro::chan_named::<u32>(4, "jobs");
/// tx.send(1).unwrap();
/// assert_eq!(rx.recv(), Ok(1));
/// ```
pub fn chan_named<T>(cap: usize, name: &'static str) -> (Sender<T>, Receiver<T>) {
    let (tx, rx) = chan(cap);
    crate::sched::trace::name_chan(tx.ch.addr(), name);
    (tx, rx)
}

/// Makes a channel of capacity `cap`: 0 for an unbuffered rendezvous, `n` for a FIFO buffer of
/// `n` values (Go's `make(chan T, cap)`).
///
/// # Panics
///
/// If the buffer cannot be allocated, like `Vec::with_capacity`; [`try_chan`] returns an error
/// instead.
///
/// # Examples
///
/// ```
/// let total = goro::run(|| {
///     let (tx, rx) = goro::chan::<u64>(0);
///     goro::go(move || {
///         for i in 1..=10 {
///             tx.send(i).unwrap();
///         }
///         // dropping the last Sender closes the channel
///     });
///     rx.iter().sum::<u64>()
/// })
/// .unwrap();
/// assert_eq!(total, 55);
/// ```
#[doc(alias = "make")]
#[doc(alias = "makechan")]
pub fn chan<T>(cap: usize) -> (Sender<T>, Receiver<T>) {
    match try_chan(cap) {
        Ok(ends) => ends,
        Err(e) => panic!("goro::chan: {e}"),
    }
}

/// Makes a channel like [`chan`], or says why its buffer cannot be allocated (C2).
///
/// # Examples
///
/// ```
/// assert!(goro::try_chan::<u64>(usize::MAX / 2).is_err());
/// let (tx, rx) = goro::try_chan::<u64>(4).unwrap();
/// tx.try_send(1).unwrap();
/// assert_eq!(rx.try_recv(), Ok(1));
/// ```
///
/// See also [`chan_named`].
pub fn try_chan<T>(cap: usize) -> Result<(Sender<T>, Receiver<T>), CapacityError> {
    let ch = Arc::new(Chan::new(cap)?);
    ch.handle_word
        .store(crate::wait::reason::handle_word(&ch), Ordering::Relaxed);
    Ok((
        Sender { ch: ch.clone() },
        Receiver {
            ch: RecvArc::new(ch),
        },
    ))
}

/// The sending end of a channel. Clone it for more senders; when the last one is dropped the
/// channel closes.
pub struct Sender<T> {
    pub(crate) ch: Arc<Chan<T>>,
}

/// The receiving end of a channel. Clone it for more receivers; each value goes to exactly one.
pub struct Receiver<T> {
    pub(crate) ch: RecvArc<T>,
}

/// An `Arc<Chan<T>>` kept as the channel's address with its low bit set (a `Chan` is aligned
/// to at least 8), so that a receiver's handle is a different word from a sender's, which
/// holds a plain `Arc` (the address of the allocation, counters first). Owns one strong
/// count, as the `Arc` it was made from.
pub(crate) struct RecvArc<T> {
    tagged: std::ptr::NonNull<u8>,
    owns: std::marker::PhantomData<Arc<Chan<T>>>,
}

// SAFETY: a `RecvArc` is an `Arc<Chan<T>>` in another form; it is `Send`/`Sync` when that is.
unsafe impl<T> Send for RecvArc<T> where Arc<Chan<T>>: Send {}
// SAFETY: as above.
unsafe impl<T> Sync for RecvArc<T> where Arc<Chan<T>>: Sync {}

impl<T> RecvArc<T> {
    fn new(ch: Arc<Chan<T>>) -> Self {
        let p = Arc::into_raw(ch).cast_mut().cast::<u8>();
        // SAFETY: `p` is non-null and aligned to at least 8, so `p + 1` is in the same
        // allocation and non-null.
        let tagged = unsafe { std::ptr::NonNull::new_unchecked(p.add(1)) };
        RecvArc {
            tagged,
            owns: std::marker::PhantomData,
        }
    }

    fn raw(&self) -> *const Chan<T> {
        self.tagged.as_ptr().wrapping_sub(1).cast::<Chan<T>>()
    }
}

impl<T> std::ops::Deref for RecvArc<T> {
    type Target = Chan<T>;
    fn deref(&self) -> &Chan<T> {
        // SAFETY: the strong count this owns keeps the channel alive.
        unsafe { &*self.raw() }
    }
}

impl<T> Clone for RecvArc<T> {
    fn clone(&self) -> Self {
        // SAFETY: `raw` came from `Arc::into_raw` and its count is held by `self`.
        unsafe { Arc::increment_strong_count(self.raw()) };
        RecvArc {
            tagged: self.tagged,
            owns: std::marker::PhantomData,
        }
    }
}

impl<T> Drop for RecvArc<T> {
    fn drop(&mut self) {
        // SAFETY: gives back the count this owns, once.
        unsafe { Arc::decrement_strong_count(self.raw()) };
    }
}

impl<T> Sender<T> {
    /// Sends `v`, parking until a receiver takes it (unbuffered) or there is room in the
    /// buffer. On a closed channel the value comes back in the error (Go panics).
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = goro::chan(1);
    /// tx.send("a").unwrap();
    /// tx.close().unwrap();
    /// assert_eq!(tx.send("b").unwrap_err().into_inner(), "b");
    /// assert_eq!(rx.recv(), Ok("a"));
    /// ```
    #[doc(alias = "chansend")]
    #[inline(always)]
    pub fn send(&self, v: T) -> Result<(), SendError<T>> {
        self.ch
            .send(v, None)
            .map_err(|e| SendError(e.into_inner(), self.ch.send_failure()))
    }

    /// Sends `v` only if that needs no waiting (Go's `select` with a `default`).
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, _rx) = goro::chan(1);
    /// assert!(tx.try_send(1).is_ok());
    /// assert!(tx.try_send(2).unwrap_err().is_full());
    /// ```
    pub fn try_send(&self, v: T) -> Result<(), TrySendError<T>> {
        crate::sched::worker::preempt_point();
        self.ch.try_send(v)
    }

    /// [`try_send`](Self::try_send) without its preemption point: for goro's own code, which
    /// may hold a lock of its own (a timer's) where a yield could let a goroutine of the same
    /// worker block the thread on it.
    pub(crate) fn try_send_quiet(&self, v: T) -> Result<(), TrySendError<T>> {
        self.ch.try_send(v)
    }

    /// Sends `v`, waiting at most `timeout`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// let (tx, _rx) = goro::chan(0);
    /// let e = tx.send_timeout(7, Duration::from_millis(1)).unwrap_err();
    /// assert!(e.is_timeout());
    /// assert_eq!(e.into_inner(), 7);
    /// ```
    pub fn send_timeout(&self, v: T, timeout: Duration) -> Result<(), SendTimeoutError<T>> {
        self.send_deadline(v, deadline_after(timeout))
    }

    /// Sends `v`, waiting until `deadline` at the latest.
    pub fn send_deadline(&self, v: T, deadline: Instant) -> Result<(), SendTimeoutError<T>> {
        self.ch.send(v, Some(deadline))
    }

    /// Closes the channel: receivers drain what is buffered and then see it closed; blocked
    /// senders get their values back. Closing twice is an error and changes nothing (Go
    /// panics).
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = goro::chan::<u8>(0);
    /// assert!(tx.close().is_ok());
    /// assert!(tx.close().is_err());
    /// assert!(rx.recv().is_err());
    /// ```
    #[doc(alias = "closechan")]
    pub fn close(&self) -> Result<(), CloseError> {
        self.ch.close(true)
    }

    /// True once the channel is closed (by `close`, or because every receiver is gone).
    pub fn is_closed(&self) -> bool {
        self.ch.is_closed()
    }

    /// The number of buffered values (always 0 unbuffered).
    pub fn len(&self) -> usize {
        self.ch.len()
    }

    /// True if no value is buffered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The capacity the channel was made with.
    pub fn cap(&self) -> usize {
        self.ch.cap()
    }

    /// True if both are ends of the same channel.
    pub fn same_channel(&self, other: &Sender<T>) -> bool {
        Arc::ptr_eq(&self.ch, &other.ch)
    }
}

impl<T> Receiver<T> {
    /// Receives a value, parking until one arrives. `Err(RecvError)` means closed and drained
    /// (Go's `v, ok := <-c` with `ok == false`).
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = goro::chan(2);
    /// tx.send(1).unwrap();
    /// drop(tx);
    /// assert_eq!(rx.recv(), Ok(1));
    /// assert_eq!(rx.recv(), Err(goro::RecvError));
    /// ```
    #[doc(alias = "chanrecv")]
    #[inline(always)]
    pub fn recv(&self) -> Result<T, RecvError> {
        self.ch.recv(None).map_err(|_| RecvError)
    }

    /// Receives a value only if that needs no waiting.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = goro::chan::<u8>(1);
    /// assert_eq!(rx.try_recv(), Err(goro::TryRecvError::Empty));
    /// drop(tx);
    /// assert_eq!(rx.try_recv(), Err(goro::TryRecvError::Closed));
    /// ```
    pub fn try_recv(&self) -> Result<T, TryRecvError> {
        crate::sched::worker::preempt_point();
        self.ch.try_recv()
    }

    /// [`try_recv`](Self::try_recv) without its preemption point (see
    /// [`Sender::try_send_quiet`]).
    pub(crate) fn try_recv_quiet(&self) -> Result<T, TryRecvError> {
        self.ch.try_recv()
    }

    /// Receives a value, waiting at most `timeout`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// let (_tx, rx) = goro::chan::<u8>(0);
    /// assert_eq!(
    ///     rx.recv_timeout(Duration::from_millis(1)),
    ///     Err(goro::RecvTimeoutError::Timeout)
    /// );
    /// ```
    pub fn recv_timeout(&self, timeout: Duration) -> Result<T, RecvTimeoutError> {
        self.recv_deadline(deadline_after(timeout))
    }

    /// Receives a value, waiting until `deadline` at the latest.
    pub fn recv_deadline(&self, deadline: Instant) -> Result<T, RecvTimeoutError> {
        self.ch.recv(Some(deadline))
    }

    /// An iterator that receives until the channel is closed and drained (Go's `range`).
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = goro::chan(3);
    /// for i in 0..3 {
    ///     tx.send(i).unwrap();
    /// }
    /// drop(tx);
    /// assert_eq!(rx.iter().collect::<Vec<_>>(), [0, 1, 2]);
    /// ```
    pub fn iter(&self) -> Iter<'_, T> {
        Iter { rx: self }
    }

    /// An iterator over what can be received without waiting.
    pub fn try_iter(&self) -> TryIter<'_, T> {
        TryIter { rx: self }
    }

    /// True once the channel is closed (values may still be buffered: see [`Receiver::len`]).
    pub fn is_closed(&self) -> bool {
        self.ch.is_closed()
    }

    /// The number of buffered values (always 0 unbuffered; closed channels count theirs, C6).
    pub fn len(&self) -> usize {
        self.ch.len()
    }

    /// True if no value is buffered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The capacity the channel was made with.
    pub fn cap(&self) -> usize {
        self.ch.cap()
    }

    /// True if both are ends of the same channel.
    pub fn same_channel(&self, other: &Receiver<T>) -> bool {
        self.ch.addr() == other.ch.addr()
    }

    /// Waiter records in the receive and send queues, stale ones included (for tests and
    /// dumps; not a stable API).
    #[doc(hidden)]
    pub fn __waiting(&self) -> (usize, usize) {
        self.ch.waiting()
    }
}

/// A receiver that nothing is ever sent to and that never closes (Go's nil channel): it keeps
/// one phantom sender in the count.
pub(crate) fn never<T>() -> Receiver<T> {
    let (tx, rx) = chan(0);
    rx.ch.senders.fetch_add(1, Ordering::Relaxed);
    drop(tx);
    rx
}

/// A sender that does not keep the channel alive: it counts as a sender (the channel stays
/// open while it exists) but holds only a weak reference, so once every `Receiver` (and strong
/// `Sender`) is gone the channel is freed and [`WeakSender::is_dead`] says so. Timers hold
/// one: a timer whose receiver was dropped is garbage, as in Go 1.23.
pub(crate) struct WeakSender<T> {
    ch: std::sync::Weak<Chan<T>>,
}

impl<T> WeakSender<T> {
    /// Turns a sender into a weak one, keeping its place in the sender count.
    pub(crate) fn from_sender(tx: Sender<T>) -> Self {
        let tx = std::mem::ManuallyDrop::new(tx);
        let weak = Arc::downgrade(&tx.ch);
        tx.ch.weak_senders.fetch_add(1, Ordering::Relaxed);
        // SAFETY: `tx` is never used or dropped again; we take its `Arc` out to drop it.
        drop(unsafe { std::ptr::read(&tx.ch) });
        WeakSender { ch: weak }
    }

    /// Sends without waiting; `None` if the channel is gone.
    pub(crate) fn try_send(&self, v: T) -> Option<Result<(), TrySendError<T>>> {
        self.ch.upgrade().map(|ch| ch.try_send(v))
    }

    /// True once nobody can receive from the channel any more.
    pub(crate) fn is_dead(&self) -> bool {
        self.ch.strong_count() == 0
    }
}

impl<T> Drop for WeakSender<T> {
    fn drop(&mut self) {
        if let Some(ch) = self.ch.upgrade() {
            ch.weak_senders.fetch_sub(1, Ordering::Relaxed);
            if ch.senders.fetch_sub(1, Ordering::AcqRel) == 1 {
                let _ = ch.close(false);
            }
        }
    }
}

impl<T> Clone for Sender<T> {
    fn clone(&self) -> Self {
        self.ch.senders.fetch_add(1, Ordering::Relaxed);
        Sender {
            ch: self.ch.clone(),
        }
    }
}

impl<T> Clone for Receiver<T> {
    fn clone(&self) -> Self {
        self.ch.receivers.fetch_add(1, Ordering::Relaxed);
        Receiver {
            ch: self.ch.clone(),
        }
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        // AcqRel: the last one sees every other handle's uses before it closes.
        if self.ch.senders.fetch_sub(1, Ordering::AcqRel) == 1 {
            let _ = self.ch.close(false);
        }
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        if self.ch.receivers.fetch_sub(1, Ordering::AcqRel) == 1 {
            let _ = self.ch.close(false);
        }
    }
}

/// Channel ends compare, order and hash by the channel they belong to (Go's channels are
/// comparable): two `Sender`s are equal when they send on the same channel, two `Receiver`s
/// when they receive from the same one, so either can key a map or a set. (Clippy's
/// `mutable_key_type` lint fires on such a map: the channel has interior mutability, but the
/// hash is its address, which never changes.)
macro_rules! compare_by_channel {
    ($end:ident, $addr:expr) => {
        impl<T> PartialEq for $end<T> {
            fn eq(&self, other: &Self) -> bool {
                $addr(self) == $addr(other)
            }
        }

        impl<T> Eq for $end<T> {}

        impl<T> PartialOrd for $end<T> {
            fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
                Some(self.cmp(other))
            }
        }

        impl<T> Ord for $end<T> {
            fn cmp(&self, other: &Self) -> std::cmp::Ordering {
                $addr(self).cmp(&$addr(other))
            }
        }

        impl<T> std::hash::Hash for $end<T> {
            fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
                $addr(self).hash(state);
            }
        }
    };
}

compare_by_channel!(Sender, |s: &Sender<T>| Arc::as_ptr(&s.ch) as usize);
compare_by_channel!(Receiver, |r: &Receiver<T>| r.ch.raw() as usize);

impl<T> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sender")
            .field("len", &self.len())
            .field("cap", &self.cap())
            .field("closed", &self.is_closed())
            .finish()
    }
}

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Receiver")
            .field("len", &self.len())
            .field("cap", &self.cap())
            .field("closed", &self.is_closed())
            .finish()
    }
}

/// Receives until closed and drained; see [`Receiver::iter`].
#[derive(Debug)]
pub struct Iter<'a, T> {
    rx: &'a Receiver<T>,
}

impl<T> Iterator for Iter<'_, T> {
    type Item = T;
    #[inline(always)]
    fn next(&mut self) -> Option<T> {
        self.rx.recv().ok()
    }
}

impl<T> FusedIterator for Iter<'_, T> {}

/// Receives what is ready without waiting; see [`Receiver::try_iter`].
#[derive(Debug)]
pub struct TryIter<'a, T> {
    rx: &'a Receiver<T>,
}

impl<T> Iterator for TryIter<'_, T> {
    type Item = T;
    fn next(&mut self) -> Option<T> {
        self.rx.try_recv().ok()
    }
}

/// Owns a receiver and receives until closed and drained.
#[derive(Debug)]
pub struct IntoIter<T> {
    rx: Receiver<T>,
}

impl<T> Iterator for IntoIter<T> {
    type Item = T;
    #[inline(always)]
    fn next(&mut self) -> Option<T> {
        self.rx.recv().ok()
    }
}

impl<T> FusedIterator for IntoIter<T> {}

impl<'a, T> IntoIterator for &'a Receiver<T> {
    type Item = T;
    type IntoIter = Iter<'a, T>;
    fn into_iter(self) -> Iter<'a, T> {
        self.iter()
    }
}

impl<T> IntoIterator for Receiver<T> {
    type Item = T;
    type IntoIter = IntoIter<T>;
    fn into_iter(self) -> IntoIter<T> {
        IntoIter { rx: self }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use std::collections::{BTreeSet, HashMap};

    #[test]
    // The ends hash by the channel's address, which never changes: clippy's lint cannot see
    // that, as for any `Arc` of something with interior mutability.
    #[allow(clippy::mutable_key_type)]
    fn channel_ends_are_keys_by_the_channel_they_belong_to() {
        let (tx1, rx1) = super::chan::<u8>(1);
        let (tx2, rx2) = super::chan::<u8>(1);
        assert_eq!(tx1, tx1.clone());
        assert_eq!(rx1, rx1.clone());
        assert_ne!(tx1, tx2);
        assert_ne!(rx1, rx2);
        let mut names = HashMap::new();
        names.insert(tx1.clone(), "first");
        names.insert(tx2.clone(), "second");
        assert_eq!(names[&tx1.clone()], "first");
        assert_eq!(names[&tx2], "second");
        let set: BTreeSet<_> = [rx1.clone(), rx2.clone(), rx1.clone()]
            .into_iter()
            .collect();
        assert_eq!(set.len(), 2);
        assert!(rx1 < rx2 || rx2 < rx1);
    }
}
