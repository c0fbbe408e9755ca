//! The monitor (Go's `sysmon`): a thread per runtime that looks at the workers every 10 ms.
//!
//! goro cannot preempt a goroutine (it is pinned to its worker's thread and switches only
//! where it parks or yields), so a goroutine that computes for a long time without yielding
//! holds up every goroutine queued behind it on its worker. The monitor names it: a worker
//! whose `Running::seq` has not moved for [`HOG`] while it runs the same goroutine gets one
//! warning on stderr per goroutine, with its id, spawn site and how long it has run, pointing
//! at `yield_now` and `blocking`. Reading `seq`, `id` and `site` is safe from any thread: they
//! are plain atomics, and a spawn site is `&'static`.
//!
//! It also wakes a sleeping worker when the global queue holds goroutines and nobody is
//! spinning to find them (a backstop; spawns from plain threads wake one already).
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
}

/// True if nothing in the runtime can make progress on its own: every worker asleep with no
/// timer, nothing queued, nobody waiting for I/O or a blocking call. Returns the sum of the
/// workers' resume counters, to tell one quiet spell from two separated by activity.
fn quiet(rt: &Shared) -> Option<u64> {
    let all_asleep = rt.workers.iter().all(|w| {
        w.sleeping.load(Ordering::SeqCst)
            && !w.timers_pending.load(Ordering::SeqCst)
            && w.inbox.is_empty()
            && w.spawns.is_empty()
            && w.stealer.is_empty()
            && w.running.id.load(Ordering::SeqCst) == 0
    });
    let live = all_asleep
        && rt.global.is_empty()
        && !crate::net::poller::io_waiting()
        && !crate::blocking::in_flight()
        && !crate::time::thread::pending();
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

/// The runtimes of this process, for the deadlock proof.
static LIVE: Mutex<Vec<Weak<Shared>>> = Mutex::new(Vec::new());

/// Records a runtime for the deadlock proof ([`unproven`]).
pub(crate) fn register(rt: &Arc<Shared>) {
    let mut live = LIVE.lock().unwrap_or_else(|e| e.into_inner());
    live.retain(|w| w.strong_count() > 0);
    live.push(Arc::downgrade(rt));
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
    let live: Vec<Arc<Shared>> = LIVE
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .iter()
        .filter_map(Weak::upgrade)
        .collect();
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
    let mut seen: Vec<Option<Seen>> = vec![None; rt.workers.len()];
    let mut warned: HashSet<u64> = HashSet::new();
    let mut quiet = Quiet::default();
    // The quiet spell last warned about (its resume count), so a spell is warned about once.
    let mut warned_spell: Option<u64> = None;
    let start = Instant::now();
    while !rt.is_shut_down() {
        let now = Instant::now();
        let ms = u64::try_from(now.duration_since(start).as_millis()).unwrap_or(u64::MAX);
        rt.clock_ms.store(ms, Ordering::Relaxed);
        if let Some(check) = deadlock {
            if quiet.deadlocked(&rt, now, check.grace) {
                let spell = quiet.since.map(|(_, s)| s);
                match unproven(&rt) {
                    None => {
                        let (gs, _) = rt.dump(Duration::from_millis(500), true);
                        rt.report_deadlock(crate::debug::format(&gs));
                        return;
                    }
                    Some(Some(_)) if check.fatal_unproven => {
                        let (gs, _) = rt.dump(Duration::from_millis(500), true);
                        rt.report_deadlock(crate::debug::format(&gs));
                        return;
                    }
                    Some(Some(why)) if warned_spell != spell => {
                        warned_spell = spell;
                        let (gs, _) = rt.dump(Duration::from_millis(500), true);
                        eprintln!(
                            "goro: all goroutines are asleep, but {why}; not a proven \
                             deadlock, so the program goes on \
                             (Runtime::builder().deadlock_fatal_unproven(true) or \
                             GORO_DEADLOCK=fatal ends it instead).\n\n{}",
                            crate::debug::format(&gs)
                        );
                    }
                    Some(_) => {}
                }
            }
        }
        let mut busy = false;
        for (i, w) in rt.workers.iter().enumerate() {
            let r = &w.running;
            let (id, seq) = (r.id.load(Ordering::Relaxed), r.seq.load(Ordering::Relaxed));
            if id == 0 {
                seen[i] = None;
                continue;
            }
            busy = true;
            match seen[i] {
                Some(s) if s.seq == seq && s.id == id => {
                    let ran = now.duration_since(s.since);
                    if warn && ran >= HOG && warned.insert(id) {
                        let site = r.site.load(Ordering::Relaxed);
                        // SAFETY: a non-null site is a `&'static Location` (see `Running`).
                        let site = unsafe { site.as_ref() }
                            .map_or_else(|| "an unknown site".to_string(), |l| l.to_string());
                        eprintln!(
                            "goro: goroutine {id} (created at {site}) has run for {:.0?} on worker \
                             {i} without yielding; goroutines queued on that worker wait for it. \
                             Call goro::yield_now() in long loops, or run blocking work with \
                             goro::blocking(). (GORO_MONITOR=0 silences this.)",
                            ran
                        );
                    }
                }
                _ => {
                    seen[i] = Some(Seen {
                        seq,
                        id,
                        since: now,
                    })
                }
            }
        }
        if !rt.global.is_empty() && rt.nspinning.load(Ordering::SeqCst) == 0 {
            rt.wake_idle(true);
        }
        // Unparked at shutdown, so `run` does not wait out the tick.
        std::thread::park_timeout(if busy { TICK } else { IDLE_TICK });
    }
}
