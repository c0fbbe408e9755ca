//! The runtime: its shared state, `run`, shutdown, and [`Handle`].
//!
//! `run(f)` builds the shared state, starts `workers - 1` worker threads, and turns the calling
//! thread into worker 0, which starts `f` as the main goroutine (Go's `main`). When the main
//! goroutine returns, the runtime shuts down:
//!
//! 1. `begin_shutdown` sets the flag and unparks every worker.
//! 2. Each worker stops after its current goroutine suspends, then unwinds the goroutines that
//!    started on it (their destructors run on their own stacks, on their own thread) and drops
//!    the unstarted ones (their closures are dropped, their join handles report `Cancelled`).
//! 3. Worker 0 waits for the others. A worker still inside one goroutine at the end of the
//!    grace period is stuck (a goroutine that never yields cannot be interrupted): it is left
//!    running and reported. A worker that is unwinding is waited for however long that takes.
//!    Then worker 0 empties the global queue and inboxes and returns the main goroutine's
//!    value, with the number of goroutines that were still alive.

use std::cell::RefCell;
use std::fmt;
use std::panic::{self, AssertUnwindSafe, Location};
use std::rc::Rc;
use std::sync::atomic::{
    fence, AtomicBool, AtomicI32, AtomicU32, AtomicU64, AtomicUsize, Ordering,
};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use crossbeam_deque::{Injector, Stealer, Worker as Deque};
use crossbeam_utils::sync::{Parker, Unparker as ThreadUnparker};
use crossbeam_utils::CachePadded;

use super::goroutine::{
    Builder, GoroutineHeader, GoroutinePanic, JoinHandle, SpawnErrorKind, UnhandledPanic,
};
use super::timers::{Fire, Timers};
use super::worker::{self, MainGoroutine, WorkerParts};
use crate::stack::pool::StackPool;

mod run;

pub use self::run::*;

/// The default usable stack size of a goroutine.
pub const DEFAULT_STACK_SIZE: usize = 256 * 1024;

/// What a worker is running, for shutdown reports and the monitor (`sched/monitor.rs`).
#[derive(Default)]
pub(crate) struct Running {
    /// The goroutine's id, 0 between goroutines.
    pub(crate) id: AtomicU64,
    /// Bumped at every resume: unchanged across two looks means one uninterrupted run.
    pub(crate) seq: AtomicU64,
    /// The goroutine's spawn site (`&'static`, so safe to read from any thread at any time).
    pub(crate) site: std::sync::atomic::AtomicPtr<std::panic::Location<'static>>,
    /// Goroutines started on this worker (written by its thread only, `count_owned`; here
    /// because a start writes this line anyway). Less `WorkerShared::exited`: the goroutines
    /// that live on this worker, which shutdown reports when the worker is stuck.
    pub(crate) started: AtomicUsize,
    /// Set by the monitor when that goroutine has computed [`monitor::HOG`] of CPU time
    /// without a switch; cleared at every resume. goro's non-blocking operations yield when
    /// they see it (`worker::preempt_point`).
    ///
    /// [`monitor::HOG`]: super::monitor::HOG
    pub(crate) preempt: AtomicBool,
    /// True while that goroutine waits with the worker's thread, because it parked while
    /// unwinding from a panic (see `worker::park_holding_thread`): blocked, not computing.
    pub(crate) held: AtomicBool,
    /// True while the panic hook prints a goroutine's panic (message and backtrace can take
    /// a while to write): the monitor does not call that a goroutine hogging its worker.
    pub(crate) printing_panic: AtomicBool,
}

