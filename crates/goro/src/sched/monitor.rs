//! The monitor (Go's `sysmon`): a thread per runtime that looks at the workers every 10 ms.
//!
//! goro cannot preempt a goroutine (it is pinned to its worker's thread and switches only
//! where it parks or yields), so a goroutine that keeps its worker's thread holds up every
//! goroutine queued behind it there. The monitor names it, once per goroutine and kind, with
//! its id and spawn site, telling two cases apart by the worker thread's CPU clock
//! ([`judge`]): a goroutine that *computes* ([`HOG`] of CPU time without a switch: call
//! `yield_now`, or use `blocking`), and one that *blocks the thread in the kernel*
//! ([`BLOCKED`] of wall time, little CPU, the thread waiting in the kernel: a std lock that
//! a parked goroutine of the same worker holds, `std::thread::sleep`, a blocking system
//! call). Reading `seq`, `id` and `site` is safe from any thread: they are plain atomics,
//! and a spawn site is `&'static`.
//!
//! It also wakes a sleeping worker when the global queue holds goroutines and nobody is
//! spinning to find them (a backstop; spawns from plain threads wake one already); flags a
//! goroutine that has computed [`HOG`] of CPU time without a switch, so that its next
//! non-blocking goro call yields (`worker::preempt_point`); and fires the overdue timers of
//! a worker stuck in one goroutine ([`fire_overdue`]), waking for the next such deadline
//! rather than its tick.
//!
//! The warning does not show the goroutine's name: that lives in the goroutine's header, which
//! the goroutine may free at any moment under the monitor's feet.
//!
//! `GORO_MONITOR=0` turns it off. It sleeps 10 ms between looks, and 50 ms while every worker
//! is idle.

use std::collections::HashSet;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use super::runtime::Shared;
use super::timers::Fire;

/// A goroutine running this long without a switch is reported (Go preempts after 10 ms).
pub(crate) const HOG: Duration = Duration::from_millis(10);

const TICK: Duration = Duration::from_millis(10);
const IDLE_TICK: Duration = Duration::from_millis(50);

/// True unless `GORO_MONITOR=0` (which silences the warnings; deadlock detection has its own
/// switch).
pub(crate) fn enabled() -> bool {
    std::env::var("GORO_MONITOR").map_or(true, |v| v != "0")
}

/// One worker as last seen.
#[derive(Clone, Copy)]
struct Seen {
    seq: u64,
    id: u64,
    since: Instant,
    /// The worker thread's CPU time then, if its clock is known.
    cpu0: Option<Duration>,
}

/// How soon the monitor looks again at a worker whose goroutine it has just flagged for
/// preemption: the goroutine yields at its next goro call, and the run that follows it on
/// that worker (often the same goroutine again) is seen within this, so that its own slice
/// is measured from close to its start. Without it a computation's second and later slices
/// lasted up to two ticks, and a sleeper on its worker waited that long.
const AFTER_FLAG: Duration = Duration::from_millis(1);

/// The monitor's tick while a worker has a timer due within [`TICK`] (see the loop in
/// [`run`]).
const TIMERS_TICK: Duration = Duration::from_millis(2);

/// When a run seen at `since`, its thread having used `cpu` since, may reach [`HOG`] of CPU
/// time: the monitor looks then rather than at its next tick. CPU time grows no faster than
/// wall time, so this is the earliest.
fn hog_due(now: Instant, cpu: Option<Duration>, since: Instant) -> Instant {
    match cpu {
        Some(c) => now + HOG.saturating_sub(c),
        None => since + HOG,
    }
}

/// How a worker that has run one goroutine for a while without a switch spends its thread.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Stuck {
    /// On the CPU: the goroutine computes without yielding.
    Computing,
    /// In the kernel: the goroutine blocks the thread (an OS lock, a sleep, a system call).
    Blocked,
}

/// A worker blocked in the kernel this long in one goroutine is reported.
const BLOCKED: Duration = Duration::from_millis(50);

/// Judges one uninterrupted run of a goroutine from its wall time and its thread's CPU time.
/// Computing means [`HOG`] of CPU time, not of wall time: on a loaded machine a goroutine
/// waiting for the CPU between short bursts is neither. Blocked means [`BLOCKED`] of wall
/// time during which the thread used under a quarter of it on the CPU and is waiting in the
/// kernel now (not runnable, which a thread the OS has paused would be). Without a CPU
/// clock, wall time stands in for CPU time.
fn judge(
    wall: Duration,
    cpu: Option<Duration>,
    waiting_in_kernel: impl FnOnce() -> Option<bool>,
) -> Option<Stuck> {
    let Some(cpu) = cpu else {
        return (wall >= HOG).then_some(Stuck::Computing);
    };
    if cpu >= HOG {
        return Some(Stuck::Computing);
    }
    if wall >= BLOCKED && cpu < wall / 4 && waiting_in_kernel() == Some(true) {
        return Some(Stuck::Blocked);
    }
    None
}

