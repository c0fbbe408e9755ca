//! Goroutine dumps and stack scans, answered by the worker between goroutines: the records
//! of its goroutines, their captured stacks, and the conservative scan the leak check uses.

use super::*;

/// After the running goroutine suspended: while its worker resumes it only to look at its
/// stack (a dump, or a leak check's scan), record what is asked and suspend again the same
/// way (see [`capture_stack`]).
#[inline(always)]
pub(super) fn answer_captures(l: &Local, why: Suspend) {
    if l.capture.get() != 0 {
        answer_captures_now(l, why);
    }
}

#[inline(never)]
pub(super) fn answer_captures_now(l: &Local, why: Suspend) {
    while l.capture.get() != 0 {
        // The scan starts here: the frames of the capture itself, below, hold the words it
        // looks for.
        let mark = 0u8;
        capture_stack(l, ptr::from_ref(&mark) as usize);
        suspend(&l.fiber, why);
    }
}

/// Records the running goroutine's stack for a dump, on the goroutine's own stack.
///
/// A goroutine's stack can only be walked from inside it (the unwinder walks the stack it
/// runs on), so a worker answering a dump resumes each suspended goroutine with
/// `Local::capture` set; the goroutine, still inside `park_current` or `yield_current`, walks
/// its stack here and suspends again the same way. Nothing else happens on that resume: the
/// park state is untouched, no wake-up is consumed, and a wake-up that arrives meanwhile is
/// still queued for the real resume.
///
/// For a leak check, the goroutine scans its stack instead, from `above` (an address in the
/// caller's frame: the frames of the scan itself, which hold the words looked for, are
/// below it) to the top.
#[inline(never)]
pub(super) fn capture_stack(l: &Local, above: usize) {
    let limit = l.capture.get();
    let here = ptr::from_ref(&limit) as usize;
    if let Some(words) = l.scan_for.borrow().as_deref() {
        if here.saturating_sub(limit) <= SCAN_HEADROOM {
            *l.scanned.borrow_mut() = None;
            return;
        }
        *l.scanned.borrow_mut() = Some(scan_stack(above, l.capture_top.get(), words));
        // The scan's frame held the words it looked for; once the goroutine runs on, calls
        // reaching this deep would leave them in unwritten slots, for the next scan to take
        // as handles this goroutine holds. Overwrite it.
        crate::stack::zero_below::<2048>();
        return;
    }
    if here.saturating_sub(limit) <= CAPTURE_HEADROOM {
        *l.captured.borrow_mut() = None;
        return;
    }
    let mut ips = Vec::with_capacity(64);
    // SAFETY: the unsynchronized walk is unsafe only where the platform's unwinder is not
    // thread-safe (Windows' dbghelp); goro runs on Linux, whose `_Unwind_Backtrace` is (it
    // is what every panicking thread uses). Not taking the crate's global lock matters: a
    // dump being symbolized on another thread holds it for as long as reading the debug
    // info takes, and a worker must not wait for that.
    unsafe {
        backtrace::trace_unsynchronized(|f| {
            ips.push(f.ip() as usize);
            ips.len() < 256
        });
    }
    *l.captured.borrow_mut() = Some(ips);
}

/// Counts how often each of `words` (sorted) occurs as an aligned word in `from..top`: the
/// live part of the stack of the goroutine calling this, for the leak check
/// (`debug::leaks`).
///
/// A conservative scan: it cannot tell a live handle from a stale copy a move left behind,
/// which the leak check allows for. The words are read volatile, one at a time, as
/// conservative collectors read stacks: another thread may be writing a value into a
/// waiter record on this stack (a hand-off to a parked receiver), and such a word is
/// read as whatever it holds at that instant.
#[inline(never)]
pub(super) fn scan_stack(from: usize, top: usize, words: &[usize]) -> Vec<(usize, u32)> {
    let mut found: Vec<(usize, u32)> = Vec::new();
    let (Some(&lo), Some(&hi)) = (words.first(), words.last()) else {
        return found;
    };
    let step = size_of::<usize>();
    let mut p = from.next_multiple_of(step);
    while p + step <= top {
        // SAFETY: `from..top` is the used part of the calling goroutine's own stack, mapped
        // and readable; `p` is aligned.
        let w = unsafe { ptr::read_volatile(p as *const usize) };
        if (lo..=hi).contains(&w) && words.binary_search(&w).is_ok() {
            match found.iter_mut().find(|(x, _)| *x == w) {
                Some((_, n)) => *n += 1,
                None => found.push((w, 1)),
            }
        }
        p += step;
    }
    found
}

