//! Contexts: cancellation, deadlines and request-scoped values carried across goroutines (Go's
//! `context` package).
//!
//! This folder owns [`Context`] and the tree it forms. A context is an immutable node pointing
//! at its parent. `with_cancel`, `with_timeout` and `with_deadline` make a node that can be
//! cancelled: it owns a `CancelState` with a `done` channel that is closed, once, when it is
//! cancelled, so `recv(ctx.done())` in a `select!` fires (with `Err(RecvError)`) from then on.
//! `with_value` makes a node that carries one value, looked up by type.
//!
//! # Protocol of cancellation
//!
//! 1. A cancellable node registers with its nearest cancellable ancestor: under the ancestor's
//!    lock it either finds the ancestor already cancelled (and cancels itself with the same
//!    reason) or adds itself (weakly, with an id) to the ancestor's children.
//! 2. Cancelling takes the node's lock; the first cancel records the reason, takes the children
//!    list, disarms the deadline timer and closes `done`; later ones change nothing. It then
//!    cancels the children (outside its own lock: each takes its own), and removes itself
//!    from its ancestor's list. Locks are taken parent before child only in step 1, and never
//!    held across the children's cancellation, so there is no lock-order cycle.
//! 3. A deadline arms one timer entry on the arming thread's heap, holding the node weakly;
//!    when it fires it cancels with `DeadlineExceeded`. Cancelling first makes the entry stale.
//! 4. The [`Cancel`] handle returned with a context cancels it when called or dropped. When
//!    the handle and every clone of the context are gone, the node is freed: its timer entry
//!    is stale (the heap drops it), it leaves its parent's list, and the armed-timer count
//!    goes back down. No goroutine is ever started for a context.

use std::any::{Any, TypeId};
use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::{Duration, Instant};

use crate::chan::{chan, never, Receiver, Sender};
use crate::sched::timers::Fire;
use crate::time::timer::{self, Armed};

/// Why a context is done.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ContextError {
    /// Its [`Cancel`] handle (or an ancestor's) was called or dropped (Go's `Canceled`).
    Canceled,
    /// Its deadline passed (Go's `DeadlineExceeded`).
    DeadlineExceeded,
}

impl fmt::Display for ContextError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ContextError::Canceled => "context canceled",
            ContextError::DeadlineExceeded => "context deadline exceeded",
        })
    }
}

impl std::error::Error for ContextError {}

/// Carries cancellation, a deadline and values to every goroutine of one piece of work.
/// Cheap to clone; pass it down.
///
/// # Examples
///
/// A call that gives up with its caller:
///
/// ```
/// use std::time::Duration;
/// use goro::context::{Context, ContextError};
/// goro::run(|| {
///     let (ctx, _cancel) = Context::background().with_timeout(Duration::from_millis(10));
///     let (_tx, reply) = goro::chan::<u32>(0); // a service that never answers
///     goro::select! {
///         recv(reply) -> _ => unreachable!(),
///         recv(ctx.done()) -> _ => assert_eq!(ctx.err(), Some(ContextError::DeadlineExceeded)),
///     }
/// })
/// .unwrap();
/// ```
#[derive(Clone)]
pub struct Context {
    node: Arc<Node>,
}

enum Node {
    Background,
    Cancel {
        parent: Context,
        state: Arc<CancelState>,
    },
    Value {
        parent: Context,
        value: Arc<dyn Any + Send + Sync>,
        type_id: TypeId,
    },
    /// The parent's values, without its cancellation (`without_cancel`).
    WithoutCancel {
        parent: Context,
    },
}

/// The cancellable part of a context node (step 1-4 of the module doc).
pub(crate) struct CancelState {
    id: u64,
    deadline: Option<Instant>,
    /// Set once, under `inner`'s lock; read without it.
    cancelled: AtomicBool,
    inner: Mutex<Inner>,
    done: Receiver<()>,
    /// The nearest cancellable ancestor, to leave its list.
    parent: Option<Weak<CancelState>>,
}

struct Inner {
    err: Option<ContextError>,
    children: Vec<(u64, Weak<CancelState>)>,
    /// Closing it (dropping the last sender) closes `done`.
    done_tx: Option<Sender<()>>,
    /// Counts the armed deadline in `time::armed` until cancelled or dropped.
    armed: Option<Armed>,
    /// Calls registered by `Context::after_func`, by id, with the runtime to start them on.
    funcs: Vec<(u64, AfterCall)>,
    /// Why it was cancelled, if the canceller said (`with_cancel_cause`); children cancelled
    /// with it share it.
    cause: Option<Cause>,
}

