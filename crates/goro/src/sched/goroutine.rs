//! Goroutines: the shared header, `go`, [`Builder`] and [`JoinHandle`].
//!
//! A goroutine is two things:
//!
//! * its **header** ([`Goroutine`], behind an `Arc`): id, name, spawn site, park state, home
//!   worker, and its [`Task`]: the closure until it starts, then the join slot holding its
//!   result. Header, closure and join slot are one allocation; the [`JoinHandle`] holds the
//!   same `Arc` through another trait-object view. This is what queues and wait lists hold and
//!   what crosses threads.
//! * its **fiber** (coroutine + stack, `stack::switch::Fiber`): created by the worker that first
//!   runs it, kept in that worker's slab, never moved (see `stack::switch` for why).
//!
//! `go` moves the closure into the header and pushes the header onto the spawning worker's
//! queue of unstarted goroutines (or onto the global queue from a plain thread). The worker
//! that starts it runs [`Task::run`] on the goroutine's stack: the closure's result, or its
//! panic, lands in the join slot; a panic is caught there and never reaches the worker.
//!
//! # The join slot protocol
//!
//! `state` is RUNNING, WAITING (a joiner registered its unparker), DETACHED (the handle was
//! dropped), DONE (the result is written) or TAKEN (the joiner took it).
//!
//! 1. The goroutine writes `result` while the state is RUNNING or WAITING (nobody reads it
//!    then), then swaps the state to DONE (AcqRel: the joiner's Acquire sees the result). If
//!    the old state was WAITING it moves the waiter's unparker out and unparks it.
//! 2. The joiner loads the state (Acquire). On DONE it CASes DONE -> TAKEN and owns `result`.
//!    On WAITING (a spurious wake-up) it parks again. On RUNNING it writes its unparker into
//!    `waiter`, then CASes RUNNING -> WAITING; if that fails the state is DONE: it drops the
//!    unparker it wrote (the goroutine never saw it) and goes to 2; else it parks and goes to 2
//!    when woken. Writing the waiter before publishing WAITING means the goroutine that sees
//!    WAITING always finds it, and `waiter` is touched by one side at a time.
//! 3. A handle dropped without a join swaps the state to DETACHED (AcqRel). If it was DONE,
//!    the result is the handle's to drop, there, in its owner's code. If it was RUNNING, the
//!    goroutine's swap in step 1 reads DETACHED and drops the result where it made it, on its
//!    own stack inside `catch_unwind`. Either way the result never drops with the last
//!    reference to the goroutine, which may go on a worker's own stack (DESIGN, "What goro
//!    promises at its edges"). (WAITING: a join unwound while parked; the handle takes its
//!    unparker back.)

use std::any::Any;
use std::cell::UnsafeCell;
use std::fmt;
use std::mem::MaybeUninit;
use std::panic::{self, AssertUnwindSafe, Location};
use std::sync::atomic::{AtomicPtr, AtomicU32, AtomicU64, AtomicU8, Ordering};
use std::sync::Arc;

use super::park::{park_quiet, ParkState, Unparker};
use super::runtime::{Handle, Home, Shared};
use super::worker;
use crate::stack::switch::{drop_payload, is_shutdown_unwind};

/// Go numbers goroutines from 1 (the main goroutine); so does goro, process-wide.
static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// `Goroutine::slot` of a goroutine that has not started.
pub(crate) const NOT_STARTED: u32 = u32::MAX;

/// Takes `n` consecutive goroutine ids from the process-wide counter.
pub(crate) fn take_ids(n: u64) -> u64 {
    NEXT_ID.fetch_add(n, Ordering::Relaxed)
}

/// A set-once link to the home worker: an `Arc<Home>` kept as a raw pointer, so that reading
/// it is one load (a `OnceLock` costs a `Once` call to set, on every goroutine start).
pub(crate) struct HomeCell(AtomicPtr<Home>);

