//! A worker: one OS thread running goroutines (Go's M bound to a P).
//!
//! Each worker owns, in [`Local`] (on its own thread, reached through one thread-local pointer):
//!
//! * `fresh`: its deque of **unstarted** goroutines, whose stealer other workers use (only
//!   unstarted goroutines may change worker, DESIGN decision 2). The owner takes the *newest*
//!   (LIFO), thieves take the *oldest* half: a goroutine that spawns others and then waits runs
//!   its newest child next, depth first, as Go's `runnext` does for a new goroutine and as
//!   rayon does, which keeps few stacks in use (skynet's million goroutines touch a few dozen
//!   stacks instead of a hundred thousand); thieves get the oldest, largest pieces of work.
//!   Every [`OLDEST_EVERY`]th pick the owner takes the oldest instead, so no unstarted goroutine
//!   waits forever behind newer ones;
//! * `ready`: started goroutines made runnable again (yielded, or woken on this worker);
//! * `runnext`: one goroutine woken by the goroutine running here, run next so that two
//!   goroutines talking to each other stay on one core (Go's `runnext`);
//! * the slab of fibers (coroutine + stack) of the goroutines that started here;
//! * its timer heap and a small cache of stacks.
//!
//! Its shared half (`runtime::WorkerShared`) holds the stealer, an **inbox** where other threads
//! put goroutines of this worker that they woke, and the futex the worker sleeps on.
//!
//! # The loop
//!
//! Each tick: fire due timers; every 61st tick take from the global queue first (Go:
//! `schedtick % 61`, so a busy worker cannot starve goroutines spawned from plain threads);
//! then `runnext` (at most [`RUNNEXT_STREAK`] times in a row), the inbox, then `ready` and
//! `fresh` merged by age (the candidate from `fresh` runs only if it is older than `ready`'s
//! head), the global queue, and finally stealing half of another worker's unstarted
//! goroutines. With nothing found the worker spins for [`SPIN`], then
//! sleeps: it publishes itself as idle, re-checks every source (a Dekker handshake with
//! `Shared::wake_idle` and `schedule_woken`, both sides with a SeqCst fence), and parks until
//! the earliest timer, or for [`RECHECK`] while another worker holds unstarted goroutines
//! that it may not take yet. It parks in `epoll_wait` if it can take the netpoller's poll
//! role (see `net::poller`, "Who polls"), else on its futex. An idle runtime uses no CPU.

