//! Async ends of a channel: [`Sender::send_async`] and [`Receiver::recv_async`], futures that
//! a tokio task (or any executor) awaits, on the same channel goroutines use with `send` and
//! `recv`, with the same close and drop rules.
//!
//! # Protocol
//!
//! A pending future is a blocked operation whose owner is a task instead of a goroutine: it
//! keeps a [`Signal`], a [`Waiter`] and the value's slot in itself (it is `!Unpin`, so they
//! stay put once it has been polled), and follows the waiter protocol of `wait/waiter.rs`.
//!
//! 1. The first poll tries the operation under the channel's lock (as `try_send` and
//!    `try_recv` do). If it cannot complete, it stores the task's waker in the future's
//!    [`AsyncWaker`], links the waiter into the channel's queue, unlocks, and returns
//!    `Pending`.
//! 2. A counterpart claims the signal as for any blocked goroutine and moves the value
//!    through the slot. Its wake-up (`Claimed::wake`) takes the waker out of the cell,
//!    publishes DONE, and only then wakes the task: once DONE is visible the future may be
//!    dropped, so nothing of it is touched afterwards.
//! 3. A later poll that finds DONE takes the outcome. One that finds WAITING replaces the
//!    waker (a task may move between polls), then looks again: a counterpart that took the
//!    old waker in the meantime has claimed the signal, and the poll spins the few
//!    instructions until DONE rather than wait for a wake-up that went to the old waker.
//! 4. Dropping a pending future withdraws it (step 4 of the waiter protocol): if it claims
//!    its own signal first, it unlinks the waiter under the lock, and an unsent value drops
//!    with the future; if a counterpart claimed it, the drop waits for DONE, and the
//!    operation has happened (a value received is dropped with the future, once).

use std::future::Future;
use std::marker::PhantomPinned;
use std::pin::Pin;
use std::task::{Context, Poll};

use super::error::{RecvError, SendError, TryRecvError, TrySendError};
use super::hchan::{wake_one, Chan, Queue, Withdraw};
use super::{Receiver, Sender};
use crate::wait::park::AsyncWaker;
use crate::wait::waiter::{Signal, Waiter};

/// Where a channel future stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    /// Not polled yet.
    Start,
    /// Linked into the channel's queue, waiting for a counterpart.
    Linked,
    /// Its outcome has been returned.
    Finished,
}

/// What a pending operation keeps while linked: the waker cell, the signal that points at
/// it, the waiter that points at the signal and the slot.
struct Pending<T> {
    cell: AsyncWaker,
    signal: Option<Signal>,
    waiter: Option<Waiter>,
    slot: Option<T>,
    stage: Stage,
    _pinned: PhantomPinned,
}

impl<T> Pending<T> {
    fn new(slot: Option<T>) -> Self {
        Pending {
            cell: AsyncWaker::default(),
            signal: None,
            waiter: None,
            slot,
            stage: Stage::Start,
            _pinned: PhantomPinned,
        }
    }

    /// Step 1's second half, with `ch` locked: records the waker, links a waiter for the slot
    /// into queue `q`, and unlocks.
    ///
    /// # Safety
    ///
    /// `self` is pinned and `ch` is locked.
    unsafe fn link(&mut self, ch: &Chan<T>, q: Queue, cx: &Context<'_>) {
        self.cell.set(cx.waker());
        let signal = self.signal.insert(Signal::new_async(&self.cell));
        let slot = &mut self.slot as *mut Option<T> as *mut ();
        let waiter = self.waiter.insert(Waiter::new(signal, 0, slot));
        // SAFETY: locked by the caller; the waiter is pinned in this future, which unlinks it
        // (or waits for its completion) before it is dropped.
        unsafe { ch.state().queue(q).push_back(waiter) };
        ch.unlock();
        self.stage = Stage::Linked;
    }