impl HomeCell {
    /// Records the home worker; only the first call has an effect.
    pub(crate) fn set(&self, home: Arc<Home>) {
        let p = Arc::into_raw(home).cast_mut();
        // Release: pairs with the Acquire in `get`, so readers see an initialised `Home`.
        if self
            .0
            .compare_exchange(
                std::ptr::null_mut(),
                p,
                Ordering::Release,
                Ordering::Relaxed,
            )
            .is_err()
        {
            // SAFETY: `p` came from `Arc::into_raw` just above and was not stored.
            drop(unsafe { Arc::from_raw(p) });
        }
    }

    /// The home worker, once the goroutine has started.
    pub(crate) fn get(&self) -> Option<&Home> {
        let p = self.0.load(Ordering::Acquire);
        // SAFETY: a non-null pointer came from `Arc::into_raw` in `set` and is released only
        // when the cell is dropped, which cannot happen while `&self` is borrowed.
        unsafe { p.as_ref() }
    }
}

impl Drop for HomeCell {
    fn drop(&mut self) {
        let p = *self.0.get_mut();
        if !p.is_null() {
            // SAFETY: the pointer came from `Arc::into_raw` in `set`; this is its only release.
            drop(unsafe { Arc::from_raw(p) });
        }
    }
}

/// What a goroutine runs, seen from the scheduler: its closure and join slot, type-erased.
pub(crate) trait Task: Send + Sync {
    /// Runs the closure on the goroutine's own stack and fills the join slot. Only the first
    /// call (from the worker that starts the goroutine) does anything.
    fn run(&self);
    /// Drops the closure of a goroutine that will never start; its join reports `Cancelled`.
    /// Does nothing once the goroutine has started. A `Drop` that panics is caught.
    fn cancel(&self);
    /// Shutdown gave up the started goroutine (it would not unwind): a joiner hears
    /// `Cancelled`.
    fn abandon(&self) {}
}

/// The main goroutine's task: its closure need not be `Send`, so it is not kept here; the
/// runtime gives it straight to worker 0's fiber.
impl Task for () {
    fn run(&self) {}
    fn cancel(&self) {}
}

/// The shared header of one goroutine; `P` is its task (`dyn Task` once erased).
///
/// `repr(C)`, with the fields that every switch touches first: `home` to `timer_gen` are 32
/// bytes right after the `Arc`'s two counters. A ring of goroutines handing a value on touches,
/// per hop, the next goroutine's `home`, `slot`, `park` and `waker` (to wake it) and its `site`
/// and `id` (to resume it); in Rust's own order they fell on two cache lines of every header,
/// and now share one in most (see `the_fields_of_a_switch_come_first`).
#[repr(C)]
pub(crate) struct Goroutine<P: ?Sized + Task = dyn Task> {
    /// The worker it runs on, recorded by that worker the first time an [`Unparker`] is made
    /// for the goroutine (`Unparker::current`), which is the only way another thread can come
    /// to wake it. Goroutines that never wait never pay for it. Holding the home worker's own
    /// `Arc` rather than the runtime's keeps spawning from bouncing one reference count
    /// between cores.
    pub(crate) home: HomeCell,
    /// Where `go` was called (`#[track_caller]`).
    pub(crate) site: &'static Location<'static>,
    /// Unique in the process, never reused.
    pub(crate) id: u64,
    /// Index in the home worker's fiber slab, [`NOT_STARTED`] before a worker starts it. Read
    /// and written only by the worker holding the goroutine (it reaches a worker through a
    /// queue, whose hand-off orders the writes).
    pub(crate) slot: AtomicU32,
    /// The park protocol's state word (see `sched::park`).
    pub(crate) park: ParkState,
    /// Why it is parked (a `WaitReason`), written by itself before it parks.
    pub(crate) wait: AtomicU8,
    /// The worker whose goroutine woke it last, plus one (0: none, or a plain thread): where
    /// the goroutines it spawns are started (see `worker::push_fresh`).
    pub(crate) waker: AtomicU8,
    /// The generation of its timer wake-ups (`sched::timers`): a wake-up armed with an older
    /// value is stale. Read and written only on its home worker. 8 bits keep the header in
    /// two cache lines (with `waker`); a wrap-around, after 256 wake-ups armed and left
    /// behind, can only make a stale entry wake the goroutine spuriously, which every waiter
    /// tolerates.
    pub(crate) timer_gen: AtomicU8,
    /// The goroutine that spawned this one (0: spawned from a plain thread).
    pub(crate) parent: u64,
    /// Set with [`Builder::name`]; boxed so that unnamed goroutines pay one word, not three.
    #[allow(clippy::box_collection)]
    pub(crate) name: Option<Box<String>>,
    /// Usable stack bytes (at most 1 GiB); 0 means the runtime's default.
    pub(crate) stack_size: u32,
    /// Its place in the local FIFO order of the worker that queued it last (see
    /// `worker::Local::pop_local`); written when it is queued on a worker.
    pub(crate) qseq: AtomicU32,
    /// Its closure and join slot.
    pub(crate) task: P,
}

