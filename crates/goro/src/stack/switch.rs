//! The context switch: a goroutine's body runs as a `corosensei` coroutine on a pooled stack.
//!
//! # Why this is sound (docs/DESIGN.md, "Pinned once started": a goroutine never changes OS thread)
//!
//! Moving a suspended stack to another OS thread is undefined behaviour in Rust: code on that
//! stack may hold references into the old thread's thread-local storage, and LLVM may have
//! cached the address of a thread-local across the suspension point. goro therefore never
//! moves a started goroutine:
//!
//! * `go` requires `F: Send + 'static`. The closure crosses threads *before* it starts, as a
//!   plain value inside the goroutine's header; that is exactly what `Send` permits.
//! * A [`Fiber`] (the coroutine and its stack) is created by the worker that first runs the
//!   goroutine, is stored in that worker's own slab (a `!Send` structure living on the worker's
//!   thread), is resumed only there, and is dropped there (at exit or at shutdown). `Fiber`
//!   holds a `corosensei::Coroutine` and a raw pointer, so the compiler itself refuses to let it
//!   leave the thread.
//! * What other threads hold is only the goroutine's header (`Arc<GoroutineHeader>`: id,
//!   state word, home worker), which is `Send + Sync`. Waking a goroutine from another thread
//!   pushes that header onto its home worker's inbox; the home worker does the resuming.
//!
//! The one `unsafe` this justifies is in [`suspend`]: dereferencing the raw pointer to the
//! running coroutine's `Yielder`. The `Yielder` lives at the base of the coroutine's stack for
//! as long as the coroutine exists. The coroutine publishes its address in the worker's
//! [`CurrentFiber`] cell itself, each time it is entered: its body on the first entry, and
//! [`suspend`] on every later one, as the switch back returns (or unwinds, at shutdown) into
//! it. [`Fiber::resume`] clears the cell when the switch out returns. So the pointer is
//! non-null exactly while we are executing on that coroutine's stack, on the thread that
//! created it, and the worker need not keep a copy of it: resuming a goroutine reads only
//! the coroutine and the stack top, which share one cache line with the goroutine pointer in
//! the worker's slab (see `sched::worker::Slot`).

use std::any::Any;
use std::cell::Cell;
use std::panic::{self, AssertUnwindSafe};
use std::ptr;

use corosensei::stack::StackPointer;
use corosensei::{Coroutine, CoroutineResult, Yielder};

use super::pool::{Stack, MIN_USABLE, RECORD_OFFSET};

/// Why a goroutine gave the worker back its thread.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Suspend {
    /// Runnable again at once: go to the back of the local run queue (Go's Gosched).
    Yield,
    /// Waiting: the park protocol (wait::park) decides who makes it runnable.
    Park,
}

/// The payload of the unwind that shutdown throws into a parked goroutine (see
/// [`CurrentFiber::set_unwinding`]).
/// goro's own code never swallows it: a catch inside goro that sees it lets it go on
/// ([`is_shutdown_unwind`]). A user's `catch_unwind` may catch it; the goroutine then keeps
/// running until it parks again, and is unwound again, a bounded number of times (see
/// `sched::worker::Local::teardown`).
pub(crate) struct ShutdownUnwind;

/// True if a caught panic payload is shutdown's unwind, which must be let through.
pub(crate) fn is_shutdown_unwind(p: &(dyn Any + Send)) -> bool {
    p.is::<ShutdownUnwind>()
}

/// Drops a panic payload that nobody else will take, on a goroutine's stack or the worker's,
/// without letting its `Drop` unwind further: a payload whose drop panics is forgotten (a
/// leak, never an unwind into the caller).
pub(crate) fn drop_payload(p: Box<dyn Any + Send>) {
    if let Err(again) = panic::catch_unwind(AssertUnwindSafe(move || drop(p))) {
        std::mem::forget(again);
    }
}

/// Drops what user code gave goro to hold (a closure and what it captured) where no user
/// code may unwind, such as a worker's own stack: a `Drop` that panics is caught, and its
/// payload dropped as [`drop_payload`] does.
pub(crate) fn drop_caught<T>(v: T) {
    if let Err(p) = panic::catch_unwind(AssertUnwindSafe(move || drop(v))) {
        drop_payload(p);
    }
}

