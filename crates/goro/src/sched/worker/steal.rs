//! Taking unstarted goroutines from other workers, and giving them away: the mechanics around
//! the rules of `sched::placement`.

use super::*;

impl Local {
    pub(super) fn next_rand(&self) -> u64 {
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
    pub(super) fn steal(&self) -> Option<Arc<GoroutineHeader>> {
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
    pub(super) fn waited_long_enough(&self, v: usize) -> bool {
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

    /// True if another worker holds unstarted goroutines; with `stealable`, only those this
    /// one may take now.
    pub(super) fn workers_queued(&self, stealable: bool) -> bool {
        let rt = &self.rt;
        (0..rt.workers.len()).any(|v| {
            let w = &rt.workers[v];
            v != self.index
                && (!w.stealer.is_empty() || w.has_deferred())
                && (!stealable || self.waited_long_enough(v))
        })
    }

    /// Placement rule 3, before a run: notes its start if unstarted goroutines wait here and
    /// another worker is idle.
    #[inline(never)]
    pub(super) fn start_timing(&self) {
        let queued = self.fresh.len();
        if queued == 0 {
            self.fresh_hint.set(false);
        } else if self.rt.someone_idle() {
            self.run_start.set(Some((Instant::now(), queued)));
        }
    }

    /// Placement rule 3 ([`to_give`](crate::sched::placement::to_give)), after a timed run: if the
    /// goroutine computed without spawning, the oldest half of the queue goes to an idle
    /// worker's queue of sent spawns (which only that worker drains, so this busy one cannot
    /// take them back at its next look at the global queue), waking it if it sleeps.
    #[inline(never)]
    pub(super) fn give_surplus(&self) {
        let Some((start, before)) = self.run_start.take() else {
            return;
        };
        let n = crate::sched::placement::to_give(start.elapsed(), before, self.fresh.len());
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
    pub(super) fn idle_worker(&self) -> Option<usize> {
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
}
