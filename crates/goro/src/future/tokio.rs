//! A shared tokio runtime for futures that need one (`tokio::net`, `tokio::time`, hyper,
//! reqwest, sqlx, ...), behind the `tokio` feature.
//!
//! The runtime starts on first use, on two threads of its own (`goro-tokio`), and lives as
//! long as the process. [`block_on`] polls a future with that runtime entered, so its I/O
//! and timers register with tokio's reactor, which those threads drive; between polls the
//! goroutine parks, woken by tokio through the future's waker. The runtime is entered only
//! for each poll, never across a park: goroutines of one worker take turns on its thread,
//! and tokio's context guards must be dropped in the order they were made.
//!
//! [`spawn`] hands a future to the runtime to run as a tokio task, and returns a
//! [`Task`] that a goroutine can join, or select on through its [`receiver`](Task::receiver).

use std::future::Future;
use std::pin::Pin;
use std::sync::OnceLock;
use std::task::{Context, Poll};

use crate::{Receiver, RecvError};

/// The shared runtime's handle, starting it the first time.
///
/// # Panics
///
/// If the runtime cannot start (the OS refuses its threads).
pub fn handle() -> &'static tokio::runtime::Handle {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("goro-tokio")
            .enable_all()
            .build()
            .expect("goro::tokio: cannot start the tokio runtime")
    })
    .handle()
}

/// A future polled with the shared runtime entered, one poll at a time.
struct Entered<F>(F);

impl<F: Future> Future for Entered<F> {
    type Output = F::Output;
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let _rt = handle().enter();
        // SAFETY: a structural projection: `Entered` never moves its field out of the pin.
        unsafe { self.map_unchecked_mut(|e| &mut e.0) }.poll(cx)
    }
}

/// [`crate::block_on`] for futures that need tokio: runs `fut` to completion on the calling
/// goroutine (or thread) with the shared runtime entered for each poll.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
///
/// let waited = goro::run(|| {
///     goro::tokio::block_on(async {
///         let t = tokio::time::Instant::now();
///         tokio::time::sleep(Duration::from_millis(10)).await;
///         t.elapsed()
///     })
/// })
/// .unwrap();
/// assert!(waited >= Duration::from_millis(10));
/// ```
pub fn block_on<F: Future>(fut: F) -> F::Output {
    crate::block_on(Entered(fut))
}

/// A future running as a task of the shared tokio runtime: join it, or select on its
/// receiver.
#[derive(Debug)]
pub struct Task<T> {
    rx: Receiver<std::thread::Result<T>>,
    abort: tokio::task::AbortHandle,
}

/// Runs `fut` as a task of the shared tokio runtime (`tokio::spawn`, from a goroutine).
///
/// # Examples
///
/// ```
/// goro::run(|| {
///     let t = goro::tokio::spawn(async { 6 * 7 });
///     assert_eq!(t.join().unwrap(), 42);
/// })
/// .unwrap();
/// ```
pub fn spawn<F>(fut: F) -> Task<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    let (tx, rx) = crate::chan(1);
    let h = handle().spawn(async move {
        let out = CatchUnwind(fut).await;
        // One place, one send: it cannot be full; a receiver gone drops the value.
        let _ = tx.try_send(out);
    });
    Task {
        rx,
        abort: h.abort_handle(),
    }
}

/// Why a [`Task`] gave no value.
#[derive(Debug)]
#[non_exhaustive]
pub enum TaskError {
    /// The future panicked; the payload is the panic's.
    Panicked(Box<dyn std::any::Any + Send + 'static>),
    /// It was aborted, or the runtime dropped it.
    Cancelled,
}

impl std::fmt::Display for TaskError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TaskError::Panicked(_) => f.write_str("tokio task panicked"),
            TaskError::Cancelled => f.write_str("tokio task cancelled"),
        }
    }
}

impl std::error::Error for TaskError {}

impl<T> Task<T> {
    /// Waits for the task's value, parking the goroutine.
    pub fn join(self) -> Result<T, TaskError> {
        Self::outcome(self.rx.recv())
    }

    /// The channel the task's outcome arrives on, once: for a `select!`. It is closed without
    /// a value if the task was cancelled; [`Task::outcome`] turns what it gave into a result.
    pub fn receiver(&self) -> &Receiver<std::thread::Result<T>> {
        &self.rx
    }

    /// A receive from [`receiver`](Self::receiver) as a result.
    pub fn outcome(r: Result<std::thread::Result<T>, RecvError>) -> Result<T, TaskError> {
        match r {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(p)) => Err(TaskError::Panicked(p)),
            Err(RecvError) => Err(TaskError::Cancelled),
        }
    }

    /// Cancels the task at its next await (tokio's `abort`); a join then says `Cancelled`.
    pub fn abort(&self) {
        self.abort.abort();
    }
}

/// A future whose poll's panic becomes its output.
struct CatchUnwind<F>(F);

impl<F: Future> Future for CatchUnwind<F> {
    type Output = std::thread::Result<F::Output>;
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        // SAFETY: a structural projection, as in `Entered`.
        let f = unsafe { self.map_unchecked_mut(|c| &mut c.0) };
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f.poll(cx))) {
            Ok(Poll::Pending) => Poll::Pending,
            Ok(Poll::Ready(v)) => Poll::Ready(Ok(v)),
            Err(p) => Poll::Ready(Err(p)),
        }
    }
}
