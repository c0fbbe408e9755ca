//! `select`: wait on several channel operations at once (Go's `select` statement and
//! `reflect.Select`).
//!
//! This module owns [`select!`](crate::select!) and the dynamic [`Select`] builder. Both turn
//! their cases into `Case` values on the caller's stack and run one
//! algorithm, Go's `selectgo`:
//!
//! 1. Operands and send values are evaluated once, in source order, before anything else (S1).
//!    A case whose channel is `None` is disabled: never ready, never linked (C7, C8).
//! 2. The enabled cases get a random *poll order* (a Fisher-Yates shuffle: uniform among ready
//!    cases, S3) and a *lock order* (ascending channel address, each channel once, so two
//!    selects over the same channels cannot deadlock and a channel used by several cases is
//!    locked once, S10).
//! 3. First, without locks, look at each case's channel mirrors in poll order; a case that
//!    looks ready is tried under its own channel's lock alone, and if it completes, that is the
//!    select's outcome (it happened atomically under that lock). Otherwise lock every channel;
//!    try the cases in poll order; the first that can complete does so (exactly one
//!    communicates, S8); unlock all. Because every channel stays locked while the cases are
//!    examined, a select that finds nothing ready saw one instant (S5).
//! 4. None ready: with `default` (or a passed deadline), unlock and return "none". Otherwise
//!    link one waiter per case, all sharing one `Signal` (`wait/waiter.rs`), unlock, park.
//! 5. A counterpart that claims the signal completes that case and wakes us (`wait/waiter.rs`).
//!    We then lock every channel again and unlink the other waiters, so a select that lost
//!    leaves nothing behind (S11), and finish the winning case.
//!
//! A select cannot pair with itself (S9): its own waiters are linked only after step 3 found
//! nothing ready, and a waiter never tries the queues it sits in. A send case that loses keeps
//! its value: `select!` drops it with the case, exactly once; [`Select`] hands it back (S13).
//! A select with no enabled case and no default blocks forever (S14).

mod algo;
mod case;
mod dynamic;
mod macros;
mod operand;

use crate::chan::{wake_one, Chan, Queue, Receiver, RecvError, SendError, Sender};
use crate::chan::{TryRecvError, TrySendError};
use crate::wait::park::{park_quiet, park_until};
use crate::wait::waiter::{Claimed, Signal, Waiter};
use std::fmt;
use std::marker::PhantomData;
use std::ptr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

pub use self::algo::run;
pub use self::case::{RecvCase, SendCase};
pub use self::dynamic::{RecvToken, Select, SendToken};
pub use self::operand::{RecvOperand, SendOperand};

/// How long a select may wait.
#[derive(Clone, Copy, Debug)]
#[doc(hidden)]
pub enum Wait {
    /// Until a case is ready.
    Forever,
    /// Not at all (`default`).
    Never,
    /// Until the deadline.
    Until(Instant),
}

/// The pieces `select!` expands to. Not a stable API.
// `Case::link` names a crate-private type, so code outside goro cannot implement or drive a
// `Case` by hand; only `select!` and `Select` use it.
#[doc(hidden)]
#[allow(private_interfaces)]
pub mod __private {
    pub use super::{run, RecvCase, RecvOperand, SendCase, SendOperand, Wait};

    /// One case of a select, type-erased; every method but `enabled`, `addr`, `lock` and
    /// `unlock` runs with the case's channel locked.
    pub trait Case {
        /// Clears the outcome of a previous round; false for a disabled case.
        fn reset(&mut self) -> bool;
        /// The channel's address: the lock order, and the identity of a channel in several
        /// cases.
        fn addr(&self) -> usize;
        fn lock(&self);
        fn unlock(&self);
        /// Completes the case now if it can; `Some` carries whom to wake after unlocking.
        fn try_now(&mut self) -> Option<Option<super::Claimed>>;
        /// True if the case would complete now, judging by its channel's mirrors (no lock).
        fn looks_ready(&self) -> bool;
        /// Links this case's waiter for `signal` as case `index`.
        ///
        /// # Safety
        ///
        /// The case must not move until `unlink` has run under the lock again.
        unsafe fn link(&mut self, signal: &super::Signal, index: usize);
        /// Unlinks the waiter if it is still linked.
        fn unlink(&mut self);
        /// The case won with the signal's outcome.
        fn finish(&mut self, closed: bool);
        /// Marks the case as the one that ran (read by `select!`'s dispatch).
        fn set_won(&mut self, won: bool);
        /// The case's channel as the leak check sees it (`debug::leaks`); `None` if disabled.
        fn holding(&self) -> Option<crate::wait::reason::Holding>;
    }
}

use __private::Case;