/// The shared half of one worker.
pub(crate) struct WorkerShared {
    /// Steals from the worker's queue of unstarted goroutines.
    pub(crate) stealer: Stealer<Arc<GoroutineHeader>>,
    /// Slab slots of goroutines of this worker woken by other threads.
    pub(crate) inbox: Injector<u32>,
    /// Unstarted goroutines that spawners on other workers sent here, because this worker
    /// woke the spawner last (see `worker::push_fresh`).
    pub(crate) spawns: Injector<Arc<GoroutineHeader>>,
    /// Wakes the worker from its futex sleep.
    pub(crate) unparker: ThreadUnparker,
    /// True while the worker is (about to be) asleep.
    pub(crate) sleeping: AtomicBool,
    /// True while the worker is (about to be) asleep in `epoll_wait`, holding the netpoller's
    /// poll role: waking it takes a break-in (see `net::poller`, "Who polls").
    pub(crate) polling: AtomicBool,
    /// Id of the goroutine it is running, 0 if none (read by shutdown reports). Written twice
    /// per switch, so on its own cache line: spinning workers keep reading the fields above.
    pub(crate) running: CachePadded<Running>,
    /// Goroutines spawned by goroutines of this worker, and goroutines that returned on it.
    /// Each is written only by this worker's thread, so counting costs no shared cache line.
    pub(crate) spawned: CachePadded<AtomicUsize>,
    pub(crate) exited: CachePadded<AtomicUsize>,
    /// Set when the worker leaves its loop at shutdown, before it unwinds its goroutines.
    left_loop: AtomicBool,
    /// An unstarted goroutine this worker took from its queue but left for later (see
    /// `Local::pop_local`); other workers may steal it from here.
    deferred: Mutex<Option<Arc<GoroutineHeader>>>,
    has_deferred: AtomicBool,
    /// Bumped by the owner each time it pushes onto an empty queue of unstarted goroutines:
    /// a thief that sees the same value while the owner runs `placement::STEAL_TICKS` goroutines knows the queue
    /// has held work all that time (see `Local::steal`).
    pub(crate) fresh_gen: CachePadded<AtomicU64>,
    /// How many started goroutines the worker has resumed, published every few for thieves
    /// (see `placement::STEAL_TICKS`).
    pub(crate) resumes: CachePadded<AtomicU32>,
    /// How many started goroutines were waiting in its `ready` queue, published with
    /// `resumes` (see `placement::BACKLOG_STEAL`).
    pub(crate) backlog: AtomicU32,
    /// The worker's timer heap. Its own thread arms and fires its entries; when the worker
    /// has been in one goroutine past a deadline, the monitor fires the overdue ones (see
    /// `monitor::fire_overdue`). Firing wakes a goroutine or closes, sends or cancels
    /// something; it never resumes a goroutine, so it may happen on any thread.
    pub(crate) timers: Mutex<Timers>,
    /// The heap's earliest deadline, in ns since `Shared::epoch`; `u64::MAX` when empty.
    /// Written under the heap's lock, read without it (a hint: the lock decides). Not
    /// `u64::MAX` means a pending timer, live work for the deadlock detector (SEMANTICS T5).
    pub(crate) next_timer: AtomicU64,
    /// The last dump request this worker answered (see `Shared::dump`).
    pub(crate) dumped: AtomicU64,
    /// The CPU-time clock of the worker's thread (`pthread_getcpuclockid`), -1 until it
    /// starts: lets a thief tell a worker busy in one goroutine from one the OS has paused
    /// (see `placement::BUSY_STEAL`).
    pub(crate) cpu_clock: AtomicI32,
    /// The kernel's id of the worker's thread, 0 until it starts: the monitor reads the
    /// thread's state (running or waiting in the kernel) from `/proc`.
    pub(crate) tid: AtomicI32,
}

impl WorkerShared {
    /// Worker `index`'s two halves: what its own thread keeps, and what others reach.
    pub(crate) fn new(index: usize) -> (WorkerParts, CachePadded<WorkerShared>) {
        let fresh = Deque::new_lifo();
        let parker = Parker::new();
        let shared = CachePadded::new(WorkerShared {
            stealer: fresh.stealer(),
            inbox: Injector::new(),
            spawns: Injector::new(),
            unparker: parker.unparker().clone(),
            sleeping: AtomicBool::new(false),
            polling: AtomicBool::new(false),
            running: CachePadded::new(Running::default()),
            spawned: CachePadded::new(AtomicUsize::new(0)),
            exited: CachePadded::new(AtomicUsize::new(0)),
            left_loop: AtomicBool::new(false),
            deferred: Mutex::new(None),
            has_deferred: AtomicBool::new(false),
            fresh_gen: CachePadded::new(AtomicU64::new(0)),
            resumes: CachePadded::new(AtomicU32::new(0)),
            backlog: AtomicU32::new(0),
            timers: Mutex::new(Timers::default()),
            next_timer: AtomicU64::new(u64::MAX),
            dumped: AtomicU64::new(0),
            cpu_clock: AtomicI32::new(-1),
            tid: AtomicI32::new(0),
        });
        let parts = WorkerParts {
            index,
            fresh,
            parker,
        };
        (parts, shared)
    }

