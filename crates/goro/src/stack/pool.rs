//! The stack pool: large `MAP_NORESERVE` chunks carved into fixed-size stacks.
//!
//! A million goroutines must fit under Linux's default `vm.max_map_count` (65,530). One
//! `mmap` plus one `mprotect`ed guard page per stack costs two mappings a stack and caps a
//! program near 32,000 goroutines, so the pool maps a few large chunks instead and carves
//! them into slots. Each slot is laid out like this (addresses grow to the right):
//!
//! ```text
//!  slot start                                                            slot end
//!  +--------------+----------------------------------------------+--------+
//!  | guard page   | usable stack                        <- grows | meta   |
//!  +--------------+----------------------------------------------+--------+
//!  ^ limit()                                                     ^ base()
//! ```
//!
//! * The guard page is installed with `madvise(MADV_GUARD_INSTALL)` (Linux >= 6.13), which
//!   marks the page table entries without splitting the mapping, so a chunk of 65,536 stacks
//!   stays one mapping. Where the kernel refuses it, the pool falls back to `mprotect`, which
//!   splits the mapping in two per stack; when the kernel runs out of mappings the pool says so
//!   and aborts (see [`fatal_map_limit`]).
//! * `meta` is 48 bytes at the top of the slot: the id and spawn site of the goroutine that
//!   owns the stack, so the overflow handler can name it with plain memory reads, then the
//!   scheduler's park record (see [`RECORD_OFFSET`]). 48 rather than a round 64 puts it on the
//!   cache line of the two words corosensei keeps just below `base()` (the initial function
//!   and the parent link, which every resume writes), so a goroutine's park record costs no
//!   cache line of its own: a ring of goroutines touches that line on every hop anyway.
//! * The guard is installed once, when a slot is first carved; slots are never unmapped
//!   until the pool is dropped, so guards stay put while stacks are reused.
//!
//! Reuse is LIFO (the stack freed last is handed out first, its pages are still resident and
//! hot in cache). Freed stacks beyond a high-water mark (`cache_limit`) have their memory given
//! back to the kernel with `MADV_DONTNEED` (adjacent slots in one call: guard markers survive
//! `MADV_DONTNEED`, and `PROT_NONE` pages are unaffected by it) and go to a cold list that is
//! used only when the warm one is empty.
//!
//! Transparent huge pages are turned off for the chunks (`MADV_NOHUGEPAGE`): a 2 MiB huge page
//! would make each touched stack page cost the memory of eight stacks.

use std::io;
use std::panic::Location;
use std::ptr;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Mutex;

use super::overflow;

/// Bytes at the top of every slot reserved for [`Meta`] and the park record; see the module
/// doc for why 48.
pub(crate) const META_SIZE: usize = 48;

/// The fewest usable bytes a stack has, whatever size is asked for.
pub(crate) const MIN_USABLE: usize = 16 * 1024;

/// Where the scheduler keeps a suspended goroutine's park record (`sched::worker`), in bytes
/// from the stack's `top()`, and how many bytes it may use. The pool only reserves the room.
pub(crate) const RECORD_OFFSET: usize = size_of::<Meta>();
/// See [`RECORD_OFFSET`].
pub(crate) const RECORD_SIZE: usize = META_SIZE - RECORD_OFFSET;

/// The page size (asked once: `sysconf` showed up in profiles of goroutine start).
pub(crate) fn page_size() -> usize {
    static PAGE: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    match PAGE.load(Ordering::Relaxed) {
        0 => {
            // SAFETY: sysconf has no preconditions.
            let n = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
            let n = usize::try_from(n).unwrap_or(4096);
            PAGE.store(n, Ordering::Relaxed);
            n
        }
        n => n,
    }
}

/// `MADV_GUARD_INSTALL` from Linux's uapi `mman-common.h` (not in every libc crate release).
const MADV_GUARD_INSTALL: libc::c_int = 102;

