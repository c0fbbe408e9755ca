//! The two kinds of case, `RecvCase` and `SendCase`: a channel operation that can be tried,
//! linked as a waiter, unlinked, and finished, all type-erased behind `Case`.

use super::*;

/// A receive case.
#[doc(hidden)]
pub struct RecvCase<'a, T> {
    ch: Option<&'a Chan<T>>,
    slot: Option<T>,
    waiter: Option<Waiter>,
    pub(super) result: Option<Result<T, RecvError>>,
    won: bool,
}

impl<'a, T> RecvCase<'a, T> {
    pub fn new(rx: Option<&'a Receiver<T>>) -> Self {
        RecvCase {
            ch: rx.map(|r| &*r.ch),
            slot: None,
            waiter: None,
            result: None,
            won: false,
        }
    }

    pub fn won(&self) -> bool {
        self.won
    }

    /// The outcome of the case that ran.
    pub fn take_result(&mut self) -> Result<T, RecvError> {
        self.result.take().unwrap_or(Err(RecvError))
    }
}

#[allow(private_interfaces)]
impl<T> Case for RecvCase<'_, T> {
    fn reset(&mut self) -> bool {
        self.won = false;
        self.ch.is_some()
    }
    fn addr(&self) -> usize {
        self.ch.map_or(0, Chan::addr)
    }
    fn lock(&self) {
        if let Some(c) = self.ch {
            c.lock();
        }
    }
    fn unlock(&self) {
        if let Some(c) = self.ch {
            c.unlock();
        }
    }
    fn looks_ready(&self) -> bool {
        self.ch.is_some_and(Chan::looks_recv_ready)
    }
    fn holding(&self) -> Option<crate::wait::reason::Holding> {
        self.ch.map(|c| c.holding(crate::chan::Queue::Recv))
    }
    fn try_now(&mut self) -> Option<Option<Claimed>> {
        let ch = self.ch?;
        // SAFETY: `select` calls this with the channel locked.
        match ch.try_recv_locked(unsafe { ch.state() }) {
            Ok((v, wake)) => {
                self.result = Some(Ok(v));
                Some(wake)
            }
            Err(TryRecvError::Closed) => {
                self.result = Some(Err(RecvError));
                Some(None)
            }
            Err(TryRecvError::Empty) => None,
        }
    }
    unsafe fn link(&mut self, signal: &Signal, index: usize) {
        // SAFETY: as this method's contract.
        unsafe {
            link_in(
                self.ch,
                &mut self.waiter,
                &mut self.slot,
                signal,
                index,
                Queue::Recv,
            )
        };
    }
    fn unlink(&mut self) {
        unlink_from(self.ch, &mut self.waiter, Queue::Recv);
    }
    fn finish(&mut self, closed: bool) {
        self.result = Some(match (closed, self.slot.take()) {
            (false, Some(v)) => Ok(v),
            _ => Err(RecvError),
        });
    }
    fn set_won(&mut self, won: bool) {
        self.won = won;
        if won {
            crate::sched::trace::chan(crate::sched::trace::ChanOp::SelectRecv, self.addr());
        }
    }
}

/// Links a case's waiter for `signal`, as case `index`, into `queue` of its channel (nothing
/// for a disabled case): the shared half of `Case::link`.
///
/// # Safety
///
/// The channel is locked, and the case (its `waiter` and `slot`) does not move until
/// [`unlink_from`] has run under the lock again.
unsafe fn link_in<T>(
    ch: Option<&Chan<T>>,
    waiter: &mut Option<Waiter>,
    slot: &mut Option<T>,
    signal: &Signal,
    index: usize,
    queue: Queue,
) {
    let Some(ch) = ch else { return };
    let slot = slot as *mut Option<T> as *mut ();
    let w = waiter.insert(Waiter::new(signal, index, slot));
    // SAFETY: locked by the caller, who keeps the case in place until `unlink_from`.
    unsafe { ch.state().queue(queue).push_back(w) };
}