/// A cancellation's cause (`Context::cause`).
pub type Cause = Arc<dyn std::error::Error + Send + Sync>;

/// A call registered to run when the context is done: `Context::after_func`'s (the function
/// and where to start it), or goro's own wake-up of a socket operation (`Context::on_done`).
enum AfterCall {
    Spawn {
        rt: Option<crate::Handle>,
        f: Box<dyn FnOnce() + Send>,
    },
    /// Run by the canceller itself: short, never blocking, never panicking.
    Inline(Box<dyn FnOnce() + Send>),
}

impl AfterCall {
    fn start(self) {
        match self {
            AfterCall::Spawn { rt, f } => {
                crate::time::after_func::start_call(rt.as_ref(), "context.AfterFunc", f)
            }
            AfterCall::Inline(f) => f(),
        }
    }
}

static IDS: AtomicU64 = AtomicU64::new(1);

impl CancelState {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Step 2.
    fn cancel(&self, err: ContextError, cause: Option<Cause>) {
        let children = {
            let mut st = self.lock();
            if st.err.is_some() {
                return;
            }
            st.err = Some(err);
            st.cause = cause.clone();
            self.cancelled.store(true, Ordering::Release);
            st.armed = None;
            if let Some(tx) = st.done_tx.take() {
                let _ = tx.close();
            }
            (
                std::mem::take(&mut st.children),
                std::mem::take(&mut st.funcs),
            )
        };
        let (children, funcs) = children;
        for (_, call) in funcs {
            call.start();
        }
        for (_, c) in children {
            if let Some(c) = c.upgrade() {
                c.cancel(err, cause.clone());
            }
        }
        self.leave_parent();
    }

    fn leave_parent(&self) {
        if let Some(p) = self.parent.as_ref().and_then(Weak::upgrade) {
            let mut st = p.lock();
            if let Some(i) = st.children.iter().position(|c| c.0 == self.id) {
                st.children.swap_remove(i);
            }
        }
    }

    pub(crate) fn is_cancelled(&self) -> bool {
        self.cancelled.load(Ordering::Acquire)
    }
}

impl Drop for CancelState {
    fn drop(&mut self) {
        self.leave_parent();
    }
}

/// Fires a context's deadline (step 3).
fn fire_deadline(state: &Weak<CancelState>) {
    if let Some(s) = state.upgrade() {
        s.cancel(ContextError::DeadlineExceeded, None);
    }
}

/// The heap entry of a context's deadline: stale once the context is gone or cancelled.
struct DeadlineFire {
    ctx: Weak<CancelState>,
}

impl crate::sched::timers::Due for DeadlineFire {
    fn is_stale(&self) -> bool {
        self.ctx.upgrade().is_none_or(|c| c.is_cancelled())
    }

    fn fire(
        self: Box<Self>,
        _when: Instant,
        _now: Instant,
    ) -> Option<(Instant, Box<dyn crate::sched::timers::Due>)> {
        fire_deadline(&self.ctx);
        None
    }
}

/// Cancels its context with a cause when asked, or without one when dropped (Go's
/// `CancelCauseFunc`); see [`Context::with_cancel_cause`].
#[must_use = "dropping the CancelCause handle cancels the context at once"]
pub struct CancelCause(Cancel);

impl CancelCause {
    /// Cancels the context and its descendants, giving `cause` as the reason; later calls
    /// do nothing.
    pub fn cancel(&self, cause: impl Into<Box<dyn std::error::Error + Send + Sync>>) {
        let cause: Cause = Arc::from(cause.into());
        self.0.state.cancel(ContextError::Canceled, Some(cause));
    }
}

impl fmt::Debug for CancelCause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("CancelCause").field(&self.0).finish()
    }
}

/// Withdraws a call registered by [`Context::after_func`] (Go's `stop` function). Dropping
/// it leaves the call registered.
pub struct AfterCancel {
    state: Option<Weak<CancelState>>,
    id: u64,
    /// Set once `stop` has answered true, or the call was started at registration.
    stopped: AtomicBool,
}