type Y = Yielder<(), Suspend>;

// SAFETY: `Stack` describes a slot of the pool: `top()` is 16-byte aligned (slot end minus the
// 64-byte meta record, both page/16 aligned) and `limit()` is the slot start, below the guard
// page. The memory between them stays mapped until the pool is dropped, which happens only
// after every fiber has been dropped.
unsafe impl corosensei::stack::Stack for Stack {
    fn base(&self) -> StackPointer {
        StackPointer::new(self.top()).unwrap_or(StackPointer::MIN)
    }
    fn limit(&self) -> StackPointer {
        StackPointer::new(self.limit()).unwrap_or(StackPointer::MIN)
    }
}

/// The worker's record of which coroutine is executing: the address of its `Yielder`, or null
/// when the worker is on its own stack; and whether the worker resumes goroutines to unwind
/// them (shutdown).
#[derive(Debug)]
pub(crate) struct CurrentFiber(Cell<*const Y>, Cell<bool>);

impl CurrentFiber {
    pub(crate) fn new() -> Self {
        CurrentFiber(Cell::new(ptr::null()), Cell::new(false))
    }
    /// True while a goroutine is executing on this worker.
    pub(crate) fn is_running(&self) -> bool {
        !self.0.get().is_null()
    }
    /// From now on every resume unwinds the goroutine from where it suspended (shutdown): it
    /// throws [`ShutdownUnwind`] there (see [`suspend`]), so the destructors on its stack run;
    /// a goroutine not started yet only drops what its body captured. A flag beside the
    /// yielder pointer rather than a value passed with each resume: the switch back into a
    /// goroutine reads this line anyway, and a resume value would cost every switch a store
    /// and a load through memory.
    pub(crate) fn set_unwinding(&self) {
        self.1.set(true);
    }
    /// True once [`set_unwinding`](Self::set_unwinding) was called: the worker tears down.
    pub(crate) fn is_unwinding(&self) -> bool {
        self.1.get()
    }
}

/// A goroutine's coroutine and stack. `!Send`: it lives and dies on its home worker. 48
/// bytes: it shares a cache line with the goroutine pointer in the slab.
pub(crate) struct Fiber {
    co: Coroutine<(), Suspend, (), Stack>,
    /// The address just above the stack (its meta record starts here).
    top: usize,
}

impl std::fmt::Debug for Fiber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fiber")
            .field("started", &self.co.started())
            .finish()
    }
}

impl Fiber {
    /// Prepares `body` to run on `stack`. `cur` is the worker's cell; it must outlive the fiber
    /// (both belong to the same worker, which drops its fibers before itself).
    ///
    /// Nothing unwinds out of the fiber into the worker's stack: whatever panic reaches the
    /// fiber's root (shutdown's unwind, or a panic that escaped the goroutine's own catch) is
    /// caught there and its payload dropped on the fiber ([`drop_payload`]).
    pub(crate) fn new(stack: Stack, cur: &CurrentFiber, body: impl FnOnce() + 'static) -> Fiber {
        let cell: *const CurrentFiber = cur;
        let top = stack.top();
        let co = Coroutine::with_stack(stack, move |y: &Y, ()| {
            // SAFETY: `cell` points into the worker's local state, which outlives its fibers;
            // we are on the worker's thread (the fiber never leaves it).
            let unwinding = unsafe {
                (*cell).0.set(y);
                (*cell).is_unwinding()
            };
            let r = if unwinding {
                // Unwound before its first instruction: only what the body captured drops.
                panic::catch_unwind(AssertUnwindSafe(move || drop(body)))
            } else {
                panic::catch_unwind(AssertUnwindSafe(body))
            };
            if let Err(p) = r {
                if !is_shutdown_unwind(&*p) {
                    escaped(&*p);
                }
                drop_payload(p);
            }
        });
        Fiber { co, top }
    }