/// The goroutines already warned about, each once per kind. Bounded: past [`Warned::CAP`]
/// entries it starts afresh (a goroutine may then be named again), so a long-running
/// process that warns about many goroutines does not grow it for ever.
#[derive(Default)]
struct Warned(HashSet<(u64, Stuck)>);

impl Warned {
    const CAP: usize = 4096;

    /// True if `(id, kind)` had not been warned about.
    fn insert(&mut self, id: u64, kind: Stuck) -> bool {
        if self.0.len() >= Self::CAP {
            self.0.clear();
        }
        self.0.insert((id, kind))
    }
}

/// True if nothing in the runtime can make progress on its own: every worker asleep with no
/// timer, nothing queued, nobody waiting for I/O, a blocking call or a future in `block_on`,
/// no channel listening for a signal. Returns the sum of the
/// workers' resume counters, to tell one quiet spell from two separated by activity.
fn quiet(rt: &Shared) -> Option<u64> {
    let all_asleep = rt.workers.iter().all(|w| {
        w.sleeping.load(Ordering::SeqCst)
            // Published under the heap's lock before the worker's SeqCst store of `sleeping`,
            // which the load above read.
            && w.next_timer.load(Ordering::Relaxed) == u64::MAX
            && w.inbox.is_empty()
            && w.spawns.is_empty()
            && w.stealer.is_empty()
            && w.running.id.load(Ordering::SeqCst) == 0
    });
    let live = all_asleep
        && rt.global.is_empty()
        && !crate::net::poller::io_waiting()
        && !crate::blocking::in_flight()
        && !crate::time::thread::pending()
        && !crate::signal::watching()
        && !crate::future::waiting();
    live.then(|| {
        rt.workers
            .iter()
            .map(|w| w.running.seq.load(Ordering::SeqCst))
            .fold(0u64, u64::wrapping_add)
    })
}

/// The deadlock detector's state: since when, and at which resume count, the runtime has
/// been quiet.
#[derive(Default)]
struct Quiet {
    since: Option<(Instant, u64)>,
}

impl Quiet {
    /// True once the runtime has stayed quiet, with no resume at all, for `grace`.
    fn deadlocked(&mut self, rt: &Shared, now: Instant, grace: Duration) -> bool {
        match (quiet(rt), self.since) {
            (None, _) => {
                self.since = None;
                false
            }
            (Some(seq), Some((t, s))) if s == seq => now.duration_since(t) >= grace,
            (Some(seq), _) => {
                self.since = Some((now, seq));
                false
            }
        }
    }
}

/// How late a busy worker's timer may be before the monitor fires it for the worker: the
/// worker fires its own due timers at every scheduling tick, so a timer this late means
/// the worker has been in one goroutine since (Go: `stealWork` runs other Ps' timers).
const TIMER_LATE: Duration = Duration::from_millis(1);

/// The shortest sleep of the monitor while it waits for a timer to become overdue.
const MIN_TIMER_WAIT: Duration = Duration::from_micros(200);

