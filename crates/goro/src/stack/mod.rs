//! Goroutine stacks: where a goroutine's frames live and how the worker switches onto them.
//!
//! This folder owns three things:
//!
//! * `pool`: large `MAP_NORESERVE` chunks carved into fixed-size stacks with guard pages
//!   (`MADV_GUARD_INSTALL`, falling back to `mprotect`), reused LIFO, released past a mark.
//! * `overflow`: the signal handler that turns a guard-page hit into
//!   `goroutine N stack overflow` and an abort, never silent corruption.
//! * `switch`: the `corosensei` coroutine wrapper and the argument for why pinning each
//!   goroutine to the thread where it started makes the switch sound.
//!
//! A goroutine that has not started holds no stack: the worker that starts it takes one from
//! the pool (through a small per-worker cache) and gives it back when the goroutine returns.

pub(crate) mod overflow;
pub(crate) mod pool;
pub(crate) mod switch;

pub use pool::{guard_mode, GuardMode};

/// Zeroes `N` bytes of the calling thread's stack just below the caller's frame, so that the
/// frames pushed there next start from zeros rather than from what earlier calls left (the
/// leak check scans stacks and must not read old handles as live ones). The caller must
/// have more than `N` bytes of stack left.
#[inline(never)]
pub(crate) fn zero_below<const N: usize>() {
    let mut zeros = [0u8; N];
    std::hint::black_box(&mut zeros);
}