    /// Step 3: `Some(closed)` once a counterpart completed the operation.
    fn completed(&self, cx: &Context<'_>) -> Option<bool> {
        let signal = self.signal.as_ref()?;
        if !signal.is_done() {
            self.cell.set(cx.waker());
            if !signal.is_claimed() {
                return None;
            }
            // Claimed: whoever claimed it may have taken the old waker; finish here.
            signal.wait_spinning();
        }
        Some(signal.closed())
    }

    /// Ready for the next operation (a stream's next item), once the last one finished.
    #[cfg(feature = "stream")]
    fn reset(&mut self) {
        debug_assert_ne!(self.stage, Stage::Linked);
        self.signal = None;
        self.waiter = None;
        self.slot = None;
        self.stage = Stage::Start;
    }

    /// Step 4: withdraws a linked operation from queue `q` of `ch`, or waits for the
    /// counterpart that claimed it.
    fn withdraw(&mut self, ch: &Chan<T>, q: Queue) {
        if self.stage != Stage::Linked {
            return;
        }
        if let (Some(signal), Some(waiter)) = (&self.signal, &self.waiter) {
            // Unlinks the waiter, or waits for the counterpart that claimed it.
            drop(Withdraw {
                ch,
                q,
                signal,
                waiter,
            });
        }
        self.stage = Stage::Finished;
    }
}

/// The future of [`Receiver::recv_async`]: the next value, or `Err(RecvError)` once the
/// channel is closed and drained.
#[must_use = "a future does nothing unless awaited"]
pub struct RecvFuture<'a, T> {
    rx: &'a Receiver<T>,
    op: Pending<T>,
}

/// The future of [`Sender::send_async`]: `Ok` once a receiver took the value or the buffer
/// did, or the value back in a [`SendError`] if the channel is closed or every receiver is
/// gone.
#[must_use = "a future does nothing unless awaited; dropping it drops the value"]
pub struct SendFuture<'a, T> {
    tx: &'a Sender<T>,
    op: Pending<T>,
}

// SAFETY: the raw pointers inside (the waiter's links and slot, the signal's cell) point into
// the future itself, which is pinned while they are linked, or at other waiters of the same
// channel, touched only under its lock. The value crosses threads (`T: Send`) as it does
// through a channel.
unsafe impl<T: Send> Send for RecvFuture<'_, T> {}
// SAFETY: as above.
unsafe impl<T: Send> Send for SendFuture<'_, T> {}
// SAFETY: `&self` gives access to nothing (every method takes `Pin<&mut Self>`).
unsafe impl<T: Send> Sync for RecvFuture<'_, T> {}
// SAFETY: as above.
unsafe impl<T: Send> Sync for SendFuture<'_, T> {}

impl<T> Receiver<T> {
    /// Receives a value, as a future: Go's `<-c` for async code. A tokio task and a goroutine
    /// can receive from (and send to) one channel. Dropping the future before it completes
    /// withdraws it; a value it had already received is dropped with it.
    ///
    /// # Examples
    ///
    /// ```
    /// goro::run(|| {
    ///     let (tx, rx) = goro::chan::<u32>(0);
    ///     goro::go(move || tx.send(7).unwrap());
    ///     assert_eq!(goro::block_on(rx.recv_async()), Ok(7));
    ///     assert_eq!(goro::block_on(rx.recv_async()), Err(goro::RecvError));
    /// })
    /// .unwrap();
    /// ```
    pub fn recv_async(&self) -> RecvFuture<'_, T> {
        RecvFuture {
            rx: self,
            op: Pending::new(None),
        }
    }
}

impl<T> Sender<T> {
    /// Sends `v`, as a future: Go's `c <- v` for async code. Ready once a receiver (goroutine,
    /// thread or task) took the value, or the buffer did. Dropping the future before it
    /// completes withdraws the send and drops the value.
    ///
    /// # Examples
    ///
    /// ```
    /// goro::run(|| {
    ///     let (tx, rx) = goro::chan::<&str>(0);
    ///     let h = goro::go(move || rx.recv().unwrap());
    ///     goro::block_on(tx.send_async("from async")).unwrap();
    ///     assert_eq!(h.join().unwrap(), "from async");
    /// })
    /// .unwrap();
    /// ```
    pub fn send_async(&self, v: T) -> SendFuture<'_, T> {
        SendFuture {
            tx: self,
            op: Pending::new(Some(v)),
        }
    }
}