/// How guard pages are installed, decided once per process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GuardMode {
    /// `madvise(MADV_GUARD_INSTALL)`: no extra mappings per stack.
    Madvise,
    /// `mprotect(PROT_NONE)`: two mappings per stack, so about `vm.max_map_count / 2` stacks.
    Mprotect,
}

const MODE_UNKNOWN: u8 = 0;
const MODE_MADVISE: u8 = 1;
const MODE_MPROTECT: u8 = 2;
static MODE: AtomicU8 = AtomicU8::new(MODE_UNKNOWN);

/// The guard mode in force: `GORO_GUARD=mprotect` forces the fallback (to test it), otherwise
/// `MADV_GUARD_INSTALL` is tried on the first stack and kept if the kernel accepts it.
pub fn guard_mode() -> GuardMode {
    match MODE.load(Ordering::Relaxed) {
        MODE_MADVISE => GuardMode::Madvise,
        MODE_MPROTECT => GuardMode::Mprotect,
        _ => {
            if std::env::var("GORO_GUARD").is_ok_and(|v| v == "mprotect") {
                MODE.store(MODE_MPROTECT, Ordering::Relaxed);
                return GuardMode::Mprotect;
            }
            GuardMode::Madvise
        }
    }
}

/// Bits of [`Meta::goroutine`] that hold the id (8.8 trillion goroutines).
const ID_BITS: u32 = 43;

/// Who owns a stack, written at the top of its slot for the overflow handler.
#[repr(C)]
pub(crate) struct Meta {
    /// The goroutine's id in the low [`ID_BITS`] bits, and the stack size it asked for, in
    /// KiB rounded up, in the high bits (1 GiB is 2^20 KiB): the overflow message names the
    /// size the program asked for, not the slot's (larger) usable size.
    pub(crate) goroutine: u64,
    /// Where it was spawned: `'static` data, so the handler may read it.
    pub(crate) site: *const Location<'static>,
}

impl Meta {
    fn new(goroutine: u64, site: &'static Location<'static>, asked: usize) -> Meta {
        let kib = (asked.div_ceil(1024) as u64).min((1 << (64 - ID_BITS)) - 1);
        Meta {
            goroutine: (goroutine & ((1 << ID_BITS) - 1)) | (kib << ID_BITS),
            site,
        }
    }

    /// The owning goroutine's id.
    pub(crate) fn goroutine_id(&self) -> u64 {
        self.goroutine & ((1 << ID_BITS) - 1)
    }

    /// The stack size the goroutine asked for, in KiB rounded up.
    pub(crate) fn asked_kib(&self) -> u64 {
        self.goroutine >> ID_BITS
    }
}

/// One stack carved from the pool. Plain data: it must be handed back with
/// [`StackPool::free_batch`]; if it is dropped instead its slot is simply never reused.
#[derive(Debug)]
pub(crate) struct Stack {
    /// Lowest address of the slot (the guard page starts here).
    start: usize,
    /// Bytes from `start` to the slot end (a stack is at most 1 GiB, see `Builder::stack_size`).
    /// 32 bits keep a `Stack` at 16 bytes, and a goroutine's slab entry in one cache line.
    stride: u32,
    /// Size class (index into the pool's classes).
    class: u32,
}

impl Stack {
    /// Highest usable address, 16-byte aligned: corosensei starts the stack here.
    pub(crate) fn top(&self) -> usize {
        self.start + self.stride as usize - META_SIZE
    }

    /// Lowest address of the slot, guard page included.
    pub(crate) fn limit(&self) -> usize {
        self.start
    }

    /// True for stacks of the runtime's default size (class 0).
    pub(crate) fn is_default(&self) -> bool {
        self.class == 0
    }

    /// Records, for the overflow handler, the goroutine that owns this stack and the stack
    /// size (bytes) it asked for.
    pub(crate) fn set_owner(
        &mut self,
        goroutine: u64,
        site: &'static Location<'static>,
        asked: usize,
    ) {
        let meta = self.top() as *mut Meta;
        // SAFETY: the meta area is the last META_SIZE bytes of this slot, inside the mapping,
        // writable, aligned to 16 and owned by whoever holds this `Stack`.
        unsafe { meta.write(Meta::new(goroutine, site, asked)) };
    }
}

