//! A worker: one OS thread running goroutines (Go's M bound to a P).
//!
//! Each worker owns, in [`Local`] (on its own thread, reached through one thread-local pointer):
//!
//! * `fresh`: its deque of **unstarted** goroutines, whose stealer other workers use (only
//!   unstarted goroutines may change worker: docs/DESIGN.md, "Pinned once started"). The
//!   owner takes the *newest* (LIFO), thieves take the *oldest* half: a goroutine that spawns
//!   others and then waits runs its newest child next, depth first, as Go's `runnext` does for a new goroutine and as
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
//!
//! # Files
//!
//! This file holds `Local`, the loop (`run`, `find_runnable`, `execute`) and teardown. The
//! rest of a worker's work, one concern a file, all as `impl Local` blocks or free functions
//! over it:
//!
//! | file | owns |
//! |---|---|
//! | `queue.rs` | `runnext`, `ready`, `fresh`, the inbox and spawn queue: where goroutines go |
//! | `steal.rs` | taking unstarted goroutines from other workers and giving them away |
//! | `idle.rs` | the spin and the sleep (futex, or `epoll_wait` with the poll role) |
//! | `timers.rs` | arming and firing this worker's timers |
//! | `slab.rs` | the fibers of started goroutines, and the stack cache |
//! | `current.rs` | what a running goroutine asks of its worker: park, yield, sleep, ids |
//! | `held.rs` | reference drops held back until the worker is between goroutines |
//! | `dump.rs` | goroutine dumps, stack captures and the leak check's stack scan |
//! | `tracing.rs` | execution-trace events |

use std::cell::{Cell, RefCell, UnsafeCell};
use std::collections::HashMap;
use std::collections::VecDeque;
use std::ptr;
use std::sync::atomic::{fence, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crossbeam_deque::{Steal, Worker as Deque};
use crossbeam_utils::sync::Parker;

use super::goroutine::{GoroutineHeader, NOT_STARTED};
use super::placement::{Victim, Watch, RECHECK};
use super::runtime::{count_owned, DumpLine, Home, Shared, Want, WorkerShared};
use super::timers::Fire;
use crate::stack::overflow::AltStack;
use crate::stack::pool::Stack;
use crate::stack::switch::{suspend, CurrentFiber, Fiber, Suspend};
use crate::wait::reason::Holds;

mod current;
mod dump;
mod held;
mod idle;
mod queue;
mod slab;
mod steal;
mod timers;
mod tracing;

pub(crate) use self::current::*;
use self::dump::*;
pub(crate) use self::held::*;
pub(crate) use self::queue::*;
pub(crate) use self::tracing::*;

/// How long a goroutine that parks while unwinding a panic may keep its worker's thread (see
/// `park_holding_thread`): long enough for a destructor's send to a busy receiver or a
/// panic hook's write to a logger, short enough that a wait that never ends freezes the
/// worker's other goroutines only briefly.
const HOLD_MAX: Duration = Duration::from_millis(100);

/// How long an idle worker looks for work before sleeping. A futex sleep and wake costs
/// ~14 us on a 2 vCPU VM against ~0.2 us for a spinning hand-off (measured with plain threads),
/// so spinning a little longer than one wake-up is cheap insurance.
const SPIN: Duration = Duration::from_micros(50);

/// Pause instructions between two looks for work while spinning. The time between looks is
/// the latency of a cross-worker hand-off, but looking is not free: each look reads lines the
/// other workers write, and makes their next write miss. 16 was the best of 4, 16, 32 and 128
/// on a ping-pong between goroutines on different workers (docs/bench-journal.md).
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
    Fresh(Arc<GoroutineHeader>),
    Resume(u32),
}

