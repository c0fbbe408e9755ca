//! `OnceLock<T>` and `Once`: run an initialiser exactly once, parking whoever arrives while it
//! runs (Go's `sync.Once`, `sync.OnceValue`).
//!
//! # Protocol
//!
//! `state` moves EMPTY -> RUNNING -> DONE. The caller that wins EMPTY -> RUNNING runs the
//! initialiser, writes the value, stores DONE (Release: pairs with the Acquire of every
//! `get`) and wakes the waiters. Others that find RUNNING wait in a [`WaitList`] unless, under
//! its lock, the state has moved on. If the initialiser panics the state goes back to EMPTY
//! and the waiters wake to try again themselves (one of them runs it next).

use std::cell::UnsafeCell;
use std::fmt;
use std::mem::MaybeUninit;
use std::sync::atomic::{AtomicU8, Ordering};

use crate::wait::list::WaitList;

const EMPTY: u8 = 0;
const RUNNING: u8 = 1;
const DONE: u8 = 2;

/// A cell written once, by the first caller of [`get_or_init`](OnceLock::get_or_init); the
/// others park until the value is there.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// goro::run(|| {
///     let config = Arc::new(goro::sync::OnceLock::new());
///     let hs: Vec<_> = (0..4)
///         .map(|i| {
///             let c = config.clone();
///             goro::go(move || *c.get_or_init(|| i * 10))
///         })
///         .collect();
///     let seen: Vec<i32> = hs.into_iter().map(|h| h.join().unwrap()).collect();
///     assert!(seen.iter().all(|&v| v == seen[0]), "one initialiser won for all");
/// })
/// .unwrap();
/// ```
pub struct OnceLock<T> {
    state: AtomicU8,
    waiters: WaitList,
    value: UnsafeCell<MaybeUninit<T>>,
}

// SAFETY: as std's `OnceLock`: the value is written once by one thread, then only shared.
unsafe impl<T: Send> Send for OnceLock<T> {}
// SAFETY: as above; sharing needs `T: Sync`, and the thread that initialises may differ from
// the one that drops, so `T: Send` too.
unsafe impl<T: Send + Sync> Sync for OnceLock<T> {}

impl<T> Default for OnceLock<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> OnceLock<T> {
    /// An empty cell.
    pub fn new() -> Self {
        OnceLock {
            state: AtomicU8::new(EMPTY),
            waiters: WaitList::default(),
            value: UnsafeCell::new(MaybeUninit::uninit()),
        }
    }

    /// The value, if it has been set.
    pub fn get(&self) -> Option<&T> {
        if self.state.load(Ordering::Acquire) == DONE {
            // SAFETY: DONE (Acquire) means the value was written and is never written again.
            Some(unsafe { (*self.value.get()).assume_init_ref() })
        } else {
            None
        }
    }

    /// The value, running `f` to make it if nobody has; callers arriving while `f` runs park
    /// until it is done.
    #[doc(alias = "Do")]
    pub fn get_or_init(&self, f: impl FnOnce() -> T) -> &T {
        let mut f = Some(f);
        loop {
            if let Some(v) = self.get() {
                return v;
            }
            match self
                .state
                .compare_exchange(EMPTY, RUNNING, Ordering::Acquire, Ordering::Acquire)
            {
                Ok(_) => {
                    let init = f.take().expect("goro: OnceLock initialiser taken twice");
                    let reset = Reset(self);
                    let v = init();
                    std::mem::forget(reset);
                    // SAFETY: RUNNING is ours: nobody else reads or writes the value.
                    unsafe { (*self.value.get()).write(v) };
                    self.finish(DONE);
                }
                Err(RUNNING) => {
                    self.waiters.wait(
                        crate::wait::reason::WaitReason::OnceInit,
                        0,
                        false,
                        None,
                        |_| self.state.load(Ordering::Acquire) != RUNNING,
                    );
                }
                Err(_) => {}
            }
        }
    }

    /// Sets the value if the cell is empty; gives it back otherwise.
    pub fn set(&self, value: T) -> Result<(), T> {
        let mut value = Some(value);
        let got = self.get_or_init(|| value.take().expect("set once"));
        let _ = got;
        match value {
            None => Ok(()),
            Some(v) => Err(v),
        }
    }

    /// The value, through a unique borrow.
    pub fn get_mut(&mut self) -> Option<&mut T> {
        if *self.state.get_mut() == DONE {
            // SAFETY: DONE: the value is initialised, and `&mut self` is unique.
            Some(unsafe { (*self.value.get()).assume_init_mut() })
        } else {
            None
        }
    }

    /// The value, taking the cell apart.
    pub fn into_inner(mut self) -> Option<T> {
        if *self.state.get_mut() == DONE {
            *self.state.get_mut() = EMPTY;
            // SAFETY: DONE: initialised; the state is now EMPTY so `Drop` will not read it.
            Some(unsafe { (*self.value.get()).assume_init_read() })
        } else {
            None
        }
    }

    fn finish(&self, state: u8) {
        self.waiters.wake(|w| {
            self.state.store(state, Ordering::Release);
            while w.pop_any(0).is_some() {}
        });
    }
}

/// Puts a cell whose initialiser panicked back to EMPTY and wakes its waiters.
struct Reset<'a, T>(&'a OnceLock<T>);

impl<T> Drop for Reset<'_, T> {
    fn drop(&mut self) {
        self.0.finish(EMPTY);
    }
}

impl<T> Drop for OnceLock<T> {
    fn drop(&mut self) {
        if *self.state.get_mut() == DONE {
            // SAFETY: DONE: initialised, and dropped once here.
            unsafe { self.value.get_mut().assume_init_drop() };
        }
    }
}

impl<T: fmt::Debug> fmt::Debug for OnceLock<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("OnceLock").field(&self.get()).finish()
    }
}

/// Runs a function once (Go's `sync.Once`).
///
/// # Examples
///
/// ```
/// let once = goro::sync::Once::new();
/// let mut n = 0;
/// once.call_once(|| n += 1);
/// once.call_once(|| n += 1);
/// assert_eq!(n, 1);
/// assert!(once.is_completed());
/// ```
#[derive(Default)]
pub struct Once(OnceLock<()>);

impl Once {
    /// A `Once` that has not run.
    pub fn new() -> Self {
        Once(OnceLock::new())
    }

    /// Runs `f` if no call has completed yet; callers arriving while it runs wait for it.
    #[doc(alias = "Do")]
    pub fn call_once(&self, f: impl FnOnce()) {
        self.0.get_or_init(f);
    }

    /// True once a call has completed.
    pub fn is_completed(&self) -> bool {
        self.0.get().is_some()
    }
}

impl fmt::Debug for Once {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Once")
            .field("completed", &self.is_completed())
            .finish()
    }
}