impl<T> Future for RecvFuture<'_, T> {
    type Output = Result<T, RecvError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        // SAFETY: nothing is moved out of the pin; `op` stays where it is.
        let this = unsafe { self.get_unchecked_mut() };
        if this.op.stage == Stage::Finished {
            panic!("goro: RecvFuture polled after it completed");
        }
        // SAFETY: `op` is pinned with the future.
        unsafe { poll_recv(&this.rx.ch, &mut this.op, cx) }
    }
}

/// One receive, polled: steps 1 and 3 of the protocol.
///
/// # Safety
///
/// `op` is pinned, and its stage is not `Finished`.
unsafe fn poll_recv<T>(
    ch: &Chan<T>,
    op: &mut Pending<T>,
    cx: &Context<'_>,
) -> Poll<Result<T, RecvError>> {
    match op.stage {
        Stage::Start => {
            ch.lock();
            // SAFETY: locked; every path below unlocks.
            let st = unsafe { ch.state() };
            match ch.try_recv_locked(st) {
                Ok((v, wake)) => {
                    ch.unlock();
                    wake_one(wake);
                    op.stage = Stage::Finished;
                    Poll::Ready(Ok(v))
                }
                Err(TryRecvError::Closed) => {
                    ch.unlock();
                    op.stage = Stage::Finished;
                    Poll::Ready(Err(RecvError))
                }
                Err(TryRecvError::Empty) => {
                    // SAFETY: pinned (the caller's contract), and locked.
                    unsafe { op.link(ch, Queue::Recv, cx) };
                    Poll::Pending
                }
            }
        }
        Stage::Linked => match op.completed(cx) {
            None => Poll::Pending,
            Some(closed) => {
                op.stage = Stage::Finished;
                match op.slot.take() {
                    Some(v) if !closed => Poll::Ready(Ok(v)),
                    _ => Poll::Ready(Err(RecvError)),
                }
            }
        },
        Stage::Finished => Poll::Ready(Err(RecvError)),
    }
}

impl<T> Future for SendFuture<'_, T> {
    type Output = Result<(), SendError<T>>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        // SAFETY: nothing is moved out of the pin; `op` stays where it is.
        let this = unsafe { self.get_unchecked_mut() };
        let ch = &*this.tx.ch;
        match this.op.stage {
            Stage::Start => {
                let Some(v) = this.op.slot.take() else {
                    panic!("goro: SendFuture polled after it completed");
                };
                ch.lock();
                // SAFETY: locked; every path below unlocks.
                let st = unsafe { ch.state() };
                match ch.try_send_locked(st, v) {
                    Ok(wake) => {
                        ch.unlock();
                        wake_one(wake);
                        this.op.stage = Stage::Finished;
                        Poll::Ready(Ok(()))
                    }
                    Err(TrySendError::Closed(v)) => {
                        ch.unlock();
                        this.op.stage = Stage::Finished;
                        Poll::Ready(Err(SendError(v, ch.send_failure())))
                    }
                    Err(TrySendError::Full(v)) => {
                        this.op.slot = Some(v);
                        // SAFETY: pinned, and locked.
                        unsafe { this.op.link(ch, Queue::Send, cx) };
                        Poll::Pending
                    }
                }
            }
            Stage::Linked => match this.op.completed(cx) {
                None => Poll::Pending,
                Some(closed) => {
                    this.op.stage = Stage::Finished;
                    match this.op.slot.take() {
                        Some(v) if closed => Poll::Ready(Err(SendError(v, ch.send_failure()))),
                        _ => Poll::Ready(Ok(())),
                    }
                }
            },
            Stage::Finished => panic!("goro: SendFuture polled after it completed"),
        }
    }
}

