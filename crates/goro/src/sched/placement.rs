//! Placement: which worker a goroutine starts on. A goroutine that has started never changes
//! worker (docs/DESIGN.md, "Pinned once started": its stack may hold `!Send` values and
//! thread-local borrows), so where it *starts* decides where it will ever run. This module
//! holds the rules as pure functions of what a worker can observe, so that each is tested
//! without timing (`tests` below); `worker/` reads the observations and acts on the answers.
//!
//! The rules, in the order a goroutine meets them:
//!
//! 1. **Start where spawned.** A new goroutine queues on its spawner's worker (or on the
//!    worker whose goroutine last woke the spawner, `worker::push_fresh`), so a spawner and
//!    what it spawns and then waits for (a producer, a pipeline stage, a ring) talk on one
//!    core: a cross-core hand-off costs a futex wake (~14 us) where a local one costs ~0.1 us.
//! 2. **Idle workers take surplus** ([`Watch::may_steal`]). An idle worker takes the oldest
//!    half of a busy worker's unstarted goroutines once they are surplus: the owner has
//!    resumed [`STEAL_TICKS`] other goroutines without emptying that queue, or been in one
//!    goroutine computing for [`BUSY_STEAL`], or holds [`BACKLOG_STEAL`] runnable goroutines,
//!    or [`STEAL_DELAY`] has passed (unless the owner is visibly draining the queue); and at
//!    once while the victim keeps producing surplus (a steal within [`STILL_SURPLUS`] and
//!    more than one goroutine queued).
//! 3. **A busy worker gives surplus away** ([`to_give`]). When one of its goroutines has
//!    just run [`BUSY_GIVE`] without a switch (it computes) and without spawning, while
//!    unstarted goroutines wait in its queue and another worker is idle, the owner hands
//!    the oldest half to the idle worker. Rule 2 sees the same thing from the other side but
//!    only as often as a sleeping thief looks (every [`RECHECK`], plus the OS's timer
//!    slack): a pool whose goroutines start, park on an empty jobs channel, and then compute
//!    would lose that race and run on one core.
//! 4. **Wake where it lives.** A started goroutine that is woken runs on its own worker (in
//!    `runnext` when its waker is a goroutine of the same worker, else through that
//!    worker's inbox). A lone spawn wakes no idle worker (`Shared::submit`): its spawner is
//!    most likely about to wait for it; the monitor wakes one if the spawner keeps the
//!    worker instead.
//!
//! A send to a channel with several parked receivers wakes the one that parked first,
//! wherever it lives. Preferring a receiver whose worker is idle was considered; with rule 3
//! the unbuffered pool already reaches its ideal wall time (docs/BENCHMARKS.md), so the
//! order stays first-parked, first-served, which tests can state and rely on.
//!
//! Pairs and rings never trigger rules 2 and 3 (each of their runs is sub-microsecond and
//! their queues hold one goroutine at a time), so their locality is kept; the headline
//! benchmarks measure that.

use std::time::{Duration, Instant};

/// Rule 2: the victim resumed this many started goroutines while its queue of unstarted
/// ones held work without being emptied: it is busy with other work, and the queued work is
/// real surplus. Progress, not time: a victim whose thread the OS has descheduled, that runs
/// one long burst of spawns, or that is starting the queued goroutines themselves, makes
/// none. 1024 resumptions are about a hundred microseconds of work; a producer and its
/// consumers ping-ponging through `runnext` (32 turns in a row) reach a smaller bound before
/// their worker gets round to the other producers of the same program.
pub(crate) const STEAL_TICKS: u32 = 1024;

/// Rule 2: after this long a victim's queue is taken whatever the victim does (unless it is
/// draining it). Long, because the OS pauses threads too: a shorter bound took a producer
/// away from its consumer while the spawner's thread was descheduled, and the pair then
/// crossed cores on every message. (Go steals at once, but can migrate a goroutine later.)
pub(crate) const STEAL_DELAY: Duration = Duration::from_millis(1);