/// Fires the timers of workers that are [`TIMER_LATE`] past their earliest deadline while
/// running a goroutine (a goroutine that computes, or blocks its thread, keeps the worker
/// from its own timers): a context's deadline, `time::after`, a `Timer` or a sleep's
/// wake-up happen on time whoever is busy. Firing wakes, closes, sends or cancels; a
/// goroutine it wakes is queued on its own worker's inbox, never resumed here. Returns when
/// the next such timer will be overdue, if any worker running a goroutine has one.
fn fire_overdue(rt: &Arc<Shared>) -> Option<Instant> {
    let late = u64::try_from(TIMER_LATE.as_nanos()).unwrap_or(u64::MAX);
    let mut next: Option<u64> = None;
    for (i, w) in rt.workers.iter().enumerate() {
        let at = w.next_timer.load(Ordering::Relaxed);
        if at == u64::MAX || w.running.id.load(Ordering::Relaxed) == 0 {
            continue;
        }
        let now = Instant::now();
        let now_ns = super::runtime::nanos_since(rt.epoch, now);
        if now_ns < at.saturating_add(late) {
            let due = at.saturating_add(late);
            next = Some(next.map_or(due, |n| n.min(due)));
            continue;
        }
        loop {
            match w.pop_due_timer(now, rt.epoch) {
                None => break,
                // A goroutine of this worker waking from a sleep or a deadline: queued on the
                // worker's inbox, as any wake-up from another thread. Its slot is known here;
                // its `home` may not be (only a goroutine that made an `Unparker` has one).
                Some((_, Fire::Wake { g, gen }, _)) => {
                    if g.timer_gen.load(Ordering::Relaxed) == gen
                        && g.park.unpark()
                        && !rt.is_shut_down()
                    {
                        rt.push_inbox(i, g.slot.load(Ordering::Relaxed));
                    }
                }
                Some((when, fire, at)) => {
                    if let Some((again, fire)) = fire.fire(when, at) {
                        w.arm_timer(again, fire, rt.epoch);
                    }
                }
            }
        }
    }
    next.map(|n| rt.epoch + Duration::from_nanos(n))
}

/// The runtimes of this process: for the deadlock proof, and for SIGQUIT's dumps.
static LIVE: Mutex<Vec<Weak<Shared>>> = Mutex::new(Vec::new());

/// Records a runtime as live, for as long as it exists.
pub(crate) fn register(rt: &Arc<Shared>) {
    let mut live = LIVE.lock().unwrap_or_else(|e| e.into_inner());
    live.retain(|w| w.strong_count() > 0);
    live.push(Arc::downgrade(rt));
}

/// The runtimes of this process that still exist.
pub(crate) fn live_runtimes() -> Vec<Arc<Shared>> {
    LIVE.lock()
        .unwrap_or_else(|e| e.into_inner())
        .iter()
        .filter_map(Weak::upgrade)
        .collect()
}

/// The deadlock detector's settings.
#[derive(Debug, Clone, Copy)]
pub(crate) struct DeadlockCheck {
    pub(crate) grace: Duration,
    /// End `run` even when the deadlock is not proven.
    pub(crate) fatal_unproven: bool,
}

/// Why a quiet runtime `rt` may still not be deadlocked, if it may not: another runtime of
/// the process is not quiet (its goroutines may yet wake ours), or a thread of the process
/// is none of the runtimes' own (it may hold a handle and send, unlock, close or unpark).
/// `Some(None)`: another runtime runs, which says nothing worth a warning. `None`: proven.
fn unproven(rt: &Arc<Shared>) -> Option<Option<String>> {
    let live = live_runtimes();
    if live
        .iter()
        .any(|o| !Arc::ptr_eq(o, rt) && !o.is_shut_down() && quiet(o).is_none())
    {
        return Some(None);
    }
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return Some(Some("goro cannot list this process's threads".into()));
    };
    let callers: Vec<i32> = live.iter().map(|o| o.caller_tid).collect();
    let mut others = Vec::new();
    for t in tasks.flatten() {
        let Some(tid) = t.file_name().to_str().and_then(|s| s.parse::<i32>().ok()) else {
            continue;
        };
        if callers.contains(&tid) {
            continue;
        }
        let comm = std::fs::read_to_string(t.path().join("comm")).unwrap_or_default();
        if !comm.starts_with("goro-") {
            others.push(format!("{tid} ({})", comm.trim_end()));
        }
    }
    if others.is_empty() {
        return None;
    }
    Some(Some(format!(
        "{} other thread(s) of this process could still wake a goroutine: {}",
        others.len(),
        others.join(", ")
    )))
}

/// The monitor's loop; returns when the runtime shuts down.
pub(crate) fn run(rt: Arc<Shared>, deadlock: Option<DeadlockCheck>, warn: bool) {
    let mut m = Monitor {
        seen: vec![None; rt.workers.len()],
        warned: Warned::default(),
        quiet: Quiet::default(),
        warned_spell: None,
        start: Instant::now(),
        next_look: None,
        warn,
        rt,
    };
    while !m.rt.is_shut_down() {
        let now = Instant::now();
        let ms = u64::try_from(now.duration_since(m.start).as_millis()).unwrap_or(u64::MAX);
        m.rt.clock_ms.store(ms, Ordering::Relaxed);
        if let Some(check) = deadlock {
            if m.deadlock_reported(check, now) {
                return;
            }
        }
        m.next_look = None;
        let mut busy = false;
        for i in 0..m.rt.workers.len() {
            busy |= m.look_at_worker(i, now);
        }
        if !m.rt.global.is_empty() && m.rt.nspinning.load(Ordering::SeqCst) == 0 {
            m.rt.wake_idle(true);
        }
        m.sleep(now, busy);
    }
}

