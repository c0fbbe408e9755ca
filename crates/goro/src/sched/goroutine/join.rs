//! Joining a goroutine: its result slot, [`JoinHandle`] and [`JoinError`], and the task that
//! runs its closure into the slot.
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
//!    own stack inside `catch_unwind`. A panic in a result nobody takes is not just dropped:
//!    it ends the run (`panics.rs`). Either way the result never drops with the last
//!    reference to the goroutine, which may go on a worker's own stack (DESIGN, "What goro
//!    promises at its edges"). (WAITING: a join unwound while parked; the handle takes its
//!    unparker back.)

use super::*;

/// Why a goroutine did not produce a value.
pub enum JoinError {
    /// It panicked; the payload is the panic's.
    Panicked(Box<dyn Any + Send + 'static>),
    /// The runtime shut down (its `run` returned) before the goroutine finished; the goroutine
    /// was unwound, or never started.
    Cancelled,
    /// The goroutine never started: the system refused memory for its stack (an address-space
    /// limit, or the limit on memory mappings). Its closure was dropped.
    NoStack(std::io::Error),
}

impl JoinError {
    /// The panic message, when the payload is a string.
    pub fn panic_message(&self) -> Option<&str> {
        match self {
            JoinError::Panicked(p) => payload_message(&**p),
            JoinError::Cancelled | JoinError::NoStack(_) => None,
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
            JoinError::NoStack(e) => write!(f, "NoStack({e:?})"),
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
            JoinError::NoStack(e) => {
                write!(f, "goroutine not started: no memory for its stack: {e}")
            }
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
pub(super) struct JoinSlot<T> {
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
        if let Err(p) = panic::catch_unwind(AssertUnwindSafe(move || {
            if let Some(Err(e)) = r {
                super::panics::unjoined(e); // a panic nobody will join ends the run
            }
        })) {
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
                if let Some(Err(e)) = unsafe { (*self.result.get()).take() } {
                    super::panics::unjoined(e); // a panic nobody joined ends the run
                }
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
                        return match r {
                            Some(Ok(v)) => Ok(v),
                            Some(Err(e)) => Err(super::panics::for_joiner(e)),
                            None => Err(JoinError::Cancelled),
                        };
                    }
                }
                J_TAKEN => return Err(JoinError::Cancelled),
                J_WAITING => park_quiet(), // woken spuriously: the waiter is already in place
                _ => {
                    // SAFETY: the state is RUNNING, so `waiter` is empty and the goroutine reads
                    // it only after it sees WAITING, which only the CAS below publishes.
                    unsafe { (*self.waiter.get()).write(Unparker::current()) };
                    crate::wait::reason::set(crate::wait::reason::WaitReason::Join);
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
pub(super) struct Spawned<F, T> {
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
    pub(super) fn new(f: F) -> Self {
        Spawned {
            f: UnsafeCell::new(Some(f)),
            join: JoinSlot::new(),
        }
    }

    pub(super) fn claim(&self) -> Option<F> {
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
            Err(p) => self
                .join
                .complete(Err(JoinError::Panicked(super::panics::caught(p)))),
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

    fn refuse(&self, why: std::io::Error) {
        if let Some(f) = self.claim() {
            // This runs on a plain thread (or a worker's own stack), where no shutdown unwind
            // is ever thrown: a `Drop` that panics is caught and its payload dropped.
            if let Err(p) = panic::catch_unwind(AssertUnwindSafe(move || drop(f))) {
                drop_payload(p);
            }
            self.join.complete(Err(JoinError::NoStack(why)));
        }
    }
}

/// The join slot's view of a goroutine, whatever its closure type.
pub(super) trait Joinable<T>: Send + Sync {
    fn slot(&self) -> &JoinSlot<T>;
}

impl<F: Send, T: Send> Joinable<T> for Spawned<F, T> {
    fn slot(&self) -> &JoinSlot<T> {
        &self.join
    }
}

// `GoroutineHeader<dyn Joinable<T>>` needs `dyn Joinable<T>: Task` to satisfy the header's bound; it
// is never run through this view.
impl<T> Task for dyn Joinable<T> {
    fn run(&self) {}
    fn cancel(&self) {}
}

/// An owned permission to wait for a goroutine and take its result. Dropping it detaches the
/// goroutine, which keeps running.
pub struct JoinHandle<T> {
    pub(super) g: Arc<GoroutineHeader<dyn Joinable<T>>>,
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