    /// Wakes the worker from its sleep, on its futex or in `epoll_wait`. The caller has made
    /// visible what the worker should find (work in a queue, a flag), and, for a worker that
    /// may be asleep, fenced and read `sleeping` after that.
    pub(crate) fn wake(&self) {
        self.unparker.unpark();
        // Pairs with the fence in `Local::sleep` after it sets `polling`.
        fence(Ordering::SeqCst);
        if self.polling.load(Ordering::SeqCst) {
            crate::net::poller::interrupt();
        }
    }

    /// The worker's timer heap, locked.
    pub(crate) fn lock_timers(&self) -> std::sync::MutexGuard<'_, Timers> {
        self.timers.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Publishes the heap's earliest deadline (call with the heap locked).
    fn publish_next_timer(&self, heap: &Timers, epoch: Instant) {
        let next = heap.next().map_or(u64::MAX, |t| nanos_since(epoch, t));
        self.next_timer.store(next, Ordering::Relaxed);
    }

    /// Arms a timer entry on the worker's heap. Its owner does, and so does the monitor
    /// re-arming a ticker it fired for a stuck worker (`monitor::fire_overdue`).
    pub(crate) fn arm_timer(&self, when: Instant, fire: Fire, epoch: Instant) {
        let at = nanos_since(epoch, when);
        let mut heap = self.lock_timers();
        heap.push(when, fire);
        // The heap's minimum is now the smaller of the two (the published one is exact: it
        // changes only under the lock).
        if at < self.next_timer.load(Ordering::Relaxed) {
            self.next_timer.store(at, Ordering::Relaxed);
        }
    }

    /// Takes the next entry due at `now` off the worker's heap, with the time to fire it with
    /// (`Timers::pop_due_stamped`). The caller fires it with the heap unlocked: firing a
    /// `Timer` takes its lock, and a goroutine arming one holds that lock while it takes the
    /// heap's.
    pub(crate) fn pop_due_timer(
        &self,
        now: Instant,
        epoch: Instant,
    ) -> Option<(Instant, Fire, Instant)> {
        let mut heap = self.lock_timers();
        let due = heap.pop_due_stamped(now);
        self.publish_next_timer(&heap, epoch);
        due
    }

    /// Empties the worker's heap (shutdown).
    pub(crate) fn clear_timers(&self, epoch: Instant) {
        let mut heap = self.lock_timers();
        heap.clear();
        self.publish_next_timer(&heap, epoch);
    }

    /// CPU time the worker's thread has used, if its clock is known.
    pub(crate) fn cpu_time(&self) -> Option<std::time::Duration> {
        let clock = self.cpu_clock.load(Ordering::Relaxed);
        if clock == -1 {
            return None;
        }
        let mut ts = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: `ts` is a valid out-parameter; a clock id of an exited thread only makes
        // the call fail with EINVAL.
        let r = unsafe { libc::clock_gettime(clock, &mut ts) };
        (r == 0).then(|| {
            std::time::Duration::new(
                ts.tv_sec.max(0) as u64,
                ts.tv_nsec.clamp(0, 999_999_999) as u32,
            )
        })
    }

    /// Records the calling thread's CPU-time clock as this worker's.
    pub(crate) fn publish_cpu_clock(&self) {
        let mut clock: libc::clockid_t = 0;
        // SAFETY: asks for the calling thread's own CPU clock into a valid out-parameter.
        if unsafe { libc::pthread_getcpuclockid(libc::pthread_self(), &mut clock) } == 0 {
            self.cpu_clock.store(clock, Ordering::Relaxed);
        }
        // SAFETY: gettid has no preconditions.
        self.tid.store(unsafe { libc::gettid() }, Ordering::Relaxed);
    }

