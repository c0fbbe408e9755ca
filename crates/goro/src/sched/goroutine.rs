//! Goroutines: the shared header, `go`, [`Builder`] and [`JoinHandle`].
//!
//! A goroutine is two things:
//!
//! * its **header** ([`Goroutine`], behind an `Arc`): id, name, spawn site, park state, home
//!   worker, and until it starts, its boxed closure. This is what queues and wait lists hold and
//!   what crosses threads.
//! * its **fiber** (coroutine + stack, `stack::switch::Fiber`): created by the worker that first
//!   runs it, kept in that worker's slab, never moved (see `stack::switch` for why).
//!
//! `go` boxes the closure into the header and pushes the header onto the spawning worker's
//! queue of unstarted goroutines (or onto the global queue from a plain thread). The closure is
//! wrapped so that its result, or its panic, lands in the [`JoinHandle`]'s slot; a panic is
//! caught there and never reaches the worker.

use std::any::Any;
use std::fmt;
use std::panic::{self, AssertUnwindSafe, Location};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use super::park::{park, ParkState, Unparker};
use super::runtime::{Handle, Shared};
use super::worker;

/// No home worker yet: the goroutine has not started.
pub(crate) const NO_HOME: usize = usize::MAX;

/// Go numbers goroutines from 1 (the main goroutine); so does goro, process-wide.
static NEXT_ID: AtomicU64 = AtomicU64::new(1);

pub(crate) fn next_id() -> u64 {
    NEXT_ID.fetch_add(1, Ordering::Relaxed)
}

/// The unstarted body of a goroutine.
pub(crate) type Entry = Box<dyn FnOnce() + Send>;

/// The shared header of one goroutine.
pub(crate) struct Goroutine {
    /// Unique in the process, never reused.
    pub(crate) id: u64,
    /// The goroutine that spawned this one (0: spawned from a plain thread).
    pub(crate) parent: u64,
    /// Set with [`Builder::name`].
    pub(crate) name: Option<Box<str>>,
    /// Where `go` was called (`#[track_caller]`).
    pub(crate) site: &'static Location<'static>,
    /// Usable stack bytes; 0 means the runtime's default.
    pub(crate) stack_size: usize,
    /// The park protocol's state word (see `sched::park`).
    pub(crate) park: ParkState,
    /// Index of the worker it runs on, [`NO_HOME`] until it starts. Written once, by the
    /// worker that starts it, before any other thread can learn of it through a wait list.
    pub(crate) home: AtomicUsize,
    /// Index in the home worker's fiber slab; read and written only by the home worker.
    pub(crate) slot: AtomicUsize,
    /// Its place in the local FIFO order of the worker that queued it last (see
    /// `worker::Local::pop_local`); written when it is queued on a worker.
    pub(crate) qseq: AtomicU64,
    /// The closure, until a worker takes it to start the goroutine.
    pub(crate) entry: Mutex<Option<Entry>>,
    /// The runtime it belongs to.
    pub(crate) rt: Arc<Shared>,
}

impl fmt::Debug for Goroutine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Goroutine")
            .field("id", &self.id)
            .field("name", &self.name)
            .field("parent", &self.parent)
            .field("site", &format_args!("{}", self.site))
            .finish_non_exhaustive()
    }
}

impl Goroutine {
    pub(crate) fn new(
        rt: Arc<Shared>,
        b: Builder,
        site: &'static Location<'static>,
        entry: Option<Entry>,
    ) -> Self {
        Goroutine {
            id: next_id(),
            parent: worker::current_goroutine_id().unwrap_or(0),
            name: b.name.map(String::into_boxed_str),
            site,
            stack_size: b.stack_size.unwrap_or(0),
            park: ParkState::new(),
            home: AtomicUsize::new(NO_HOME),
            slot: AtomicUsize::new(0),
            qseq: AtomicU64::new(0),
            entry: Mutex::new(entry),
            rt,
        }
    }
}

/// Why a goroutine did not produce a value.
pub enum JoinError {
    /// It panicked; the payload is the panic's.
    Panicked(Box<dyn Any + Send + 'static>),
    /// The runtime shut down (its `run` returned) before the goroutine finished; the goroutine
    /// was unwound, or never started.
    Cancelled,
}

impl JoinError {
    /// The panic message, when the payload is a string.
    pub fn panic_message(&self) -> Option<&str> {
        match self {
            JoinError::Panicked(p) => p
                .downcast_ref::<&'static str>()
                .copied()
                .or_else(|| p.downcast_ref::<String>().map(String::as_str)),
            JoinError::Cancelled => None,
        }
    }
}

impl fmt::Debug for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            JoinError::Panicked(_) => write!(
                f,
                "Panicked({:?})",
                self.panic_message().unwrap_or("<non-string payload>")
            ),
            JoinError::Cancelled => write!(f, "Cancelled"),
        }
    }
}