/// Rule 2: a victim that has been running one goroutine this long without a switch, its
/// thread on the CPU for at least three quarters of it (its CPU clock), is busy computing:
/// its queued goroutines are taken at once. Goroutines that hand values back and forth
/// switch every few microseconds and are never split by it; a spawner the OS has paused
/// keeps its queue; and a goroutine still adding to that queue is setting up work (a ring,
/// a pipeline), so the window counts from its last spawn.
pub(crate) const BUSY_STEAL: Duration = Duration::from_micros(100);

/// Rule 2: a victim with this many started goroutines waiting to run is overloaded: an
/// unstarted goroutine queued there would wait behind them all. This spreads a pipeline
/// that grows one stage at a time (the prime sieve's filters).
pub(crate) const BACKLOG_STEAL: u32 = 16;

/// Rule 2: how often a sleeping worker looks again at other workers' unstarted goroutines
/// that it may not take yet.
pub(crate) const RECHECK: Duration = Duration::from_micros(100);

/// Rule 2: a victim working through its own queue at a rate that empties it within this long
/// is left to it, even past [`STEAL_DELAY`].
pub(crate) const DRAIN_HORIZON: Duration = Duration::from_millis(4);

/// Rule 2: a victim stolen from this recently, with more than one goroutine queued, is
/// still producing surplus (a goroutine spawning a million others refills its queue as fast
/// as thieves empty it).
pub(crate) const STILL_SURPLUS: Duration = Duration::from_micros(100);

/// Rule 3: a run this long, without a switch and without a spawn, marks its worker busy.
pub(crate) const BUSY_GIVE: Duration = Duration::from_micros(100);

/// What a thief reads of one victim at one look: its shared counters (`WorkerShared`).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Victim {
    /// Bumped by the victim each time its queue of unstarted goroutines goes from empty to
    /// holding work (`fresh_gen`).
    pub(crate) gen: u64,
    /// Started goroutines it has resumed, published every few.
    pub(crate) resumes: u32,
    /// Started goroutines waiting in its ready queue, as last published.
    pub(crate) backlog: u32,
    /// Unstarted goroutines stealable from it (its queue and its deferred slot).
    pub(crate) queued: usize,
    /// Its switch count (`Running::seq`): unchanged means one uninterrupted run.
    pub(crate) switches: u64,
    /// True while it runs a goroutine.
    pub(crate) running: bool,
}

/// A thief's memory of one victim's queue (rule 2).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Watch {
    /// The victim's `gen` when first seen with work.
    gen: u64,
    /// When, and the victim's published resumption count then.
    since: Instant,
    resumes: u32,
    /// The longest the victim's queue has been seen since, and when.
    len: usize,
    peak: Instant,
    /// Its length at the last look, and when it was last seen shorter than the look before.
    last_len: usize,
    last_shrink: Instant,
    /// When this thief last stole from the victim.
    last_steal: Option<Instant>,
    /// The victim's switch count at the last look, since when it has not changed, and the
    /// CPU time its thread had used then.
    switches: u64,
    switches_since: Instant,
    switches_cpu: Option<Duration>,
    /// The victim's queue length when its running goroutine was last seen adding to it.
    switches_len: usize,
}

impl Watch {
    /// A watch that has seen nothing yet.
    pub(crate) fn new(now: Instant) -> Self {
        Watch {
            gen: u64::MAX,
            since: now,
            resumes: 0,
            len: 0,
            peak: now,
            last_len: 0,
            last_shrink: now,
            last_steal: None,
            switches: 0,
            switches_since: now,
            switches_cpu: None,
            switches_len: 0,
        }
    }

    /// Records a steal from this victim.
    pub(crate) fn stole(&mut self, now: Instant) {
        self.last_steal = Some(now);
    }

