//! What a goroutine asks of the worker it runs on: who it is, parking, yielding, sleeping,
//! arming a timer; and the thread-local pointer (`LOCAL`) through which it finds the worker.

use super::*;

/// Runs `f` with the current worker, if the calling thread is one.
pub(super) fn with_local<R>(f: impl FnOnce(Option<&Local>) -> R) -> R {
    LOCAL.with(|p| {
        let p = p.get();
        // SAFETY: `p` is set by `run_worker` to a `Local` on that function's stack frame and
        // cleared before the frame ends; only this thread reads it.
        f(unsafe { p.as_ref() })
    })
}

/// Runs `f` with the goroutine running on this thread, if any.
pub(super) fn with_current<R>(f: impl FnOnce(&Arc<GoroutineHeader>) -> R) -> Option<R> {
    with_local(|l| l.and_then(|l| l.with_current(f)))
}

/// The goroutine running on this thread, with its home worker recorded so that other threads
/// can wake it (see `GoroutineHeader::home`).
pub(crate) fn current_goroutine_for_waking() -> Option<Arc<GoroutineHeader>> {
    with_local(|l| {
        let l = l?;
        l.with_current(|g| {
            if g.home.get().is_none() {
                g.home.set(l.home.clone());
            }
            g.clone()
        })
    })
}

/// Like [`current_goroutine_for_waking`], without taking a reference.
/// The running goroutine, for a waker to find it (recording its home worker on first use),
/// about to wait: its wait reason, object and what it waits on for ever (`holds`, see
/// `wait::Holds`) are recorded in the same look at the worker (see `wait::reason`).
pub(crate) fn current_goroutine_ptr_for_wait(
    reason: u8,
    object: usize,
    holds: Option<ptr::NonNull<dyn Holds>>,
) -> Option<ptr::NonNull<GoroutineHeader>> {
    with_local(|l| {
        let l = l?;
        let p = l.with_current(|g| {
            if g.home.get().is_none() {
                g.home.set(l.home.clone());
            }
            g.wait.store(reason, Ordering::Relaxed);
            ptr::NonNull::from(&**g)
        })?;
        l.wait_obj.set(object);
        l.wait_holds.set(holds);
        Some(p)
    })
}

/// The id of the goroutine running on this thread.
pub(crate) fn current_goroutine_id() -> Option<u64> {
    with_current(|g| g.id)
}

/// The id, name and spawn site of the goroutine running on this thread.
pub(crate) fn current_goroutine_label(
) -> Option<(u64, Option<String>, &'static std::panic::Location<'static>)> {
    with_current(|g| (g.id, g.name.as_deref().map(String::from), g.site))
}

/// The name of the goroutine running on this thread.
pub(crate) fn current_goroutine_name() -> Option<String> {
    with_current(|g| g.name.as_deref().map(String::from)).flatten()
}

/// A fresh goroutine id and the id of the goroutine asking (0 on a plain thread).
pub(crate) fn new_goroutine_ids() -> (u64, u64) {
    with_local(|l| match l {
        Some(l) => {
            let (mut next, mut end) = l.ids.get();
            if next == end {
                next = crate::sched::goroutine::take_ids(ID_BLOCK);
                end = next + ID_BLOCK;
            }
            l.ids.set((next + 1, end));
            (next, l.with_current(|g| g.id).unwrap_or(0))
        }
        None => (crate::sched::goroutine::take_ids(1), 0),
    })
}

/// The runtime of the worker this thread is.
pub(crate) fn current_runtime() -> Option<Arc<Shared>> {
    with_local(|l| l.map(|l| l.rt.clone()))
}

/// Runs `f` with the runtime of the worker this thread is, without cloning its `Arc`.
pub(crate) fn with_runtime<R>(f: impl FnOnce(Option<&Arc<Shared>>) -> R) -> R {
    with_local(|l| f(l.map(|l| &l.rt)))
}

/// True on a worker thread (on a goroutine or in the scheduler).
/// Records the running goroutine's wait reason and the object it waits on (see
/// `wait::reason`); the worker moves the object into the goroutine's slab entry when it parks.
pub(crate) fn set_wait_reason(r: u8, object: usize) {
    with_local(|l| {
        if let Some(l) = l {
            if l.with_current(|g| g.wait.store(r, Ordering::Relaxed))
                .is_some()
            {
                l.wait_obj.set(object);
                l.wait_holds.set(None);
            }
        }
    });
}

/// Records what the running goroutine is about to wait on for ever (see `wait::set_holds`);
/// the worker moves it into the goroutine's slab entry when it parks.
pub(crate) fn set_wait_holds(h: ptr::NonNull<dyn Holds>) {
    with_local(|l| {
        if let Some(l) = l {
            if l.fiber.is_running() {
                l.wait_holds.set(Some(h));
            }
        }
    });
}

/// How many bytes of stack the calling goroutine has left below this call; `None` off a
/// goroutine.
pub(crate) fn stack_left() -> Option<usize> {
    if !in_goroutine() {
        return None;
    }
    let here = 0u8;
    let here = ptr::from_ref(&here) as usize;
    crate::stack::overflow::stack_limit_of(here).map(|limit| here.saturating_sub(limit))
}