impl<P: ?Sized + Task> fmt::Debug for Goroutine<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Goroutine")
            .field("id", &self.id)
            .field("name", &self.name)
            .field("parent", &self.parent)
            .field("site", &format_args!("{}", self.site))
            .finish_non_exhaustive()
    }
}

impl<P: Task> Goroutine<P> {
    /// Inlined: it is on spawn's common path (with a second, cold caller, `never_started`,
    /// that would otherwise make it a call).
    #[inline(always)]
    pub(crate) fn new(b: Builder, site: &'static Location<'static>, task: P) -> Self {
        let (id, parent) = worker::new_goroutine_ids();
        Goroutine {
            id,
            parent,
            name: b.name.map(Box::new),
            site,
            // Checked against MAX_STACK (1 GiB) by `spawn_at`; the runtime's own is checked too.
            stack_size: b
                .stack_size
                .map_or(0, |n| u32::try_from(n).unwrap_or(u32::MAX)),
            park: ParkState::new(),
            home: HomeCell(AtomicPtr::new(std::ptr::null_mut())),
            slot: AtomicU32::new(NOT_STARTED),
            qseq: AtomicU32::new(0),
            timer_gen: AtomicU8::new(0),
            wait: AtomicU8::new(0),
            waker: AtomicU8::new(0),
            task,
        }
    }
}

