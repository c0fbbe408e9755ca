//! [`after_func()`]: call a function on a goroutine of its own once a duration has passed (Go's
//! `time.AfterFunc`).
//!
//! # Protocol
//!
//! The shared state is a generation and an `armed` flag under one mutex. Arming bumps the
//! generation and puts on the heap an entry that holds the state *strongly* (the call must
//! happen even if every [`AfterFunc`] handle is dropped, as in Go, where the runtime keeps the
//! timer). When the entry comes due it fires only if, under the lock, the generation is still
//! its own and the timer is armed; it then disarms and starts the goroutine. `stop` and
//! `reset` bump the generation under the same lock, so an entry armed before them does
//! nothing: a stopped call never starts, and `stop` returning true means exactly that.
//!
//! The generation and the flag are atomics written under the mutex, so that the heap can ask
//! whether an entry is stale without taking it: the heap asks while holding its own lock,
//! and arming takes the heap's lock while holding this one.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::timer::{arm, armed_token, deadline_after, Armed};
use crate::sched::runtime::Handle;
use crate::sched::timers::{Due, Fire};

/// A pending call made by [`after_func()`]: it can be stopped, or reset to a new delay.
/// Dropping it leaves the call pending.
#[derive(Clone)]
pub struct AfterFunc {
    core: Arc<Core>,
}

struct Core {
    /// Serialises arming, stopping and firing.
    st: Mutex<()>,
    /// The generation of the current arming (written under `st`).
    gen: AtomicU64,
    /// True while a call is pending (written under `st`).
    armed: AtomicBool,
    /// The function; `None` only while `Drop` takes it.
    f: Option<Arc<dyn Fn() + Send + Sync>>,
    /// The runtime to start the goroutine on: the one `after_func` was called in.
    rt: Option<Handle>,
}

/// The heap entry of one arming.
struct Call {
    core: Arc<Core>,
    gen: u64,
    /// Counted among the armed timers while it is in a heap.
    _armed: Armed,
}

impl Due for Call {
    fn is_stale(&self) -> bool {
        // A hint only (no lock: see the module doc); `fire` decides under the lock.
        self.core.gen.load(Ordering::Relaxed) != self.gen
            || !self.core.armed.load(Ordering::Relaxed)
    }

    fn fire(self: Box<Self>, _when: Instant, _now: Instant) -> Option<(Instant, Box<dyn Due>)> {
        {
            let _st = self.core.lock();
            if self.core.gen.load(Ordering::Relaxed) != self.gen
                || !self.core.armed.load(Ordering::Relaxed)
            {
                return None;
            }
            self.core.armed.store(false, Ordering::Relaxed);
        }
        if let Some(f) = self.core.f.clone() {
            start_call(self.core.rt.as_ref(), "time.AfterFunc", move || f());
        }
        None
    }
}

/// Starts a deferred call (`after_func`, `Context::after_func`) on a goroutine of `rt`, the
/// runtime it was made in; made on a plain thread (`None`), on a thread of its own. A runtime
/// that is shutting down does not start it, as Go does not once `main` has returned. This
/// may run on a worker's own stack (a timer or a deadline firing): a call not started is
/// dropped without letting its captures' `Drop` unwind.
///
/// The goroutine is named `name` (`"time.AfterFunc"`, `"context.AfterFunc"`), so that a
/// panic in the call, which nobody joins and which therefore ends the run as in Go, says
/// what ran it.
pub(crate) fn start_call(rt: Option<&Handle>, name: &str, f: impl FnOnce() + Send + 'static) {
    match rt {
        Some(rt) => match crate::Builder::new().name(name).spawn_on(rt, f) {
            Ok(h) => drop(h),
            // Shut down (nothing else can fail without a stack size or a dedicated thread).
            Err(e) => crate::stack::switch::drop_caught(e.into_inner()),
        },
        None => {
            // A thread that cannot be started drops the closure inside `spawn`.
            let name = format!("goro {name}");
            let spawn = move || std::thread::Builder::new().name(name).spawn(f);
            if let Err(p) = std::panic::catch_unwind(std::panic::AssertUnwindSafe(spawn)) {
                crate::stack::switch::drop_payload(p);
            }
        }
    }
}

