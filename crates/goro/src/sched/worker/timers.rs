//! This worker's timers: arming one, firing the due ones, the next deadline to sleep until.
//! The heap itself is `sched::timers`.

use super::*;

impl Local {
    /// Arms a timer entry on this worker's heap.
    pub(super) fn arm(&self, when: Instant, fire: Fire) {
        self.me().arm_timer(when, fire, self.rt.epoch);
    }

    /// The time now, if this worker's earliest timer is due by it (its published deadline;
    /// the clock is read only when there is one).
    #[inline(always)]
    pub(super) fn timer_due(&self) -> Option<Instant> {
        let next = self.me().next_timer.load(Ordering::Relaxed);
        if next == u64::MAX {
            return None;
        }
        let now = Instant::now();
        (crate::sched::runtime::nanos_since(self.rt.epoch, now) >= next).then_some(now)
    }

    /// The earliest deadline of this worker's heap.
    pub(super) fn next_timer(&self) -> Option<Instant> {
        self.me().lock_timers().next()
    }

    /// Fires the due timers. The look at an empty heap (its published deadline) is inlined
    /// into the loop's tick.
    #[inline(always)]
    pub(super) fn fire_timers(&self) {
        if let Some(now) = self.timer_due() {
            self.fire_due_timers(now);
        }
    }

    pub(super) fn fire_due_timers(&self, now: Instant) {
        let me = self.me();
        loop {
            match me.pop_due_timer(now, self.rt.epoch) {
                None => break,
                Some((_, Fire::Wake { g, gen }, _)) => {
                    // Wake-ups are armed on the goroutine's home worker: this one.
                    if g.timer_gen.load(Ordering::Relaxed) == gen && g.park.unpark() {
                        if self.tracing {
                            self.trace_instant("timer", g.id);
                            let ev = crate::sched::trace::wake(g.id);
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
}