/// The monitor's state between looks.
struct Monitor {
    rt: Arc<Shared>,
    /// Per worker, the run seen at the last look.
    seen: Vec<Option<Seen>>,
    warned: Warned,
    quiet: Quiet,
    /// The quiet spell last warned about (its resume count), so a spell is warned about once.
    warned_spell: Option<u64>,
    start: Instant,
    /// The earliest time a run being watched may need flagging.
    next_look: Option<Instant>,
    /// Whether to warn about goroutines that hold their worker.
    warn: bool,
}

impl Monitor {
    fn look_at(&mut self, t: Instant) {
        self.next_look = Some(self.next_look.map_or(t, |n| n.min(t)));
    }

    /// The deadlock check of one look: true if a deadlock was reported (the runtime is
    /// ending). An unproven one is warned about once per quiet spell.
    fn deadlock_reported(&mut self, check: DeadlockCheck, now: Instant) -> bool {
        let rt = &self.rt;
        if !self.quiet.deadlocked(rt, now, check.grace) {
            return false;
        }
        let spell = self.quiet.since.map(|(_, s)| s);
        let why = unproven(rt);
        if why.is_none() || check.fatal_unproven {
            let (gs, _) = rt.dump(Duration::from_millis(500), true);
            rt.report_deadlock(crate::debug::format(&gs));
            return true;
        }
        // Another runtime running (`Some(None)`) is not worth a warning.
        if let Some(Some(why)) = why {
            if self.warned_spell != spell {
                self.warned_spell = spell;
                let (gs, _) = rt.dump(Duration::from_millis(500), true);
                eprintln!(
                    "goro: all goroutines are asleep, but {why}; not a proven \
                     deadlock, so the program goes on \
                     (Runtime::builder().deadlock_fatal_unproven(true) or \
                     GORO_DEADLOCK=fatal ends it instead).\n\n{}",
                    crate::debug::format(&gs)
                );
            }
        }
        false
    }

    /// Looks at worker `i`: times its run, flags a run that computes too long, wakes an idle
    /// worker for goroutines queued behind it, and warns. True if it runs a goroutine.
    fn look_at_worker(&mut self, i: usize, now: Instant) -> bool {
        let rt = self.rt.clone();
        let w = &rt.workers[i];
        let r = &w.running;
        // A worker with a timer due soon: if a goroutine computes there meanwhile, the
        // sleepers wait for it to yield, so its run is seen, and timed, from close to its
        // start. (A timer armed before this is due within a tick: see TIMERS_TICK.)
        let at = w.next_timer.load(Ordering::Relaxed);
        if at != u64::MAX && at <= super::runtime::nanos_since(rt.epoch, now + TICK) {
            self.look_at(now + TIMERS_TICK);
        }
        let (id, seq) = (r.id.load(Ordering::Relaxed), r.seq.load(Ordering::Relaxed));
        if id == 0 {
            self.seen[i] = None;
            return false;
        }
        let s = match &self.seen[i] {
            Some(s) if s.seq == seq && s.id == id => *s,
            _ => {
                self.seen[i] = Some(Seen {
                    seq,
                    id,
                    since: now,
                    cpu0: w.cpu_time(),
                });
                self.look_at(now + HOG);
                return true;
            }
        };
        // Unstarted goroutines wait behind a goroutine that has kept this worker since the
        // last look: make sure an idle worker looks at them (a lone spawn wakes nobody, see
        // `Shared::submit`).
        if !w.stealer.is_empty() {
            rt.wake_idle(true);
        }
        if r.held.load(Ordering::Relaxed) || r.printing_panic.load(Ordering::Relaxed) {
            // A goroutine holding its thread through a panic says so itself; one whose panic
            // is being printed is not hogging anything either.
            return true;
        }
        let wall = now.duration_since(s.since);
        let cpu = w.cpu_time().zip(s.cpu0).map(|(c, c0)| c.saturating_sub(c0));
        let stuck = judge(wall, cpu, || w.waiting_in_kernel());
        if stuck == Some(Stuck::Computing) {
            // Its next call into a goro operation that does not block yields. Look again
            // soon, once, to time the next run from near its start.
            if !r.preempt.swap(true, Ordering::Relaxed) {
                self.look_at(now + AFTER_FLAG);
            }
        } else {
            self.look_at(hog_due(now, cpu, s.since));
        }
        if self.warn {
            if let Some(stuck) = stuck {
                self.warn_stuck(i, id, stuck, wall, cpu);
            }
        }
        true
    }