/// All stacks of one size.
struct Class {
    stride: usize,
    chunks: Vec<Chunk>,
    warm: Vec<Stack>,
    cold: Vec<Stack>,
}

struct Chunk {
    base: usize,
    slots: usize,
    carved: usize,
}

impl Drop for Chunk {
    fn drop(&mut self) {
        overflow::unregister(self.base);
    }
}

/// The pool of goroutine stacks of one runtime.
pub(crate) struct StackPool {
    /// Set when a stack of this pool was abandoned (`Fiber::abandon`): the pool's memory
    /// then stays mapped when the pool is dropped.
    keep_mapped: std::sync::atomic::AtomicBool,
    default_size: usize,
    cache_limit: usize,
    classes: Mutex<Vec<Class>>,
}

impl std::fmt::Debug for StackPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StackPool")
            .field("default_size", &self.default_size)
            .finish()
    }
}

/// Slots per chunk: the first chunk of a class is small, each next one twice as large, up to
/// 65,536 slots (16 GiB of address space at 256 KiB), so small programs reserve little and a
/// million goroutines use a few dozen mappings.
fn chunk_slots(index: usize) -> usize {
    (64usize << index.min(10)).min(65_536)
}

impl StackPool {
    /// The usable size of a default stack, as the runtime was asked for it.
    pub(crate) fn default_size(&self) -> usize {
        self.default_size
    }

    /// Keeps every chunk mapped for the life of the process: one of its stacks was abandoned
    /// at shutdown and other threads may still write into waiter records on it.
    pub(crate) fn keep_mapped(&self) {
        self.keep_mapped.store(true, Ordering::Relaxed);
    }

    /// A pool whose default stacks have `default_size` usable bytes.
    pub(crate) fn new(default_size: usize, cache_limit: usize) -> Self {
        // The default size is class 0, so `Stack::is_default` is a comparison.
        let default = Class {
            stride: Self::stride_for(default_size),
            chunks: Vec::new(),
            warm: Vec::new(),
            cold: Vec::new(),
        };
        StackPool {
            keep_mapped: std::sync::atomic::AtomicBool::new(false),
            default_size,
            cache_limit,
            classes: Mutex::new(vec![default]),
        }
    }

    /// The stride (guard + usable + meta, page-rounded) for a requested usable size.
    fn stride_for(size: usize) -> usize {
        let page = page_size();
        let body = size.max(MIN_USABLE) + META_SIZE;
        let body = body.div_ceil(page) * page;
        body + page
    }

    /// Takes up to `n` stacks of `size` usable bytes (0 = the default size) into `out`.
    /// Returns at least one stack or an error from `mmap`.
    pub(crate) fn alloc_batch(
        &self,
        size: usize,
        n: usize,
        out: &mut Vec<Stack>,
    ) -> io::Result<()> {
        let size = if size == 0 { self.default_size } else { size };
        let stride = Self::stride_for(size);
        let mut classes = self.classes.lock().unwrap_or_else(|e| e.into_inner());
        let ci = match classes.iter().position(|c| c.stride == stride) {
            Some(i) => i,
            None => {
                classes.push(Class {
                    stride,
                    chunks: Vec::new(),
                    warm: Vec::new(),
                    cold: Vec::new(),
                });
                classes.len() - 1
            }
        };
        let class = &mut classes[ci];
        let before = out.len();
        while out.len() - before < n {
            if let Some(s) = class.warm.pop().or_else(|| class.cold.pop()) {
                out.push(s);
                continue;
            }
            match class.carve(ci)? {
                Some(s) => out.push(s),
                None => class.grow()?,
            }
        }
        Ok(())
    }

