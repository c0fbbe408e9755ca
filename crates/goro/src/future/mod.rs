//! Async Rust from goroutines: [`block_on`] runs a future to completion on the calling
//! goroutine, parking the goroutine, not its worker, while the future is not ready.
//!
//! # How it waits
//!
//! The future's [`Waker`] is the caller's [`Unparker`]: waking it from any thread (a tokio
//! reactor, a timer thread, another goroutine) makes the goroutine runnable on its worker.
//! Parking consumes a token as `std::thread::park` does, so a wake that comes between a
//! `Pending` and the park is not lost: the park returns at once and the future is polled
//! again. A spurious return from the park only costs a poll.
//!
//! # What the deadlock detector makes of it
//!
//! A goroutine parked in `block_on` waits for whatever holds its waker, which goro cannot
//! see (a tokio reactor, a C library's callback thread, a goroutine's `Unparker`). So while
//! one is parked there it counts as pending work, as a blocking call does: the detector does
//! not report a deadlock meanwhile. Dumps show such a goroutine as `[block_on]`.

#[cfg(feature = "tokio")]
pub mod tokio;

use std::future::Future;
use std::pin::pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

use crate::wait::park::{park_quiet, Unparker};
use crate::wait::reason::{self, WaitReason};

/// How many goroutines and threads are parked in `block_on` now.
static PARKED: AtomicUsize = AtomicUsize::new(0);

/// True while some caller of `block_on` waits for its future (see the module doc).
pub(crate) fn waiting() -> bool {
    PARKED.load(Ordering::SeqCst) > 0
}

/// A waker that unparks the caller of `block_on`.
struct Unpark(Unparker);

impl Wake for Unpark {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.0.unpark();
    }
}

/// Counts a caller as parked in `block_on` for as long as it lives.
struct Parked;

impl Parked {
    fn new() -> Parked {
        PARKED.fetch_add(1, Ordering::SeqCst);
        Parked
    }
}

impl Drop for Parked {
    fn drop(&mut self) {
        PARKED.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Runs `fut` to completion on the calling goroutine and returns its output (tokio's
/// `Handle::block_on`, for goroutines). Between polls the goroutine parks and its worker
/// runs other goroutines; the future's waker unparks it, from whatever thread wakes it. On a
/// plain OS thread it parks the thread.
///
/// The future runs on this goroutine's stack and may borrow from it. It must not need a
/// particular async runtime's context: a future of `tokio::net` or `hyper` needs tokio's
/// reactor around it (see `goro::tokio`, behind the `tokio` feature). `block_on` may be
/// nested (a future polled by one may call another); inside an async task, which must not
/// block its thread, it parks that thread, as `std::thread::park` would.
///
/// A panic in the future's `poll` unwinds out of `block_on` into the caller, dropping the
/// future, as if the future's code had been called directly.
///
/// # Examples
///
/// ```
/// use std::future::Future;
/// use std::pin::Pin;
/// use std::task::{Context, Poll};
///
/// /// Ready on its second poll, after waking its task from another thread.
/// struct WokenElsewhere(bool);
///
/// impl Future for WokenElsewhere {
///     type Output = u32;
///     fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<u32> {
///         if self.0 {
///             return Poll::Ready(7);
///         }
///         self.0 = true;
///         let w = cx.waker().clone();
///         std::thread::spawn(move || w.wake());
///         Poll::Pending
///     }
/// }
///
/// let v = goro::run(|| goro::block_on(WokenElsewhere(false))).unwrap();
/// assert_eq!(v, 7);
/// assert_eq!(goro::block_on(async { 1 + 1 }), 2); // a plain thread works too
/// ```
#[doc(alias = "block_in_place")]
pub fn block_on<F: Future>(fut: F) -> F::Output {
    let mut fut = pin!(fut);
    let waker = Waker::from(Arc::new(Unpark(Unparker::current())));
    let mut cx = Context::from_waker(&waker);
    // The first poll needs no bookkeeping: a ready future costs one poll.
    if let Poll::Ready(v) = fut.as_mut().poll(&mut cx) {
        return v;
    }
    let _parked = Parked::new();
    loop {
        reason::set(WaitReason::BlockOn);
        park_quiet();
        if let Poll::Ready(v) = fut.as_mut().poll(&mut cx) {
            return v;
        }
    }
}