/// Unlinks a case's waiter from `queue` if it is still linked (the channel is locked).
fn unlink_from<T>(ch: Option<&Chan<T>>, waiter: &mut Option<Waiter>, queue: Queue) {
    if let (Some(ch), Some(w)) = (ch, &*waiter) {
        // SAFETY: locked by the caller.
        unsafe { ch.state() }.queue(queue).remove(w);
    }
    *waiter = None;
}

// SAFETY: the only non-`Send` field is the waiter's raw pointers, and a waiter is linked only
// inside one `run` call, which does not cross threads (a goroutine never changes thread); between
// rounds `waiter` is `None`. The rest is a `&Chan<T>` and `T`s, `Send` when `T: Send`.
unsafe impl<T: Send> Send for RecvCase<'_, T> {}

impl<T> fmt::Debug for RecvCase<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RecvCase").field("won", &self.won).finish()
    }
}

/// A send case. Holds its value until a receiver takes it.
#[doc(hidden)]
pub struct SendCase<'a, T> {
    ch: Option<&'a Chan<T>>,
    pub(super) slot: Option<T>,
    waiter: Option<Waiter>,
    pub(super) result: Option<Result<(), SendError<T>>>,
    won: bool,
}

impl<'a, T> SendCase<'a, T> {
    pub fn new(tx: Option<&'a Sender<T>>, v: T) -> Self {
        SendCase {
            ch: tx.map(|s| &*s.ch),
            slot: Some(v),
            waiter: None,
            result: None,
            won: false,
        }
    }

    pub fn won(&self) -> bool {
        self.won
    }

    /// The outcome of the case that ran.
    pub fn take_result(&mut self) -> Result<(), SendError<T>> {
        self.result.take().unwrap_or(Ok(()))
    }
}

#[allow(private_interfaces)]
impl<T> Case for SendCase<'_, T> {
    fn reset(&mut self) -> bool {
        self.won = false;
        self.ch.is_some() && self.slot.is_some()
    }
    fn addr(&self) -> usize {
        self.ch.map_or(0, Chan::addr)
    }
    fn lock(&self) {
        if let Some(c) = self.ch {
            c.lock();
        }
    }
    fn unlock(&self) {
        if let Some(c) = self.ch {
            c.unlock();
        }
    }
    fn looks_ready(&self) -> bool {
        self.slot.is_some() && self.ch.is_some_and(Chan::looks_send_ready)
    }
    fn holding(&self) -> Option<crate::wait::reason::Holding> {
        self.ch.map(|c| c.holding(crate::chan::Queue::Send))
    }
    fn try_now(&mut self) -> Option<Option<Claimed>> {
        let ch = self.ch?;
        let v = self.slot.take()?;
        // SAFETY: `select` calls this with the channel locked.
        match ch.try_send_locked(unsafe { ch.state() }, v) {
            Ok(wake) => {
                self.result = Some(Ok(()));
                Some(wake)
            }
            Err(TrySendError::Closed(v)) => {
                self.result = Some(Err(SendError(v, ch.send_failure())));
                Some(None)
            }
            Err(TrySendError::Full(v)) => {
                self.slot = Some(v);
                None
            }
        }
    }
    unsafe fn link(&mut self, signal: &Signal, index: usize) {
        // SAFETY: as this method's contract.
        unsafe {
            link_in(
                self.ch,
                &mut self.waiter,
                &mut self.slot,
                signal,
                index,
                Queue::Send,
            )
        };
    }
    fn unlink(&mut self) {
        unlink_from(self.ch, &mut self.waiter, Queue::Send);
    }
    fn finish(&mut self, closed: bool) {
        self.result = Some(match (closed, self.slot.take()) {
            (true, Some(v)) => Err(SendError(
                v,
                self.ch
                    .map_or(crate::chan::SendFailure::Closed, Chan::send_failure),
            )),
            _ => Ok(()),
        });
    }
    fn set_won(&mut self, won: bool) {
        self.won = won;
        if won {
            crate::sched::trace::chan(crate::sched::trace::ChanOp::SelectSend, self.addr());
        }
    }
}

// SAFETY: as for `RecvCase`.
unsafe impl<T: Send> Send for SendCase<'_, T> {}

impl<T> fmt::Debug for SendCase<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SendCase").field("won", &self.won).finish()
    }
}