/// A started goroutine's fiber, in the slab of its home worker: one cache line, the one
/// line of the slab that resuming a goroutine reads (`the_slab_entry_is_one_cache_line`).
/// A ring of goroutines handing a value on finds every entry cold, a lap after it was last
/// touched; a second line cost a cache miss per hop. What the worker records at each park
/// is kept on the goroutine's stack instead ([`ParkRecord`]).
#[repr(C, align(64))]
struct Slot {
    g: Arc<GoroutineHeader>,
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
    /// Given to every goroutine that starts here (`GoroutineHeader::home`).
    home: Arc<Home>,
    /// References held back by [`release_later`].
    held: Cell<Option<Held>>,
    fresh: Deque<Arc<GoroutineHeader>>,
    /// A stealer of our own `fresh`: takes the oldest end (see [`OLDEST_EVERY`]).
    oldest: crossbeam_deque::Stealer<Arc<GoroutineHeader>>,
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
    /// Stamps for `ready` and `GoroutineHeader::qseq`: the local FIFO order across `fresh` and
    /// `ready`.
    seq: Cell<u32>,
    /// The slab slot of the goroutine to run next.
    runnext: Cell<Option<u32>>,
    streak: Cell<u32>,
    /// Fibers of started goroutines that are suspended. A goroutine gets its index when it
    /// starts (`GoroutineHeader::slot`) and keeps it until it returns.
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
    current: Cell<*const Arc<GoroutineHeader>>,
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

/// At most this many goroutines of one worker have their stacks recorded in one dump (each
/// takes tens of microseconds); the rest are listed without.
const STACKS_PER_DUMP: usize = 1000;

/// Stack a goroutine must have left for its stack to be recorded: the unwinder's frames are
/// large, and a dump must never overflow the stack it looks at.
const CAPTURE_HEADROOM: usize = 64 * 1024;

/// Stack a goroutine must have left to be scanned for the leak check (the scan and the
/// scrub after it).
const SCAN_HEADROOM: usize = 16 * 1024;

/// What `run_worker` needs to build a worker.
pub(crate) struct WorkerParts {
    pub(crate) index: usize,
    pub(crate) fresh: Deque<Arc<GoroutineHeader>>,
    pub(crate) parker: Parker,
}

/// The main goroutine, started directly on worker 0 (the thread that called `run`).
pub(crate) struct MainGoroutine {
    pub(crate) g: Arc<GoroutineHeader>,
    pub(crate) body: Box<dyn FnOnce()>,
    /// Its stack, mapped by `run` before any worker started (so that a refusal is `run`'s
    /// error).
    pub(crate) stack: Stack,
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
        // `run` mapped its stack before it started the workers.
        let slot = local.start_fiber(m.g, m.stack, m.body);
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
    /// This worker's shared half.
    fn me(&self) -> &WorkerShared {
        // SAFETY: `me` points into `rt.workers`, which is never resized and lives as long as
        // `rt`, which `self` holds.
        unsafe { self.me.as_ref() }
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

    fn find_runnable(&self) -> Option<Next> {
        let tick = self.tick.get().wrapping_add(1);
        self.tick.set(tick);

        self.fire_timers();
        if tick % GLOBAL_EVERY == 0 {
            // Go: `netpoll(0)` now and then, so a busy worker still picks up I/O readiness.
            self.traced_netpoll(crate::net::poller::poll_now());
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

    /// Runs a goroutine until it suspends or returns.
    fn execute(&self, next: Next) {
        match next {
            Next::Fresh(g) => {
                // The queue's reference moves into the slot.
                let gp: *const GoroutineHeader = Arc::as_ptr(&g);
                let body = move || {
                    // SAFETY: the fiber runs only while its slot, which owns an `Arc` of this
                    // goroutine, is alive (in the slab, or held by `execute`/`teardown`).
                    unsafe { (*gp).task.run() }
                };
                let stack = match self.take_stack(g.stack_size as usize) {
                    Ok(stack) => stack,
                    Err(why) => return self.refuse_start(g, why),
                };
                let idx = self.alloc_slot(&g);
                g.park.on_start();
                let mut slot = self.start_fiber(g, stack, body);
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
    /// throws shutdown's unwind from its park (`stack::switch::unwind_for_shutdown`). Most end
    /// there. One that suspends again is resumed again in the next round: it caught the unwind and parked
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