impl AfterCancel {
    /// Withdraws the call; true if this stopped it from being started, false if it was
    /// already started (the context is done) or already withdrawn.
    pub fn stop(&self) -> bool {
        let removed = match self.state.as_ref().and_then(Weak::upgrade) {
            Some(s) => {
                let call = {
                    let mut st = s.lock();
                    let i = st.funcs.iter().position(|(id, _)| *id == self.id);
                    i.map(|i| st.funcs.swap_remove(i))
                };
                // Dropped outside the lock: the closure's captures may touch the context.
                call.is_some()
            }
            // A context that can never be done (or is gone): the call can never start.
            None => true,
        };
        removed && !self.stopped.swap(true, Ordering::Relaxed)
    }
}

impl fmt::Debug for AfterCancel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AfterCancel").finish_non_exhaustive()
    }
}

/// Cancels its context when called or dropped (Go's `CancelFunc`; Go asks you to `defer
/// cancel()`, here the drop does it).
#[must_use = "dropping the Cancel handle cancels the context at once"]
pub struct Cancel {
    state: Arc<CancelState>,
}

impl Cancel {
    /// Cancels the context and its descendants; later calls do nothing.
    pub fn cancel(&self) {
        self.state.cancel(ContextError::Canceled, None);
    }
}

impl Drop for Cancel {
    fn drop(&mut self) {
        self.cancel();
    }
}

impl fmt::Debug for Cancel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Cancel")
            .field("cancelled", &self.state.is_cancelled())
            .finish()
    }
}

impl Context {
    /// The root: never cancelled, no deadline, no values (Go's `context.Background()`).
    pub fn background() -> Context {
        Context {
            node: Arc::new(Node::Background),
        }
    }

    /// A child that is cancelled by the returned handle, or with its parent.
    ///
    /// # Examples
    ///
    /// ```
    /// use goro::context::{Context, ContextError};
    /// let (parent, cancel) = Context::background().with_cancel();
    /// let (child, _c) = parent.with_cancel();
    /// cancel.cancel();
    /// assert_eq!(child.err(), Some(ContextError::Canceled));
    /// assert!(child.done().recv().is_err(), "done is closed");
    /// ```
    #[doc(alias = "WithCancel")]
    pub fn with_cancel(&self) -> (Context, Cancel) {
        self.cancellable(None)
    }

    /// Like [`with_cancel`](Self::with_cancel), with a handle that cancels with a cause (Go
    /// 1.20's `context.WithCancelCause`): [`cause`](Self::cause) then gives it, on this
    /// context and on every descendant cancelled with it. Dropping the handle cancels without
    /// a cause.
    ///
    /// # Examples
    ///
    /// ```
    /// use goro::context::{Context, ContextError};
    /// let (ctx, cancel) = Context::background().with_cancel_cause();
    /// let (child, _c) = ctx.with_cancel();
    /// cancel.cancel("the upstream closed the connection");
    /// assert_eq!(child.err(), Some(ContextError::Canceled));
    /// assert_eq!(
    ///     child.cause().map(|c| c.to_string()).as_deref(),
    ///     Some("the upstream closed the connection")
    /// );
    /// ```
    #[doc(alias = "WithCancelCause")]
    pub fn with_cancel_cause(&self) -> (Context, CancelCause) {
        let (ctx, cancel) = self.cancellable(None);
        (ctx, CancelCause(cancel))
    }

    /// Why this context is done: the cause given to a [`CancelCause`] that cancelled it or
    /// an ancestor, or else its error ([`ContextError`]); `None` while it is not done (Go's
    /// `context.Cause`).
    #[doc(alias = "Cause")]
    pub fn cause(&self) -> Option<Cause> {
        let s = self.cancel_state()?;
        if !s.is_cancelled() {
            return None;
        }
        let st = s.lock();
        match (&st.cause, st.err) {
            (Some(c), _) => Some(c.clone()),
            (None, Some(e)) => Some(Arc::new(e)),
            (None, None) => None,
        }
    }

    /// A child cancelled at `deadline` at the latest (or its parent's, if earlier).
    #[doc(alias = "WithDeadline")]
    pub fn with_deadline(&self, deadline: Instant) -> (Context, Cancel) {
        self.cancellable(Some(deadline))
    }