impl<T> Drop for RecvFuture<'_, T> {
    fn drop(&mut self) {
        self.op.withdraw(&self.rx.ch, Queue::Recv);
    }
}

impl<T> Drop for SendFuture<'_, T> {
    fn drop(&mut self) {
        self.op.withdraw(&self.tx.ch, Queue::Send);
    }
}

impl<T> std::fmt::Debug for RecvFuture<'_, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RecvFuture")
            .field("stage", &self.op.stage)
            .finish()
    }
}

impl<T> std::fmt::Debug for SendFuture<'_, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SendFuture")
            .field("stage", &self.op.stage)
            .finish()
    }
}

/// A receiver as a `futures_core::Stream` (feature `stream`): each item is one receive, as
/// [`Receiver::recv_async`] makes it, and the stream ends once the channel is closed and
/// drained. Dropping it while an item is pending withdraws that receive.
#[cfg(feature = "stream")]
#[must_use = "a stream does nothing unless polled"]
pub struct RecvStream<T> {
    rx: Receiver<T>,
    op: Pending<T>,
    ended: bool,
}

#[cfg(feature = "stream")]
// SAFETY: as for `RecvFuture`.
unsafe impl<T: Send> Send for RecvStream<T> {}

#[cfg(feature = "stream")]
// SAFETY: as for `RecvFuture`.
unsafe impl<T: Send> Sync for RecvStream<T> {}

#[cfg(feature = "stream")]
impl<T> Receiver<T> {
    /// This receiver as a `Stream` of its values (feature `stream`): what `StreamExt`
    /// combinators and `while let Some(v) = s.next().await` expect.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::pin::pin;
    /// use futures_core::Stream;
    ///
    /// goro::run(|| {
    ///     let (tx, rx) = goro::chan::<u32>(0);
    ///     goro::go(move || (1..=3).for_each(|i| tx.send(i).unwrap()));
    ///     let mut s = pin!(rx.into_stream());
    ///     let mut got = Vec::new();
    ///     while let Some(v) = goro::block_on(std::future::poll_fn(|cx| s.as_mut().poll_next(cx))) {
    ///         got.push(v);
    ///     }
    ///     assert_eq!(got, [1, 2, 3]);
    /// })
    /// .unwrap();
    /// ```
    pub fn into_stream(self) -> RecvStream<T> {
        RecvStream {
            rx: self,
            op: Pending::new(None),
            ended: false,
        }
    }
}

#[cfg(feature = "stream")]
impl<T> futures_core::Stream for RecvStream<T> {
    type Item = T;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        // SAFETY: nothing is moved out of the pin; `op` stays where it is.
        let this = unsafe { self.get_unchecked_mut() };
        if this.ended {
            return Poll::Ready(None);
        }
        if this.op.stage == Stage::Finished {
            this.op.reset();
        }
        // SAFETY: pinned with the stream; not `Finished` (reset above).
        match unsafe { poll_recv(&this.rx.ch, &mut this.op, cx) } {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Ok(v)) => Poll::Ready(Some(v)),
            Poll::Ready(Err(RecvError)) => {
                this.ended = true;
                Poll::Ready(None)
            }
        }
    }
}

#[cfg(feature = "stream")]
impl<T> futures_core::stream::FusedStream for RecvStream<T> {
    fn is_terminated(&self) -> bool {
        self.ended
    }
}

#[cfg(feature = "stream")]
impl<T> Drop for RecvStream<T> {
    fn drop(&mut self) {
        self.op.withdraw(&self.rx.ch, Queue::Recv);
    }
}

#[cfg(feature = "stream")]
impl<T> std::fmt::Debug for RecvStream<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RecvStream")
            .field("ended", &self.ended)
            .finish()
    }
}