    /// Rule 2: true if the victim's unstarted goroutines may be taken now. `cpu` reads the
    /// victim thread's CPU clock; it is called only when a run is long enough to judge.
    pub(crate) fn may_steal(
        &mut self,
        v: Victim,
        now: Instant,
        mut cpu: impl FnMut() -> Option<Duration>,
    ) -> bool {
        let surplus = self
            .last_steal
            .is_some_and(|t| now.duration_since(t) < STILL_SURPLUS)
            && v.queued >= 2;
        if surplus {
            // Still producing surplus: keep taking it, whatever the owner does meanwhile.
            self.gen = v.gen;
            return true;
        }
        if self.gen != v.gen {
            (self.gen, self.since, self.resumes) = (v.gen, now, v.resumes);
            (self.len, self.peak, self.last_len, self.last_shrink) = (v.queued, now, v.queued, now);
            (self.switches, self.switches_since, self.switches_len) = (v.switches, now, v.queued);
            self.switches_cpu = cpu();
            return false;
        }
        if v.resumes.wrapping_sub(self.resumes) >= STEAL_TICKS || v.backlog >= BACKLOG_STEAL {
            return true;
        }
        if v.switches != self.switches || v.queued > self.switches_len {
            // A switch, or the running goroutine is still spawning what the queue holds: its
            // worker starts them as soon as it blocks, so the window starts again.
            (self.switches, self.switches_since, self.switches_len) = (v.switches, now, v.queued);
            self.switches_cpu = cpu();
        } else if now.duration_since(self.switches_since) >= BUSY_STEAL && v.running {
            // One goroutine, no switch, for BUSY_STEAL: busy computing if its thread used the
            // CPU most of that time; paused by the OS otherwise, and then its queue is left
            // to the general rule (a paused spawner must not lose its pair).
            let now_cpu = cpu();
            let wall = now.duration_since(self.switches_since);
            let used = now_cpu
                .zip(self.switches_cpu)
                .map_or(Duration::ZERO, |(c, c0)| c.saturating_sub(c0));
            if used * 4 >= wall * 3 {
                return true;
            }
            (self.switches_since, self.switches_cpu) = (now, now_cpu);
        }
        let len = v.queued;
        if len >= self.len {
            (self.len, self.peak) = (len, now);
        }
        if len < self.last_len {
            self.last_shrink = now;
        }
        self.last_len = len;
        if now.duration_since(self.since) < STEAL_DELAY {
            return false;
        }
        // Is the victim working through its queue right now, at a rate that empties it
        // within DRAIN_HORIZON? Then let it (a ring of 503 being started). A queue that still
        // grows, or has stopped shrinking, is surplus.
        let drained = self.len - len.min(self.len);
        let draining = now.duration_since(self.peak).as_nanos();
        now.duration_since(self.last_shrink) >= STILL_SURPLUS
            || drained == 0
            || draining * len as u128 >= DRAIN_HORIZON.as_nanos() * drained as u128
    }
}

/// Rule 3: how many of its unstarted goroutines (the oldest) a worker gives to an idle one
/// after a goroutine ran for `run` without a switch, its queue holding `before` unstarted
/// goroutines when the run began and `after` when it ended.
pub(crate) fn to_give(run: Duration, before: usize, after: usize) -> usize {
    if run < BUSY_GIVE || after > before {
        // A short run (a hand-off), or a spawner setting up work it will start itself.
        return 0;
    }
    after.div_ceil(2)
}

#[cfg(test)]
mod tests {
    use super::*;

    const US: Duration = Duration::from_micros(1);

    fn victim(gen: u64, queued: usize) -> Victim {
        Victim {
            gen,
            resumes: 0,
            backlog: 0,
            queued,
            switches: 1,
            running: true,
        }
    }

    /// A watch that first saw `v` at `t0`.
    fn watching(v: Victim, t0: Instant, cpu: Duration) -> Watch {
        let mut w = Watch::new(t0);
        assert!(!w.may_steal(v, t0, || Some(cpu)), "never on first sight");
        w
    }

    #[test]
    fn a_queue_of_one_behind_a_short_spawner_is_left_alone() {
        // Go's TestNonblockSelectRace shape: each round the spawner queues one goroutine and
        // blocks a microsecond later. A thief that stole one round's goroutine must not take
        // the next one just because it stole recently: only a queue of more than one is
        // surplus still being produced.
        let t0 = Instant::now();
        let mut w = watching(victim(1, 1), t0, Duration::ZERO);
        w.stole(t0);
        assert!(!w.may_steal(victim(2, 1), t0 + 5 * US, || Some(Duration::ZERO)));
        assert!(!w.may_steal(victim(2, 1), t0 + 10 * US, || Some(Duration::ZERO)));
        // A spawner refilling a long queue is still producing surplus.
        assert!(w.may_steal(victim(3, 40), t0 + 20 * US, || Some(Duration::ZERO)));
    }