impl fmt::Display for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            JoinError::Panicked(_) => match self.panic_message() {
                Some(m) => write!(f, "goroutine panicked: {m}"),
                None => write!(f, "goroutine panicked"),
            },
            JoinError::Cancelled => write!(
                f,
                "goroutine cancelled: the runtime shut down before it finished"
            ),
        }
    }
}

impl std::error::Error for JoinError {}

enum Slot<T> {
    Running(Option<Unparker>),
    Done(Result<T, JoinError>),
    Taken,
}

/// What a goroutine and its [`JoinHandle`] share.
struct JoinInner<T> {
    slot: Mutex<Slot<T>>,
}

impl<T> JoinInner<T> {
    fn finish(&self, r: Result<T, JoinError>) {
        let waiter = {
            let mut s = self.slot.lock().unwrap_or_else(|e| e.into_inner());
            match std::mem::replace(&mut *s, Slot::Done(r)) {
                Slot::Running(w) => w,
                other => {
                    *s = other;
                    None
                }
            }
        };
        if let Some(w) = waiter {
            w.unpark();
        }
    }
}

/// Held by the goroutine's wrapper: completes the join slot, or marks it cancelled if the
/// goroutine is unwound or dropped unstarted.
struct Completer<T>(Arc<JoinInner<T>>);

impl<T> Drop for Completer<T> {
    fn drop(&mut self) {
        let running = matches!(
            *self.0.slot.lock().unwrap_or_else(|e| e.into_inner()),
            Slot::Running(_)
        );
        if running {
            self.0.finish(Err(JoinError::Cancelled));
        }
    }
}

/// An owned permission to wait for a goroutine and take its result. Dropping it detaches the
/// goroutine, which keeps running.
pub struct JoinHandle<T> {
    inner: Arc<JoinInner<T>>,
    id: u64,
}

impl<T> fmt::Debug for JoinHandle<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinHandle").field("id", &self.id).finish()
    }
}

impl<T> JoinHandle<T> {
    /// Waits for the goroutine to finish: its value, or why there is none. Parks the caller,
    /// which may be a goroutine or a plain OS thread.
    ///
    /// # Examples
    ///
    /// ```
    /// goro::run(|| {
    ///     let h = goro::go(|| 6 * 7);
    ///     assert_eq!(h.join().unwrap(), 42);
    ///     let p = goro::go(|| -> u32 { panic!("boom") });
    ///     assert_eq!(p.join().unwrap_err().panic_message(), Some("boom"));
    /// })
    /// .unwrap();
    /// ```
    pub fn join(self) -> Result<T, JoinError> {
        loop {
            {
                let mut s = self.inner.slot.lock().unwrap_or_else(|e| e.into_inner());
                match std::mem::replace(&mut *s, Slot::Taken) {
                    Slot::Done(r) => return r,
                    Slot::Running(_) => *s = Slot::Running(Some(Unparker::current())),
                    Slot::Taken => return Err(JoinError::Cancelled),
                }
            }
            park();
        }
    }

    /// True once the goroutine has returned, panicked or been cancelled.
    pub fn is_finished(&self) -> bool {
        !matches!(
            *self.inner.slot.lock().unwrap_or_else(|e| e.into_inner()),
            Slot::Running(_)
        )
    }

    /// The goroutine's id.
    pub fn id(&self) -> u64 {
        self.id
    }
}

/// Why a goroutine could not be spawned. Holds the closure so nothing is lost.
pub struct SpawnError<F> {
    reason: SpawnErrorKind,
    closure: F,
}

/// The reason in a [`SpawnError`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SpawnErrorKind {
    /// Called outside a runtime (not on a goroutine) without a [`Handle`].
    NoRuntime,
    /// The runtime has shut down.
    ShutDown,
    /// The stack size is below 16 KiB or above 1 GiB.
    BadStackSize(usize),
}

impl<F> SpawnError<F> {
    /// Why.
    pub fn kind(&self) -> SpawnErrorKind {
        self.reason
    }
    /// The closure that was not spawned.
    pub fn into_inner(self) -> F {
        self.closure
    }
}

impl fmt::Display for SpawnErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SpawnErrorKind::NoRuntime => write!(
                f,
                "not inside a goro runtime: call from a goroutine (inside goro::run) or use a goro::Handle"
            ),
            SpawnErrorKind::ShutDown => write!(f, "the goro runtime has shut down"),
            SpawnErrorKind::BadStackSize(n) => {
                write!(f, "stack size {n} is out of range (16 KiB to 1 GiB)")
            }
        }
    }
}

impl<F> fmt::Debug for SpawnError<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SpawnError")
            .field("reason", &self.reason)
            .finish_non_exhaustive()
    }
}

