//! Synchronisation primitives that park goroutines instead of blocking worker threads, and
//! work from plain OS threads as well (Go's `sync` package, and x/sync's semaphore and error
//! group).
//!
//! This folder owns:
//!
//! * `waitlist`: the parking lot under all of them: a short lock and a FIFO of waiter records
//!   on the waiters' stacks, with the signal protocol of channel waiters.
//! * [`Mutex`] (normal and starving mode, as Go's), [`RwLock`] (FIFO grants), [`Cond`],
//!   [`OnceLock`] / [`Once`], [`Semaphore`] (weighted, FIFO), [`WaitGroup`], and
//!   [`ErrGroup`] (fallible goroutines, first error wins, optional limit).
//!
//! Each file opens with its protocol.

mod cond;
mod errgroup;
mod mutex;
mod once;
mod rwlock;
mod semaphore;
mod waitgroup;

pub use cond::Cond;
pub use errgroup::ErrGroup;
pub use mutex::{Mutex, MutexGuard};
pub use once::{Once, OnceLock};
pub use rwlock::{RwLock, RwLockReadGuard, RwLockWriteGuard};
pub use semaphore::{Semaphore, TooLarge};
pub use waitgroup::{DoneGuard, WaitGroup};