    /// True if the worker's thread is waiting in the kernel (state `S` or `D` in
    /// `/proc/self/task/TID/stat`), false if it is running or runnable, `None` if unknown.
    pub(crate) fn waiting_in_kernel(&self) -> Option<bool> {
        let tid = self.tid.load(Ordering::Relaxed);
        if tid == 0 {
            return None;
        }
        let stat = std::fs::read_to_string(format!("/proc/self/task/{tid}/stat")).ok()?;
        // The state follows the command name, which is in parentheses and may hold spaces.
        let state = stat.rsplit_once(')')?.1.split_whitespace().next()?;
        Some(matches!(state, "S" | "D"))
    }
}

impl WorkerShared {
    pub(crate) fn defer(&self, g: Arc<GoroutineHeader>) {
        let mut d = self.deferred.lock().unwrap_or_else(|e| e.into_inner());
        debug_assert!(d.is_none(), "one deferred goroutine at a time");
        *d = Some(g);
        self.has_deferred.store(true, Ordering::SeqCst);
    }

    pub(crate) fn take_deferred(&self) -> Option<Arc<GoroutineHeader>> {
        if !self.has_deferred() {
            return None;
        }
        let mut d = self.deferred.lock().unwrap_or_else(|e| e.into_inner());
        self.has_deferred.store(false, Ordering::Relaxed);
        d.take()
    }

    pub(crate) fn has_deferred(&self) -> bool {
        self.has_deferred.load(Ordering::SeqCst)
    }
}

/// `t` as nanoseconds since `epoch` (0 before it).
pub(crate) fn nanos_since(epoch: Instant, t: Instant) -> u64 {
    u64::try_from(t.saturating_duration_since(epoch).as_nanos()).unwrap_or(u64::MAX - 1)
}

/// Adds one to a counter that only the calling worker's thread writes (`WorkerShared::spawned`
/// and `exited`): a load and a store, no locked instruction; readers only need a recent value.
pub(crate) fn count_owned(counter: &AtomicUsize) {
    counter.store(counter.load(Ordering::Relaxed) + 1, Ordering::Relaxed);
}

/// A goroutine's link to its home worker (see `GoroutineHeader::home`): one per worker, shared by
/// the goroutines that started there.
#[derive(Debug)]
pub(crate) struct Home {
    pub(crate) rt: Arc<Shared>,
    pub(crate) index: usize,
}

/// The exit leak report marks goroutines in a partial deadlock (`debug::leaks`) when at most
/// this many are left: the check takes about 2.5 us per goroutine.
const EXIT_LEAK_CHECK: usize = 10_000;

/// What a dump asks each worker for besides the goroutines' records.
#[derive(Debug, Clone)]
pub(crate) enum Want {
    Records,
    /// Their stacks' return addresses (see `worker::capture_stack`).
    Stacks,
    /// What each goroutine blocked for ever on channels waits on (`wait::Holds`).
    Holdings,
    /// That, and how often each of these words (sorted) occurs on each goroutine's stack.
    Scan(Arc<[usize]>),
}

/// What a worker reports of one goroutine in a dump.
#[derive(Debug)]
pub(crate) struct DumpLine {
    pub(crate) g: crate::debug::Goroutine,
    /// Return addresses of its stack, innermost first ([`Want::Stacks`]).
    pub(crate) ips: Option<Vec<usize>>,
    /// The channels it waits on for ever ([`Want::Holdings`], [`Want::Scan`]).
    pub(crate) holds: Vec<crate::wait::reason::Holding>,
    /// How many times it has parked: the same count in two dumps means the same park.
    pub(crate) parks: u32,
    /// The words asked for that occur on its stack, with how often ([`Want::Scan`]); `None`
    /// if its stack could not be scanned (too little of it left).
    pub(crate) found: Option<Vec<(usize, u32)>>,
}

