//! The errors of channel operations. Every error of a send carries the value back
//! (docs/DESIGN.md, "Go's channel semantics, nothing lost": where Go panics, goro returns an
//! error and loses nothing).

use std::error::Error;
use std::fmt;

/// `send` on a closed channel, or on one whose receivers are all gone: the value comes back
/// (`.0`), with why (`.1`). Go panics with "send on closed channel"; it has no second case,
/// since a Go channel nobody receives from any more still takes values into its buffer and
/// then blocks.
///
/// # Examples
///
/// ```
/// use goro::{SendError, SendFailure};
///
/// let (tx, rx) = goro::chan::<u32>(1);
/// drop(rx);
/// let e = tx.send(7).unwrap_err();
/// assert_eq!(e.1, SendFailure::ReceiversGone);
/// assert_eq!(e.to_string(), "sending on a channel whose receivers are all gone");
/// let SendError(v, _) = e;
/// assert_eq!(v, 7);
/// ```
#[derive(PartialEq, Eq, Clone, Copy)]
pub struct SendError<T>(pub T, pub SendFailure);

/// Why a send failed ([`SendError`]'s second field).
#[derive(PartialEq, Eq, Clone, Copy, Debug, Hash)]
#[non_exhaustive]
pub enum SendFailure {
    /// The channel was closed with `close` (Go's "send on closed channel").
    Closed,
    /// Every [`Receiver`](crate::Receiver) was dropped, so nobody can ever take the value
    /// (the channel closed with the last of them). Said even if `close` was also called.
    ReceiversGone,
}

/// Why `try_send` did not send; the value comes back either way.
#[derive(PartialEq, Eq, Clone, Copy)]
pub enum TrySendError<T> {
    /// The buffer is full, or no receiver is waiting on an unbuffered channel.
    Full(T),
    /// The channel is closed (by `close`, or because every receiver is gone).
    Closed(T),
}

/// Why `send_timeout` did not send; the value comes back either way.
#[derive(PartialEq, Eq, Clone, Copy)]
pub enum SendTimeoutError<T> {
    /// Nobody took the value before the deadline.
    Timeout(T),
    /// The channel is closed.
    Closed(T),
}

/// `recv` found the channel closed and drained (Go's `v, ok := <-c` with `ok == false`).
#[derive(PartialEq, Eq, Clone, Copy, Debug)]
pub struct RecvError;

/// Why `try_recv` returned no value.
#[derive(PartialEq, Eq, Clone, Copy, Debug)]
pub enum TryRecvError {
    /// Nothing to receive right now.
    Empty,
    /// The channel is closed and drained.
    Closed,
}

/// Why `recv_timeout` returned no value.
#[derive(PartialEq, Eq, Clone, Copy, Debug)]
pub enum RecvTimeoutError {
    /// Nothing arrived before the deadline.
    Timeout,
    /// The channel is closed and drained.
    Closed,
}

/// `close` on a channel that is already closed (Go panics with "close of closed channel").
#[derive(PartialEq, Eq, Clone, Copy, Debug)]
pub struct CloseError;

/// A channel whose buffer cannot be allocated (Go panics with "makechan: size out of range").
#[derive(PartialEq, Eq, Clone, Copy, Debug)]
pub struct CapacityError {
    /// The capacity asked for.
    pub cap: usize,
}

impl<T> SendError<T> {
    /// The value that was not sent.
    pub fn into_inner(self) -> T {
        self.0
    }

    /// True if the send failed because every receiver is gone, not because of a `close`.
    pub fn receivers_gone(&self) -> bool {
        self.1 == SendFailure::ReceiversGone
    }
}

impl<T> TrySendError<T> {
    /// The value that was not sent.
    pub fn into_inner(self) -> T {
        match self {
            TrySendError::Full(v) | TrySendError::Closed(v) => v,
        }
    }

    /// True if the channel was full (not closed).
    pub fn is_full(&self) -> bool {
        matches!(self, TrySendError::Full(_))
    }

    /// True if the channel was closed.
    pub fn is_closed(&self) -> bool {
        matches!(self, TrySendError::Closed(_))
    }
}

impl<T> SendTimeoutError<T> {
    /// The value that was not sent.
    pub fn into_inner(self) -> T {
        match self {
            SendTimeoutError::Timeout(v) | SendTimeoutError::Closed(v) => v,
        }
    }

    /// True if the deadline passed (the channel was not closed).
    pub fn is_timeout(&self) -> bool {
        matches!(self, SendTimeoutError::Timeout(_))
    }
}

