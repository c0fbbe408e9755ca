//! The lab's global allocator: mimalloc, called through its plain entry points.
//!
//! The `mimalloc` crate sends every allocation through `mi_malloc_aligned`, even for the
//! alignments every block has anyway: callgrind counts 62 instructions per goroutine header
//! allocated that way on the spawn workload, 45 through `mi_malloc` (1.7% of a goroutine's
//! whole life, spawn to exit). Here only an alignment stricter than mimalloc's own guarantee
//! takes the aligned entry points.
//!
//! [`configure`] keeps freed memory with the process for [`PURGE_DELAY_MS`] before mimalloc
//! gives it back to the kernel. With mimalloc's own delay (one second), the benchmarks'
//! rounds, run back to back or between the Go twin's, kept handing a workload's memory back
//! and faulting it in again: five rounds of spawn (a million goroutine headers, about 150 MB,
//! live at once) took 3,000-3,900 page faults, transparent huge pages that the kernel zeroes,
//! and 0.06-0.27 s of system time. With ten seconds (jemalloc's default for its dirty pages)
//! they took about 270 faults and 0.01-0.05 s. Go's runtime keeps its heap too. parked1M,
//! which measures resident memory, first calls [`release_free_memory`], so memory kept from
//! earlier workloads does not make it look cheaper.

use std::alloc::{GlobalAlloc, Layout};
use std::ffi::{c_long, c_void};

use libmimalloc_sys::{
    mi_collect, mi_free, mi_malloc, mi_malloc_aligned, mi_option_get, mi_option_set_default,
    mi_option_t, mi_realloc, mi_realloc_aligned, mi_zalloc, mi_zalloc_aligned,
};

/// `mi_option_purge_delay`: its place in mimalloc's `mi_option_e` (mimalloc.h), which the
/// `libmimalloc-sys` crate does not name.
const MI_OPTION_PURGE_DELAY: mi_option_t = 15;

/// Milliseconds that freed memory stays with the process before mimalloc purges it.
pub const PURGE_DELAY_MS: c_long = 10_000;

/// Sets the lab's allocator options (see the module doc). A `MIMALLOC_PURGE_DELAY` in the
/// environment still wins. Call it first thing in `main`, before any other thread exists.
pub fn configure() {
    // SAFETY: an option index below `_mi_option_last`; mimalloc's option setters are not
    // thread-safe, which the caller's contract (no other thread yet) covers.
    unsafe { mi_option_set_default(MI_OPTION_PURGE_DELAY, PURGE_DELAY_MS) }
}

/// mimalloc's purge delay in force, in milliseconds.
pub fn purge_delay_ms() -> c_long {
    // SAFETY: reads an option; an index below `_mi_option_last`.
    unsafe { mi_option_get(MI_OPTION_PURGE_DELAY) }
}

/// Gives memory that mimalloc holds free back to the kernel now, whatever the purge delay.
pub fn release_free_memory() {
    // SAFETY: no preconditions.
    unsafe { mi_collect(true) }
}

/// What every mimalloc block of at least this size is aligned to (`MI_MAX_ALIGN_SIZE` on the
/// 64-bit targets); a smaller block is aligned to its size class, at least 8.
const MI_ALIGN: usize = 16;

/// mimalloc; see the module doc.
#[derive(Debug)]
pub struct Mimalloc;

/// True if a plain `mi_malloc` of `layout.size()` bytes is aligned enough: alignments up to
/// 16, and never more than the size (so an 8-byte block need only be 8-aligned).
fn plain(layout: Layout) -> bool {
    layout.align() <= MI_ALIGN && layout.align() <= layout.size()
}

// SAFETY: each method forwards to the mimalloc function with the same contract: a block of
// `layout.size()` bytes aligned to `layout.align()` (the plain functions when `plain` says
// their alignment suffices), freed by `mi_free` whichever function made it.
unsafe impl GlobalAlloc for Mimalloc {
    #[inline]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: see the impl.
        unsafe {
            if plain(layout) {
                mi_malloc(layout.size()).cast()
            } else {
                mi_malloc_aligned(layout.size(), layout.align()).cast()
            }
        }
    }

    #[inline]
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: see the impl.
        unsafe {
            if plain(layout) {
                mi_zalloc(layout.size()).cast()
            } else {
                mi_zalloc_aligned(layout.size(), layout.align()).cast()
            }
        }
    }

    #[inline]
    unsafe fn dealloc(&self, ptr: *mut u8, _layout: Layout) {
        // SAFETY: `ptr` came from this allocator (the caller's contract).
        unsafe { mi_free(ptr.cast::<c_void>()) }
    }

    #[inline]
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: see the impl; the new size keeps the old alignment.
        unsafe {
            match Layout::from_size_align(new_size, layout.align()) {
                Ok(new) if plain(new) => mi_realloc(ptr.cast(), new_size).cast(),
                _ => mi_realloc_aligned(ptr.cast(), new_size, layout.align()).cast(),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The index names the purge delay: its documented default before, ours after (a wrong
    /// index would read another option's value first).
    #[test]
    fn configure_sets_the_purge_delay() {
        if std::env::var_os("MIMALLOC_PURGE_DELAY").is_some() {
            return;
        }
        assert_eq!(purge_delay_ms(), 1000, "mimalloc's default purge delay");
        configure();
        assert_eq!(purge_delay_ms(), PURGE_DELAY_MS);
        release_free_memory();
    }

    #[test]
    fn blocks_are_aligned_as_asked() {
        let a = Mimalloc;
        for (size, align) in [
            (1, 1),
            (8, 8),
            (12, 4),
            (24, 8),
            (40, 16),
            (64, 64),
            (8, 32),
            (4096, 4096),
        ] {
            let l = Layout::from_size_align(size, align).unwrap();
            // SAFETY: a non-zero size; freed below with the same allocator.
            unsafe {
                let p = a.alloc(l);
                assert!(!p.is_null());
                assert_eq!(p as usize % align, 0, "{size} bytes aligned to {align}");
                p.write_bytes(0xAB, size);
                let q = a.realloc(p, l, size * 3);
                assert_eq!(
                    q as usize % align,
                    0,
                    "grown {size} bytes aligned to {align}"
                );
                assert_eq!(*q, 0xAB);
                a.dealloc(q, Layout::from_size_align(size * 3, align).unwrap());
                let z = a.alloc_zeroed(l);
                assert_eq!(z as usize % align, 0);
                assert!((0..size).all(|i| *z.add(i) == 0));
                a.dealloc(z, l);
            }
        }
    }
}