/// What every worker and goroutine of one runtime share.
pub(crate) struct Shared {
    pub(crate) workers: Box<[CachePadded<WorkerShared>]>,
    /// Unstarted goroutines spawned from plain threads.
    pub(crate) global: Injector<Arc<GoroutineHeader>>,
    idle: Mutex<Vec<usize>>,
    nidle: AtomicUsize,
    pub(crate) nspinning: AtomicUsize,
    /// Workers not running goroutines: from the time one finds nothing to run (or starts)
    /// until it finds something, spinning, asleep and searching alike. Placement rule 3
    /// reads it; `nspinning` and `nidle`, which the wake-up protocol reads, leave gaps
    /// between them (a worker searching the queues after a wake-up is in neither).
    pub(crate) nlooking: AtomicUsize,
    shutdown: AtomicBool,
    /// Goroutines spawned from plain threads, plus the main goroutine (see `live`).
    foreign_spawned: AtomicUsize,
    pub(crate) stacks: StackPool,
    stopped: Mutex<usize>,
    stopped_cv: Condvar,
    /// Dump requests (`dump`): the generation asked for, and the lines workers add.
    pub(crate) dump_gen: AtomicU64,
    pub(crate) dump_lines: Mutex<Vec<DumpLine>>,
    /// What the dump asked for now wants besides the records.
    pub(crate) dump_want: Mutex<Want>,
    /// One dump at a time.
    dump_serial: Mutex<()>,
    /// Milliseconds since the runtime started, advanced by the monitor every 10-50 ms: a
    /// clock cheap enough to read on every park (for how long a goroutine has waited).
    pub(crate) clock_ms: AtomicU64,
    /// When the runtime started: the origin of `WorkerShared::next_timer`.
    pub(crate) epoch: Instant,
    /// The monitor's thread, once it runs, and whether it sleeps its long idle tick: a
    /// worker that wakes from its sleep then wakes it, so a goroutine that starts work and
    /// gets stuck past a deadline is seen within the short tick (see `monitor::fire_overdue`).
    pub(crate) monitor: std::sync::OnceLock<std::thread::Thread>,
    pub(crate) monitor_idle: AtomicBool,
    /// Where to write the execution trace (tracing is on for this runtime when set), and the
    /// workers' buffers, handed in as they stop.
    pub(crate) trace_path: Option<std::path::PathBuf>,
    #[allow(clippy::type_complexity)]
    pub(crate) trace_out: Mutex<(
        Vec<(usize, Vec<super::trace::Event>)>,
        std::collections::HashMap<u64, String>,
    )>,
    /// Set by the deadlock detector; `run` returns it.
    pub(crate) deadlock: Mutex<Option<String>>,
    /// What to do when a goroutine panics and nobody joins it
    /// (`RuntimeBuilder::unhandled_panic`), and the first such panic, which ends the run.
    pub(crate) unhandled: UnhandledPanic,
    pub(crate) panicked: Mutex<Option<GoroutinePanic>>,
    /// How long shutdown waits for a worker to leave its loop, and for a worker's goroutines
    /// to unwind (`RuntimeBuilder::shutdown_grace`).
    pub(crate) grace: Duration,
    /// Goroutines that shutdown gave up on (they would not unwind): id and spawn site.
    pub(crate) abandoned: Mutex<Vec<(u64, &'static Location<'static>)>>,
    /// The kernel's id of the thread that called `run` (worker 0), for the deadlock proof.
    pub(crate) caller_tid: i32,
}

impl fmt::Debug for Shared {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Shared")
            .field("workers", &self.workers.len())
            .finish_non_exhaustive()
    }
}

impl Shared {
    /// Goroutines spawned and not yet returned, the main one included.
    pub(crate) fn live(&self) -> usize {
        let (mut spawned, mut exited) = (self.foreign_spawned.load(Ordering::SeqCst), 0);
        for w in self.workers.iter() {
            spawned += w.spawned.load(Ordering::SeqCst);
            exited += w.exited.load(Ordering::SeqCst);
        }
        spawned.saturating_sub(exited)
    }