/// The message of a panic payload, when it is a string (`panic!` makes a `&str` or a `String`).
pub(crate) fn payload_message(p: &(dyn Any + Send)) -> Option<&str> {
    p.downcast_ref::<&'static str>()
        .copied()
        .or_else(|| p.downcast_ref::<String>().map(String::as_str))
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
            JoinError::Panicked(p) => payload_message(&**p),
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

const J_RUNNING: u8 = 0;
const J_WAITING: u8 = 1;
/// The handle was dropped before the goroutine finished: its result is dropped where it is
/// made, on the goroutine (see [`JoinSlot::complete`]).
const J_DETACHED: u8 = 2;
const J_DONE: u8 = 3;
const J_TAKEN: u8 = 4;

/// Where a goroutine's result waits for its joiner; see "The join slot protocol" above.
struct JoinSlot<T> {
    state: AtomicU8,
    /// The closure's stage (see `Spawned::claim`); kept here to share the padding.
    stage: AtomicU8,
    result: UnsafeCell<Option<Result<T, JoinError>>>,
    /// Initialised by the joiner only while `state` is RUNNING, moved out by the goroutine only
    /// after it saw WAITING (steps 1 and 2), so never touched by both at once; it holds a value
    /// exactly while the state is WAITING. (`MaybeUninit` rather than `Option` saves the word
    /// that keeps a small goroutine within two cache lines.)
    waiter: UnsafeCell<MaybeUninit<Unparker>>,
}

impl<T> JoinSlot<T> {
    fn new() -> Self {
        JoinSlot {
            state: AtomicU8::new(J_RUNNING),
            stage: AtomicU8::new(UNSTARTED),
            result: UnsafeCell::new(None),
            waiter: UnsafeCell::new(MaybeUninit::uninit()),
        }
    }

    /// Step 1. Called at most once, by the goroutine's task (or by shutdown for a goroutine
    /// it abandoned, which never runs again).
    #[inline]
    fn complete(&self, r: Result<T, JoinError>) {
        let needs_drop = std::mem::needs_drop::<T>() || r.is_err();
        // SAFETY: the state is RUNNING, WAITING or DETACHED (only `complete` moves it to DONE,
        // and it runs once), so no joiner reads `result` now (step 2 reads it only after DONE).
        unsafe { *self.result.get() = Some(r) };
        // AcqRel: Release publishes the result to the joiner's Acquire; Acquire pairs with
        // the joiner's CAS to WAITING, so the waiter it stored is visible.
        match self.state.swap(J_DONE, Ordering::AcqRel) {
            J_WAITING => self.wake_joiner(),
            // Nothing to drop for a value without drop glue (skynet's `()`).
            J_DETACHED if needs_drop => self.drop_detached(),
            _ => {}
        }
    }

    /// Step 1 when the handle is gone: nobody will take the result, so it is dropped here,
    /// where the goroutine made it, rather than wherever the last reference to the goroutine
    /// happens to go (a worker's own stack). A `Drop` that panics is caught here.
    #[cold]
    #[inline(never)]
    fn drop_detached(&self) {
        // SAFETY: the handle detached before DONE (its swap to DETACHED came first in the
        // state's order, which our AcqRel swap read), so it will never read `result`; we
        // wrote it just before and nobody else touches it.
        let r = unsafe { (*self.result.get()).take() };
        if let Err(p) = panic::catch_unwind(AssertUnwindSafe(move || drop(r))) {
            pass_shutdown_unwind(p);
        }
    }

    /// The handle is dropped without joining: a result already made is dropped here, by the
    /// handle's owner; one still to come will be dropped by the goroutine (`drop_detached`).
    fn detach(&self) {
        // Step 3. AcqRel: Release orders before the goroutine's swap in `complete` that reads
        // DETACHED (so it drops the result itself); Acquire pairs with its swap to DONE when
        // that came first (so the result it wrote is visible here).
        match self.state.swap(J_DETACHED, Ordering::AcqRel) {
            J_WAITING => {
                // A join unwound while parked left its unparker; the goroutine will not take
                // it now.
                // SAFETY: WAITING means it is initialised, and our swap took it back from the
                // goroutine, which moves it out only after reading WAITING.
                unsafe { (*self.waiter.get()).assume_init_drop() };
            }
            J_DONE => {
                // SAFETY: the goroutine wrote the result before DONE and never touches it
                // again; no joiner exists any more.
                drop(unsafe { (*self.result.get()).take() });
            }
            _ => {}
        }
    }

    /// Step 1's end when a joiner waits: wakes it. Out of line, so that the common case (no
    /// joiner yet) stays small enough to inline.
    #[cold]
    #[inline(never)]
    fn wake_joiner(&self) {
        // SAFETY: `complete` swapped WAITING -> DONE, so the joiner initialised `waiter` before
        // its CAS to WAITING (which that AcqRel swap read) and will not touch it again; we move
        // the value out exactly once (the state is DONE now).
        let w = unsafe { (*self.waiter.get()).assume_init_read() };
        w.unpark();
    }

    /// Step 2. Called by the one joiner (`JoinHandle::join` takes `self`).
    fn join(&self) -> Result<T, JoinError> {
        loop {
            match self.state.load(Ordering::Acquire) {
                J_DONE => {
                    if self
                        .state
                        .compare_exchange(J_DONE, J_TAKEN, Ordering::Acquire, Ordering::Relaxed)
                        .is_ok()
                    {
                        // SAFETY: we moved DONE -> TAKEN: the goroutine wrote the result before
                        // DONE and never touches it again; we are the only joiner.
                        let r = unsafe { (*self.result.get()).take() };
                        return r.unwrap_or(Err(JoinError::Cancelled));
                    }
                }
                J_TAKEN => return Err(JoinError::Cancelled),
                J_WAITING => park_quiet(), // woken spuriously: the waiter is already in place
                _ => {
                    // SAFETY: the state is RUNNING, so `waiter` is empty and the goroutine reads
                    // it only after it sees WAITING, which only the CAS below publishes.
                    unsafe { (*self.waiter.get()).write(Unparker::current()) };
                    super::wait::set(super::wait::WaitReason::Join);
                    let r = self.state.compare_exchange(
                        J_RUNNING,
                        J_WAITING,
                        Ordering::AcqRel,
                        Ordering::Acquire,
                    );
                    if r.is_ok() {
                        park_quiet();
                    } else {
                        // DONE meanwhile: the goroutine never saw WAITING, so the unparker is
                        // still ours to drop; take the result on the next turn.
                        // SAFETY: initialised just above and not published.
                        unsafe { (*self.waiter.get()).assume_init_drop() };
                    }
                }
            }
        }
    }

    fn is_finished(&self) -> bool {
        self.state.load(Ordering::Acquire) >= J_DONE
    }

    /// A join ends with `Cancelled` if the goroutine has not finished (shutdown abandoned it).
    fn abandon(&self) {
        if self.stage.load(Ordering::Acquire) == CLAIMED && !self.is_finished() {
            self.complete(Err(JoinError::Cancelled));
        }
    }
}

/// After catching a panic from a `Drop` that goro runs for the program: shutdown's unwind
/// (thrown into a goroutine whose destructor parked) goes on; any other payload is dropped.
fn pass_shutdown_unwind(p: Box<dyn Any + Send>) {
    if is_shutdown_unwind(&*p) {
        panic::resume_unwind(p);
    }
    drop_payload(p);
}

/// The task of a goroutine spawned with `go`: the closure until it starts, then the result.
struct Spawned<F, T> {
    /// The closure: `join.stage` is UNSTARTED until `run` or `cancel` claims it with a swap.
    f: UnsafeCell<Option<F>>,
    join: JoinSlot<T>,
}

const UNSTARTED: u8 = 0;
const CLAIMED: u8 = 1;

// SAFETY: `f` is touched only by the one thread that wins the `stage` swap (it moves `F: Send`
// out, possibly to another thread than the spawner's); `join.result` is handed from the
// goroutine to the joiner by the join slot protocol (`T: Send`), and so is `join.waiter` from
// the joiner to the goroutine (`Unparker: Send`). Everything else is atomics.
unsafe impl<F: Send, T: Send> Sync for Spawned<F, T> {}

impl<F, T> Spawned<F, T> {
    /// The task of a goroutine that will run `f`.
    fn new(f: F) -> Self {
        Spawned {
            f: UnsafeCell::new(Some(f)),
            join: JoinSlot::new(),
        }
    }

    fn claim(&self) -> Option<F> {
        if self.join.stage.swap(CLAIMED, Ordering::Acquire) != UNSTARTED {
            return None;
        }
        // SAFETY: we won the swap; nobody else ever reads or writes `f`.
        unsafe { (*self.f.get()).take() }
    }
}

impl<F, T> Task for Spawned<F, T>
where
    F: FnOnce() -> T + Send,
    T: Send,
{
    fn run(&self) {
        let Some(f) = self.claim() else { return };
        match panic::catch_unwind(AssertUnwindSafe(f)) {
            Ok(v) => self.join.complete(Ok(v)),
            // Shutdown's unwind (it was parked when the runtime stopped): it ends here, with
            // its destructors run; the joiner hears `Cancelled`.
            Err(p) if is_shutdown_unwind(&*p) => {
                drop_payload(p);
                self.join.complete(Err(JoinError::Cancelled));
            }
            Err(p) => self.join.complete(Err(JoinError::Panicked(p))),
        }
    }

    fn cancel(&self) {
        if let Some(f) = self.claim() {
            // What the closure captured drops here, perhaps on a worker's own stack at
            // shutdown: a `Drop` that panics must not unwind it.
            if let Err(p) = panic::catch_unwind(AssertUnwindSafe(move || drop(f))) {
                pass_shutdown_unwind(p);
            }
            self.join.complete(Err(JoinError::Cancelled));
        }
    }

    fn abandon(&self) {
        self.join.abandon();
    }
}

/// The join slot's view of a goroutine, whatever its closure type.
trait Joinable<T>: Send + Sync {
    fn slot(&self) -> &JoinSlot<T>;
}

impl<F: Send, T: Send> Joinable<T> for Spawned<F, T> {
    fn slot(&self) -> &JoinSlot<T> {
        &self.join
    }
}

// `Goroutine<dyn Joinable<T>>` needs `dyn Joinable<T>: Task` to satisfy the header's bound; it
// is never run through this view.
impl<T> Task for dyn Joinable<T> {
    fn run(&self) {}
    fn cancel(&self) {}
}

/// An owned permission to wait for a goroutine and take its result. Dropping it detaches the
/// goroutine, which keeps running.
pub struct JoinHandle<T> {
    g: Arc<Goroutine<dyn Joinable<T>>>,
}

impl<T> fmt::Debug for JoinHandle<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinHandle")
            .field("id", &self.g.id)
            .finish()
    }
}