    #[test]
    fn a_victim_computing_in_one_goroutine_loses_its_queue_after_busy_steal() {
        let t0 = Instant::now();
        let v = victim(1, 4);
        let mut w = watching(v, t0, Duration::ZERO);
        // Half the window: not yet.
        assert!(!w.may_steal(v, t0 + BUSY_STEAL / 2, || Some(BUSY_STEAL / 2)));
        // The whole window on the CPU: busy.
        assert!(w.may_steal(v, t0 + BUSY_STEAL, || Some(BUSY_STEAL)));
    }

    #[test]
    fn a_victim_paused_by_the_os_keeps_its_queue_until_the_delay() {
        let t0 = Instant::now();
        let v = victim(1, 1);
        let mut w = watching(v, t0, Duration::ZERO);
        // Its thread had a tenth of the time on the CPU: paused, not busy.
        assert!(!w.may_steal(v, t0 + 2 * BUSY_STEAL, || Some(BUSY_STEAL / 5)));
        assert!(!w.may_steal(v, t0 + STEAL_DELAY / 2, || Some(BUSY_STEAL / 5)));
        // The general rule still takes a queue that neither grows nor shrinks.
        assert!(w.may_steal(v, t0 + STEAL_DELAY, || Some(BUSY_STEAL / 5)));
    }

    #[test]
    fn a_spawner_still_adding_to_its_queue_keeps_it() {
        // A ring being set up: one run, the queue growing at every look, on the CPU all the
        // time. Its worker starts them as soon as it blocks.
        let t0 = Instant::now();
        let mut w = watching(victim(1, 1), t0, Duration::ZERO);
        for k in 1..9u32 {
            let t = t0 + BUSY_STEAL * k / 2;
            let v = victim(1, 1 + k as usize * 50);
            assert!(!w.may_steal(v, t, || Some(t - t0)), "look {k}");
        }
    }

    #[test]
    fn progress_elsewhere_or_a_backlog_makes_the_queue_surplus() {
        let t0 = Instant::now();
        let v = victim(1, 2);
        let resumed = Victim {
            resumes: STEAL_TICKS,
            ..v
        };
        let overloaded = Victim {
            backlog: BACKLOG_STEAL,
            ..v
        };
        for seen in [resumed, overloaded] {
            let mut w = watching(v, t0, Duration::ZERO);
            let later = Victim {
                switches: 7,
                ..seen
            };
            assert!(
                w.may_steal(later, t0 + US, || Some(Duration::ZERO)),
                "{seen:?}"
            );
        }
    }

    #[test]
    fn a_victim_draining_its_queue_fast_keeps_it_past_the_delay() {
        // 503 goroutines, started by their own worker at a few a microsecond.
        let t0 = Instant::now();
        let mut w = watching(victim(1, 503), t0, Duration::ZERO);
        let mut switches = 1;
        let mut len = 503usize;
        let mut t = t0;
        while len > 50 {
            t += 50 * US;
            len -= 20;
            switches += 20;
            let v = Victim {
                switches,
                queued: len,
                ..victim(1, len)
            };
            assert!(!w.may_steal(v, t, || Some(t - t0)), "at {len} queued");
        }
        // The same queue standing still past the delay is surplus.
        let still = Victim {
            switches,
            queued: len,
            ..victim(1, len)
        };
        let later = t + STILL_SURPLUS;
        assert!(w.may_steal(still, later.max(t0 + STEAL_DELAY), || Some(later - t0)));
    }

    #[test]
    fn a_long_run_that_did_not_spawn_gives_half_the_queue_away() {
        assert_eq!(to_give(BUSY_GIVE, 7, 7), 4);
        assert_eq!(to_give(BUSY_GIVE * 20, 1, 1), 1);
        assert_eq!(to_give(BUSY_GIVE * 3, 8, 6), 3);
        // A hand-off between a pair, or nothing queued.
        assert_eq!(to_give(BUSY_GIVE - US, 7, 7), 0);
        assert_eq!(to_give(BUSY_GIVE * 3, 0, 0), 0);
        // A spawner setting up work it will start itself (a ring, a pipeline).
        assert_eq!(to_give(BUSY_GIVE * 3, 2, 503), 0);
    }
}