    pub(crate) fn is_shut_down(&self) -> bool {
        self.shutdown.load(Ordering::Acquire)
    }

    /// Queues a new goroutine: on the current worker if this thread is one, else globally.
    #[inline]
    pub(crate) fn submit(self: &Arc<Self>, g: Arc<GoroutineHeader>) {
        match worker::push_fresh(self, g) {
            Err(g) => self.submit_foreign(g),
            // A second unstarted goroutine queued here is work another worker may take:
            // wake one (Go's `wakep`), fenced, so a sleeping worker cannot miss it. A lone
            // one is most likely what its spawner is about to wait for, which this worker
            // runs as soon as it does; waking another worker for it cost a futex wake and
            // a spinning thief reading this worker's queue on every spawn (Go's
            // TestNonblockSelectRace shape ran 1.5x slower on two workers than on one).
            // If the spawner instead keeps the thread, the monitor wakes an idle worker
            // (`monitor::run`), which then takes the goroutine by placement rule 2.
            Ok(wake) => {
                if wake {
                    self.wake_idle(true);
                }
            }
        }
    }

    /// [`submit`](Self::submit) from a thread that is not one of this runtime's workers: to
    /// the global queue.
    #[inline(never)]
    fn submit_foreign(&self, g: Arc<GoroutineHeader>) {
        self.foreign_spawned.fetch_add(1, Ordering::Relaxed);
        self.global.push(g);
        fence(Ordering::SeqCst);
        if self.shutdown.load(Ordering::SeqCst) {
            // Raced with shutdown: nobody will run it. Drop it here so its join handle
            // reports Cancelled instead of waiting forever.
            self.drain_global();
            return;
        }
        self.wake_idle(true);
    }

    /// Wakes one sleeping worker if none is spinning (Go's `wakep`). `fenced` makes it part of
    /// the sleep handshake (needed when the work would otherwise be stranded).
    #[inline(always)]
    pub(crate) fn wake_idle(&self, fenced: bool) {
        if fenced {
            // Pairs with the fence in `Local::sleep`.
            fence(Ordering::SeqCst);
        }
        if self.nspinning.load(Ordering::SeqCst) != 0 || self.nidle.load(Ordering::SeqCst) == 0 {
            return;
        }
        self.wake_one_idle();
    }

    /// True if a worker runs no goroutine (see `nlooking`).
    #[inline]
    pub(crate) fn someone_idle(&self) -> bool {
        self.nlooking.load(Ordering::Relaxed) != 0
    }

    /// [`wake_idle`](Self::wake_idle) once it found a worker asleep and none spinning.
    #[inline(never)]
    fn wake_one_idle(&self) {
        let w = {
            let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
            let w = idle.pop();
            if w.is_some() {
                self.nidle.fetch_sub(1, Ordering::SeqCst);
            }
            w
        };
        if let Some(w) = w {
            self.workers[w].wake();
        }
    }

    /// Sends an unstarted goroutine to worker `to`'s queue from another worker.
    pub(crate) fn push_spawn(&self, to: usize, g: Arc<GoroutineHeader>) {
        self.workers[to].spawns.push(g);
        self.wake_worker(to);
    }

    /// Wakes worker `to` if it sleeps, after something was put in one of its queues.
    pub(crate) fn wake_worker(&self, to: usize) {
        let w = &self.workers[to];
        // Pairs with the fence in `Local::sleep`.
        fence(Ordering::SeqCst);
        if w.sleeping.load(Ordering::SeqCst) {
            w.wake();
        }
    }

    /// Hands a woken goroutine (its slab index) to its home worker from another thread.
    pub(crate) fn push_inbox(&self, home: usize, slot: u32) {
        let w = &self.workers[home];
        w.inbox.push(slot);
        // Pairs with the fence in `Local::sleep`.
        fence(Ordering::SeqCst);
        if w.sleeping.load(Ordering::SeqCst) {
            w.wake();
        }
    }

    pub(crate) fn add_idle(&self, i: usize) {
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        idle.push(i);
        self.nidle.fetch_add(1, Ordering::SeqCst);
    }

