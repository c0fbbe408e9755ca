//! The atomics that the loom model checks swap out: `loom`'s under `--cfg loom`, `std`'s
//! otherwise. Code whose protocol the loom tests explore (`wait/park.rs`,
//! `wait/waiter.rs`) imports its atomics from here, so each file names them once and the
//! switch lives in one place.
//!
//! Run the models with `RUSTFLAGS="--cfg loom" cargo test -p goro --lib --release loom`.

#[cfg(loom)]
pub(crate) use loom::sync::atomic::{AtomicBool, AtomicU8, Ordering};
#[cfg(not(loom))]
pub(crate) use std::sync::atomic::{AtomicU8, Ordering};

#[cfg(loom)]
pub(crate) use loom::cell::UnsafeCell;
