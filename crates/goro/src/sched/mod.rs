//! The scheduler: goroutines, workers, run queues, timers and the monitor.
//!
//! This folder owns everything about *who runs where*:
//!
//! * [`runtime`]: the shared state of a runtime and its wake-up protocol (`mod.rs`); `run`,
//!   its builder and [`Handle`](runtime::Handle) (`run.rs`).
//! * [`goroutine`]: the goroutine header; the join slot (`join.rs`); `go` and `Builder`
//!   (`spawn.rs`).
//! * [`worker`]: the worker loop, one concern a file: queues, stealing, idle and sleep,
//!   timers, the fiber slab, what a goroutine asks of its worker, dumps, tracing.
//! * Parking (the park/unpark protocol, waiters, wait reasons) is the crate's `wait/` folder,
//!   shared with channels, sync and I/O.
//! * [`placement`]: where a goroutine starts (it never moves after), and which parked
//!   receiver a send wakes: the rules as pure functions.
//! * [`timers`]: the per-worker timer heap behind `time::sleep`, firing other modules'
//!   entries through its `Due` trait.
//! * [`monitor`]: the watchdog thread (hogs, overdue timers, deadlocks); [`trace`]: the
//!   execution tracer's events and JSON.
//!
//! The shape follows Go's `proc.go` (docs/DESIGN.md, "Go's scheduler shape"): one worker per
//! core, a local queue and a `runnext` slot per worker, a global queue checked every 61st
//! tick, idle workers that spin and steal before sleeping on a futex. It differs in one place,
//! on purpose ("Pinned once started"): a goroutine that has started never changes worker, so
//! only *unstarted* goroutines are stolen, and a goroutine woken from another thread is sent
//! back to its home worker's inbox.

pub(crate) mod goroutine;
pub(crate) mod monitor;
pub(crate) mod placement;
pub(crate) mod runtime;
pub(crate) mod timers;
pub(crate) mod trace;
pub(crate) mod worker;

/// One unit of a process-wide count (armed timers, goroutines waiting for I/O, blocking calls
/// in flight), held for as long as the thing it counts lasts, so the count cannot drift when
/// a stack unwinds or a timer entry is dropped instead of fired.
pub(crate) struct Counted(&'static std::sync::atomic::AtomicUsize);

impl Counted {
    pub(crate) fn new(count: &'static std::sync::atomic::AtomicUsize) -> Self {
        count.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        Counted(count)
    }
}

impl Drop for Counted {
    fn drop(&mut self) {
        self.0.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
    }
}

/// Gives up the worker so other goroutines can run; the caller goes to the back of its
/// worker's queue and resumes later (Go's `runtime.Gosched`). On a plain OS thread it is
/// `std::thread::yield_now`.
///
/// # Examples
///
/// ```
/// goro::run(|| {
///     let h = goro::go(|| 1);
///     while !h.is_finished() {
///         goro::yield_now();
///     }
/// })
/// .unwrap();
/// ```
#[doc(alias = "Gosched")]
pub fn yield_now() {
    if !worker::yield_current() {
        std::thread::yield_now();
    }
}

/// How many goroutines the calling goroutine's runtime has alive now, counting the caller and
/// the main goroutine (Go's `runtime.NumGoroutine`); 0 on a plain OS thread. The same count as
/// [`debug::goroutines_count`](crate::debug::goroutines_count).
///
/// # Examples
///
/// ```
/// goro::run(|| {
///     assert_eq!(goro::num_goroutine(), 1); // main
///     let (tx, rx) = goro::chan::<()>(0);
///     let h = goro::go(move || rx.recv());
///     goro::yield_now();
///     assert_eq!(goro::num_goroutine(), 2);
///     drop(tx);
///     h.join().unwrap().unwrap_err();
/// })
/// .unwrap();
/// assert_eq!(goro::num_goroutine(), 0);
/// ```
#[doc(alias = "NumGoroutine")]
pub fn num_goroutine() -> usize {
    crate::debug::goroutines_count()
}

/// The id of the calling goroutine (the main goroutine of the first runtime is 1), or `None`
/// on a plain OS thread.
///
/// # Examples
///
/// ```
/// goro::run(|| assert!(goro::current_id().is_some())).unwrap();
/// assert_eq!(goro::current_id(), None);
/// ```
pub fn current_id() -> Option<u64> {
    worker::current_goroutine_id()
}

/// The name of the calling goroutine, if it has one (the main goroutine is `"main"`).
pub fn current_name() -> Option<String> {
    worker::current_goroutine_name()
}

/// How many workers (OS threads running goroutines) the calling goroutine's runtime has: Go's
/// `GOMAXPROCS`. `None` outside a runtime.
///
/// ```
/// goro::Runtime::builder()
///     .workers(3)
///     .run(|| assert_eq!(goro::workers(), Some(3)))
///     .unwrap();
/// assert_eq!(goro::workers(), None);
/// ```
#[doc(alias = "GOMAXPROCS")]
pub fn workers() -> Option<usize> {
    worker::with_runtime(|rt| rt.map(|rt| rt.workers.len()))
}