    /// A child cancelled `timeout` from now at the latest.
    #[doc(alias = "WithTimeout")]
    pub fn with_timeout(&self, timeout: Duration) -> (Context, Cancel) {
        self.cancellable(Some(timer::deadline_after(timeout)))
    }

    /// A child that carries `value`, found by [`value`](Self::value) under its type.
    ///
    /// # Examples
    ///
    /// ```
    /// use goro::context::Context;
    /// struct RequestId(u64);
    /// let ctx = Context::background().with_value(RequestId(7));
    /// let (child, _c) = ctx.with_cancel();
    /// assert_eq!(child.value::<RequestId>().map(|r| r.0), Some(7));
    /// assert!(child.value::<String>().is_none());
    /// ```
    #[doc(alias = "WithValue")]
    pub fn with_value<T: Any + Send + Sync>(&self, value: T) -> Context {
        Context {
            node: Arc::new(Node::Value {
                parent: self.clone(),
                value: Arc::new(value),
                type_id: TypeId::of::<T>(),
            }),
        }
    }

    /// A context with this one's values but not its cancellation (Go 1.21's
    /// `context.WithoutCancel`): it is never done, has no deadline and no error, whatever
    /// happens to this one. For work that must finish after the request that started it
    /// (writing an audit log, closing a session) while keeping the request's values.
    ///
    /// # Examples
    ///
    /// ```
    /// use goro::context::Context;
    /// struct RequestId(u64);
    /// let (req, cancel) = Context::background().with_value(RequestId(7)).with_cancel();
    /// let detached = req.without_cancel();
    /// cancel.cancel();
    /// assert!(req.is_done());
    /// assert!(!detached.is_done() && detached.err().is_none() && detached.deadline().is_none());
    /// assert_eq!(detached.value::<RequestId>().map(|r| r.0), Some(7));
    /// ```
    #[doc(alias = "WithoutCancel")]
    pub fn without_cancel(&self) -> Context {
        Context {
            node: Arc::new(Node::WithoutCancel {
                parent: self.clone(),
            }),
        }
    }

    /// Calls `f` on a goroutine of its own once this context is done (Go 1.21's
    /// `context.AfterFunc`): at once if it already is; never for a context that cannot be
    /// cancelled. No goroutine waits meanwhile: the call is kept with the context and started
    /// by the cancel. The returned [`AfterCancel`] withdraws it.
    ///
    /// # Examples
    ///
    /// ```
    /// use goro::context::Context;
    /// goro::run(|| {
    ///     let (ctx, cancel) = Context::background().with_cancel();
    ///     let (tx, rx) = goro::chan(1);
    ///     ctx.after_func(move || {
    ///         let _ = tx.send("cleaned up");
    ///     });
    ///     let withdrawn = ctx.after_func(|| unreachable!());
    ///     assert!(withdrawn.stop());
    ///     cancel.cancel();
    ///     assert_eq!(rx.recv(), Ok("cleaned up"));
    /// })
    /// .unwrap();
    /// ```
    #[doc(alias = "AfterFunc")]
    pub fn after_func(&self, f: impl FnOnce() + Send + 'static) -> AfterCancel {
        self.register(AfterCall::Spawn {
            rt: crate::Handle::current(),
            f: Box::new(f),
        })
    }

    /// Runs `f` on the thread that cancels this context, as it cancels (at once if it is done
    /// already): goro's own short wake-ups, such as a socket operation's (`net`). `f` must
    /// neither block nor panic.
    pub(crate) fn on_done(&self, f: impl FnOnce() + Send + 'static) -> AfterCancel {
        self.register(AfterCall::Inline(Box::new(f)))
    }

    fn register(&self, call: AfterCall) -> AfterCancel {
        let id = IDS.fetch_add(1, Ordering::Relaxed);
        let Some(state) = self.cancel_state() else {
            // Never done: the call is dropped, and `stop` reports it stopped once.
            return AfterCancel {
                state: None,
                id,
                stopped: AtomicBool::new(false),
            };
        };
        {
            let mut st = state.lock();
            if st.err.is_none() {
                st.funcs.push((id, call));
                return AfterCancel {
                    state: Some(Arc::downgrade(state)),
                    id,
                    stopped: AtomicBool::new(false),
                };
            }
        }
        call.start(); // already done
        AfterCancel {
            state: None,
            id,
            stopped: AtomicBool::new(true),
        }
    }

