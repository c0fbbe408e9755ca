//! The lab's global allocator: mimalloc, called through its plain entry points.
//!
//! The `mimalloc` crate sends every allocation through `mi_malloc_aligned`, even for the
//! alignments every block has anyway: callgrind counts 62 instructions per goroutine header
//! allocated that way on the spawn workload, 45 through `mi_malloc` (1.7% of a goroutine's
//! whole life, spawn to exit). Here only an alignment stricter than mimalloc's own guarantee
//! takes the aligned entry points.

use std::alloc::{GlobalAlloc, Layout};
use std::ffi::c_void;

use libmimalloc_sys::{
    mi_free, mi_malloc, mi_malloc_aligned, mi_realloc, mi_realloc_aligned, mi_zalloc,
    mi_zalloc_aligned,
};

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
