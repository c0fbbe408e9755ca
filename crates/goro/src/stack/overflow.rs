//! Stack overflow reports: a `SIGSEGV`/`SIGBUS` handler that recognises a hit on a goroutine
//! stack's guard page, prints `goroutine N stack overflow` with the spawn site and aborts.
//!
//! Protocol:
//!
//! 1. Every chunk of the stack pool is recorded in [`REGIONS`], a fixed table of atomics, before
//!    any stack of it is handed out ([`register`]); a chunk is removed just before it is unmapped.
//! 2. The handler is installed once per process with `SA_ONSTACK`, keeping the previous action;
//!    every worker thread makes sure it has an alternate signal stack ([`AltStack`]), because the
//!    overflowing goroutine stack has no room left for the handler.
//! 3. On a fault the handler reads only atomics and the slot's `Meta` (plain memory written before
//!    the goroutine started), formats into a buffer on its own stack, `write(2)`s and `abort`s.
//!    Nothing in it allocates, locks or unwinds, so it is async-signal-safe.
//! 4. A fault anywhere else is passed on to the previous handler (Rust's own guard-page check
//!    for thread stacks, or the default action).

use std::ptr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Once, OnceLock};

use super::pool::{page_size, Meta, META_SIZE};

/// One registered chunk: `base == 0` marks a free entry.
struct Region {
    base: AtomicUsize,
    len: AtomicUsize,
    stride: AtomicUsize,
}

/// Room for the chunks of every live runtime; a pool uses a few dozen.
const MAX_REGIONS: usize = 1024;

#[allow(clippy::declare_interior_mutable_const)]
const EMPTY: Region = Region {
    base: AtomicUsize::new(0),
    len: AtomicUsize::new(0),
    stride: AtomicUsize::new(0),
};
static REGIONS: [Region; MAX_REGIONS] = [EMPTY; MAX_REGIONS];