    /// Says once per goroutine and kind why goroutine `id` holds worker `i`.
    fn warn_stuck(
        &mut self,
        i: usize,
        id: u64,
        stuck: Stuck,
        wall: Duration,
        cpu: Option<Duration>,
    ) {
        if !self.warned.insert(id, stuck) {
            return;
        }
        let site = self.rt.workers[i].running.site.load(Ordering::Relaxed);
        // SAFETY: a non-null site is a `&'static Location` (see `Running`).
        let site = unsafe { site.as_ref() }
            .map_or_else(|| "an unknown site".to_string(), |l| l.to_string());
        match stuck {
            Stuck::Computing => eprintln!(
                "goro: goroutine {id} (created at {site}) has computed for \
                 {:.0?} on worker {i} without yielding; goroutines queued on \
                 that worker wait for it. Call goro::yield_now() in long \
                 loops, or run the work with goro::blocking(). \
                 (GORO_MONITOR=0 silences this.)",
                cpu.unwrap_or(wall)
            ),
            Stuck::Blocked => eprintln!(
                "goro: goroutine {id} (created at {site}) has blocked worker \
                 {i}'s thread in the kernel for {wall:.0?} (it used {:.0?} of \
                 CPU); goroutines of that worker cannot run meanwhile. Likely \
                 causes: a std::sync::Mutex, RwLock or stdout().lock() that \
                 another goroutine of this worker holds across a park (it \
                 cannot run to release it: use goro::sync::Mutex), \
                 std::thread::sleep (use goro::time::sleep), or a blocking \
                 system call (wrap it in goro::blocking()). \
                 (GORO_MONITOR=0 silences this.)",
                cpu.unwrap_or_default()
            ),
        }
    }

    /// Fires overdue timers, then sleeps until the next look: a tick (an idle tick when
    /// nothing runs), or sooner for a run or timer being watched. Unparked at shutdown, so
    /// `run` does not wait out the tick.
    fn sleep(&mut self, now: Instant, busy: bool) {
        let rt = &self.rt;
        let next_overdue = fire_overdue(rt);
        // The first look comes before the main goroutine has started: no idle tick yet.
        let starting = now.duration_since(self.start) < IDLE_TICK;
        let tick = if busy || starting || next_overdue.is_some() {
            TICK
        } else {
            IDLE_TICK
        };
        let wait = match (next_overdue, self.next_look) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
        .map_or(tick, |t| {
            t.saturating_duration_since(Instant::now())
                .clamp(MIN_TIMER_WAIT, tick)
        });
        rt.monitor_idle.store(wait == IDLE_TICK, Ordering::Relaxed);
        std::thread::park_timeout(wait);
        rt.monitor_idle.store(false, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    #[test]
    fn cpu_time_not_wall_time_makes_a_hog() {
        // 40 ms of wall time with 2 ms of CPU, the thread runnable: paused by the OS, not a hog.
        assert_eq!(judge(40 * MS, Some(2 * MS), || Some(false)), None);
        assert_eq!(
            judge(12 * MS, Some(11 * MS), || Some(false)),
            Some(Stuck::Computing)
        );
        // No CPU clock: wall time stands in.
        assert_eq!(judge(12 * MS, None, || None), Some(Stuck::Computing));
    }

    #[test]
    fn a_thread_waiting_in_the_kernel_is_blocked_not_computing() {
        assert_eq!(
            judge(60 * MS, Some(MS), || Some(true)),
            Some(Stuck::Blocked)
        );
        // Too short yet, or runnable (waiting for a CPU), or the state unknown.
        assert_eq!(judge(30 * MS, Some(MS), || Some(true)), None);
        assert_eq!(judge(60 * MS, Some(MS), || Some(false)), None);
        assert_eq!(judge(60 * MS, Some(MS), || None), None);
    }

    #[test]
    fn the_set_of_warned_goroutines_is_bounded() {
        let mut w = Warned::default();
        for id in 0..20_000 {
            assert!(w.insert(id, Stuck::Computing));
        }
        assert!(w.0.len() <= Warned::CAP);
        assert!(!w.insert(19_999, Stuck::Computing));
        assert!(w.insert(19_999, Stuck::Blocked));
    }
}