use std::cell::{Cell, RefCell, UnsafeCell};
use std::collections::HashMap;
use std::collections::VecDeque;
use std::ptr;
use std::sync::atomic::{fence, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crossbeam_deque::{Steal, Worker as Deque};
use crossbeam_utils::sync::Parker;

use super::goroutine::{Goroutine, NOT_STARTED};
use super::placement::{Victim, Watch, RECHECK};
use super::runtime::{count_owned, DumpLine, Home, Shared, Want, WorkerShared};
use super::timers::Fire;
use super::wait::Holds;
use crate::stack::overflow::AltStack;
use crate::stack::pool::Stack;
use crate::stack::switch::{suspend, CurrentFiber, Fiber, Suspend};

/// How long a goroutine that parks while unwinding a panic may keep its worker's thread (see
/// `park_holding_thread`): long enough for a destructor's send to a busy receiver or a
/// panic hook's write to a logger, short enough that a wait that never ends freezes the
/// worker's other goroutines only briefly.
const HOLD_MAX: Duration = Duration::from_millis(100);

/// How long an idle worker looks for work before sleeping. A futex sleep and wake costs
/// ~14 us on the reference machine against ~0.2 us for a spinning hand-off (shared/BENCH.md),
/// so spinning a little longer than one wake-up is cheap insurance.
const SPIN: Duration = Duration::from_micros(50);

/// Pause instructions between two looks for work while spinning. The time between looks is
/// the latency of a cross-worker hand-off, but looking is not free: each look reads lines the
/// other workers write, and makes their next write miss. Measured on a ping-pong between two
/// goroutines on different workers (2 vCPU EPYC): 4 pauses 3.3 us per round trip, 16 pauses
/// 1.25 us, 32 pauses 1.7 us, 128 pauses 4.5 us.
const SPIN_PAUSES: u32 = 16;

/// `runnext` may win this many ticks in a row; then the queues get a turn, so a pair of
/// goroutines that keep waking each other cannot starve the rest of the worker.
const RUNNEXT_STREAK: u32 = 32;

/// Go: `schedtick % 61 == 0` checks the global run queue first.
const GLOBAL_EVERY: u32 = 61;

/// A worker publishes its count of resumptions for thieves every this many (each publication
/// is a write to a line that a watching thief reads).
const TICKS_EVERY: u32 = 8;

/// At most this many goroutines move in one steal (half the victim's queue, up to this).
const STEAL_MAX: usize = 128;

/// Every this many picks from `fresh`, the owner takes its oldest unstarted goroutine rather
/// than its newest (the same period as Go's global-queue check).
const OLDEST_EVERY: u32 = 61;

/// Goroutine ids a worker takes from the global counter at a time (Go takes 16; a larger block
/// costs nothing but gaps in the numbering).
const ID_BLOCK: u64 = 256;

/// Stacks a worker keeps for itself before returning half to the pool.
const STACK_CACHE: usize = 64;

/// References a worker holds back for one object before it releases them (see
/// [`release_later`]).
pub(crate) const RELEASE_BATCH: u32 = 64;

/// References to one `Arc`'s object that this worker has been asked to drop and has not yet
/// released (see [`release_later`]).
#[derive(Clone, Copy)]
struct Held {
    /// `Arc::into_raw` of the object.
    ptr: *const (),
    /// How many references to release.
    n: u32,
    /// Releases `n` references to `ptr`: `release_arc::<T>` for the object's type.
    release: unsafe fn(*const (), u32),
}

/// Releases `n` references to the object of an `Arc<T>` whose pointer is `p`; the last one
/// drops it.
///
/// # Safety
///
/// `p` came from `Arc::<T>::into_raw`, and the caller owns `n` references to it.
unsafe fn release_arc<T>(p: *const (), n: u32) {
    for _ in 0..n {
        // SAFETY: the caller owns `n` references from `Arc::<T>::into_raw`.
        unsafe { Arc::decrement_strong_count(p.cast::<T>()) };
    }
}

thread_local! {
    static LOCAL: Cell<*const Local> = const { Cell::new(ptr::null()) };
}

/// What the loop runs next: an unstarted goroutine, or a started one named by its slab slot.
/// Started goroutines travel through `ready`, `runnext` and the inbox as slot indices, so
/// waking one costs no reference-count update.
enum Next {
    Fresh(Arc<Goroutine>),
    Resume(u32),
}

/// A started goroutine's fiber, in the slab of its home worker: one cache line, the one
/// line of the slab that resuming a goroutine reads (`the_slab_entry_is_one_cache_line`).
/// A ring of goroutines handing a value on finds every entry cold, a lap after it was last
/// touched; a second line cost a cache miss per hop. What the worker records at each park
/// is kept on the goroutine's stack instead ([`ParkRecord`]).
#[repr(C, align(64))]
struct Slot {
    g: Arc<Goroutine>,
    fiber: Fiber,
}

/// What a worker records when one of its goroutines parks, for dumps and the leak check. It
/// lives in the goroutine's stack's meta area (`Fiber::record`), on the cache line that the
/// switch into and out of the goroutine touches anyway, so recording costs no cache miss.
/// Written when the goroutine starts and at each of its parks, read by dumps, all on its
/// home worker while the goroutine is suspended.
#[repr(C)]
struct ParkRecord {
    /// When it last parked, in ms of the runtime's coarse clock (`Shared::clock_ms`), in the
    /// high 40 bits (35 years); how many times it has parked (wrapping), in the low 24.
    stamp: u64,
    /// What it waits on (an address; 0 if not recorded), for dumps.
    wait_obj: usize,
    /// What it waits on for ever, for the leak check (see `wait::Holds`): valid while it
    /// stays suspended in the park that recorded it.
    holds: Option<ptr::NonNull<dyn Holds>>,
}

const _: () = assert!(
    size_of::<ParkRecord>() <= crate::stack::pool::RECORD_SIZE && align_of::<ParkRecord>() <= 16
);

/// Bits of [`ParkRecord::stamp`] that count parks.
const PARK_BITS: u32 = 24;

impl ParkRecord {
    /// The record of a goroutine that has not parked yet.
    const NEW: ParkRecord = ParkRecord {
        stamp: 0,
        wait_obj: 0,
        holds: None,
    };

    /// How long it has been parked at `now_ms` (of `Shared::clock_ms`), if it parked at most
    /// 2^40 ms (35 years) ago.
    fn waited_ms(&self, now_ms: u64) -> u64 {
        now_ms.wrapping_sub(self.stamp >> PARK_BITS) & (u64::MAX >> PARK_BITS)
    }

    /// How many times it has parked, modulo 2^24: the same count in two dumps means the same
    /// park (a goroutine that parks a multiple of 16 million times between two dumps passes
    /// for one that has not moved; the leak check asks a third time before it reports).
    fn parks(&self) -> u32 {
        (self.stamp & ((1 << PARK_BITS) - 1)) as u32
    }

    /// Records a park at `now_ms`.
    #[inline(always)]
    fn park(&mut self, now_ms: u64, wait_obj: usize, holds: Option<ptr::NonNull<dyn Holds>>) {
        let parks = (self.stamp.wrapping_add(1)) & ((1 << PARK_BITS) - 1);
        self.stamp = (now_ms << PARK_BITS) | parks;
        self.wait_obj = wait_obj;
        self.holds = holds;
    }
}

impl Slot {
    /// The goroutine's park record.
    #[inline(always)]
    fn record(&self) -> *mut ParkRecord {
        self.fiber.record().cast()
    }
}

/// The worker-local half of a worker; see the module doc.
pub(crate) struct Local {
    rt: Arc<Shared>,
    index: usize,
    /// `&rt.workers[index]`, looked up once: the hot paths reach it on every switch.
    me: ptr::NonNull<WorkerShared>,
    /// Given to every goroutine that starts here (`Goroutine::home`).
    home: Arc<Home>,
    /// References held back by [`release_later`].
    held: Cell<Option<Held>>,
    fresh: Deque<Arc<Goroutine>>,
    /// A stealer of our own `fresh`: takes the oldest end (see [`OLDEST_EVERY`]).
    oldest: crossbeam_deque::Stealer<Arc<Goroutine>>,
    /// Picks from `fresh` since the last oldest-first one.
    fresh_picks: Cell<u32>,
    /// False only while `fresh` is known to be empty: set whenever this worker puts
    /// goroutines in it, cleared when a look finds it empty (thieves may empty it unseen).
    /// Lets a switch skip placement rule 3 with one load of a line it reads anyway.
    fresh_hint: Cell<bool>,
    /// True while this worker is counted in `Shared::nlooking`.
    looking: Cell<bool>,
    /// When the running goroutine's run began, and how many unstarted goroutines were queued
    /// then: set only when placement rule 3 may apply (see `resume`).
    run_start: Cell<Option<(Instant, usize)>>,
    /// Started goroutines runnable again: (slab slot, stamp).
    ready: RefCell<VecDeque<(u32, u32)>>,
    /// Stamps for `ready` and `Goroutine::qseq`: the local FIFO order across `fresh` and
    /// `ready`.
    seq: Cell<u32>,
    /// The slab slot of the goroutine to run next.
    runnext: Cell<Option<u32>>,
    streak: Cell<u32>,
    /// Fibers of started goroutines that are suspended. A goroutine gets its index when it
    /// starts (`Goroutine::slot`) and keeps it until it returns.
    ///
    /// A resumed goroutine runs in place, through a pointer into its entry: the slab only
    /// grows (`alloc_slot`) or is drained (`teardown`) while no goroutine of this worker runs,
    /// so the entry stays put for the whole resume, and a switch moves no `Slot`.
    slab: RefCell<Vec<UnsafeCell<Option<Slot>>>>,
    free_slots: RefCell<Vec<u32>>,
    fiber: CurrentFiber,
    /// The running goroutine: points at the `Arc` in the `Slot` that `execute` (or `teardown`)
    /// holds on this worker's stack while the fiber runs; null otherwise. A pointer rather
    /// than a clone saves two reference-count updates per switch.
    current: Cell<*const Arc<Goroutine>>,
    /// Goroutine ids handed out here, taken from the global counter in blocks (Go's
    /// `goidcache`), so spawning on several workers does not share one counter's cache line.
    ids: Cell<(u64, u64)>,
    stacks: RefCell<Vec<Stack>>,
    parker: Parker,
    tick: Cell<u32>,
    /// Resumptions of started goroutines: the progress thieves watch (placement rule 2).
    resumes: Cell<u32>,
    /// Every resume, fresh starts included: published in `Running::seq` for the monitor.
    switches: Cell<u64>,
    /// The object the running goroutine is about to wait on (`set_wait_reason`).
    wait_obj: Cell<usize>,
    /// What it is about to wait on for ever (`set_wait_holds`), moved into its slot when it
    /// parks.
    wait_holds: Cell<Option<ptr::NonNull<dyn Holds>>>,
    /// Non-zero while the worker resumes a suspended goroutine only to record its stack for a
    /// dump: the lowest address of that goroutine's stack (see [`capture_stack`]).
    capture: Cell<usize>,
    /// The stack recorded by that resume.
    captured: RefCell<Option<Vec<usize>>>,
    /// For a leak check's scan instead: the top of that goroutine's stack, the words looked
    /// for (sorted), and what was found (see [`capture_stack`]).
    capture_top: Cell<usize>,
    scan_for: RefCell<Option<Arc<[usize]>>>,
    scanned: RefCell<Option<Vec<(usize, u32)>>>,
    /// Whether this runtime traces, and this worker's trace buffer (see `sched::trace`).
    tracing: bool,
    trace: RefCell<Vec<super::trace::Event>>,
    /// Names of the goroutines traced here, recorded once each.
    trace_names: RefCell<HashMap<u64, String>>,
    rng: Cell<u64>,
    /// What this worker, as a thief, has seen of each victim (placement rule 2).
    watch: RefCell<Vec<Watch>>,
    _alt: AltStack,
}

/// Takes one item from a crossbeam queue, trying again while it reports a lost race (`Retry`).
pub(crate) fn steal_retrying<T>(mut steal: impl FnMut() -> Steal<T>) -> Option<T> {
    loop {
        match steal() {
            Steal::Success(t) => return Some(t),
            Steal::Empty => return None,
            Steal::Retry => {}
        }
    }
}

/// True if stamp `a` was given after stamp `b` (stamps wrap around; two live stamps are never
/// 2^31 apart).
fn newer(a: u32, b: u32) -> bool {
    (a.wrapping_sub(b) as i32) > 0
}

/// Runs `f` with the current worker, if the calling thread is one.
fn with_local<R>(f: impl FnOnce(Option<&Local>) -> R) -> R {
    LOCAL.with(|p| {
        let p = p.get();
        // SAFETY: `p` is set by `run_worker` to a `Local` on that function's stack frame and
        // cleared before the frame ends; only this thread reads it.
        f(unsafe { p.as_ref() })
    })
}

/// Drops `a`, on a worker perhaps a little later: its reference is held back with others to
/// the same object and released in a batch, at the latest when this worker next runs out of
/// work (or shuts down). For handles whose drop means nothing but the reference count, such
/// as a `WaitGroup`'s clones: a goroutine spawned with a clone drops it on the worker that ran
/// it while the spawner keeps cloning on its own, and one reference count written from both
/// cores in turn crossed between them twice per goroutine. Not for anything whose drop
/// others can see (a channel's `Sender` closes it). On a plain thread, dropped at once.
#[inline]
pub(crate) fn release_later<T: Send + Sync>(a: Arc<T>) {
    with_local(|l| match l {
        Some(l) => l.hold(a),
        None => drop(a),
    });
}

/// Runs `f` with the goroutine running on this thread, if any.
fn with_current<R>(f: impl FnOnce(&Arc<Goroutine>) -> R) -> Option<R> {
    with_local(|l| l.and_then(|l| l.with_current(f)))
}

/// The goroutine running on this thread, with its home worker recorded so that other threads
/// can wake it (see `Goroutine::home`).
pub(crate) fn current_goroutine_for_waking() -> Option<Arc<Goroutine>> {
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
/// `wait::Holds`) are recorded in the same look at the worker (see `sched::wait`).
pub(crate) fn current_goroutine_ptr_for_wait(
    reason: u8,
    object: usize,
    holds: Option<ptr::NonNull<dyn Holds>>,
) -> Option<ptr::NonNull<Goroutine>> {
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
                next = super::goroutine::take_ids(ID_BLOCK);
                end = next + ID_BLOCK;
            }
            l.ids.set((next + 1, end));
            (next, l.with_current(|g| g.id).unwrap_or(0))
        }
        None => (super::goroutine::take_ids(1), 0),
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
/// `sched::wait`); the worker moves the object into the goroutine's slab entry when it parks.
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
fn park_unusual(l: &Local) {
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
fn park_holding_thread(l: &Local) {
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

/// After the running goroutine suspended: while its worker resumes it only to look at its
/// stack (a dump, or a leak check's scan), record what is asked and suspend again the same
/// way (see [`capture_stack`]).
#[inline(always)]
fn answer_captures(l: &Local, why: Suspend) {
    if l.capture.get() != 0 {
        answer_captures_now(l, why);
    }
}

#[inline(never)]
fn answer_captures_now(l: &Local, why: Suspend) {
    while l.capture.get() != 0 {
        // The scan starts here: the frames of the capture itself, below, hold the words it
        // looks for.
        let mark = 0u8;
        capture_stack(l, ptr::from_ref(&mark) as usize);
        suspend(&l.fiber, why);
    }
}

/// At most this many goroutines of one worker have their stacks recorded in one dump (each
/// takes tens of microseconds); the rest are listed without.
const STACKS_PER_DUMP: usize = 1000;

/// Stack a goroutine must have left for its stack to be recorded: the unwinder's frames are
/// large, and a dump must never overflow the stack it looks at.
const CAPTURE_HEADROOM: usize = 64 * 1024;

/// Records the running goroutine's stack for a dump, on the goroutine's own stack.
///
/// A goroutine's stack can only be walked from inside it (the unwinder walks the stack it
/// runs on), so a worker answering a dump resumes each suspended goroutine with
/// `Local::capture` set; the goroutine, still inside `park_current` or `yield_current`, walks
/// its stack here and suspends again the same way. Nothing else happens on that resume: the
/// park state is untouched, no wake-up is consumed, and a wake-up that arrives meanwhile is
/// still queued for the real resume.
///
/// For a leak check, the goroutine scans its stack instead, from `above` (an address in the
/// caller's frame: the frames of the scan itself, which hold the words looked for, are
/// below it) to the top.
#[inline(never)]
fn capture_stack(l: &Local, above: usize) {
    let limit = l.capture.get();
    let here = ptr::from_ref(&limit) as usize;
    if let Some(words) = l.scan_for.borrow().as_deref() {
        if here.saturating_sub(limit) <= SCAN_HEADROOM {
            *l.scanned.borrow_mut() = None;
            return;
        }
        *l.scanned.borrow_mut() = Some(scan_stack(above, l.capture_top.get(), words));
        // The scan's frame held the words it looked for; once the goroutine runs on, calls
        // reaching this deep would leave them in unwritten slots, for the next scan to take
        // as handles this goroutine holds. Overwrite it.
        crate::stack::zero_below::<2048>();
        return;
    }
    if here.saturating_sub(limit) <= CAPTURE_HEADROOM {
        *l.captured.borrow_mut() = None;
        return;
    }
    let mut ips = Vec::with_capacity(64);
    // SAFETY: the unsynchronized walk is unsafe only where the platform's unwinder is not
    // thread-safe (Windows' dbghelp); goro runs on Linux, whose `_Unwind_Backtrace` is (it
    // is what every panicking thread uses). Not taking the crate's global lock matters: a
    // dump being symbolized on another thread holds it for as long as reading the debug
    // info takes, and a worker must not wait for that.
    unsafe {
        backtrace::trace_unsynchronized(|f| {
            ips.push(f.ip() as usize);
            ips.len() < 256
        });
    }
    *l.captured.borrow_mut() = Some(ips);
}

/// Stack a goroutine must have left to be scanned for the leak check (the scan and the
/// scrub after it).
const SCAN_HEADROOM: usize = 16 * 1024;

/// Counts how often each of `words` (sorted) occurs as an aligned word in `from..top`: the
/// live part of the stack of the goroutine calling this, for the leak check
/// (`debug::leaks`).
///
/// A conservative scan: it cannot tell a live handle from a stale copy a move left behind,
/// which the leak check allows for. The words are read volatile, one at a time, as
/// conservative collectors read stacks: another thread may be writing a value into a
/// waiter record on this stack (a hand-off to a parked receiver), and such a word is
/// read as whatever it holds at that instant.
#[inline(never)]
fn scan_stack(from: usize, top: usize, words: &[usize]) -> Vec<(usize, u32)> {
    let mut found: Vec<(usize, u32)> = Vec::new();
    let (Some(&lo), Some(&hi)) = (words.first(), words.last()) else {
        return found;
    };
    let step = size_of::<usize>();
    let mut p = from.next_multiple_of(step);
    while p + step <= top {
        // SAFETY: `from..top` is the used part of the calling goroutine's own stack, mapped
        // and readable; `p` is aligned.
        let w = unsafe { ptr::read_volatile(p as *const usize) };
        if (lo..=hi).contains(&w) && words.binary_search(&w).is_ok() {
            match found.iter_mut().find(|(x, _)| *x == w) {
                Some((_, n)) => *n += 1,
                None => found.push((w, 1)),
            }
        }
        p += step;
    }
    found
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
fn preempt_now() {
    yield_current();
}

/// Parks the running goroutine until `deadline`. False if not on a goroutine.
pub(crate) fn sleep_until(deadline: Instant) -> bool {
    if !in_goroutine() {
        return false;
    }
    set_wait_reason(super::wait::WaitReason::Sleep as u8, 0);
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

/// Records a completed channel operation in this worker's buffer if its runtime traces, or in
/// the plain threads' buffer when called off the workers.
pub(crate) fn trace_chan(op: super::trace::ChanOp, ch: usize) {
    let on_worker = with_local(|l| match l {
        Some(l) => {
            if l.tracing {
                let g = l.with_current(|g| g.id).unwrap_or(0);
                l.trace.borrow_mut().push(super::trace::Event::Chan {
                    op,
                    ch,
                    g,
                    at: super::trace::now_us(),
                });
            }
            true
        }
        None => false,
    });
    if !on_worker {
        super::trace::chan_from_thread(op, ch);
    }
}

/// Records a traced wake-up of `g` in the waker's buffer: a worker's of the same runtime, or
/// the one for plain threads.
#[cold]
fn trace_wake(g: &Goroutine, rt: &Arc<Shared>) {
    let recorded = with_local(|l| match l {
        Some(l) if Arc::ptr_eq(&l.rt, rt) => {
            let ev = super::trace::wake(g.id);
            l.trace.borrow_mut().push(ev);
            true
        }
        _ => false,
    });
    if !recorded {
        super::trace::wake_from_thread(g.id);
    }
}

/// Park protocol step 4: `g` has just been moved to QUEUED; hand it to its home worker.
///
/// Inlined for the common case, a goroutine woken by another goroutine of its own worker
/// (a hand-off): it goes to `runnext`. Anything else takes [`schedule_woken_elsewhere`].
#[inline]
pub(crate) fn schedule_woken(g: &Goroutine) {
    // Only a started goroutine can be parked, so it has a home and a slot; the slot was
    // written before it started, so the unparker's Acquire on the state word sees it.
    let Some(home) = g.home.get() else { return };
    let idx = g.slot.load(Ordering::Relaxed);
    let queued = with_local(|l| match l {
        Some(l) if std::ptr::eq(&*l.home, home) && !l.rt.is_shut_down() => {
            if l.tracing && super::trace::on() {
                trace_wake(g, &l.rt);
            }
            // Where the goroutines it spawns next should start (see `push_fresh`).
            note_waker(g, l);
            l.push_runnext(idx);
            true
        }
        _ => false,
    });
    if !queued {
        schedule_woken_elsewhere(g, home, idx);
    }
}

/// [`schedule_woken`] from a thread other than the goroutine's home worker, or during
/// shutdown: to the home worker's inbox.
#[inline(never)]
fn schedule_woken_elsewhere(g: &Goroutine, home: &Home, idx: u32) {
    if home.rt.is_shut_down() {
        return;
    }
    if super::trace::on() && home.rt.trace_path.is_some() {
        trace_wake(g, &home.rt);
    }
    // Where the goroutines it spawns next should start (see `push_fresh`): this worker, if
    // the waker is one of its goroutines.
    with_local(|l| {
        if let Some(l) = l {
            if l.fiber.is_running() && Arc::ptr_eq(&l.rt, &home.rt) {
                note_waker(g, l);
            }
        }
    });
    home.rt.push_inbox(home.index, idx);
}

/// Records worker `l` as the last to wake `g` (see `push_fresh`).
fn note_waker(g: &Goroutine, l: &Local) {
    g.waker
        .store(u8::try_from(l.index + 1).unwrap_or(0), Ordering::Relaxed);
}

/// Puts an unstarted goroutine on the current worker's queue if this thread is a worker of
/// `rt`, saying whether an idle worker should be woken for it (see `Shared::submit`); gives
/// it back otherwise.
pub(crate) fn push_fresh(rt: &Arc<Shared>, g: Arc<Goroutine>) -> Result<bool, Arc<Goroutine>> {
    with_local(|l| match l {
        Some(l) if Arc::ptr_eq(&l.rt, rt) => {
            // The first goroutine spawned after a wake-up by a goroutine of another worker
            // starts on that worker: what it spawns will most likely talk to what woke it (a
            // pipeline grows at the worker holding its end). One per wake-up, so a spawning
            // loop that was woken once from afar does not send everything there.
            let waker = l
                .with_current(|c| {
                    let w = c.waker.load(Ordering::Relaxed);
                    if w != 0 {
                        c.waker.store(0, Ordering::Relaxed);
                    }
                    w
                })
                .unwrap_or(0);
            count_owned(&l.me().spawned);
            if waker != 0 && usize::from(waker - 1) != l.index {
                l.rt.push_spawn(usize::from(waker - 1), g);
                Ok(true)
            } else {
                l.queue_fresh(g);
                Ok(l.fresh.len() >= 2)
            }
        }
        _ => Err(g),
    })
}

/// What `run_worker` needs to build a worker.
pub(crate) struct WorkerParts {
    pub(crate) index: usize,
    pub(crate) fresh: Deque<Arc<Goroutine>>,
    pub(crate) parker: Parker,
}

/// The main goroutine, started directly on worker 0 (the thread that called `run`).
pub(crate) struct MainGoroutine {
    pub(crate) g: Arc<Goroutine>,
    pub(crate) body: Box<dyn FnOnce()>,
}

/// Runs a worker on the calling thread until the runtime shuts down, then unwinds its
/// goroutines.
pub(crate) fn run_worker(rt: Arc<Shared>, parts: WorkerParts, main: Option<MainGoroutine>) {
    rt.workers[parts.index].publish_cpu_clock();
    let local = Local {
        index: parts.index,
        me: ptr::NonNull::from(&*rt.workers[parts.index]),
        oldest: parts.fresh.stealer(),
        fresh_picks: Cell::new(0),
        fresh_hint: Cell::new(false),
        // Counted in `Shared::nlooking` from the start, except worker 0, which starts the
        // main goroutine.
        looking: Cell::new(parts.index != 0),
        run_start: Cell::new(None),
        fresh: parts.fresh,
        ready: RefCell::new(VecDeque::new()),
        seq: Cell::new(0),
        runnext: Cell::new(None),
        streak: Cell::new(0),
        slab: RefCell::new(Vec::new()),
        free_slots: RefCell::new(Vec::new()),
        fiber: CurrentFiber::new(),
        current: Cell::new(ptr::null()),
        ids: Cell::new((0, 0)),
        stacks: RefCell::new(Vec::new()),
        parker: parts.parker,
        tick: Cell::new(0),
        resumes: Cell::new(0),
        switches: Cell::new(0),
        wait_obj: Cell::new(0),
        wait_holds: Cell::new(None),
        capture: Cell::new(0),
        captured: RefCell::new(None),
        capture_top: Cell::new(0),
        scan_for: RefCell::new(None),
        scanned: RefCell::new(None),
        held: Cell::new(None),
        tracing: rt.trace_path.is_some(),
        trace: RefCell::new(Vec::new()),
        trace_names: RefCell::new(HashMap::new()),
        rng: Cell::new(0x9E37_79B9_7F4A_7C15 ^ (parts.index as u64 + 1)),
        watch: RefCell::new(vec![Watch::new(Instant::now()); rt.workers.len()]),
        _alt: AltStack::ensure(),
        home: Arc::new(Home {
            rt: rt.clone(),
            index: parts.index,
        }),
        rt,
    };
    // A panic that reaches this frame is a bug in goro (user code runs only inside a catch:
    // DESIGN, "What goro promises at its edges"). It must not leave a dead worker behind
    // whose goroutines vanish, nor a `LOCAL` pointing into this frame: clear it, and abort
    // with a message (the guards drop in reverse order: `LOCAL` first).
    let fatal = AbortOnUnwind(parts.index);
    LOCAL.with(|p| p.set(&local));
    let clear = ClearLocal;
    if let Some(m) = main {
        let idx = local.alloc_slot(&m.g);
        let slot = local.start_fiber(m.g, m.body);
        local.store_slot(idx, slot);
        local.runnext.set(Some(idx));
    }
    let counted = crate::net::poller::WorkerCount::new();
    local.run();
    drop(counted);
    local.rt.worker_left_loop(local.index);
    local.teardown();
    if local.tracing {
        let events = local.trace.take();
        let names = local.trace_names.take();
        let mut out = local.rt.trace_out.lock().unwrap_or_else(|e| e.into_inner());
        out.0.push((local.index, events));
        out.1.extend(names);
    }
    drop(clear);
    // What the unwound goroutines dropped. With no worker on this thread any more, a handle
    // dropped by what this releases goes at once instead of being held again.
    local.release_held();
    std::mem::forget(fatal);
}

/// Clears `LOCAL` when dropped, however `run_worker` ends.
struct ClearLocal;

impl Drop for ClearLocal {
    fn drop(&mut self) {
        LOCAL.with(|p| p.set(ptr::null()));
    }
}

/// Aborts the process if dropped: `run_worker` forgets it on its normal way out, so only an
/// unwind out of the scheduler (a bug in goro) drops it.
struct AbortOnUnwind(usize);

impl Drop for AbortOnUnwind {
    fn drop(&mut self) {
        eprintln!(
            "goro: fatal: a panic unwound into worker {}'s scheduler; aborting rather than \
             leaving a dead worker (this is a bug in goro)",
            self.0
        );
        std::process::abort();
    }
}

impl Local {
    /// See [`release_later`].
    #[inline]
    fn hold<T: Send + Sync>(&self, a: Arc<T>) {
        let ptr = Arc::into_raw(a).cast::<()>();
        match self.held.get() {
            Some(h) if h.ptr == ptr && h.n < RELEASE_BATCH => {
                self.held.set(Some(Held { n: h.n + 1, ..h }));
            }
            _ => self.hold_new(Held {
                ptr,
                n: 1,
                release: release_arc::<T>,
            }),
        }
    }

    /// A reference to another object than the one held, or one too many: the held ones go.
    #[inline(never)]
    fn hold_new(&self, h: Held) {
        // Dropping an object may drop a handle that is held back in turn (`hold` again, from
        // inside `release_held`): release that too rather than overwrite it.
        while self.held.get().is_some() {
            self.release_held();
        }
        self.held.set(Some(h));
    }

    /// Releases the references [`release_later`] held back.
    fn release_held(&self) {
        if let Some(h) = self.held.take() {
            // SAFETY: `hold` took these `n` references with `Arc::<T>::into_raw` and
            // recorded `release_arc::<T>` with them.
            unsafe { (h.release)(h.ptr, h.n) };
        }
    }

    /// This worker's shared half.
    fn me(&self) -> &WorkerShared {
        // SAFETY: `me` points into `rt.workers`, which is never resized and lives as long as
        // `rt`, which `self` holds.
        unsafe { self.me.as_ref() }
    }

    fn with_current<R>(&self, f: impl FnOnce(&Arc<Goroutine>) -> R) -> Option<R> {
        let p = self.current.get();
        // SAFETY: `current` is non-null only while `execute` or `teardown` holds the slot it
        // points into, on this thread's stack below the running fiber (see the field doc).
        unsafe { p.as_ref() }.map(f)
    }

    fn run(&self) {
        loop {
            if self.rt.is_shut_down() {
                return;
            }
            match self.find_runnable() {
                Some(next) => {
                    self.set_looking(false);
                    self.execute(next);
                }
                None => {
                    self.set_looking(true);
                    self.idle();
                }
            }
        }
    }

    /// Counts this worker in `Shared::nlooking` or not, touching the shared count only when
    /// that changes.
    #[inline(always)]
    fn set_looking(&self, on: bool) {
        if self.looking.replace(on) != on {
            if on {
                self.rt.nlooking.fetch_add(1, Ordering::Relaxed);
            } else {
                self.rt.nlooking.fetch_sub(1, Ordering::Relaxed);
            }
        }
    }

    fn stamp(&self, g: &Goroutine) {
        let s = self.seq.get().wrapping_add(1);
        self.seq.set(s);
        g.qseq.store(s, Ordering::Relaxed);
    }

    fn push_ready(&self, idx: u32) {
        let s = self.seq.get().wrapping_add(1);
        self.seq.set(s);
        self.ready.borrow_mut().push_back((idx, s));
    }

    /// Takes slot `idx` out of the queues a waker may have put it in (`runnext`, `ready`,
    /// the inbox): true if found (see [`park_holding_thread`]).
    fn take_own_slot(&self, idx: u32) -> bool {
        self.drain_inbox_slow();
        if self.runnext.get() == Some(idx) {
            self.runnext.set(None);
            return true;
        }
        let mut ready = self.ready.borrow_mut();
        match ready.iter().position(|&(i, _)| i == idx) {
            Some(p) => {
                ready.remove(p);
                true
            }
            None => false,
        }
    }

    /// Queues a goroutine that yielded (`yield_now`, or a preemption point the monitor
    /// flagged) behind everything that became runnable while it ran: due timers are fired and
    /// the inbox drained first, so a sleeper whose deadline passed during a long computation
    /// runs before the computation's next slice, not after it (Go puts a preempted goroutine
    /// on the global queue for the same reason).
    #[inline(never)]
    fn requeue_yielded(&self, idx: u32) {
        self.fire_timers();
        self.drain_inbox();
        self.push_ready(idx);
    }

    fn push_runnext(&self, idx: u32) {
        if let Some(old) = self.runnext.replace(Some(idx)) {
            self.push_ready(old);
        }
    }

    /// The next unstarted goroutine (newest first, the oldest every [`OLDEST_EVERY`]th time).
    fn pop_fresh(&self) -> Option<Arc<Goroutine>> {
        let n = self.fresh_picks.get() + 1;
        if n >= OLDEST_EVERY {
            self.fresh_picks.set(0);
            return steal_retrying(|| self.oldest.steal());
        }
        self.fresh_picks.set(n);
        self.fresh.pop()
    }

    /// The older of `ready`'s head and the candidate from `fresh`, so that started goroutines
    /// (yielded or woken) take turns with unstarted ones by age and `yield_now` round-robins.
    /// An unstarted goroutine taken from `fresh` that must wait behind `ready` goes to the
    /// worker's shared `deferred` slot, where other workers can still steal it: an unstarted
    /// goroutine must never be hidden from thieves, or one that spins waiting for it on this
    /// worker would wait forever.
    fn pop_local(&self) -> Option<Next> {
        let me = self.me();
        let cand = me.take_deferred().or_else(|| self.pop_fresh());
        let mut ready = self.ready.borrow_mut();
        match (cand, ready.front()) {
            (Some(c), Some(&(_, rseq))) if newer(c.qseq.load(Ordering::Relaxed), rseq) => {
                me.defer(c);
                // A thief may have gone to sleep between our pop and the defer, seeing the
                // goroutine in neither place: wake one (fenced, as for a spawn), or it could
                // stay stranded behind a goroutine that spins until it runs.
                self.rt.wake_idle(true);
                ready.pop_front().map(|(i, _)| Next::Resume(i))
            }
            (Some(c), _) => Some(Next::Fresh(c)),
            (None, _) => ready.pop_front().map(|(i, _)| Next::Resume(i)),
        }
    }

    /// Arms a timer entry on this worker's heap.
    fn arm(&self, when: Instant, fire: Fire) {
        self.me().arm_timer(when, fire, self.rt.epoch);
    }

    /// The time now, if this worker's earliest timer is due by it (its published deadline;
    /// the clock is read only when there is one).
    #[inline(always)]
    fn timer_due(&self) -> Option<Instant> {
        let next = self.me().next_timer.load(Ordering::Relaxed);
        if next == u64::MAX {
            return None;
        }
        let now = Instant::now();
        (super::runtime::nanos_since(self.rt.epoch, now) >= next).then_some(now)
    }

    /// The earliest deadline of this worker's heap.
    fn next_timer(&self) -> Option<Instant> {
        self.me().lock_timers().next()
    }

    /// Fires the due timers. The look at an empty heap (its published deadline) is inlined
    /// into the loop's tick.
    #[inline(always)]
    fn fire_timers(&self) {
        if let Some(now) = self.timer_due() {
            self.fire_due_timers(now);
        }
    }

    fn fire_due_timers(&self, now: Instant) {
        let me = self.me();
        loop {
            match me.pop_due_timer(now, self.rt.epoch) {
                None => break,
                Some((_, Fire::Wake { g, gen }, _)) => {
                    // Wake-ups are armed on the goroutine's home worker: this one.
                    if g.timer_gen.load(Ordering::Relaxed) == gen && g.park.unpark() {
                        if self.tracing {
                            self.trace_instant("timer", g.id);
                            let ev = super::trace::wake(g.id);
                            self.trace.borrow_mut().push(ev);
                        }
                        self.push_ready(g.slot.load(Ordering::Relaxed));
                    }
                }
                Some((when, fire, at)) => {
                    if self.tracing {
                        self.trace_instant("timer", 0);
                    }
                    if let Some((next, fire)) = fire.fire(when, at) {
                        self.arm(next, fire);
                    }
                }
            }
        }
    }

    fn find_runnable(&self) -> Option<Next> {
        let tick = self.tick.get().wrapping_add(1);
        self.tick.set(tick);

        self.fire_timers();
        if tick % GLOBAL_EVERY == 0 {
            // Go: `netpoll(0)` now and then, so a busy worker still picks up I/O readiness.
            let n = crate::net::poller::poll_now();
            if self.tracing && n > 0 {
                self.trace_instant("netpoll", n as u64);
            }
            if let Some(g) = self.take_global() {
                return Some(Next::Fresh(g));
            }
        }
        if self.streak.get() < RUNNEXT_STREAK {
            if let Some(i) = self.runnext.take() {
                self.streak.set(self.streak.get() + 1);
                return Some(Next::Resume(i));
            }
        }
        self.streak.set(0);
        if self.rt.dump_gen.load(Ordering::Relaxed) > self.me().dumped.load(Ordering::Relaxed) {
            self.answer_dump();
        }
        self.drain_inbox();
        self.drain_spawns();
        self.pop_local()
            .or_else(|| self.runnext.take().map(Next::Resume))
            .or_else(|| self.take_global().map(Next::Fresh))
            .or_else(|| self.steal().map(Next::Fresh))
    }

    /// Moves the goroutines other threads woke for this worker into its ready queue. Looked at
    /// on every pass of the scheduler and empty on almost all of them: the look is inlined,
    /// the moving is not.
    #[inline(always)]
    fn drain_inbox(&self) {
        if !self.me().inbox.is_empty() {
            self.drain_inbox_slow();
        }
    }

    #[inline(never)]
    fn drain_inbox_slow(&self) {
        let inbox = &self.me().inbox;
        while let Some(i) = steal_retrying(|| inbox.steal()) {
            self.push_ready(i);
        }
    }

    /// Moves the goroutines other workers' spawners sent here into the local queue (inlined
    /// look, as [`drain_inbox`](Self::drain_inbox)).
    #[inline(always)]
    fn drain_spawns(&self) {
        if !self.me().spawns.is_empty() {
            self.drain_spawns_slow();
        }
    }

    #[inline(never)]
    fn drain_spawns_slow(&self) {
        let spawns = &self.me().spawns;
        while let Some(g) = steal_retrying(|| spawns.steal()) {
            self.queue_fresh(g);
        }
    }

    /// Queues an unstarted goroutine on this worker, stamping its place in the local order and
    /// telling thieves (through `fresh_gen`) when the queue goes from empty to holding work.
    #[inline]
    fn queue_fresh(&self, g: Arc<Goroutine>) {
        self.stamp(&g);
        if self.fresh.is_empty() {
            // Only this thread writes it.
            let gen = &self.me().fresh_gen;
            gen.store(
                gen.load(Ordering::Relaxed).wrapping_add(1),
                Ordering::Relaxed,
            );
        }
        self.fresh.push(g);
        self.fresh_hint.set(true);
    }

    fn take_global(&self) -> Option<Arc<Goroutine>> {
        let g = steal_retrying(|| self.rt.global.steal_batch_and_pop(&self.fresh));
        if g.is_some() {
            self.fresh_hint.set(true);
        }
        g
    }

    fn next_rand(&self) -> u64 {
        // xorshift64: victim order only needs to differ between workers and over time.
        let mut x = self.rng.get();
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.rng.set(x);
        x
    }

    /// Steals about half of another worker's unstarted goroutines, once they have waited
    /// there long enough (placement rule 2).
    fn steal(&self) -> Option<Arc<Goroutine>> {
        let n = self.rt.workers.len();
        if n == 1 {
            return None;
        }
        let start = (self.next_rand() % n as u64) as usize;
        for k in 0..n {
            let v = (start + k) % n;
            if v == self.index {
                continue;
            }
            let victim = &self.rt.workers[v];
            if victim.stealer.is_empty() && !victim.has_deferred() {
                continue;
            }
            if !self.waited_long_enough(v) {
                continue;
            }
            let stolen = steal_retrying(|| {
                victim
                    .stealer
                    .steal_batch_with_limit_and_pop(&self.fresh, STEAL_MAX)
            });
            if let Some(g) = stolen.or_else(|| victim.take_deferred()) {
                self.fresh_hint.set(true);
                self.watch.borrow_mut()[v].stole(Instant::now());
                if self.tracing {
                    self.trace_instant("steal", v as u64);
                }
                return Some(g);
            }
        }
        None
    }

    /// True once victim `v`'s unstarted goroutines may be taken (placement rule 2,
    /// [`Watch::may_steal`]).
    fn waited_long_enough(&self, v: usize) -> bool {
        let victim = &self.rt.workers[v];
        let view = Victim {
            gen: victim.fresh_gen.load(Ordering::Relaxed),
            resumes: victim.resumes.load(Ordering::Relaxed),
            backlog: victim.backlog.load(Ordering::Relaxed),
            // The deferred goroutine counts: a victim stuck behind a goroutine that spins
            // until it runs must not look as if it were about to finish its queue.
            queued: victim.stealer.len() + usize::from(victim.has_deferred()),
            switches: victim.running.seq.load(Ordering::Relaxed),
            running: victim.running.id.load(Ordering::Relaxed) != 0,
        };
        self.watch.borrow_mut()[v].may_steal(view, Instant::now(), || victim.cpu_time())
    }

    /// Work this worker could do right now, looking only where other threads put it: its own
    /// queues, the global queue, due timers, and other workers' unstarted goroutines that it
    /// may take now (placement rule 2).
    fn has_work(&self) -> bool {
        let rt = &self.rt;
        !self.me().inbox.is_empty()
            || !self.me().spawns.is_empty()
            || !rt.global.is_empty()
            || !self.fresh.is_empty()
            || self.me().has_deferred()
            || self.runnext.get().is_some()
            || !self.ready.borrow().is_empty()
            || self.timer_due().is_some()
            || rt.is_shut_down()
            || self.workers_queued(true)
    }

    /// True if another worker holds unstarted goroutines; with `stealable`, only those this
    /// one may take now.
    fn workers_queued(&self, stealable: bool) -> bool {
        let rt = &self.rt;
        (0..rt.workers.len()).any(|v| {
            let w = &rt.workers[v];
            v != self.index
                && (!w.stealer.is_empty() || w.has_deferred())
                && (!stealable || self.waited_long_enough(v))
        })
    }

    fn idle(&self) {
        // Nothing left to run here for now: what was held back is released before the
        // worker spins or sleeps, so an object dies at the latest when its last user's worker
        // runs out of work.
        self.release_held();
        let t0 = self.tracing.then(super::trace::now_us);
        self.idle_inner();
        if let Some(t0) = t0 {
            let dur = super::trace::now_us() - t0;
            self.trace
                .borrow_mut()
                .push(super::trace::Event::Idle { start: t0, dur });
        }
    }

    /// The start of a traced resume: ends the wake-up arrow pointing at `g`, if any.
    #[cold]
    fn trace_resume(&self, g: &Goroutine) -> f64 {
        let t0 = super::trace::now_us();
        if let Some(ev) = super::trace::woken(g.id, t0) {
            self.trace.borrow_mut().push(ev);
        }
        t0
    }

    /// The end of a traced resume: one slice for the time `g` ran.
    #[cold]
    fn trace_slice(&self, g: &Goroutine, t0: f64, why: Option<Suspend>) {
        let (how, reason) = match why {
            Some(Suspend::Park) => (
                "park",
                super::wait::WaitReason::from_u8(g.wait.load(Ordering::Relaxed)).as_str(),
            ),
            Some(Suspend::Yield) => ("yield", ""),
            None => ("exit", ""),
        };
        if let Some(n) = g.name.as_deref() {
            self.trace_names
                .borrow_mut()
                .entry(g.id)
                .or_insert_with(|| n.clone());
        }
        let end = super::trace::now_us();
        let queued = self.ready.borrow().len() + usize::from(self.runnext.get().is_some());
        let mut buf = self.trace.borrow_mut();
        buf.push(super::trace::Event::Slice {
            g: g.id,
            start: t0,
            dur: end - t0,
            how,
            reason,
        });
        buf.push(super::trace::Event::Runnable {
            at: end,
            n: queued as u64,
        });
    }

    /// A moment worth marking on this worker's track.
    #[cold]
    fn trace_instant(&self, name: &'static str, arg: u64) {
        self.trace.borrow_mut().push(super::trace::Event::Instant {
            name,
            at: super::trace::now_us(),
            arg,
        });
    }

    fn idle_inner(&self) {
        let rt = &self.rt;
        rt.nspinning.fetch_add(1, Ordering::SeqCst);
        let start = Instant::now();
        let mut rounds = 0u32;
        loop {
            if self.has_work() {
                rt.nspinning.fetch_sub(1, Ordering::SeqCst);
                // Go's resetspinning: the last spinner to find work makes sure another worker
                // looks for whatever else may be queued.
                rt.wake_idle(false);
                return;
            }
            rounds += 1;
            if rounds % 64 == 0 && start.elapsed() > SPIN {
                break;
            }
            // A few pauses between looks: a pause is ~20-70 cycles depending on the CPU, and
            // the time between looks is the latency of every cross-worker hand-off.
            for _ in 0..SPIN_PAUSES {
                std::hint::spin_loop();
            }
        }
        rt.nspinning.fetch_sub(1, Ordering::SeqCst);
        // A last look at the network before sleeping: what it wakes lands in our queue.
        let n = crate::net::poller::poll_now();
        if n > 0 {
            if self.tracing {
                self.trace_instant("netpoll", n as u64);
            }
            if self.has_work() {
                return;
            }
        }
        self.sleep();
    }

    fn sleep(&self) {
        let rt = &self.rt;
        let me = self.me();
        me.sleeping.store(true, Ordering::SeqCst);
        rt.add_idle(self.index);
        // Pairs with the fence in `wake_idle` / `push_inbox`: either we see their work here,
        // or they see us idle and unpark us.
        fence(Ordering::SeqCst);
        if !self.has_work() {
            // Other workers' unstarted goroutines that this one may not take yet (see
            // STEAL_TICKS) become takeable with time, not with an event that wakes us: look
            // again after RECHECK. Looking without a pause instead would keep this thread on
            // the CPU; when the OS has put it on the victim's CPU (the other one busy) it
            // would stop the victim for the whole STEAL_DELAY and then take its queue (a ring
            // being spawned would lose half its goroutines).
            let timer = self.next_timer();
            let recheck = self.workers_queued(false).then(|| Instant::now() + RECHECK);
            let until = timer.into_iter().chain(recheck).min();
            if !self.sleep_polling(until) {
                match until {
                    Some(t) => self.parker.park_deadline(t),
                    None => self.parker.park(),
                }
            }
        }
        me.sleeping.store(false, Ordering::SeqCst);
        rt.remove_idle(self.index);
        // Back to work: a monitor on its long idle tick looks again soon (see
        // `Shared::monitor_idle`). Once per sleep, and only after an idle spell.
        if rt.monitor_idle.load(Ordering::Relaxed) {
            rt.monitor_idle.store(false, Ordering::Relaxed);
            if let Some(m) = rt.monitor.get() {
                m.unpark();
            }
        }
        self.answer_dump();
    }

    /// Sleeps in `epoll_wait` until `until`, holding the netpoller's poll role, so that a
    /// socket's readiness wakes this thread directly (see `net::poller`, "Who polls").
    /// Returns false, without sleeping, if the role is taken or the poller does not exist,
    /// or if `until` is less than a millisecond away (`epoll_wait` counts in milliseconds;
    /// the futex keeps a timer's precision).
    fn sleep_polling(&self, until: Option<Instant>) -> bool {
        let timeout_ms = match until {
            None => -1,
            Some(t) => {
                let ms = t.saturating_duration_since(Instant::now()).as_millis();
                if ms == 0 {
                    return false;
                }
                i32::try_from(ms).unwrap_or(i32::MAX)
            }
        };
        let Some(role) = crate::net::poller::Role::take() else {
            return false;
        };
        let me = self.me();
        me.polling.store(true, Ordering::SeqCst);
        // Pairs with the fence in `WorkerShared::wake`: either we see the waker's work (or
        // flag) here, or it sees `polling` and breaks into the wait.
        fence(Ordering::SeqCst);
        if !self.has_work() && !self.dump_asked() {
            let n = role.wait(timeout_ms);
            if self.tracing && n > 0 {
                self.trace_instant("netpoll", n as u64);
            }
        }
        me.polling.store(false, Ordering::SeqCst);
        drop(role);
        // A waker that saw `sleeping` also unparked the futex: drop that token, which would
        // end the next futex sleep at once. What it woke us for is in the queues, and the
        // worker looks there before it sleeps again.
        self.parker.park_timeout(Duration::ZERO);
        true
    }

    /// True if a dump asked this worker for its goroutines and it has not answered.
    fn dump_asked(&self) -> bool {
        self.me().dumped.load(Ordering::Relaxed) < self.rt.dump_gen.load(Ordering::SeqCst)
    }

    /// Describes this worker's goroutines if a dump was asked for (see `Shared::dump`).
    /// Called only between goroutines (the idle path, `find_runnable`).
    fn answer_dump(&self) {
        let me = self.me();
        let gen = self.rt.dump_gen.load(Ordering::SeqCst);
        if me.dumped.load(Ordering::Relaxed) >= gen {
            return;
        }
        let want = self
            .rt
            .dump_want
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        let mut lines = Vec::new();
        let mut stacks = match want {
            Want::Stacks => STACKS_PER_DUMP,
            _ => 0,
        };
        for cell in self.slab.borrow().iter() {
            // SAFETY: no goroutine of this worker runs now (we are between goroutines), so no
            // resume holds a reference into the slab; only this thread touches it. The
            // capture resume below touches neither the slab nor the slot.
            let Some(slot) = (unsafe { &mut *cell.get() }).as_mut() else {
                continue;
            };
            let ips = if stacks > 0 {
                stacks -= 1;
                self.capture.set(slot.fiber.stack_limit());
                let _ = slot.fiber.resume(&self.fiber);
                self.capture.set(0);
                self.captured.borrow_mut().take()
            } else {
                None
            };
            let g = &slot.g;
            // SAFETY: as above; the goroutine is suspended and its record stays put.
            let rec = unsafe { &*slot.record() };
            let parked = g.park.is_parked();
            let mut holds = Vec::new();
            let mut found = Some(Vec::new());
            if matches!(want, Want::Holdings | Want::Scan(_)) {
                if let (true, Some(h)) = (parked, rec.holds) {
                    // SAFETY: the goroutine is suspended in the park that recorded `h`, inside
                    // the frame that owns it (see `wait::Holds`); it stays there until this
                    // worker resumes it, which is not now.
                    unsafe { h.as_ref() }.holds(&mut holds);
                }
            }
            if let Want::Scan(words) = &want {
                *self.scan_for.borrow_mut() = Some(words.clone());
                self.capture.set(slot.fiber.stack_limit());
                self.capture_top.set(slot.fiber.stack_top());
                let _ = slot.fiber.resume(&self.fiber);
                self.capture.set(0);
                *self.scan_for.borrow_mut() = None;
                found = self.scanned.borrow_mut().take();
            }
            let reason =
                parked.then(|| super::wait::WaitReason::from_u8(g.wait.load(Ordering::Relaxed)));
            let now = self.rt.clock_ms.load(Ordering::Relaxed);
            let record = crate::debug::Goroutine {
                object: reason.and((rec.wait_obj != 0).then_some(rec.wait_obj)),
                waited: reason.map(|_| Duration::from_millis(rec.waited_ms(now))),
                id: g.id,
                name: g.name.as_deref().cloned(),
                reason,
                site: g.site.to_string(),
                worker: self.index,
                stack: Vec::new(),
            };
            lines.push(DumpLine {
                g: record,
                ips,
                holds,
                parks: rec.parks(),
                found,
            });
        }
        self.rt
            .dump_lines
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend(lines);
        me.dumped.store(gen, Ordering::SeqCst);
    }

    /// Creates the fiber of a goroutine starting on this worker.
    fn start_fiber(&self, g: Arc<Goroutine>, body: impl FnOnce() + 'static) -> Slot {
        let mut stack = self.take_stack(g.stack_size as usize);
        let asked = match g.stack_size as usize {
            0 => self.rt.stacks.default_size(),
            n => n,
        };
        stack.set_owner(g.id, g.site, asked);
        let fiber = Fiber::new(stack, &self.fiber, body);
        // SAFETY: the record's room in the meta area of the stack this fiber now owns:
        // mapped, writable, aligned to 16 and used by nothing else.
        unsafe { fiber.record().cast::<ParkRecord>().write(ParkRecord::NEW) };
        Slot { g, fiber }
    }

    /// Gives a starting goroutine its slab index and records it in its header, before it
    /// runs: whoever unparks it later reads the index there.
    #[inline(always)]
    fn alloc_slot(&self, g: &Goroutine) -> u32 {
        let idx = self.free_slots.borrow_mut().pop().unwrap_or_else(|| {
            let mut slab = self.slab.borrow_mut();
            slab.push(UnsafeCell::new(None));
            // A slab index is far below 2^32: each entry is a live goroutine with a stack.
            u32::try_from(slab.len() - 1).unwrap_or(NOT_STARTED - 1)
        });
        g.slot.store(idx, Ordering::Relaxed);
        count_owned(&self.me().running.started);
        idx
    }

    /// Puts a goroutine's fiber in its slab place (at its first suspension).
    fn store_slot(&self, idx: u32, slot: Slot) {
        *self.slab.borrow_mut()[idx as usize].get_mut() = Some(slot);
    }

    /// The slab entry at `idx`, to use while no other code of this worker touches the slab
    /// (see the field doc).
    fn slot_ptr(&self, idx: u32) -> *mut Option<Slot> {
        self.slab.borrow()[idx as usize].get()
    }

    /// A stack of `size` usable bytes (0: the default), from this worker's cache when it can.
    #[inline(always)]
    fn take_stack(&self, size: usize) -> Stack {
        if size == 0 {
            if let Some(s) = self.stacks.borrow_mut().pop() {
                return s;
            }
        }
        self.take_stack_slow(size)
    }

    #[inline(never)]
    fn take_stack_slow(&self, size: usize) -> Stack {
        let mut cache = self.stacks.borrow_mut();
        let want = if size == 0 { STACK_CACHE / 2 } else { 1 };
        let mut got = Vec::with_capacity(want);
        if let Err(e) = self.rt.stacks.alloc_batch(size, want, &mut got) {
            eprintln!("fatal error: goro cannot map goroutine stacks: {e}");
            std::process::abort();
        }
        let s = got.pop().expect("alloc_batch returns at least one stack");
        cache.extend(got);
        s
    }

    /// Takes back a stack: into this worker's cache, which hands half of itself back to the
    /// pool when it grows past [`STACK_CACHE`].
    #[inline(always)]
    fn give_stack(&self, s: Stack) {
        let mut cache = self.stacks.borrow_mut();
        if s.is_default() && cache.len() < STACK_CACHE {
            cache.push(s);
            return;
        }
        drop(cache);
        self.give_stack_slow(s);
    }

    #[inline(never)]
    fn give_stack_slow(&self, s: Stack) {
        if !s.is_default() {
            self.rt.stacks.free_batch(&mut vec![s]);
            return;
        }
        let mut cache = self.stacks.borrow_mut();
        cache.push(s);
        if cache.len() > STACK_CACHE {
            let mut half: Vec<Stack> = cache.drain(..STACK_CACHE / 2).collect();
            self.rt.stacks.free_batch(&mut half);
        }
    }

    /// Runs a goroutine until it suspends or returns.
    fn execute(&self, next: Next) {
        match next {
            Next::Fresh(g) => {
                // The queue's reference moves into the slot.
                let gp: *const Goroutine = Arc::as_ptr(&g);
                let body = move || {
                    // SAFETY: the fiber runs only while its slot, which owns an `Arc` of this
                    // goroutine, is alive (in the slab, or held by `execute`/`teardown`).
                    unsafe { (*gp).task.run() }
                };
                let idx = self.alloc_slot(&g);
                g.park.on_start();
                let mut slot = self.start_fiber(g, body);
                match self.resume(&mut slot) {
                    Some(why) => {
                        if why == Suspend::Park {
                            self.record_park(&mut slot);
                        }
                        self.store_slot(idx, slot);
                        if why == Suspend::Yield {
                            self.requeue_yielded(idx);
                        }
                    }
                    None => self.finished(idx, slot),
                }
            }
            Next::Resume(mut idx) => loop {
                let n = self.resumes.get().wrapping_add(1);
                self.resumes.set(n);
                if n % TICKS_EVERY == 0 {
                    let me = self.me();
                    me.resumes.store(n, Ordering::Relaxed);
                    me.backlog
                        .store(self.ready.borrow().len() as u32, Ordering::Relaxed);
                }
                let p = self.slot_ptr(idx);
                // SAFETY: the entry stays in place and untouched by anyone else until this
                // resume returns (see the `slab` field doc); this thread is its only user.
                let Some(slot) = (unsafe { &mut *p }).as_mut() else {
                    return;
                };
                slot.g.park.on_resume();
                match self.resume(slot) {
                    Some(Suspend::Yield) => self.requeue_yielded(idx),
                    Some(Suspend::Park) => {
                        self.record_park(slot);
                        // The hand-off fast path: it parked after waking a goroutine of this
                        // worker (a send to a blocked receiver, then a receive that blocks):
                        // run that one at once, as `find_runnable` would (runnext first, up
                        // to RUNNEXT_STREAK in a row), without its other looks. Timers, the
                        // global queue and shutdown wait at most the streak.
                        if self.streak.get() < RUNNEXT_STREAK {
                            if let Some(next) = self.runnext.take() {
                                self.streak.set(self.streak.get() + 1);
                                idx = next;
                                continue;
                            }
                        }
                    }
                    None => {
                        // SAFETY: as above; the fiber has returned and nothing points into it.
                        if let Some(slot) = unsafe { (*p).take() } {
                            self.finished(idx, slot);
                        }
                    }
                }
                return;
            },
        }
    }

    /// Records in its slab entry, for dumps and the leak check, when and on what the goroutine
    /// that just suspended in a park waits.
    #[inline(always)]
    fn record_park(&self, slot: &mut Slot) {
        let now = self.rt.clock_ms.load(Ordering::Relaxed);
        // SAFETY: the goroutine's record (`start_fiber` wrote it); it is suspended, and only
        // this worker touches its stack.
        unsafe { &mut *slot.record() }.park(now, self.wait_obj.get(), self.wait_holds.take());
    }

    /// Switches to the goroutine until it suspends (`Some`) or returns (`None`).
    #[inline(always)]
    fn resume(&self, slot: &mut Slot) -> Option<Suspend> {
        let r = &self.me().running;
        let seq = self.switches.get().wrapping_add(1);
        self.switches.set(seq);
        r.seq.store(seq, Ordering::Relaxed);
        r.site
            .store(ptr::from_ref(slot.g.site).cast_mut(), Ordering::Relaxed);
        r.id.store(slot.g.id, Ordering::Relaxed);
        r.preempt.store(false, Ordering::Relaxed);
        // Placement rule 3: a run is timed only while unstarted goroutines wait here and
        // another worker is idle, the only case where its length matters.
        if self.fresh_hint.get() {
            self.start_timing();
        }
        let t0 = if self.tracing {
            self.trace_resume(&slot.g)
        } else {
            0.0
        };
        self.current.set(&slot.g);
        let why = slot.fiber.resume(&self.fiber);
        self.current.set(ptr::null());
        r.id.store(0, Ordering::Relaxed);
        if self.tracing {
            self.trace_slice(&slot.g, t0, why);
        }
        if self.fresh_hint.get() {
            self.give_surplus();
        }
        why
    }

    /// Placement rule 3, before a run: notes its start if unstarted goroutines wait here and
    /// another worker is idle.
    #[inline(never)]
    fn start_timing(&self) {
        let queued = self.fresh.len();
        if queued == 0 {
            self.fresh_hint.set(false);
        } else if self.rt.someone_idle() {
            self.run_start.set(Some((Instant::now(), queued)));
        }
    }

    /// Placement rule 3 ([`to_give`](super::placement::to_give)), after a timed run: if the
    /// goroutine computed without spawning, the oldest half of the queue goes to an idle
    /// worker's queue of sent spawns (which only that worker drains, so this busy one cannot
    /// take them back at its next look at the global queue), waking it if it sleeps.
    #[inline(never)]
    fn give_surplus(&self) {
        let Some((start, before)) = self.run_start.take() else {
            return;
        };
        let n = super::placement::to_give(start.elapsed(), before, self.fresh.len());
        // During shutdown the other workers may have stopped looking at their queues.
        if n == 0 || self.rt.is_shut_down() {
            return;
        }
        let Some(to) = self.idle_worker() else {
            return;
        };
        let mut given = 0;
        for _ in 0..n {
            let Some(g) = steal_retrying(|| self.oldest.steal()) else {
                break;
            };
            self.rt.workers[to].spawns.push(g);
            given += 1;
        }
        if given > 0 {
            if self.tracing {
                self.trace_instant("give", to as u64);
            }
            self.rt.wake_worker(to);
        }
    }

    /// Another worker that is idle: asleep if one is, else one running no goroutine
    /// (spinning, or still starting).
    fn idle_worker(&self) -> Option<usize> {
        let n = self.rt.workers.len();
        let start = (self.next_rand() % n as u64) as usize;
        let others = (0..n).map(|k| (start + k) % n).filter(|&v| v != self.index);
        let w = &self.rt.workers;
        others
            .clone()
            .find(|&v| w[v].sleeping.load(Ordering::SeqCst))
            .or_else(|| {
                others
                    .clone()
                    .find(|&v| w[v].running.id.load(Ordering::Relaxed) == 0)
            })
    }

    /// A goroutine returned: recycle its slab place and its stack. Inlined: a `Slot` passed
    /// by value to a call is a 128-byte copy.
    #[inline(always)]
    fn finished(&self, idx: u32, slot: Slot) {
        slot.g.park.on_exit();
        self.free_slots.borrow_mut().push(idx);
        self.give_stack(slot.fiber.into_stack());
        count_owned(&self.me().exited);
    }

    /// Shutdown: unwind every goroutine that started here, so destructors on their stacks run,
    /// and drop the unstarted ones.
    ///
    /// Each suspended goroutine is resumed to unwind (`CurrentFiber::set_unwinding`), which
    /// throws shutdown's unwind from its park (`stack::switch::unwind_for_shutdown`). Most end there. One that
    /// suspends again is resumed again in the next round: it caught the unwind and parked
    /// again (a request loop that isolates panics), or a destructor on its way out waits (for
    /// a channel, a join, a blocking call that still holds its stack), and its unwind cannot
    /// be thrown while that runs (it gets a spurious wake-up). Rounds go on while goroutines
    /// finish, and for at most the runtime's shutdown grace; whatever is left then is
    /// abandoned ([`Local::abandon`]): never resumed, its stack leaked, reported by `run`.
    fn teardown(&self) {
        self.fiber.set_unwinding();
        let mut left: Vec<Slot> = self
            .slab
            .borrow_mut()
            .drain(..)
            .filter_map(UnsafeCell::into_inner)
            .collect();
        let deadline = Instant::now() + self.rt.grace;
        while !left.is_empty() {
            let before = left.len();
            let mut again = Vec::new();
            for mut slot in left.drain(..) {
                self.current.set(&slot.g);
                let r = slot.fiber.resume(&self.fiber);
                self.current.set(ptr::null());
                // What it registered as waiting on is gone with its frames, or will be
                // registered again when it parks again.
                self.wait_holds.set(None);
                match r {
                    None => {
                        let Slot { fiber, g } = slot;
                        g.park.on_exit();
                        self.give_stack(fiber.into_stack());
                    }
                    Some(_) => again.push(slot),
                }
            }
            left = again;
            if left.is_empty() {
                break;
            }
            if Instant::now() >= deadline {
                for slot in left.drain(..) {
                    self.abandon(slot);
                }
                break;
            }
            if left.len() == before {
                // Nobody finished: what they wait for (a blocking call's thread, another
                // thread) takes time. Do not spin.
                std::thread::sleep(Duration::from_millis(1));
            }
        }
        self.me().clear_timers(self.rt.epoch);
        self.runnext.take();
        self.ready.borrow_mut().clear();
        if let Some(g) = self.me().take_deferred() {
            g.task.cancel();
        }
        while let Some(g) = self.fresh.pop() {
            g.task.cancel();
        }
        let spawns = &self.me().spawns;
        while let Some(g) = steal_retrying(|| spawns.steal()) {
            g.task.cancel();
        }
        self.drain_inbox();
        self.ready.borrow_mut().clear();
        let mut cache = std::mem::take(&mut *self.stacks.borrow_mut());
        self.rt.stacks.free_batch(&mut cache);
    }

    /// Gives up a goroutine that would not unwind at shutdown. Its frames may hold waiter
    /// records still linked into wait queues, which other threads may yet write to and wake
    /// through: so its stack stays mapped for the life of the process, and its header is
    /// never freed (a waiter names its goroutine without owning a reference).
    fn abandon(&self, slot: Slot) {
        let Slot { fiber, g } = slot;
        self.rt.stacks.keep_mapped();
        fiber.abandon();
        g.park.on_exit();
        g.task.abandon();
        self.rt
            .abandoned
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push((g.id, g.site));
        std::mem::forget(g);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An object released from the held batch that holds back a reference of its own as it
    /// drops: that reference is released as well, not lost.
    #[test]
    fn a_release_that_holds_back_another_loses_nothing() {
        struct Outer(Option<Arc<u32>>);
        impl Drop for Outer {
            fn drop(&mut self) {
                release_later(self.0.take().unwrap());
            }
        }
        let inner = Arc::new(7u32);
        let weak = Arc::downgrade(&inner);
        crate::Runtime::builder()
            .workers(1)
            .run(move || {
                release_later(Arc::new(Outer(Some(inner))));
                assert_eq!(weak.strong_count(), 1, "held with its holder");
                // Another object: the held `Outer` is released, and drops `inner` through
                // `release_later` while the worker is releasing.
                release_later(Arc::new(0u8));
                assert_eq!(weak.strong_count(), 0);
            })
            .unwrap();
    }

    /// Resuming a goroutine reads one line of the slab (see `Slot`).
    #[test]
    fn the_slab_entry_is_one_cache_line() {
        assert_eq!(size_of::<Slot>(), 64);
        assert_eq!(align_of::<Slot>(), 64);
        assert_eq!(size_of::<Option<Slot>>(), 64);
    }

    #[test]
    fn a_park_record_counts_parks_and_keeps_the_time() {
        let mut r = ParkRecord::NEW;
        assert_eq!((r.parks(), r.waited_ms(5)), (0, 5));
        r.park(1_000, 0xa0, None);
        r.park(1_250, 0xb0, None);
        assert_eq!((r.parks(), r.wait_obj), (2, 0xb0));
        assert_eq!(r.waited_ms(1_250), 0);
        assert_eq!(r.waited_ms(4_000), 2_750);
        // The count wraps at 2^24 without touching the time.
        r.stamp |= (1 << PARK_BITS) - 1;
        r.park(9_000, 0, None);
        assert_eq!((r.parks(), r.waited_ms(9_007)), (0, 7));
        // The time wraps at 2^40 ms: a wait across the wrap still reads right.
        let wrap = 1u64 << 40;
        r.park(wrap - 10, 0, None);
        assert_eq!(r.waited_ms(wrap + 20), 30);
    }
}
