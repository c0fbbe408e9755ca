//! A global allocator wrapper that counts allocations while asked to, for the figures of the
//! free-list pattern. A binary opts in by declaring it as its `#[global_allocator]` (the lab
//! and the examples' tests do); elsewhere [`count`] reports `None`.

use std::alloc::{GlobalAlloc, Layout};
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};

/// Counts calls to `alloc` and `realloc` made through it while counting is on, and the bytes
/// live; otherwise passes everything straight to `A` after one relaxed load.
#[derive(Debug)]
pub struct Counting<A>(pub A);

static INSTALLED: AtomicBool = AtomicBool::new(false);
static ON: AtomicBool = AtomicBool::new(false);
static ALLOCS: AtomicU64 = AtomicU64::new(0);
static BYTES: AtomicU64 = AtomicU64::new(0);
/// Bytes allocated minus bytes freed while counting (negative when older memory is freed),
/// and the highest it reached.
static LIVE: AtomicI64 = AtomicI64::new(0);
static PEAK: AtomicI64 = AtomicI64::new(0);

fn grow(n: usize) {
    ALLOCS.fetch_add(1, Ordering::Relaxed);
    BYTES.fetch_add(n as u64, Ordering::Relaxed);
    let live = LIVE.fetch_add(n as i64, Ordering::Relaxed) + n as i64;
    PEAK.fetch_max(live, Ordering::Relaxed);
}

fn shrink(n: usize) {
    LIVE.fetch_sub(n as i64, Ordering::Relaxed);
}

// SAFETY: every method forwards to `A` with the same arguments; counting touches only atomics.
unsafe impl<A: GlobalAlloc> GlobalAlloc for Counting<A> {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if ON.load(Ordering::Relaxed) {
            grow(layout.size());
        }
        // Looked at first: a store on every allocation would pull this line to each
        // allocating core in turn.
        if !INSTALLED.load(Ordering::Relaxed) {
            INSTALLED.store(true, Ordering::Relaxed);
        }
        // SAFETY: the caller's contract for `alloc` is passed on unchanged.
        unsafe { self.0.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if ON.load(Ordering::Relaxed) {
            shrink(layout.size());
        }
        // SAFETY: as for `alloc`.
        unsafe { self.0.dealloc(ptr, layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if ON.load(Ordering::Relaxed) {
            grow(layout.size());
        }
        // SAFETY: as for `alloc`.
        unsafe { self.0.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if ON.load(Ordering::Relaxed) {
            shrink(layout.size());
            grow(new_size);
        }
        // SAFETY: as for `alloc`.
        unsafe { self.0.realloc(ptr, layout, new_size) }
    }
}

/// What [`count`] saw.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Allocs {
    /// Allocations (and reallocations), by every thread of the process.
    pub count: u64,
    /// Bytes asked for by them.
    pub bytes: u64,
    /// The most bytes the call had allocated and not yet freed at any moment: the growth of
    /// the live heap at its peak.
    pub peak: u64,
}

/// Runs `f` and counts the allocations the whole process made meanwhile; `None` for the
/// counts when the binary's allocator is not [`Counting`]. Counts of overlapping calls mix.
pub fn count<R>(f: impl FnOnce() -> R) -> (R, Option<Allocs>) {
    // Make one allocation so that INSTALLED is set if we are the global allocator.
    drop(std::hint::black_box(Box::new(0u8)));
    let (a0, b0) = (
        ALLOCS.load(Ordering::Relaxed),
        BYTES.load(Ordering::Relaxed),
    );
    LIVE.store(0, Ordering::SeqCst);
    PEAK.store(0, Ordering::SeqCst);
    ON.store(true, Ordering::SeqCst);
    let r = f();
    ON.store(false, Ordering::SeqCst);
    let allocs = INSTALLED.load(Ordering::Relaxed).then(|| Allocs {
        count: ALLOCS.load(Ordering::Relaxed) - a0,
        bytes: BYTES.load(Ordering::Relaxed) - b0,
        peak: PEAK.load(Ordering::Relaxed).max(0) as u64,
    });
    (r, allocs)
}
