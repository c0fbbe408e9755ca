//! Execution-trace events a worker records: goroutine slices, wakes, channel operations and
//! instants such as netpoll looks.

use super::*;

/// Records a completed channel operation in this worker's buffer if its runtime traces, or in
/// the plain threads' buffer when called off the workers.
pub(crate) fn trace_chan(op: crate::sched::trace::ChanOp, ch: usize) {
    let on_worker = with_local(|l| match l {
        Some(l) => {
            if l.tracing {
                let g = l.with_current(|g| g.id).unwrap_or(0);
                l.trace.borrow_mut().push(crate::sched::trace::Event::Chan {
                    op,
                    ch,
                    g,
                    at: crate::sched::trace::now_us(),
                });
            }
            true
        }
        None => false,
    });
    if !on_worker {
        crate::sched::trace::chan_from_thread(op, ch);
    }
}

/// Records a traced wake-up of `g` in the waker's buffer: a worker's of the same runtime, or
/// the one for plain threads.
#[cold]
pub(super) fn trace_wake(g: &GoroutineHeader, rt: &Arc<Shared>) {
    let recorded = with_local(|l| match l {
        Some(l) if Arc::ptr_eq(&l.rt, rt) => {
            let ev = crate::sched::trace::wake(g.id);
            l.trace.borrow_mut().push(ev);
            true
        }
        _ => false,
    });
    if !recorded {
        crate::sched::trace::wake_from_thread(g.id);
    }
}

impl Local {
    /// The start of a traced resume: ends the wake-up arrow pointing at `g`, if any.
    #[cold]
    pub(super) fn trace_resume(&self, g: &GoroutineHeader) -> f64 {
        let t0 = crate::sched::trace::now_us();
        if let Some(ev) = crate::sched::trace::woken(g.id, t0) {
            self.trace.borrow_mut().push(ev);
        }
        t0
    }

    /// The end of a traced resume: one slice for the time `g` ran.
    #[cold]
    pub(super) fn trace_slice(&self, g: &GoroutineHeader, t0: f64, why: Option<Suspend>) {
        let (how, reason) = match why {
            Some(Suspend::Park) => (
                "park",
                crate::wait::reason::WaitReason::from_u8(g.wait.load(Ordering::Relaxed)).as_str(),
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
        let end = crate::sched::trace::now_us();
        let queued = self.ready.borrow().len() + usize::from(self.runnext.get().is_some());
        let mut buf = self.trace.borrow_mut();
        buf.push(crate::sched::trace::Event::Slice {
            g: g.id,
            start: t0,
            dur: end - t0,
            how,
            reason,
        });
        buf.push(crate::sched::trace::Event::Runnable {
            at: end,
            n: queued as u64,
        });
    }

    /// A moment worth marking on this worker's track.
    #[cold]
    pub(super) fn trace_instant(&self, name: &'static str, arg: u64) {
        self.trace
            .borrow_mut()
            .push(crate::sched::trace::Event::Instant {
                name,
                at: crate::sched::trace::now_us(),
                arg,
            });
    }

    /// Records a look at the netpoller that took `n` sockets' events (if tracing and any);
    /// returns `n`.
    pub(super) fn traced_netpoll(&self, n: usize) -> usize {
        if self.tracing && n > 0 {
            self.trace_instant("netpoll", n as u64);
        }
        n
    }
}