    /// Gives stacks back. Beyond the high-water mark their memory is released.
    pub(crate) fn free_batch(&self, stacks: &mut Vec<Stack>) {
        if stacks.is_empty() {
            return;
        }
        let mut classes = self.classes.lock().unwrap_or_else(|e| e.into_inner());
        for s in stacks.drain(..) {
            classes[s.class as usize].warm.push(s);
        }
        for class in classes.iter_mut() {
            if class.warm.len() > self.cache_limit {
                let excess: Vec<Stack> = class
                    .warm
                    .drain(..class.warm.len() - self.cache_limit)
                    .collect();
                release(&excess, class.stride);
                class.cold.extend(excess);
            }
        }
    }
}

impl Class {
    /// Maps the next chunk.
    fn grow(&mut self) -> io::Result<()> {
        let slots = chunk_slots(self.chunks.len());
        let len = slots * self.stride;
        // SAFETY: a fresh anonymous private mapping; no existing memory is touched.
        let base = unsafe {
            libc::mmap(
                ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
                -1,
                0,
            )
        };
        if base == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: advice on the mapping just created; failure only means huge pages stay on.
        unsafe { libc::madvise(base, len, libc::MADV_NOHUGEPAGE) };
        overflow::register(base as usize, len, self.stride);
        self.chunks.push(Chunk {
            base: base as usize,
            slots,
            carved: 0,
        });
        Ok(())
    }

    /// Carves the next never-used slot of the newest chunk, installing its guard page.
    fn carve(&mut self, class: usize) -> io::Result<Option<Stack>> {
        let stride = self.stride;
        let Some(chunk) = self.chunks.last_mut() else {
            return Ok(None);
        };
        if chunk.carved == chunk.slots {
            return Ok(None);
        }
        let start = chunk.base + chunk.carved * stride;
        install_guard(start)?;
        chunk.carved += 1;
        Ok(Some(Stack {
            start,
            // Both fit: a stride is at most 1 GiB and a page or two, and there are a handful
            // of classes.
            stride: stride as u32,
            class: class as u32,
        }))
    }
}

impl Drop for StackPool {
    fn drop(&mut self) {
        if *self.keep_mapped.get_mut() {
            return;
        }
        let classes = self.classes.get_mut().unwrap_or_else(|e| e.into_inner());
        for class in classes.drain(..) {
            for chunk in &class.chunks {
                // SAFETY: every stack of this pool has been handed back or leaked with its
                // goroutine gone (the runtime drops the pool only after every worker that ran
                // goroutines has stopped), so nothing executes on or points into the chunk.
                unsafe {
                    libc::munmap(chunk.base as *mut libc::c_void, chunk.slots * class.stride)
                };
            }
        }
    }
}

/// Installs the guard page at `start`, deciding the guard mode on first use.
fn install_guard(start: usize) -> io::Result<()> {
    let page = page_size();
    if guard_mode() == GuardMode::Madvise {
        // SAFETY: `start` is the page-aligned first page of a slot inside our own mapping;
        // nothing lives there yet.
        let r = unsafe { libc::madvise(start as *mut libc::c_void, page, MADV_GUARD_INSTALL) };
        if r == 0 {
            MODE.store(MODE_MADVISE, Ordering::Relaxed);
            return Ok(());
        }
        MODE.store(MODE_MPROTECT, Ordering::Relaxed);
    }
    // SAFETY: as above; PROT_NONE on an unused page of our own mapping.
    let r = unsafe { libc::mprotect(start as *mut libc::c_void, page, libc::PROT_NONE) };
    if r == 0 {
        return Ok(());
    }
    let err = io::Error::last_os_error();
    if err.raw_os_error() == Some(libc::ENOMEM) {
        fatal_map_limit();
    }
    Err(err)
}

