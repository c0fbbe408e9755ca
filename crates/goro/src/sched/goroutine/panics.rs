//! What becomes of a goroutine's panic.
//!
//! A panic is caught where the goroutine's closure runs (`Spawned::run`) and put in its join
//! slot. From there it goes one of two ways:
//!
//! * **Joined**: `JoinHandle::join` returns it as [`JoinError::Panicked`], a value the joiner
//!   handles as it likes.
//! * **Nobody joins it**: the handle was dropped before the panic (the goroutine was
//!   detached), or is dropped after it without a join. As in Go, where an unrecovered panic
//!   ends the program, the runtime then ends: it records the first such panic, begins its
//!   shutdown, and `run` returns [`RunError::Panicked`](crate::RunError::Panicked) naming the
//!   goroutine. [`RuntimeBuilder::unhandled_panic`](crate::RuntimeBuilder::unhandled_panic)
//!   with [`UnhandledPanic::Ignore`] keeps the program going instead.
//!
//! The second way may be noticed far from the goroutine: a handle dropped later, on another
//! goroutine or a plain thread. So a panic that finds its handle still alive is stored
//! wrapped in an [`Unjoined`] payload that remembers the runtime and the goroutine; `join`
//! unwraps it, and a handle dropped unjoined reports it through the runtime it names. Only
//! panics pay for this; a goroutine's header stays as small as it was.

use std::any::Any;
use std::fmt;
use std::panic::Location;
use std::sync::{Arc, Weak};

use super::super::runtime::Shared;
use super::JoinError;
use crate::stack::switch::drop_payload;

/// The message of a panic payload, when it is a string (`panic!` makes a `&str` or a `String`).
pub(crate) fn payload_message(p: &(dyn Any + Send)) -> Option<&str> {
    p.downcast_ref::<&'static str>()
        .copied()
        .or_else(|| p.downcast_ref::<String>().map(String::as_str))
}

/// What a runtime does when a goroutine panics and nobody joins it (see
/// [`RuntimeBuilder::unhandled_panic`](crate::RuntimeBuilder::unhandled_panic)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum UnhandledPanic {
    /// End the run, as Go ends the program: the runtime shuts down (the goroutines still
    /// alive are unwound) and `run` returns [`RunError::Panicked`](crate::RunError::Panicked)
    /// naming the goroutine. The default.
    #[default]
    EndRun,
    /// Print the panic (the panic hook does) and go on; the payload is dropped.
    Ignore,
}

/// A goroutine's panic that ended a run: which goroutine, where it was started, and the
/// payload.
pub struct GoroutinePanic {
    id: u64,
    name: Option<String>,
    site: &'static Location<'static>,
    payload: Box<dyn Any + Send + 'static>,
}

impl GoroutinePanic {
    pub(crate) fn new(
        (id, name, site): Label,
        payload: Box<dyn Any + Send + 'static>,
    ) -> GoroutinePanic {
        GoroutinePanic {
            id,
            name,
            site,
            payload,
        }
    }

    /// The goroutine's id ([`current_id`](crate::current_id) on it).
    pub fn id(&self) -> u64 {
        self.id
    }

    /// The goroutine's name ([`Builder::name`](crate::Builder::name); `"main"` for the main
    /// goroutine).
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// Where the goroutine was started (the call to `go`, or to `run` for the main goroutine).
    pub fn site(&self) -> &'static Location<'static> {
        self.site
    }

    /// The panic's message, when the payload is a string.
    pub fn message(&self) -> Option<&str> {
        payload_message(&*self.payload)
    }

    /// The panic's payload, as `std::panic::catch_unwind` would give it.
    pub fn payload(&self) -> &(dyn Any + Send + 'static) {
        &*self.payload
    }

    /// The payload, to go on with `std::panic::resume_unwind`.
    pub fn into_payload(self) -> Box<dyn Any + Send + 'static> {
        self.payload
    }
}

/// A goroutine as panic reports name it: `goroutine 7 "fetcher" (created at src/main.rs:20:10)`.
pub(crate) struct Named<'a> {
    pub(crate) id: u64,
    pub(crate) name: Option<&'a str>,
    pub(crate) site: &'static Location<'static>,
}

impl fmt::Display for Named<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "goroutine {}", self.id)?;
        if let Some(n) = self.name {
            write!(f, " \"{n}\"")?;
        }
        write!(f, " (created at {})", self.site)
    }
}

impl fmt::Display for GoroutinePanic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let who = Named {
            id: self.id,
            name: self.name.as_deref(),
            site: self.site,
        };
        write!(f, "{who} panicked")?;
        match self.message() {
            Some(m) => write!(f, ": {m}"),
            None => Ok(()),
        }
    }
}

impl fmt::Debug for GoroutinePanic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// A goroutine as a panic report names it: id, name, spawn site.
pub(crate) type Label = (u64, Option<String>, &'static Location<'static>);

/// A panic stored in a join slot whose handle was still alive: the payload, with what is
/// needed to report it if the handle is dropped without a join.
struct Unjoined {
    payload: Box<dyn Any + Send>,
    rt: Weak<Shared>,
    label: Label,
}

/// The panic of the goroutine running on this thread, caught by its task, as its join slot
/// stores it: wrapped with the goroutine's runtime and label, so that it can be reported
/// wherever the slot finds that nobody will join it ([`unjoined`]).
pub(super) fn caught(p: Box<dyn Any + Send>) -> Box<dyn Any + Send> {
    match super::running() {
        Some((rt, label)) => Box::new(Unjoined {
            payload: p,
            rt: Arc::downgrade(&rt),
            label,
        }),
        // Not on a goroutine (cannot happen for a goroutine's task): nothing to end.
        None => p,
    }
}

/// The joiner's view of a stored panic: the payload the goroutine panicked with.
pub(super) fn for_joiner(e: JoinError) -> JoinError {
    match e {
        JoinError::Panicked(p) => match p.downcast::<Unjoined>() {
            Ok(u) => JoinError::Panicked(u.payload),
            Err(p) => JoinError::Panicked(p),
        },
        e => e,
    }
}

/// A stored result nobody will take: a panic in it is reported to its runtime (if that is
/// still there); anything else is dropped by the caller.
pub(super) fn unjoined(e: JoinError) {
    let JoinError::Panicked(p) = e else { return };
    match p.downcast::<Unjoined>() {
        Ok(u) => {
            let Unjoined { payload, rt, label } = *u;
            match rt.upgrade() {
                Some(rt) => rt.unhandled_panic(GoroutinePanic::new(label, payload)),
                None => drop_payload(payload),
            }
        }
        Err(p) => drop_payload(p),
    }
}