impl TryRecvError {
    /// True if nothing was there to receive (the channel is open).
    pub fn is_empty(&self) -> bool {
        matches!(self, TryRecvError::Empty)
    }

    /// True if the channel is closed and drained.
    pub fn is_closed(&self) -> bool {
        matches!(self, TryRecvError::Closed)
    }
}

impl RecvTimeoutError {
    /// True if the deadline passed (the channel is open).
    pub fn is_timeout(&self) -> bool {
        matches!(self, RecvTimeoutError::Timeout)
    }

    /// True if the channel is closed and drained.
    pub fn is_closed(&self) -> bool {
        matches!(self, RecvTimeoutError::Closed)
    }
}

impl<T> From<SendError<T>> for TrySendError<T> {
    fn from(e: SendError<T>) -> Self {
        TrySendError::Closed(e.0)
    }
}

impl<T> From<SendError<T>> for SendTimeoutError<T> {
    fn from(e: SendError<T>) -> Self {
        SendTimeoutError::Closed(e.0)
    }
}

impl From<RecvError> for TryRecvError {
    fn from(_: RecvError) -> Self {
        TryRecvError::Closed
    }
}

impl From<RecvError> for RecvTimeoutError {
    fn from(_: RecvError) -> Self {
        RecvTimeoutError::Closed
    }
}

// The value may not be Debug; say which error it is without it (like std's mpsc).
impl<T> fmt::Debug for SendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SendError(.., {:?})", self.1)
    }
}

impl<T> fmt::Debug for TrySendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TrySendError::Full(_) => f.write_str("Full(..)"),
            TrySendError::Closed(_) => f.write_str("Closed(..)"),
        }
    }
}

impl<T> fmt::Debug for SendTimeoutError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SendTimeoutError::Timeout(_) => f.write_str("Timeout(..)"),
            SendTimeoutError::Closed(_) => f.write_str("Closed(..)"),
        }
    }
}

impl<T> fmt::Display for SendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.1, f)
    }
}

impl fmt::Display for SendFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SendFailure::Closed => "send on closed channel",
            SendFailure::ReceiversGone => "sending on a channel whose receivers are all gone",
        })
    }
}

impl<T> fmt::Display for TrySendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TrySendError::Full(_) => f.write_str("send on full channel"),
            TrySendError::Closed(_) => {
                f.write_str("send on closed channel (closed, or its receivers are all gone)")
            }
        }
    }
}

impl<T> fmt::Display for SendTimeoutError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SendTimeoutError::Timeout(_) => f.write_str("timed out sending on channel"),
            SendTimeoutError::Closed(_) => {
                f.write_str("send on closed channel (closed, or its receivers are all gone)")
            }
        }
    }
}

impl fmt::Display for RecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("receive on closed and drained channel")
    }
}

impl fmt::Display for TryRecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TryRecvError::Empty => f.write_str("receive on empty channel"),
            TryRecvError::Closed => f.write_str("receive on closed and drained channel"),
        }
    }
}

impl fmt::Display for RecvTimeoutError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RecvTimeoutError::Timeout => f.write_str("timed out receiving on channel"),
            RecvTimeoutError::Closed => f.write_str("receive on closed and drained channel"),
        }
    }
}

impl fmt::Display for CloseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("close of closed channel")
    }
}

impl fmt::Display for CapacityError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "channel capacity {} out of range: its buffer cannot be allocated",
            self.cap
        )
    }
}

impl<T> Error for SendError<T> {}
impl<T> Error for TrySendError<T> {}
impl<T> Error for SendTimeoutError<T> {}
impl Error for RecvError {}
impl Error for TryRecvError {}
impl Error for RecvTimeoutError {}
impl Error for CloseError {}
impl Error for CapacityError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_error_says_which_case_it_is() {
        assert!(TryRecvError::Empty.is_empty() && !TryRecvError::Empty.is_closed());
        assert!(TryRecvError::Closed.is_closed() && !TryRecvError::Closed.is_empty());
        assert!(RecvTimeoutError::Timeout.is_timeout() && !RecvTimeoutError::Timeout.is_closed());
        assert!(RecvTimeoutError::Closed.is_closed() && !RecvTimeoutError::Closed.is_timeout());
        assert!(TrySendError::Full(1).is_full() && TrySendError::Closed(1).is_closed());
        assert!(SendTimeoutError::Timeout(1).is_timeout());
    }
}
