//! The fibers of the goroutines that started on this worker (a slab indexed by slot), and the
//! worker's small cache of stacks.

use super::*;

impl Local {
    /// Creates the fiber of a goroutine starting on this worker, on `stack` (from
    /// [`Local::take_stack`]).
    pub(super) fn start_fiber(
        &self,
        g: Arc<GoroutineHeader>,
        mut stack: Stack,
        body: impl FnOnce() + 'static,
    ) -> Slot {
        let asked = match g.stack_size as usize {
            0 => self.rt.stacks.default_size(),
            n => n,
        };
        stack.set_owner(g.id, g.site, asked);
        let fiber = Fiber::new(stack, &self.fiber, body);
        // SAFETY: the record's room in the meta area of the stack this fiber now owns:
        // mapped, writable, aligned to 16 and used by nothing else.
        unsafe { fiber.record().cast::<ParkRecord>().write(ParkRecord::NEW) };
        Slot { g, fiber }
    }

    /// A goroutine that cannot start because the system refused memory for its stack: its
    /// closure is dropped and its join reports [`JoinError::NoStack`](crate::JoinError), with
    /// a line on stderr (a detached goroutine has nobody else to tell). It counts as started
    /// and exited, so the live count stays true.
    ///
    /// The closure is dropped on a thread of its own: a `Drop` that waits (a send on a
    /// channel that a goroutine of this worker receives from) would otherwise hold this
    /// worker's thread, and the goroutine it waits for could never run. Only when the system
    /// refuses that thread too is it dropped here.
    pub(super) fn refuse_start(&self, g: Arc<GoroutineHeader>, why: std::io::Error) {
        eprintln!(
            "goro: goroutine {} (created at {}) cannot start: no memory for its stack: {why}",
            g.id, g.site
        );
        count_owned(&self.me().running.started);
        count_owned(&self.me().exited);
        let job = Arc::new(std::sync::Mutex::new(Some((g, why))));
        let for_thread = job.clone();
        let dropper = std::thread::Builder::new()
            .name("goro-refused".into())
            .stack_size(REFUSED_DROP_STACK)
            .spawn(move || refuse(&for_thread));
        if dropper.is_err() {
            refuse(&job);
        }
    }

    /// Gives a starting goroutine its slab index and records it in its header, before it
    /// runs: whoever unparks it later reads the index there.
    #[inline(always)]
    pub(super) fn alloc_slot(&self, g: &GoroutineHeader) -> u32 {
        let idx = self.free_slots.borrow_mut().pop().unwrap_or_else(|| {
            let mut slab = self.slab.borrow_mut();
            slab.push(UnsafeCell::new(None));
            // A slab index is far below 2^32: each entry is a live goroutine with a stack.
            u32::try_from(slab.len() - 1).unwrap_or(NOT_STARTED - 1)
        });
        g.slot.store(idx, Ordering::Relaxed);
        count_owned(&self.me().running.started);
        idx
    }

    /// Puts a goroutine's fiber in its slab place (at its first suspension).
    pub(super) fn store_slot(&self, idx: u32, slot: Slot) {
        *self.slab.borrow_mut()[idx as usize].get_mut() = Some(slot);
    }

    /// The slab entry at `idx`, to use while no other code of this worker touches the slab
    /// (see the field doc).
    pub(super) fn slot_ptr(&self, idx: u32) -> *mut Option<Slot> {
        self.slab.borrow()[idx as usize].get()
    }

    /// A stack of `size` usable bytes (0: the default), from this worker's cache when it can;
    /// an error when the system refuses the memory.
    #[inline(always)]
    pub(super) fn take_stack(&self, size: usize) -> std::io::Result<Stack> {
        if size == 0 {
            if let Some(s) = self.stacks.borrow_mut().pop() {
                return Ok(s);
            }
        }
        self.take_stack_slow(size)
    }

    #[inline(never)]
    pub(super) fn take_stack_slow(&self, size: usize) -> std::io::Result<Stack> {
        let mut cache = self.stacks.borrow_mut();
        let want = if size == 0 { STACK_CACHE / 2 } else { 1 };
        let mut got = Vec::with_capacity(want);
        // A batch for the cache first; when the system refuses that much, one stack.
        if let Err(e) = self.rt.stacks.alloc_batch(size, want, &mut got) {
            if got.is_empty() {
                self.rt
                    .stacks
                    .alloc_batch(size, 1, &mut got)
                    .map_err(|_| e)?;
            }
        }
        let s = got.pop().expect("alloc_batch returned at least one stack");
        cache.extend(got);
        Ok(s)
    }

    /// Takes back a stack: into this worker's cache, which hands half of itself back to the
    /// pool when it grows past [`STACK_CACHE`].
    #[inline(always)]
    pub(super) fn give_stack(&self, s: Stack) {
        let mut cache = self.stacks.borrow_mut();
        if s.is_default() && cache.len() < STACK_CACHE {
            cache.push(s);
            return;
        }
        drop(cache);
        self.give_stack_slow(s);
    }

    #[inline(never)]
    pub(super) fn give_stack_slow(&self, s: Stack) {
        if !s.is_default() {
            self.rt.stacks.free_batch(&mut vec![s]);
            return;
        }
        let mut cache = self.stacks.borrow_mut();
        cache.push(s);
        if cache.len() > STACK_CACHE {
            let mut half: Vec<Stack> = cache.drain(..STACK_CACHE / 2).collect();
            self.rt.stacks.free_batch(&mut half);
        }
    }
}

/// The stack of the thread that drops a refused goroutine's closure: small, since it is
/// asked for when memory is short, and enough for destructors.
const REFUSED_DROP_STACK: usize = 256 << 10;

/// Drops the closure of a refused goroutine held in `job` and completes its join, once.
fn refuse(job: &std::sync::Mutex<Option<(Arc<GoroutineHeader>, std::io::Error)>>) {
    let taken = job.lock().unwrap_or_else(|e| e.into_inner()).take();
    if let Some((g, why)) = taken {
        g.task.refuse(why);
    }
}