impl<F> fmt::Display for SpawnError<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "cannot spawn goroutine: {}", self.reason)
    }
}

impl<F> std::error::Error for SpawnError<F> {}

/// Goroutine options: name and stack size.
///
/// # Examples
///
/// ```
/// goro::run(|| {
///     let h = goro::Builder::new()
///         .name("deep")
///         .stack_size(4 << 20)
///         .spawn(|| goro::current_name())
///         .unwrap();
///     assert_eq!(h.join().unwrap().as_deref(), Some("deep"));
/// })
/// .unwrap();
/// ```
#[derive(Debug, Default, Clone)]
pub struct Builder {
    name: Option<String>,
    stack_size: Option<usize>,
}

/// Stack sizes a goroutine may ask for: Go's maximum is 1 GB.
const MIN_STACK: usize = 16 * 1024;
const MAX_STACK: usize = 1 << 30;

impl Builder {
    /// Default options: no name, the runtime's stack size.
    pub fn new() -> Self {
        Builder::default()
    }

    /// Names the goroutine (shown by `goro::current_name`, and in dumps).
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// Usable stack bytes for this goroutine (16 KiB to 1 GiB); rounded up to whole pages.
    pub fn stack_size(mut self, bytes: usize) -> Self {
        self.stack_size = Some(bytes);
        self
    }

    /// Spawns on the runtime of the calling goroutine.
    #[track_caller]
    pub fn spawn<F, T>(self, f: F) -> Result<JoinHandle<T>, SpawnError<F>>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        let site = Location::caller();
        match worker::current_runtime() {
            Some(rt) => self.spawn_at(&rt, f, site),
            None => Err(SpawnError {
                reason: SpawnErrorKind::NoRuntime,
                closure: f,
            }),
        }
    }

    /// Spawns on the runtime of `handle`, from any thread.
    #[track_caller]
    pub fn spawn_on<F, T>(self, handle: &Handle, f: F) -> Result<JoinHandle<T>, SpawnError<F>>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        self.spawn_at(handle.shared(), f, Location::caller())
    }

    fn spawn_at<F, T>(
        self,
        rt: &Arc<Shared>,
        f: F,
        site: &'static Location<'static>,
    ) -> Result<JoinHandle<T>, SpawnError<F>>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        if let Some(n) = self.stack_size {
            if !(MIN_STACK..=MAX_STACK).contains(&n) {
                return Err(SpawnError {
                    reason: SpawnErrorKind::BadStackSize(n),
                    closure: f,
                });
            }
        }
        if rt.is_shut_down() {
            return Err(SpawnError {
                reason: SpawnErrorKind::ShutDown,
                closure: f,
            });
        }
        let inner = Arc::new(JoinInner {
            slot: Mutex::new(Slot::Running(None)),
        });
        let completer = Completer(inner.clone());
        let body: Entry = Box::new(move || {
            let r = panic::catch_unwind(AssertUnwindSafe(f));
            match r {
                Ok(v) => completer.0.finish(Ok(v)),
                // Shutdown unwinds parked goroutines with a private panic payload: let it pass.
                Err(p) if worker::tearing_down() => panic::resume_unwind(p),
                Err(p) => completer.0.finish(Err(JoinError::Panicked(p))),
            }
        });
        let g = Arc::new(Goroutine::new(rt.clone(), self, site, Some(body)));
        let id = g.id;
        rt.submit(g);
        Ok(JoinHandle { inner, id })
    }
}

/// Starts `f` as a new goroutine and returns a handle to join it (Go's `go` statement).
///
/// The closure must be `Send + 'static`: it moves to the worker that starts it, and from then
/// on the goroutine never changes thread. A closure that is not `Send` does not compile:
///
/// ```compile_fail
/// goro::run(|| {
///     let rc = std::rc::Rc::new(1);
///     goro::go(move || *rc + 1).join().unwrap();
/// })
/// .unwrap();
/// ```
///
/// # Panics
///
/// Outside a runtime (not on a goroutine): use [`Handle::go`] or [`Builder::spawn_on`] from
/// plain threads.
///
/// # Examples
///
/// ```
/// let sum = goro::run(|| {
///     let hs: Vec<_> = (0..10u64).map(|i| goro::go(move || i * i)).collect();
///     hs.into_iter().map(|h| h.join().unwrap()).sum::<u64>()
/// })
/// .unwrap();
/// assert_eq!(sum, 285);
/// ```
#[track_caller]
#[doc(alias = "newproc")]
pub fn go<F, T>(f: F) -> JoinHandle<T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    match Builder::new().spawn(f) {
        Ok(h) => h,
        Err(e) => panic!("goro::go: {}", e.reason),
    }
}