impl Drop for Core {
    fn drop(&mut self) {
        // The last reference may be a stopped call's heap entry, dropped on a worker's own
        // stack: what the closure captured must not unwind it.
        if let Some(f) = self.f.take() {
            crate::stack::switch::drop_caught(f);
        }
    }
}

impl Core {
    fn lock(&self) -> std::sync::MutexGuard<'_, ()> {
        self.st.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Arms a call `d` from now; the caller holds the lock.
    fn arm(self: &Arc<Self>, d: Duration) {
        let gen = self.gen.load(Ordering::Relaxed) + 1;
        self.gen.store(gen, Ordering::Relaxed);
        self.armed.store(true, Ordering::Relaxed);
        let call = Call {
            core: self.clone(),
            gen,
            _armed: armed_token(),
        };
        arm(deadline_after(d), Fire::Call(Box::new(call)));
    }

    /// Cancels the pending call, if any; the caller holds the lock. True if one was pending.
    fn cancel(&self) -> bool {
        self.gen.fetch_add(1, Ordering::Relaxed);
        self.armed.swap(false, Ordering::Relaxed)
    }
}

/// Calls `f` on a goroutine of its own once `d` has passed (Go's `time.AfterFunc`), on the
/// runtime of the caller (on a plain OS thread, on a thread of its own). The returned
/// [`AfterFunc`] stops or resets the call; dropping it does not stop it. If the runtime is
/// shutting down when the time comes, the call does not happen, as Go's does not once `main`
/// has returned.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
///
/// goro::run(|| {
///     let (tx, rx) = goro::chan(1);
///     goro::time::after_func(Duration::from_millis(5), move || {
///         let _ = tx.try_send("called");
///     });
///     assert_eq!(rx.recv(), Ok("called"));
///
///     let never = goro::time::after_func(Duration::from_secs(60), || unreachable!());
///     assert!(never.stop(), "stopped before it was called");
/// })
/// .unwrap();
/// ```
#[doc(alias = "AfterFunc")]
pub fn after_func(d: Duration, f: impl Fn() + Send + Sync + 'static) -> AfterFunc {
    let core = Arc::new(Core {
        st: Mutex::new(()),
        gen: AtomicU64::new(0),
        armed: AtomicBool::new(false),
        f: Some(Arc::new(f)),
        rt: Handle::current(),
    });
    {
        let _st = core.lock();
        core.arm(d);
    }
    AfterFunc { core }
}

impl AfterFunc {
    /// Stops the call if it has not started; true if this stopped it (false if it had
    /// already been started or stopped).
    pub fn stop(&self) -> bool {
        let _st = self.core.lock();
        self.core.cancel()
    }

    /// Arms the call again, `d` from now, whether or not it already happened or was stopped
    /// (Go's `Timer.Reset`); true if a call was pending and is replaced by this one.
    pub fn reset(&self, d: Duration) -> bool {
        let _st = self.core.lock();
        let was = self.core.cancel();
        self.core.arm(d);
        was
    }
}

impl std::fmt::Debug for AfterFunc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AfterFunc")
            .field("pending", &self.core.armed.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    struct PanicsOnDrop;

    impl Drop for PanicsOnDrop {
        fn drop(&mut self) {
            panic!("a captured value panicked in its Drop");
        }
    }

    /// A call that is not started (its runtime has ended) is dropped where it is, which may
    /// be a worker's own stack: a capture that panics in its `Drop` must not unwind from it.
    #[test]
    fn a_call_not_started_drops_its_captures_without_unwinding() {
        let rt = crate::run(|| Handle::current().expect("in a runtime")).unwrap();
        assert!(rt.is_shut_down());
        let bomb = PanicsOnDrop;
        let hook = std::panic::take_hook();
        std::panic::set_hook(Box::new(|_| {}));
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            start_call(Some(&rt), "test", move || {
                let _keep = &bomb;
            })
        }));
        std::panic::set_hook(hook);
        assert!(r.is_ok(), "the captures' panic unwound into the caller");
    }
}