    pub(crate) fn remove_idle(&self, i: usize) {
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(p) = idle.iter().position(|&x| x == i) {
            idle.swap_remove(p);
            self.nidle.fetch_sub(1, Ordering::SeqCst);
        }
    }

    /// Asks every worker to describe its goroutines (each does so on its own thread, at its
    /// next scheduling point: at once if it sleeps) and returns their records sorted by id,
    /// with the workers that did not answer within `patience` (busy in one goroutine). Called
    /// on a goroutine, it parks between looks so that its own worker can answer.
    pub(crate) fn dump(
        &self,
        patience: std::time::Duration,
        stacks: bool,
    ) -> (Vec<crate::debug::Goroutine>, Vec<usize>) {
        let want = if stacks { Want::Stacks } else { Want::Records };
        let (lines, missing) = self.gather(patience, want);
        // Symbols are looked up by the caller, and off the workers when it is a goroutine:
        // the first lookup reads the debug info, which can take a while.
        let resolve = move || -> Vec<crate::debug::Goroutine> {
            lines
                .into_iter()
                .map(|line| {
                    let mut g = line.g;
                    if let Some(ips) = line.ips {
                        g.stack = crate::debug::frames(&ips);
                    }
                    g
                })
                .collect()
        };
        // With every pool thread busy (calls that may never return), here rather than wait.
        let mut gs = if super::worker::in_goroutine() {
            crate::blocking::try_blocking(resolve).unwrap_or_else(|full| (full.0)())
        } else {
            resolve()
        };
        gs.sort_by_key(|g| g.id);
        (gs, missing)
    }

    /// Asks every worker for one [`DumpLine`] per started goroutine (see [`dump`]), unsorted
    /// and unsymbolized, with the workers that did not answer within `patience`.
    ///
    /// [`dump`]: Self::dump
    pub(crate) fn gather(
        &self,
        patience: std::time::Duration,
        want: Want,
    ) -> (Vec<DumpLine>, Vec<usize>) {
        let _serial = self.dump_serial.lock().unwrap_or_else(|e| e.into_inner());
        self.dump_lines
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
        *self.dump_want.lock().unwrap_or_else(|e| e.into_inner()) = want;
        let gen = self.dump_gen.fetch_add(1, Ordering::SeqCst) + 1;
        for w in self.workers.iter() {
            w.wake();
        }
        let until = std::time::Instant::now() + patience;
        let missing = |rt: &Self| -> Vec<usize> {
            (0..rt.workers.len())
                .filter(|&i| rt.workers[i].dumped.load(Ordering::SeqCst) < gen)
                .collect()
        };
        while !missing(self).is_empty() && std::time::Instant::now() < until {
            if super::worker::in_goroutine() {
                crate::time::sleep(std::time::Duration::from_millis(1));
            } else {
                std::thread::sleep(std::time::Duration::from_millis(1));
            }
        }
        let lines = std::mem::take(&mut *self.dump_lines.lock().unwrap_or_else(|e| e.into_inner()));
        *self.dump_want.lock().unwrap_or_else(|e| e.into_inner()) = Want::Records;
        (lines, missing(self))
    }

    /// A goroutine panicked and nobody joins it: as in Go, the panic ends the run (`run`
    /// returns it), unless the runtime was built to ignore such panics. Once the run is
    /// ending (main returned, or a deadlock or an earlier panic ended it), a later panic is
    /// only printed, as a Go program that is exiting never reaches another goroutine's panic.
    pub(crate) fn unhandled_panic(&self, p: GoroutinePanic) {
        // The panic that ends the run is kept for `run`; any other one is dropped here, where
        // a payload's `Drop` that panics is caught.
        let rejected = if self.unhandled == UnhandledPanic::Ignore || self.is_shut_down() {
            Some(p)
        } else {
            let mut first = self.panicked.lock().unwrap_or_else(|e| e.into_inner());
            match *first {
                Some(_) => Some(p),
                None => {
                    *first = Some(p);
                    None
                }
            }
        };
        match rejected {
            Some(p) => crate::stack::switch::drop_payload(p.into_payload()),
            None => self.begin_shutdown(),
        }
    }