    /// The lowest usable address of the goroutine's stack (just above its guard page). Looked
    /// up in the overflow handler's table of chunks; a chunk that table left out gives the
    /// lowest address every stack has (16 KiB below the top), which only shortens a backtrace.
    pub(crate) fn stack_limit(&self) -> usize {
        super::overflow::stack_limit_of(self.top - 1).unwrap_or(self.top - MIN_USABLE)
    }

    /// Where the scheduler keeps this goroutine's park record: [`RECORD_SIZE`] bytes, aligned
    /// to 16, in the stack's meta area.
    ///
    /// [`RECORD_SIZE`]: super::pool::RECORD_SIZE
    #[inline(always)]
    pub(crate) fn record(&self) -> *mut u8 {
        (self.top + RECORD_OFFSET) as *mut u8
    }

    /// The address just above the goroutine's stack (its first frame is just below).
    pub(crate) fn stack_top(&self) -> usize {
        self.top
    }

    /// Switches into the goroutine until it suspends (`Some`) or returns (`None`). Never
    /// unwinds: the body catches everything at its root (see `new`).
    #[inline(always)]
    pub(crate) fn resume(&mut self, cur: &CurrentFiber) -> Option<Suspend> {
        let r = self.co.resume(());
        cur.0.set(ptr::null());
        match r {
            CoroutineResult::Yield(s) => Some(s),
            CoroutineResult::Return(()) => None,
        }
    }

    /// The stack of a goroutine that has returned.
    pub(crate) fn into_stack(self) -> Stack {
        self.co.into_stack()
    }

    /// Gives up a goroutine that would not unwind: its frames are never resumed and never
    /// freed, and its stack is never reused (the pool must keep it mapped, as waiter records
    /// on it may still be linked into wait queues: `StackPool::keep_mapped`). Dropping the
    /// coroutine instead would unwind it again.
    pub(crate) fn abandon(self) {
        std::mem::forget(self);
    }
}

/// Reports a panic that reached a fiber's root: a goroutine's own code catches its panics, so
/// this is one that a destructor threw while its payload or result was being dropped.
#[cold]
fn escaped(p: &(dyn Any + Send)) {
    let msg = crate::sched::goroutine::payload_message(p).unwrap_or("<non-string payload>");
    eprintln!("goro: a panic escaped a goroutine and was dropped there: {msg}");
}

/// Suspends the running goroutine, returning to its worker's loop. Returns when the worker
/// resumes it. Must be called on a goroutine (`cur.is_running()`).
#[doc(alias = "gopark")]
#[inline(always)]
pub(crate) fn suspend(cur: &CurrentFiber, why: Suspend) {
    let y = cur.0.get();
    assert!(!y.is_null(), "goro: suspend called outside a goroutine");
    // Publishes the yielder again when this goroutine is next entered: when the switch below
    // returns, or when it unwinds (a shutdown unwinding the goroutine's frames).
    let entered = Entered(cur, y);
    // SAFETY: see the module doc: `y` is the Yielder of the coroutine executing right now, on
    // the thread that created it; it lives at the base of that coroutine's stack.
    unsafe { (*y).suspend(why) };
    drop(entered);
    if cur.is_unwinding() {
        unwind_for_shutdown();
    }
}

/// Shutdown resumed this goroutine to unwind it: throw [`ShutdownUnwind`] from its park, unless
/// something on this thread is unwinding already. Then the goroutine is parked inside a
/// destructor that runs during an unwind (its own, or that of another goroutine of this worker
/// suspended mid-unwind: std counts panics per thread), and a second unwind thrown from a
/// destructor aborts the process; it gets a spurious wake-up instead, and the worker's
/// teardown resumes it again later or abandons it.
#[cold]
#[inline(never)]
fn unwind_for_shutdown() {
    if !std::thread::panicking() {
        panic::resume_unwind(Box::new(ShutdownUnwind));
    }
}

/// Sets the worker's cell to a coroutine's yielder when dropped, on that coroutine.
struct Entered<'a>(&'a CurrentFiber, *const Y);

impl Drop for Entered<'_> {
    #[inline(always)]
    fn drop(&mut self) {
        self.0 .0.set(self.1);
    }
}