/// True on a goroutine (a fiber running on a worker).
pub(crate) fn in_goroutine() -> bool {
    with_local(|l| l.is_some_and(|l| l.fiber.is_running()))
}

pub(crate) fn in_worker() -> bool {
    with_local(|l| l.is_some())
}

/// True if a wait that has just woken spuriously should give up: this worker is tearing
/// down and the goroutine is unwinding (a destructor that waits), so the wait can never be
/// answered and shutdown cannot unwind it either (see `Local::teardown`).
#[cold]
#[inline(never)]
pub(crate) fn waits_give_up() -> bool {
    tearing_down() && std::thread::panicking()
}

/// True while this worker unwinds its goroutines at shutdown.
pub(crate) fn tearing_down() -> bool {
    with_local(|l| l.is_some_and(|l| l.fiber.is_unwinding()))
}

/// Parks the running goroutine (park protocol steps 1-2). False if not on a goroutine.
#[inline(always)]
pub(crate) fn park_current() -> bool {
    with_local(|l| match l {
        Some(l) if l.fiber.is_running() => {
            // Teardown, or a panic unwinding on this thread: out of line, so that this path
            // stays small enough to inline down to the switch.
            if l.fiber.is_unwinding() || std::thread::panicking() {
                park_unusual(l);
                return true;
            }
            let parks = l.with_current(|g| g.park.prepare_park()).unwrap_or(false);
            if parks {
                suspend(&l.fiber, Suspend::Park);
                answer_captures(l, Suspend::Park);
            }
            true
        }
        _ => false,
    })
}

/// [`park_current`] during teardown (the worker's teardown decides what a park means, see
/// `Local::teardown`) or while this thread unwinds a panic ([`park_holding_thread`]).
#[cold]
#[inline(never)]
pub(super) fn park_unusual(l: &Local) {
    if l.fiber.is_unwinding() {
        suspend(&l.fiber, Suspend::Park);
    } else {
        park_holding_thread(l);
    }
}

/// Parks the running goroutine while this thread is unwinding a panic of that goroutine (a
/// `Drop` that sends on a channel, a panic hook that logs through one): it waits for its
/// wake-up *with* the worker's thread instead of handing the thread to other goroutines.
///
/// Why: std keeps the panic count and the "in the panic hook" flag per thread. Had the
/// goroutine suspended, the next goroutine on this worker would see
/// `std::thread::panicking()` true (its "commit unless unwinding" guards roll back, the std
/// mutexes it unlocks are poisoned), and a panic of its own while the hook ran would abort
/// the process. Holding the thread keeps one panic per thread at a time, as on a plain thread.
///
/// The cost: the worker's other goroutines wait meanwhile (its unstarted ones may be stolen
/// by idle workers). So the hold is bounded by [`HOLD_MAX`]: a wake-up that takes longer
/// (one that only a goroutine of this worker can give, or none at all, as when nobody will
/// ever receive what a destructor sends) must not freeze the worker, its main goroutine
/// included, for ever. Past the bound the goroutine suspends as any park does, and says so
/// on stderr: until it finishes unwinding, its worker's other goroutines see
/// `std::thread::panicking()` true. While it waits, this loop does the
/// worker's part of waking it: it fires the worker's due timers (its own sleep or timeout is
/// among them) and sleeps on the worker's futex, published as sleeping, so that a waker on
/// another thread unparks it (`Shared::push_inbox`). Once woken, it takes its own slot out
/// of the queue the waker put it in, so the worker never resumes it twice. At shutdown it
/// suspends as any park does, and the teardown decides (`Local::teardown`).
pub(super) fn park_holding_thread(l: &Local) {
    let Some((parks, idx)) =
        l.with_current(|g| (g.park.prepare_park(), g.slot.load(Ordering::Relaxed)))
    else {
        return;
    };
    if !parks {
        return;
    }
    let me = l.me();
    me.running.held.store(true, Ordering::Relaxed);
    let give_up = Instant::now() + HOLD_MAX;
    loop {
        if l.with_current(|g| !g.park.is_parked()).unwrap_or(true) {
            // Woken (QUEUED): find the slot the waker queued, perhaps not pushed yet. After a
            // shutdown, a waker on another thread does not push it at all.
            if l.take_own_slot(idx) || l.rt.is_shut_down() {
                let _ = l.with_current(|g| g.park.on_resume());
                break;
            }
            std::thread::yield_now();
            continue;
        }
        let now = Instant::now();
        if l.rt.is_shut_down() || now >= give_up {
            me.running.held.store(false, Ordering::Relaxed);
            if now >= give_up && !l.rt.is_shut_down() {
                let id = l.with_current(|g| g.id).unwrap_or(0);
                eprintln!(
                    "goro: goroutine {id} has waited {HOLD_MAX:?} while unwinding a panic (a \
                     destructor or panic hook that blocks); worker {} runs its other \
                     goroutines meanwhile, and they see std::thread::panicking() until it is done",
                    l.index
                );
            }
            suspend(&l.fiber, Suspend::Park);
            answer_captures(l, Suspend::Park);
            return;
        }
        l.fire_timers();
        me.sleeping.store(true, Ordering::SeqCst);
        // Pairs with the fence in `push_inbox`: either we see the wake-up's state change
        // below, or the waker sees us sleeping and unparks us.
        fence(Ordering::SeqCst);
        if l.with_current(|g| g.park.is_parked()).unwrap_or(false) {
            let timer = l.next_timer();
            // A bound, so a shutdown (which unparks every worker) or a lost race is never
            // waited on for ever.
            let until = (Instant::now() + Duration::from_millis(10)).min(give_up);
            l.parker
                .park_deadline(timer.map_or(until, |t| t.min(until)));
        }
        me.sleeping.store(false, Ordering::SeqCst);
    }
    me.running.held.store(false, Ordering::Relaxed);
}

