//! The worker's run queues: `runnext`, `ready` (started goroutines made runnable again), the
//! inbox and spawn queue other threads fill, and `fresh` (unstarted goroutines); where a woken or
//! new goroutine goes.

use super::*;

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
pub(super) fn newer(a: u32, b: u32) -> bool {
    (a.wrapping_sub(b) as i32) > 0
}

/// Park protocol step 4: `g` has just been moved to QUEUED; hand it to its home worker.
///
/// Inlined for the common case, a goroutine woken by another goroutine of its own worker
/// (a hand-off): it goes to `runnext`. Anything else takes [`schedule_woken_elsewhere`].
#[inline]
pub(crate) fn schedule_woken(g: &GoroutineHeader) {
    // Only a started goroutine can be parked, so it has a home and a slot; the slot was
    // written before it started, so the unparker's Acquire on the state word sees it.
    let Some(home) = g.home.get() else { return };
    let idx = g.slot.load(Ordering::Relaxed);
    let queued = with_local(|l| match l {
        Some(l) if std::ptr::eq(&*l.home, home) && !l.rt.is_shut_down() => {
            if l.tracing && crate::sched::trace::on() {
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
pub(super) fn schedule_woken_elsewhere(g: &GoroutineHeader, home: &Home, idx: u32) {
    if home.rt.is_shut_down() {
        return;
    }
    if crate::sched::trace::on() && home.rt.trace_path.is_some() {
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
pub(super) fn note_waker(g: &GoroutineHeader, l: &Local) {
    g.waker
        .store(u8::try_from(l.index + 1).unwrap_or(0), Ordering::Relaxed);
}

/// Puts an unstarted goroutine on the current worker's queue if this thread is a worker of
/// `rt`, saying whether an idle worker should be woken for it (see `Shared::submit`); gives
/// it back otherwise.
pub(crate) fn push_fresh(
    rt: &Arc<Shared>,
    g: Arc<GoroutineHeader>,
) -> Result<bool, Arc<GoroutineHeader>> {
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

impl Local {
    pub(super) fn stamp(&self, g: &GoroutineHeader) {
        let s = self.seq.get().wrapping_add(1);
        self.seq.set(s);
        g.qseq.store(s, Ordering::Relaxed);
    }

    pub(super) fn push_ready(&self, idx: u32) {
        let s = self.seq.get().wrapping_add(1);
        self.seq.set(s);
        self.ready.borrow_mut().push_back((idx, s));
    }

    /// Takes slot `idx` out of the queues a waker may have put it in (`runnext`, `ready`,
    /// the inbox): true if found (see [`park_holding_thread`]).
    pub(super) fn take_own_slot(&self, idx: u32) -> bool {
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
    pub(super) fn requeue_yielded(&self, idx: u32) {
        self.fire_timers();
        self.drain_inbox();
        self.push_ready(idx);
    }

    pub(super) fn push_runnext(&self, idx: u32) {
        if let Some(old) = self.runnext.replace(Some(idx)) {
            self.push_ready(old);
        }
    }

    /// The next unstarted goroutine (newest first, the oldest every [`OLDEST_EVERY`]th time).
    pub(super) fn pop_fresh(&self) -> Option<Arc<GoroutineHeader>> {
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
    pub(super) fn pop_local(&self) -> Option<Next> {
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

    /// Moves the goroutines other threads woke for this worker into its ready queue. Looked at
    /// on every pass of the scheduler and empty on almost all of them: the look is inlined,
    /// the moving is not.
    #[inline(always)]
    pub(super) fn drain_inbox(&self) {
        if !self.me().inbox.is_empty() {
            self.drain_inbox_slow();
        }
    }

    #[inline(never)]
    pub(super) fn drain_inbox_slow(&self) {
        let inbox = &self.me().inbox;
        while let Some(i) = steal_retrying(|| inbox.steal()) {
            self.push_ready(i);
        }
    }

    /// Moves the goroutines other workers' spawners sent here into the local queue (inlined
    /// look, as [`drain_inbox`](Self::drain_inbox)).
    #[inline(always)]
    pub(super) fn drain_spawns(&self) {
        if !self.me().spawns.is_empty() {
            self.drain_spawns_slow();
        }
    }

    #[inline(never)]
    pub(super) fn drain_spawns_slow(&self) {
        let spawns = &self.me().spawns;
        while let Some(g) = steal_retrying(|| spawns.steal()) {
            self.queue_fresh(g);
        }
    }

    /// Queues an unstarted goroutine on this worker, stamping its place in the local order and
    /// telling thieves (through `fresh_gen`) when the queue goes from empty to holding work.
    #[inline]
    pub(super) fn queue_fresh(&self, g: Arc<GoroutineHeader>) {
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

    pub(super) fn take_global(&self) -> Option<Arc<GoroutineHeader>> {
        let g = steal_retrying(|| self.rt.global.steal_batch_and_pop(&self.fresh));
        if g.is_some() {
            self.fresh_hint.set(true);
        }
        g
    }
}
