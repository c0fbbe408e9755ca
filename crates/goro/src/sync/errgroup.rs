//! `ErrGroup`: run fallible goroutines, wait for all, keep the first error
//! (golang.org/x/sync/errgroup).
//!
//! A [`WaitGroup`] counts the goroutines; the first `Err` is kept under a mutex and, for a
//! group made [`with_context`](ErrGroup::with_context), cancels the group's context so the
//! others can stop early. A limit is a [`Semaphore`] taken before each goroutine starts (so
//! `go` parks while the group is full) and given back when it returns. A goroutine that panics
//! counts as finished; `wait` resumes the first panic after every goroutine is done.

use std::fmt;
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::sync::{Arc, Mutex};

use super::{Semaphore, WaitGroup};
use crate::context::{Cancel, Context};

type Panic = Box<dyn std::any::Any + Send + 'static>;

struct Inner<E> {
    wg: WaitGroup,
    first: Mutex<(Option<E>, Option<Panic>)>,
    limit: Option<Semaphore>,
    cancel: Option<Cancel>,
}

/// A group of goroutines working on one task; the first error wins.
///
/// # Examples
///
/// ```
/// use goro::sync::ErrGroup;
/// goro::run(|| {
///     let g = ErrGroup::new();
///     for i in 0..5 {
///         g.go(move || if i == 3 { Err(format!("job {i} failed")) } else { Ok(()) });
///     }
///     assert_eq!(g.wait(), Err("job 3 failed".to_string()));
/// })
/// .unwrap();
/// ```
pub struct ErrGroup<E> {
    inner: Arc<Inner<E>>,
}

/// A clone is the same group (Go passes a `*errgroup.Group`): a goroutine can take one and
/// add work to the group it runs in, and `wait` on any clone waits for all of it.
impl<E> Clone for ErrGroup<E> {
    fn clone(&self) -> Self {
        ErrGroup {
            inner: self.inner.clone(),
        }
    }
}

impl<E> fmt::Debug for ErrGroup<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ErrGroup")
            .field("running", &self.inner.wg.count())
            .finish_non_exhaustive()
    }
}

impl<E: Send + 'static> Default for ErrGroup<E> {
    fn default() -> Self {
        Self::new()
    }
}

impl<E: Send + 'static> ErrGroup<E> {
    /// An empty group with no limit.
    pub fn new() -> Self {
        Self::build(None, None)
    }

    /// A group that runs at most `n` goroutines at once: [`go`](Self::go) parks while `n`
    /// are running (x/sync's `SetLimit`). A limit of zero is taken as one.
    pub fn with_limit(n: usize) -> Self {
        Self::build(Some(n), None)
    }

    /// A group and a child of `parent` that is cancelled when a goroutine of the group first
    /// fails, or when [`wait`](Self::wait) returns.
    ///
    /// # Examples
    ///
    /// ```
    /// use goro::context::Context;
    /// use goro::sync::ErrGroup;
    /// goro::run(|| {
    ///     let (g, ctx) = ErrGroup::<&str>::with_context(&Context::background());
    ///     let c = ctx.clone();
    ///     g.go(move || {
    ///         let _ = c.done().recv(); // waits until a sibling fails
    ///         Ok(())
    ///     });
    ///     g.go(|| Err("boom"));
    ///     assert_eq!(g.wait(), Err("boom"));
    ///     assert!(ctx.is_done());
    /// })
    /// .unwrap();
    /// ```
    pub fn with_context(parent: &Context) -> (Self, Context) {
        let (ctx, cancel) = parent.with_cancel();
        (Self::build(None, Some(cancel)), ctx)
    }

    /// [`with_context`](Self::with_context) and [`with_limit`](Self::with_limit) together.
    pub fn with_context_and_limit(parent: &Context, n: usize) -> (Self, Context) {
        let (ctx, cancel) = parent.with_cancel();
        (Self::build(Some(n), Some(cancel)), ctx)
    }

    fn build(limit: Option<usize>, cancel: Option<Cancel>) -> Self {
        ErrGroup {
            inner: Arc::new(Inner {
                wg: WaitGroup::new(),
                first: Mutex::new((None, None)),
                limit: limit.map(|n| Semaphore::new(n.max(1) as u64)),
                cancel,
            }),
        }
    }

    /// Runs `f` in a new goroutine of the group, parking first while the group is at its
    /// limit.
    #[doc(alias = "Go")]
    pub fn go(&self, f: impl FnOnce() -> Result<(), E> + Send + 'static) {
        if let Some(sem) = &self.inner.limit {
            // Cannot fail: the weight (1) is at most the size.
            let _ = sem.acquire(1);
        }
        self.spawn(f);
    }

    /// Runs `f` in a new goroutine if the group is below its limit; false (and `f` is
    /// dropped) if it is full.
    #[doc(alias = "TryGo")]
    pub fn try_go(&self, f: impl FnOnce() -> Result<(), E> + Send + 'static) -> bool {
        if let Some(sem) = &self.inner.limit {
            if !sem.try_acquire(1) {
                return false;
            }
        }
        self.spawn(f);
        true
    }

    fn spawn(&self, f: impl FnOnce() -> Result<(), E> + Send + 'static) {
        let inner = self.inner.clone();
        // Counted in the group until the closure ends, however it ends.
        drop(self.inner.wg.go(move || {
            let r = catch_unwind(AssertUnwindSafe(f));
            if let Err(p) = &r {
                if crate::stack::switch::is_shutdown_unwind(&**p) {
                    // Shutdown unwinds the goroutine: not the job's panic. Let it go on.
                    if let Some(sem) = &inner.limit {
                        sem.release(1);
                    }
                    if let Err(p) = r {
                        resume_unwind(p);
                    }
                }
            }
            let failed = !matches!(r, Ok(Ok(())));
            if failed {
                let mut first = inner.first.lock().unwrap_or_else(|e| e.into_inner());
                match r {
                    Ok(Err(e)) if first.0.is_none() => first.0 = Some(e),
                    Err(p) if first.1.is_none() => first.1 = Some(p),
                    _ => {}
                }
                drop(first);
                if let Some(c) = &inner.cancel {
                    c.cancel();
                }
            }
            if let Some(sem) = &inner.limit {
                sem.release(1);
            }
        }));
    }

    /// Waits for every goroutine of the group; the first error, if any. Cancels the group's
    /// context. If a goroutine panicked, resumes that panic here.
    #[doc(alias = "Wait")]
    pub fn wait(&self) -> Result<(), E> {
        self.inner.wg.wait();
        if let Some(c) = &self.inner.cancel {
            c.cancel();
        }
        let mut first = self.inner.first.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(p) = first.1.take() {
            drop(first);
            resume_unwind(p);
        }
        match first.0.take() {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }
}
