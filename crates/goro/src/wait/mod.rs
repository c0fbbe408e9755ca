//! Waiting: the crate's parking tools, used by channels, select, sync, time and the netpoller
//! alike.
//!
//! * [`park`]: park and unpark for goroutines and plain threads, and the two wake handles:
//!   [`Unparker`](park::Unparker), which owns its target, and
//!   [`UnparkerRef`](park::UnparkerRef), which does not (for waiters whose owner's protocol
//!   keeps the target alive).
//! * [`waiter`]: a parked operation that a counterpart completes: the `Signal` one or several
//!   waiters (a select's cases) share, claimed once, and the `Claimed` completion that wakes
//!   its owner after the lock is released.
//! * [`lock`]: the spin-then-futex lock of channels and wait lists.
//! * [`list`]: a FIFO wait list with a deadline per waiter (sync primitives, the netpoller).
//! * [`reason`]: why a goroutine waits and on what, for dumps, deadlock reports and the leak
//!   check.

pub(crate) mod list;
pub(crate) mod lock;
pub(crate) mod park;
pub(crate) mod reason;
pub(crate) mod waiter;
