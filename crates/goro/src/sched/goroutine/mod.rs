//! Goroutines: the shared header, `go`, [`Builder`] and [`JoinHandle`].
//!
//! A goroutine is two things:
//!
//! * its **header** ([`GoroutineHeader`], behind an `Arc`): id, name, spawn site, park state, home
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
//! `join.rs` holds the join slot and its protocol; `spawn.rs` the ways to start a goroutine;
//! `panics.rs` what becomes of a panic nobody joins (it ends the run, as in Go).

use std::any::Any;
use std::cell::UnsafeCell;
use std::fmt;
use std::mem::MaybeUninit;
use std::panic::{self, AssertUnwindSafe, Location};
use std::sync::atomic::{AtomicPtr, AtomicU32, AtomicU64, AtomicU8, Ordering};
use std::sync::Arc;

use super::runtime::{Handle, Home, Shared};
use super::worker;
use crate::stack::switch::{drop_payload, is_shutdown_unwind};
use crate::wait::park::{park_quiet, ParkState, Unparker};

mod join;
mod panics;
mod spawn;

pub use self::join::*;
pub(crate) use self::panics::{payload_message, Named};
pub use self::panics::{GoroutinePanic, UnhandledPanic};
pub use self::spawn::*;

/// The runtime and label (id, name, spawn site) of the goroutine running on this thread: a
/// worker's current goroutine, or a dedicated goroutine's thread.
pub(crate) fn running() -> Option<(Arc<Shared>, panics::Label)> {
    if let Some(rt) = worker::current_runtime() {
        return worker::current_goroutine_label().map(|label| (rt, label));
    }
    spawn::dedicated_running()
}

/// Go numbers goroutines from 1 (the main goroutine); so does goro, process-wide.
static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// `GoroutineHeader::slot` of a goroutine that has not started.
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
    /// The goroutine cannot start (the system refused memory for its stack): drops the
    /// closure, catching a `Drop` that panics; its join reports `NoStack`.
    fn refuse(&self, _why: std::io::Error) {}
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
pub(crate) struct GoroutineHeader<P: ?Sized + Task = dyn Task> {
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
    /// The park protocol's state word (see `wait::park`).
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

impl<P: ?Sized + Task> fmt::Debug for GoroutineHeader<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GoroutineHeader")
            .field("id", &self.id)
            .field("name", &self.name)
            .field("parent", &self.parent)
            .field("site", &format_args!("{}", self.site))
            .finish_non_exhaustive()
    }
}

impl<P: Task> GoroutineHeader<P> {
    /// Inlined: it is on spawn's common path (with a second, cold caller, `never_started`,
    /// that would otherwise make it a call).
    #[inline(always)]
    pub(crate) fn new(b: Builder, site: &'static Location<'static>, task: P) -> Self {
        let (id, parent) = worker::new_goroutine_ids();
        GoroutineHeader {
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A goroutine whose closure captures one `Arc` and returns `()` fits, with the `Arc`'s
    /// two counters, in two cache lines: the header is what crosses cores on every spawn and
    /// what every parked goroutine keeps on the heap.
    #[test]
    fn a_small_goroutine_fits_two_cache_lines() {
        fn size_with<F: FnOnce() + Send>(_: &F) -> usize {
            std::mem::size_of::<GoroutineHeader<Spawned<F, ()>>>()
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
    /// line in every header that a 32-byte boundary starts (see `GoroutineHeader`).
    #[test]
    fn the_fields_of_a_switch_come_first() {
        type G = GoroutineHeader<Spawned<fn(), ()>>;
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