/// Puts the running goroutine at the back of its worker's queue. False if not on a goroutine.
pub(crate) fn yield_current() -> bool {
    with_local(|l| match l {
        Some(l) if l.fiber.is_running() => {
            // While this thread unwinds a panic of the running goroutine, the thread is not
            // handed to another (see `park_holding_thread`).
            if !std::thread::panicking() || l.fiber.is_unwinding() {
                suspend(&l.fiber, Suspend::Yield);
                answer_captures(l, Suspend::Yield);
            }
            true
        }
        _ => false,
    })
}

/// A preemption point, in goro's own operations that do not block (`select!` with `default`,
/// `try_send`, `try_recv`, `Context::is_done` and `err`, `Mutex::try_lock`): if the monitor
/// has flagged the running goroutine for having computed 10 ms of CPU time without a switch
/// (`Running::preempt`), it yields, so a loop that polls through goro shares its worker
/// (Go preempts such a loop with a signal; goro cannot, see DESIGN.md). One thread-local
/// read and one relaxed load when not flagged.
#[inline]
pub(crate) fn preempt_point() {
    let flagged = with_local(|l| l.is_some_and(|l| l.me().running.preempt.load(Ordering::Relaxed)));
    if flagged {
        preempt_now();
    }
}

#[cold]
#[inline(never)]
pub(super) fn preempt_now() {
    yield_current();
}

/// Parks the running goroutine until `deadline`. False if not on a goroutine.
pub(crate) fn sleep_until(deadline: Instant) -> bool {
    if !in_goroutine() {
        return false;
    }
    set_wait_reason(crate::wait::reason::WaitReason::Sleep as u8, 0);
    while Instant::now() < deadline {
        park_current_until(deadline);
        if tearing_down() {
            break;
        }
    }
    true
}

/// Parks the running goroutine with a timer that unparks it at `deadline`, and cancels that
/// timer once it runs again. False if not on a goroutine.
pub(crate) fn park_current_until(deadline: Instant) -> bool {
    let armed = with_local(|l| match l {
        Some(l) if l.fiber.is_running() => l.with_current(|g| {
            let gen = g.timer_gen.load(Ordering::Relaxed);
            let wake = Fire::Wake { g: g.clone(), gen };
            l.arm(deadline, wake);
            gen
        }),
        _ => None,
    });
    let Some(gen) = armed else { return false };
    let parked = park_current();
    // Whatever woke us, the wake-up armed above is stale now.
    let _ = with_current(|g| g.timer_gen.store(gen.wrapping_add(1), Ordering::Relaxed));
    parked
}

/// Arms a timer entry on this worker's heap; gives it back on a thread that is not a worker.
pub(crate) fn arm_timer(when: Instant, fire: Fire) -> Result<(), Fire> {
    with_local(|l| match l {
        Some(l) => {
            l.arm(when, fire);
            Ok(())
        }
        None => Err(fire),
    })
}

impl Local {
    pub(super) fn with_current<R>(&self, f: impl FnOnce(&Arc<GoroutineHeader>) -> R) -> Option<R> {
        let p = self.current.get();
        // SAFETY: `current` is non-null only while `execute` or `teardown` holds the slot it
        // points into, on this thread's stack below the running fiber (see the field doc).
        unsafe { p.as_ref() }.map(f)
    }
}

/// Runs `f` (the panic hook) with the current worker marked as printing a panic, so the
/// monitor does not warn about the time it takes; on a plain thread, just runs it.
pub(crate) fn while_printing_panic(f: impl FnOnce()) {
    /// Clears the mark however `f` ends.
    struct Clear(Option<*const WorkerShared>);
    impl Drop for Clear {
        fn drop(&mut self) {
            if let Some(w) = self.0 {
                // SAFETY: the worker's shared half lives as long as its runtime, which
                // outlives the goroutine whose panic is printed here.
                unsafe { &*w }
                    .running
                    .printing_panic
                    .store(false, Ordering::Relaxed);
            }
        }
    }
    let me = with_local(|l| {
        l.map(|l| {
            let me = l.me();
            me.running.printing_panic.store(true, Ordering::Relaxed);
            std::ptr::from_ref(me)
        })
    });
    let _clear = Clear(me);
    f();
}