impl Local {
    /// True if a dump asked this worker for its goroutines and it has not answered.
    pub(super) fn dump_asked(&self) -> bool {
        self.me().dumped.load(Ordering::Relaxed) < self.rt.dump_gen.load(Ordering::SeqCst)
    }

    /// Describes this worker's goroutines if a dump was asked for (see `Shared::dump`).
    /// Called only between goroutines (the idle path, `find_runnable`).
    pub(super) fn answer_dump(&self) {
        let me = self.me();
        let gen = self.rt.dump_gen.load(Ordering::SeqCst);
        if me.dumped.load(Ordering::Relaxed) >= gen {
            return;
        }
        let want = self
            .rt
            .dump_want
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        let mut lines = Vec::new();
        let mut stacks = match want {
            Want::Stacks => STACKS_PER_DUMP,
            _ => 0,
        };
        for cell in self.slab.borrow().iter() {
            // SAFETY: no goroutine of this worker runs now (we are between goroutines), so no
            // resume holds a reference into the slab; only this thread touches it. The
            // capture resumes in `describe` touch neither the slab nor the slot.
            let Some(slot) = (unsafe { &mut *cell.get() }).as_mut() else {
                continue;
            };
            let capture = stacks > 0;
            stacks = stacks.saturating_sub(1);
            lines.push(self.describe(slot, &want, capture));
        }
        self.rt
            .dump_lines
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend(lines);
        me.dumped.store(gen, Ordering::SeqCst);
    }

    /// One goroutine's line of a dump: its record, what it holds and what its stack refers
    /// to (as `want` asks), and its stack's return addresses if `capture`. The goroutine is
    /// suspended in `slot`, and stays so but for the capture resumes.
    fn describe(&self, slot: &mut Slot, want: &Want, capture: bool) -> DumpLine {
        let ips = if capture {
            self.capture.set(slot.fiber.stack_limit());
            let _ = slot.fiber.resume(&self.fiber);
            self.capture.set(0);
            self.captured.borrow_mut().take()
        } else {
            None
        };
        let g = &slot.g;
        // SAFETY: the goroutine is suspended (see `answer_dump`) and its record stays put.
        let rec = unsafe { &*slot.record() };
        let parked = g.park.is_parked();
        let mut holds = Vec::new();
        let mut found = Some(Vec::new());
        if matches!(want, Want::Holdings | Want::Scan(_)) {
            if let (true, Some(h)) = (parked, rec.holds) {
                // SAFETY: the goroutine is suspended in the park that recorded `h`, inside
                // the frame that owns it (see `wait::Holds`); it stays there until this
                // worker resumes it, which is not now.
                unsafe { h.as_ref() }.holds(&mut holds);
            }
        }
        if let Want::Scan(words) = want {
            *self.scan_for.borrow_mut() = Some(words.clone());
            self.capture.set(slot.fiber.stack_limit());
            self.capture_top.set(slot.fiber.stack_top());
            let _ = slot.fiber.resume(&self.fiber);
            self.capture.set(0);
            *self.scan_for.borrow_mut() = None;
            found = self.scanned.borrow_mut().take();
        }
        let reason = parked
            .then(|| crate::wait::reason::WaitReason::from_u8(g.wait.load(Ordering::Relaxed)));
        let now = self.rt.clock_ms.load(Ordering::Relaxed);
        let record = crate::debug::Goroutine {
            object: reason.and((rec.wait_obj != 0).then_some(rec.wait_obj)),
            waited: reason.map(|_| Duration::from_millis(rec.waited_ms(now))),
            id: g.id,
            name: g.name.as_deref().cloned(),
            reason,
            site: g.site.to_string(),
            worker: self.index,
            stack: Vec::new(),
        };
        DumpLine {
            g: record,
            ips,
            holds,
            parks: rec.parks(),
            found,
        }
    }
}