/// Records a chunk so that hits on its guard pages are reported. A full table only loses the
/// report (the fault is then handled as any other).
pub(crate) fn register(base: usize, len: usize, stride: usize) {
    install_handler();
    for r in &REGIONS {
        if r.base.load(Ordering::Relaxed) == 0 {
            // Claim the entry with a sentinel so concurrent registrations do not share it.
            if r.base
                .compare_exchange(0, 1, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
            {
                r.len.store(len, Ordering::Relaxed);
                r.stride.store(stride, Ordering::Relaxed);
                // Release: pairs with the handler's Acquire load of `base`, so it sees len/stride.
                r.base.store(base, Ordering::Release);
                return;
            }
        }
    }
}

/// Forgets a chunk before it is unmapped.
pub(crate) fn unregister(base: usize) {
    for r in &REGIONS {
        if r.base.load(Ordering::Relaxed) == base {
            r.base.store(0, Ordering::Release);
            return;
        }
    }
}

static INSTALL: Once = Once::new();
static PREVIOUS: OnceLock<[libc::sigaction; 2]> = OnceLock::new();

fn install_handler() {
    INSTALL.call_once(|| {
        // SAFETY: sigaction with a zeroed struct filled in below; the handler is an
        // `extern "C"` function with the SA_SIGINFO signature.
        unsafe {
            let mut act: libc::sigaction = std::mem::zeroed();
            act.sa_sigaction = handler as *const () as usize;
            act.sa_flags = libc::SA_SIGINFO | libc::SA_ONSTACK;
            libc::sigemptyset(&mut act.sa_mask);
            let mut prev: [libc::sigaction; 2] = std::mem::zeroed();
            libc::sigaction(libc::SIGSEGV, &act, &mut prev[0]);
            libc::sigaction(libc::SIGBUS, &act, &mut prev[1]);
            let _ = PREVIOUS.set(prev);
        }
    });
}

/// The slot's meta record if `addr` lies in a guard page of a registered chunk.
fn guard_hit(addr: usize) -> Option<*const Meta> {
    let (start, stride) = slot_of(addr)?;
    (addr - start < page_size()).then(|| (start + stride - META_SIZE) as *const Meta)
}

/// The start (guard page included) and stride of the stack slot holding `addr`, if it lies
/// in a registered chunk.
fn slot_of(addr: usize) -> Option<(usize, usize)> {
    for r in &REGIONS {
        // Acquire: pairs with the Release store in `register`.
        let base = r.base.load(Ordering::Acquire);
        if base <= 1 {
            continue;
        }
        let (len, stride) = (
            r.len.load(Ordering::Relaxed),
            r.stride.load(Ordering::Relaxed),
        );
        if addr < base || addr >= base + len || stride == 0 {
            continue;
        }
        let slot = (addr - base) / stride;
        return Some((base + slot * stride, stride));
    }
    None
}

/// The lowest usable address (just above the guard page) of the goroutine stack holding
/// `addr`; `None` if `addr` is in no registered chunk (a chunk the full table left out).
pub(crate) fn stack_limit_of(addr: usize) -> Option<usize> {
    slot_of(addr).map(|(start, _)| start + page_size())
}

/// A small formatter into a fixed buffer, usable inside a signal handler.
struct Buf {
    bytes: [u8; 768],
    len: usize,
}

impl Buf {
    fn push(&mut self, s: &[u8]) {
        let n = s.len().min(self.bytes.len() - self.len);
        self.bytes[self.len..self.len + n].copy_from_slice(&s[..n]);
        self.len += n;
    }
    fn num(&mut self, mut v: u64) {
        let mut digits = [0u8; 20];
        let mut i = digits.len();
        loop {
            i -= 1;
            digits[i] = b'0' + (v % 10) as u8;
            v /= 10;
            if v == 0 {
                break;
            }
        }
        self.push(&digits[i..]);
    }
}

extern "C" fn handler(sig: libc::c_int, info: *mut libc::siginfo_t, ctx: *mut libc::c_void) {
    // SAFETY: the kernel passes a valid siginfo for SA_SIGINFO handlers.
    let addr = unsafe { (*info).si_addr() } as usize;
    if let Some(meta) = guard_hit(addr) {
        // SAFETY: `meta` points at the top of a slot of a registered (hence mapped) chunk; it
        // was written before the goroutine on that stack started.
        let m = unsafe { ptr::read_volatile(meta) };
        let mut buf = Buf {
            bytes: [0; 768],
            len: 0,
        };
        buf.push(b"fatal error: goroutine ");
        buf.num(m.goroutine_id());
        buf.push(b" stack overflow (stack of ");
        buf.num(m.asked_kib());
        buf.push(b" KiB; raise it with goro::Builder::stack_size or ");
        buf.push(b"Runtime::builder().stack_size)\ncreated by ");
        // SAFETY: `site` is null or the `&'static Location` recorded in `set_owner`; reading
        // it and its `&'static str` file name are plain memory reads.
        if let Some(site) = unsafe { m.site.as_ref() } {
            buf.push(site.file().as_bytes());
            buf.push(b":");
            buf.num(u64::from(site.line()));
            buf.push(b":");
            buf.num(u64::from(site.column()));
        }
        buf.push(b"\n");
        // SAFETY: write(2) and abort(3) are async-signal-safe.
        unsafe {
            libc::write(2, buf.bytes.as_ptr().cast(), buf.len);
            libc::abort();
        }
    }
    chain(sig, info, ctx);
}

/// Hands a fault that is not ours to the action that was installed before goro's.
fn chain(sig: libc::c_int, info: *mut libc::siginfo_t, ctx: *mut libc::c_void) {
    let prev = PREVIOUS
        .get()
        .map(|p| if sig == libc::SIGBUS { p[1] } else { p[0] });
    match prev {
        Some(p) if p.sa_flags & libc::SA_SIGINFO != 0 && p.sa_sigaction > 1 => {
            // SAFETY: the previous handler was installed with SA_SIGINFO, so it has this type.
            let f: extern "C" fn(libc::c_int, *mut libc::siginfo_t, *mut libc::c_void) =
                unsafe { std::mem::transmute(p.sa_sigaction) };
            f(sig, info, ctx);
        }
        Some(p) if p.sa_sigaction > 1 => {
            // SAFETY: a plain handler of the previous action.
            let f: extern "C" fn(libc::c_int) = unsafe { std::mem::transmute(p.sa_sigaction) };
            f(sig);
        }
        _ => {
            // Default or ignored: restore the default action and return, so the faulting
            // instruction runs again and the process dies the way it would have without goro.
            // SAFETY: sigaction with a zeroed (SIG_DFL) action is always valid.
            unsafe {
                let mut dfl: libc::sigaction = std::mem::zeroed();
                dfl.sa_sigaction = libc::SIG_DFL;
                libc::sigaction(sig, &dfl, ptr::null_mut());
            }
        }
    }
}

/// An alternate signal stack for the current thread, installed if it had none, removed and
/// freed on drop.
#[derive(Debug)]
pub(crate) struct AltStack {
    mem: usize,
    len: usize,
}

impl AltStack {
    /// Makes sure the calling thread can run the overflow handler.
    pub(crate) fn ensure() -> AltStack {
        install_handler();
        // SAFETY: querying and setting this thread's alternate signal stack, with a mapping we
        // own for as long as it is installed.
        unsafe {
            let mut old: libc::stack_t = std::mem::zeroed();
            libc::sigaltstack(ptr::null(), &mut old);
            if old.ss_flags & libc::SS_DISABLE == 0 {
                return AltStack { mem: 0, len: 0 };
            }
            let len = 64 * 1024;
            let mem = libc::mmap(
                ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            );
            if mem == libc::MAP_FAILED {
                return AltStack { mem: 0, len: 0 };
            }
            let st = libc::stack_t {
                ss_sp: mem,
                ss_flags: 0,
                ss_size: len,
            };
            libc::sigaltstack(&st, ptr::null_mut());
            AltStack {
                mem: mem as usize,
                len,
            }
        }
    }
}

impl Drop for AltStack {
    fn drop(&mut self) {
        if self.mem == 0 {
            return;
        }
        // SAFETY: we installed this stack on this thread (AltStack is !Send by holding it in
        // the worker's local state) and no signal handler runs on it now.
        unsafe {
            let st = libc::stack_t {
                ss_sp: ptr::null_mut(),
                ss_flags: libc::SS_DISABLE,
                ss_size: 0,
            };
            libc::sigaltstack(&st, ptr::null_mut());
            libc::munmap(self.mem as *mut libc::c_void, self.len);
        }
    }
}