/// The kernel refused another mapping: say why and what the limit is, then abort.
fn fatal_map_limit() -> ! {
    let max = std::fs::read_to_string("/proc/sys/vm/max_map_count").unwrap_or_default();
    eprintln!(
        "fatal error: goro cannot install another stack guard page: the kernel's limit on \
         memory mappings (vm.max_map_count = {}) is reached.\nWithout MADV_GUARD_INSTALL \
         (Linux >= 6.13) every goroutine stack costs two mappings, so at most about {} \
         goroutines can hold a stack at once; raise vm.max_map_count or use a newer kernel.",
        max.trim(),
        max.trim().parse::<usize>().map(|m| m / 2).unwrap_or(0),
    );
    std::process::abort()
}

/// Releases the memory of `stacks` (all of one stride), merging adjacent slots into one call.
fn release(stacks: &[Stack], stride: usize) {
    let mut starts: Vec<usize> = stacks.iter().map(|s| s.start).collect();
    starts.sort_unstable();
    let mut i = 0;
    while i < starts.len() {
        let mut j = i + 1;
        while j < starts.len() && starts[j] == starts[j - 1] + stride {
            j += 1;
        }
        let len = (j - i) * stride;
        // SAFETY: these slots belong to the pool's free list: no goroutine runs on them and
        // nothing points into them. Guard markers and PROT_NONE survive MADV_DONTNEED.
        unsafe { libc::madvise(starts[i] as *mut libc::c_void, len, libc::MADV_DONTNEED) };
        i = j;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn carves_reuses_lifo_and_releases_beyond_the_mark() {
        let pool = StackPool::new(64 * 1024, 2);
        let mut got = Vec::new();
        pool.alloc_batch(0, 4, &mut got).unwrap();
        assert_eq!(got.len(), 4);
        let tops: Vec<usize> = got.iter().map(Stack::top).collect();
        assert!(tops.windows(2).all(|w| w[0] != w[1]));
        for s in &got {
            assert_eq!(s.top() % 16, 0);
            // SAFETY: the usable area of a fresh stack is ours to write.
            unsafe { ((s.top() - 8) as *mut u64).write(7) };
        }
        let last = got[3].top();
        pool.free_batch(&mut got);
        let mut again = Vec::new();
        pool.alloc_batch(0, 4, &mut again).unwrap();
        assert_eq!(again[0].top(), last, "LIFO reuse");
        // SAFETY: reading the words written above, in stacks we hold again.
        let marks: Vec<u64> = again
            .iter()
            .map(|s| unsafe { ((s.top() - 8) as *const u64).read() })
            .collect();
        // The two kept under the mark still hold their memory; the two beyond it were given
        // back to the kernel (MADV_DONTNEED) and read as fresh zero pages.
        assert_eq!(marks, [7, 7, 0, 0]);
        pool.free_batch(&mut again);
    }

    #[test]
    fn other_sizes_get_their_own_class() {
        let pool = StackPool::new(64 * 1024, 8);
        let mut a = Vec::new();
        pool.alloc_batch(0, 1, &mut a).unwrap();
        pool.alloc_batch(1024 * 1024, 1, &mut a).unwrap();
        assert!(a[1].stride > 1024 * 1024);
        assert_ne!(a[0].stride, a[1].stride);
        pool.free_batch(&mut a);
    }

    /// The meta area and the two words corosensei keeps just below a stack's top share one
    /// cache line, whatever the stack's size; and the park record fits in the meta area.
    #[test]
    fn the_meta_area_shares_the_top_line() {
        let pool = StackPool::new(64 * 1024, 8);
        let mut a = Vec::new();
        for size in [0, 16 * 1024, 100_000, 1024 * 1024] {
            pool.alloc_batch(size, 2, &mut a).unwrap();
        }
        for s in &a {
            let line = s.top() - 16;
            assert_eq!(line % 64, 0, "stack top {:#x}", s.top());
            assert_eq!(s.start + s.stride as usize, line + 64, "meta ends the slot");
            assert!(s.top() - s.limit() >= MIN_USABLE + page_size());
        }
        const { assert!(RECORD_SIZE >= 32 && RECORD_OFFSET % 16 == 0) };
        pool.free_batch(&mut a);
    }
}
