//! A worker with nothing to run: the last look for work, the spin, and the sleep, on its
//! futex or in `epoll_wait` holding the netpoller's poll role.

use super::*;

impl Local {
    /// Counts this worker in `Shared::nlooking` or not, touching the shared count only when
    /// that changes.
    #[inline(always)]
    pub(super) fn set_looking(&self, on: bool) {
        if self.looking.replace(on) != on {
            if on {
                self.rt.nlooking.fetch_add(1, Ordering::Relaxed);
            } else {
                self.rt.nlooking.fetch_sub(1, Ordering::Relaxed);
            }
        }
    }

    /// Work this worker could do right now, looking only where other threads put it: its own
    /// queues, the global queue, due timers, and other workers' unstarted goroutines that it
    /// may take now (placement rule 2).
    pub(super) fn has_work(&self) -> bool {
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

    pub(super) fn idle(&self) {
        // Nothing left to run here for now: what was held back is released before the
        // worker spins or sleeps, so an object dies at the latest when its last user's worker
        // runs out of work.
        self.release_held();
        let t0 = self.tracing.then(crate::sched::trace::now_us);
        self.idle_inner();
        if let Some(t0) = t0 {
            let dur = crate::sched::trace::now_us() - t0;
            self.trace
                .borrow_mut()
                .push(crate::sched::trace::Event::Idle { start: t0, dur });
        }
    }

    pub(super) fn idle_inner(&self) {
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
        if self.traced_netpoll(crate::net::poller::poll_now()) > 0 && self.has_work() {
            return;
        }
        self.sleep();
    }

    pub(super) fn sleep(&self) {
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
    pub(super) fn sleep_polling(&self, until: Option<Instant>) -> bool {
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
            self.traced_netpoll(role.wait(timeout_ms));
        }
        me.polling.store(false, Ordering::SeqCst);
        drop(role);
        // A waker that saw `sleeping` also unparked the futex: drop that token, which would
        // end the next futex sleep at once. What it woke us for is in the queues, and the
        // worker looks there before it sleeps again.
        self.parker.park_timeout(Duration::ZERO);
        true
    }
}