    /// Ends the runtime with a deadlock report: `run` returns it as its error.
    pub(crate) fn report_deadlock(&self, report: String) {
        *self.deadlock.lock().unwrap_or_else(|e| e.into_inner()) = Some(report);
        self.begin_shutdown();
    }

    fn begin_shutdown(&self) {
        self.shutdown.store(true, Ordering::SeqCst);
        for w in self.workers.iter() {
            w.wake();
        }
    }

    /// After the workers stopped: unstarted goroutines still queued will never run, so they
    /// are cancelled and their joins return. A worker that stopped emptied its own queue; a
    /// stuck worker's unstarted goroutines are dropped here (unstarted goroutines may be
    /// taken by any thread). Inboxes hold started goroutines of stopped workers (already
    /// unwound); a stuck worker keeps its own.
    fn cancel_leftovers(&self) {
        self.drain_global();
        for w in self.workers.iter() {
            if w.left_loop.load(Ordering::SeqCst) {
                while worker::steal_retrying(|| w.inbox.steal()).is_some() {}
            }
            while let Some(g) = worker::steal_retrying(|| w.stealer.steal()) {
                g.task.cancel();
            }
            while let Some(g) = worker::steal_retrying(|| w.spawns.steal()) {
                g.task.cancel();
            }
            if let Some(g) = w.take_deferred() {
                g.task.cancel();
            }
        }
    }

    /// Writes the execution trace the workers recorded, if one was asked for.
    fn write_trace(&self) {
        if let Some(path) = &self.trace_path {
            let (mut bufs, names) =
                std::mem::take(&mut *self.trace_out.lock().unwrap_or_else(|e| e.into_inner()));
            bufs.sort_by_key(|b| b.0);
            if let Err(e) = std::fs::write(path, super::trace::to_json(&bufs, &names)) {
                eprintln!("goro: cannot write the trace to {}: {e}", path.display());
            }
        }
    }

    /// Drops every goroutine left in the global queue; their joins report `Cancelled`.
    fn drain_global(&self) {
        while let Some(g) = worker::steal_retrying(|| self.global.steal()) {
            g.task.cancel();
        }
    }

    fn worker_stopped(&self) {
        *self.stopped.lock().unwrap_or_else(|e| e.into_inner()) += 1;
        self.stopped_cv.notify_all();
    }

    /// A worker has left its loop and is unwinding its goroutines (shutdown step 2).
    pub(crate) fn worker_left_loop(&self, index: usize) {
        let _guard = self.stopped.lock().unwrap_or_else(|e| e.into_inner());
        self.workers[index].left_loop.store(true, Ordering::SeqCst);
        self.stopped_cv.notify_all();
    }

    /// Waits for workers 1.. to stop and returns how many are stuck: still inside a goroutine
    /// that has not yielded within `grace` of the shutdown. Workers that left their loop are
    /// waited for however long their unwinding takes (a million parked goroutines take a
    /// while), so their destructors have all run when `run` returns.
    fn wait_stopped(&self, grace: Duration) -> usize {
        let others = self.workers.len() - 1;
        let deadline = Instant::now() + grace;
        let in_loop = || {
            self.workers[1..]
                .iter()
                .filter(|w| !w.left_loop.load(Ordering::SeqCst))
                .count()
        };
        let mut stopped = self.stopped.lock().unwrap_or_else(|e| e.into_inner());
        // Until every worker has left its loop, or the grace period is over.
        let mut stuck = in_loop();
        while stuck > 0 {
            let now = Instant::now();
            if now >= deadline {
                break;
            }
            stopped = self
                .stopped_cv
                .wait_timeout(stopped, deadline - now)
                .unwrap_or_else(|e| e.into_inner())
                .0;
            stuck = in_loop();
        }
        // The others are unwinding: wait for them however long it takes.
        while *stopped < others - stuck {
            stopped = self
                .stopped_cv
                .wait(stopped)
                .unwrap_or_else(|e| e.into_inner());
        }
        stuck
    }
}
