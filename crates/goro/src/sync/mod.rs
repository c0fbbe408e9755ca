//! Synchronisation primitives that park goroutines instead of blocking worker threads, and
//! work from plain OS threads as well (they wait through `sched::park`).
//!
//! This folder owns Go's `sync` package: for now [`WaitGroup`]; mutexes, `Once`, `Cond`,
//! semaphores and an error group come next.

mod waitgroup;

pub use waitgroup::WaitGroup;
