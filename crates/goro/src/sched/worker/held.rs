//! Reference drops held back until the worker is between goroutines (see `release_later`).

use super::*;

/// Drops `a`, on a worker perhaps a little later: its reference is held back with others to
/// the same object and released in a batch, at the latest when this worker next runs out of
/// work (or shuts down). For handles whose drop means nothing but the reference count, such
/// as a `WaitGroup`'s clones: a goroutine spawned with a clone drops it on the worker that ran
/// it while the spawner keeps cloning on its own, and one reference count written from both
/// cores in turn crossed between them twice per goroutine. Not for anything whose drop
/// others can see (a channel's `Sender` closes it). On a plain thread, dropped at once.
#[inline]
pub(crate) fn release_later<T: Send + Sync>(a: Arc<T>) {
    with_local(|l| match l {
        Some(l) => l.hold(a),
        None => drop(a),
    });
}

impl Local {
    /// See [`release_later`].
    #[inline]
    pub(super) fn hold<T: Send + Sync>(&self, a: Arc<T>) {
        let ptr = Arc::into_raw(a).cast::<()>();
        match self.held.get() {
            Some(h) if h.ptr == ptr && h.n < RELEASE_BATCH => {
                self.held.set(Some(Held { n: h.n + 1, ..h }));
            }
            _ => self.hold_new(Held {
                ptr,
                n: 1,
                release: release_arc::<T>,
            }),
        }
    }

    /// A reference to another object than the one held, or one too many: the held ones go.
    #[inline(never)]
    pub(super) fn hold_new(&self, h: Held) {
        // Dropping an object may drop a handle that is held back in turn (`hold` again, from
        // inside `release_held`): release that too rather than overwrite it.
        while self.held.get().is_some() {
            self.release_held();
        }
        self.held.set(Some(h));
    }

    /// Releases the references [`release_later`] held back.
    pub(super) fn release_held(&self) {
        if let Some(h) = self.held.take() {
            // SAFETY: `hold` took these `n` references with `Arc::<T>::into_raw` and
            // recorded `release_arc::<T>` with them.
            unsafe { (h.release)(h.ptr, h.n) };
        }
    }
}