    /// The nearest value of type `T` on the way to the root.
    pub fn value<T: Any + Send + Sync>(&self) -> Option<&T> {
        let mut n = &*self.node;
        loop {
            match n {
                Node::Background => return None,
                Node::Cancel { parent, .. } | Node::WithoutCancel { parent } => n = &parent.node,
                Node::Value {
                    parent,
                    value,
                    type_id,
                } => {
                    if *type_id == TypeId::of::<T>() {
                        return value.downcast_ref();
                    }
                    n = &parent.node;
                }
            }
        }
    }

    /// A channel that is closed when this context is done: receiving from it returns
    /// `Err(RecvError)` from then on; before, it blocks. Use it in a `select!`. The root's
    /// never closes.
    #[doc(alias = "Done")]
    pub fn done(&self) -> Receiver<()> {
        match self.cancel_state() {
            Some(s) => s.done.clone(),
            None => never(),
        }
    }

    /// Why the context is done, or `None` while it is not.
    #[doc(alias = "Err")]
    pub fn err(&self) -> Option<ContextError> {
        crate::sched::worker::preempt_point();
        let s = self.cancel_state()?;
        if !s.is_cancelled() {
            return None;
        }
        s.lock().err
    }

    /// True once the context is done.
    pub fn is_done(&self) -> bool {
        crate::sched::worker::preempt_point();
        self.cancel_state().is_some_and(|s| s.is_cancelled())
    }

    /// When the context will be cancelled at the latest, if it has a deadline.
    #[doc(alias = "Deadline")]
    pub fn deadline(&self) -> Option<Instant> {
        self.cancel_state().and_then(|s| s.deadline)
    }

    /// The nearest cancellable node: this one, or an ancestor.
    fn cancel_state(&self) -> Option<&Arc<CancelState>> {
        let mut n = &*self.node;
        loop {
            match n {
                Node::Background | Node::WithoutCancel { .. } => return None,
                Node::Cancel { state, .. } => return Some(state),
                Node::Value { parent, .. } => n = &parent.node,
            }
        }
    }

    fn cancellable(&self, deadline: Option<Instant>) -> (Context, Cancel) {
        let parent_state = self.cancel_state();
        let deadline = match (deadline, parent_state.and_then(|p| p.deadline)) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        let (tx, done) = chan(0);
        let state = Arc::new(CancelState {
            id: IDS.fetch_add(1, Ordering::Relaxed),
            deadline,
            cancelled: AtomicBool::new(false),
            inner: Mutex::new(Inner {
                err: None,
                children: Vec::new(),
                done_tx: Some(tx),
                armed: None,
                funcs: Vec::new(),
                cause: None,
            }),
            done,
            parent: parent_state.map(Arc::downgrade),
        });
        // Step 1.
        if let Some(p) = parent_state {
            let inherited = {
                let mut st = p.lock();
                if st.err.is_none() {
                    st.children.push((state.id, Arc::downgrade(&state)));
                }
                st.err.map(|e| (e, st.cause.clone()))
            };
            if let Some((err, cause)) = inherited {
                state.cancel(err, cause);
            }
        }
        // Step 3. A deadline inherited from the parent is the parent's to fire; arming ours
        // too costs one entry and keeps the logic local.
        if let Some(d) = deadline {
            if !state.is_cancelled() {
                if d <= Instant::now() {
                    state.cancel(ContextError::DeadlineExceeded, None);
                } else {
                    state.lock().armed = Some(timer::armed_token());
                    timer::arm(
                        d,
                        Fire::Call(Box::new(DeadlineFire {
                            ctx: Arc::downgrade(&state),
                        })),
                    );
                }
            }
        }
        let ctx = Context {
            node: Arc::new(Node::Cancel {
                parent: self.clone(),
                state: state.clone(),
            }),
        };
        (ctx, Cancel { state })
    }
}

impl Default for Context {
    fn default() -> Self {
        Context::background()
    }
}

impl fmt::Debug for Context {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let children = self.cancel_state().map_or(0, |s| s.lock().children.len());
        f.debug_struct("Context")
            .field("err", &self.err())
            .field("deadline", &self.deadline())
            .field("children", &children)
            .finish_non_exhaustive()
    }
}