/// Detaches: the goroutine runs on, and its result is dropped when it is made (or here, if it
/// is made already) rather than wherever the goroutine's last reference goes.
impl<T> Drop for JoinHandle<T> {
    fn drop(&mut self) {
        self.g.task.slot().detach();
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
        self.g.task.slot().join()
    }

    /// True once the goroutine has returned, panicked or been cancelled.
    pub fn is_finished(&self) -> bool {
        self.g.task.slot().is_finished()
    }

    /// The goroutine's id.
    pub fn id(&self) -> u64 {
        self.g.id
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
    /// The OS refused the thread of a dedicated goroutine (`Builder::dedicated`).
    NoThread,
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
            SpawnErrorKind::NoThread => {
                write!(f, "the OS refused a thread for a dedicated goroutine")
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
    dedicated: bool,
}

thread_local! {
    /// On a dedicated goroutine's thread (`Builder::dedicated`): its runtime, so that `go`
    /// there spawns onto it.
    static DEDICATED: std::cell::RefCell<Option<Arc<Shared>>> = const { std::cell::RefCell::new(None) };
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

    /// Runs the goroutine on an OS thread of its own instead of a worker: the escape hatch
    /// for a loop that computes for long without calling goro (which goro cannot preempt,
    /// and which would hold up every goroutine of its worker). Everything goro offers works
    /// there as on any plain thread: channels, `select!`, timers, `sync`, sockets and joins
    /// block that thread, and `go` spawns onto the runtime. It is not a goroutine of the
    /// runtime for the rest: `current_id` is `None` there, dumps do not list it, and `run`
    /// does not wait for it or unwind it (a thread is never interrupted); being a thread
    /// goro cannot see into, it keeps the deadlock report from being fatal while it lives.
    /// The stack size is the OS thread's (`stack_size`, or std's default).
    ///
    /// # Examples
    ///
    /// ```
    /// let n = goro::run(|| {
    ///     let (tx, rx) = goro::chan(0);
    ///     let crunch = goro::Builder::new()
    ///         .name("crunch")
    ///         .dedicated(true)
    ///         .spawn(move || {
    ///             let sum: u64 = (0..10_000_000u64).map(std::hint::black_box).sum();
    ///             tx.send(sum).unwrap(); // a goro channel, from its own thread
    ///             goro::go(|| 1).join().unwrap() // and goroutines, spawned onto the runtime
    ///         })
    ///         .unwrap();
    ///     let sum = rx.recv().unwrap();
    ///     crunch.join().unwrap() + (sum > 0) as u64
    /// })
    /// .unwrap();
    /// assert_eq!(n, 2);
    /// ```
    pub fn dedicated(mut self, on: bool) -> Self {
        self.dedicated = on;
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
        let dedicated = || DEDICATED.with(|d| d.borrow().clone());
        worker::with_runtime(move |rt| match rt {
            Some(rt) => self.spawn_at(rt, f, site),
            None => match dedicated() {
                Some(rt) => self.spawn_at(&rt, f, site),
                None => Err(SpawnError {
                    reason: SpawnErrorKind::NoRuntime,
                    closure: f,
                }),
            },
        })
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
        if self.dedicated {
            return spawn_dedicated(self, rt, f, site);
        }
        let task = Spawned::new(f);
        let g = Arc::new(Goroutine::new(self, site, task));
        let joinable: Arc<Goroutine<dyn Joinable<T>>> = g.clone();
        rt.submit(g);
        Ok(JoinHandle { g: joinable })
    }
}

/// See [`Builder::dedicated`]. The goroutine's task runs on the new thread as it would on a
/// fiber: the closure's value or panic lands in the join slot (`Task::run` needs no fiber).
/// The thread's name does not start with `goro-`, so the deadlock proof counts it as a thread
/// that may still wake a goroutine, which it is.
fn spawn_dedicated<F, T>(
    b: Builder,
    rt: &Arc<Shared>,
    f: F,
    site: &'static Location<'static>,
) -> Result<JoinHandle<T>, SpawnError<F>>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    let mut thread = std::thread::Builder::new().name(format!(
        "dedicated {}",
        b.name.as_deref().unwrap_or("goroutine")
    ));
    if let Some(n) = b.stack_size {
        thread = thread.stack_size(n);
    }
    let task = Spawned::new(f);
    let g = Arc::new(Goroutine::new(b, site, task));
    let joinable: Arc<Goroutine<dyn Joinable<T>>> = g.clone();
    let (g2, rt2) = (g.clone(), rt.clone());
    let started = thread.spawn(move || {
        DEDICATED.with(|d| *d.borrow_mut() = Some(rt2));
        g2.task.run();
        DEDICATED.with(|d| d.borrow_mut().take());
    });
    match started {
        Ok(_) => Ok(JoinHandle { g: joinable }),
        Err(_) => match g.task.claim() {
            Some(f) => {
                drop(joinable);
                Err(SpawnError {
                    reason: SpawnErrorKind::NoThread,
                    closure: f,
                })
            }
            None => unreachable!("goro: a dedicated goroutine whose thread never started ran"),
        },
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
/// Once the runtime is shutting down (its main goroutine has returned), `go` still returns a
/// handle, but the goroutine never runs: `f` is dropped and `join` says
/// [`JoinError::Cancelled`].
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
        Err(e) if e.reason == SpawnErrorKind::ShutDown => never_started(e.closure),
        Err(e) => panic!("goro::go: {}", e.reason),
    }
}

/// The handle of a goroutine that will never run, because its runtime has shut down: as in
/// Go, where a `go` statement never fails and what it starts after `main` returns never
/// runs. The closure is dropped here (a `Drop` that panics is caught); the join says
/// `Cancelled`. This is what lets a destructor that spawns run during shutdown's unwind.
#[track_caller]
pub(crate) fn never_started<F, T>(f: F) -> JoinHandle<T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    let task = Spawned::new(f);
    let g = Arc::new(Goroutine::new(Builder::new(), Location::caller(), task));
    g.task.cancel();
    JoinHandle { g }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A goroutine whose closure captures one `Arc` and returns `()` fits, with the `Arc`'s
    /// two counters, in two cache lines: the header is what crosses cores on every spawn and
    /// what every parked goroutine keeps on the heap.
    #[test]
    fn a_small_goroutine_fits_two_cache_lines() {
        fn size_with<F: FnOnce() + Send>(_: &F) -> usize {
            std::mem::size_of::<Goroutine<Spawned<F, ()>>>()
        }
        let a = Arc::new(1u8);
        let f = move || drop(a);
        assert!(
            size_with(&f) + 16 <= 128,
            "header is {} bytes",
            size_with(&f)
        );
    }

    /// The fields a switch touches are the header's first 32 bytes, so they share one cache
    /// line in every header that a 32-byte boundary starts (see `Goroutine`).
    #[test]
    fn the_fields_of_a_switch_come_first() {
        type G = Goroutine<Spawned<fn(), ()>>;
        let hot = [
            std::mem::offset_of!(G, home),
            std::mem::offset_of!(G, site),
            std::mem::offset_of!(G, id),
            std::mem::offset_of!(G, slot),
            std::mem::offset_of!(G, park),
            std::mem::offset_of!(G, wait),
            std::mem::offset_of!(G, waker),
            std::mem::offset_of!(G, timer_gen),
        ];
        assert!(hot.iter().all(|&o| o < 32), "offsets {hot:?}");
        assert!(std::mem::offset_of!(G, parent) >= 32);
    }
}
