//! `select`: wait on several channel operations at once (Go's `select` statement and
//! `reflect.Select`).
//!
//! This module owns [`select!`](crate::select!) and the dynamic [`Select`] builder. Both turn
//! their cases into `Case` values on the caller's stack and run one
//! algorithm, Go's `selectgo`:
//!
//! 1. Operands and send values are evaluated once, in source order, before anything else (S1).
//!    A case whose channel is `None` is disabled: never ready, never linked (C7, C8).
//! 2. The enabled cases get a random *poll order* (a Fisher-Yates shuffle: uniform among ready
//!    cases, S3) and a *lock order* (ascending channel address, each channel once, so two
//!    selects over the same channels cannot deadlock and a channel used by several cases is
//!    locked once, S10).
//! 3. First, without locks, look at each case's channel mirrors in poll order; a case that
//!    looks ready is tried under its own channel's lock alone, and if it completes, that is the
//!    select's outcome (it happened atomically under that lock). Otherwise lock every channel;
//!    try the cases in poll order; the first that can complete does so (exactly one
//!    communicates, S8); unlock all. Because every channel stays locked while the cases are
//!    examined, a select that finds nothing ready saw one instant (S5).
//! 4. None ready: with `default` (or a passed deadline), unlock and return "none". Otherwise
//!    link one waiter per case, all sharing one `Signal` (`chan/waiter.rs`), unlock, park.
//! 5. A counterpart that claims the signal completes that case and wakes us (`chan/waiter.rs`).
//!    We then lock every channel again and unlink the other waiters, so a select that lost
//!    leaves nothing behind (S11), and finish the winning case.
//!
//! A select cannot pair with itself (S9): its own waiters are linked only after step 3 found
//! nothing ready, and a waiter never tries the queues it sits in. A send case that loses keeps
//! its value: `select!` drops it with the case, exactly once; [`Select`] hands it back (S13).
//! A select with no enabled case and no default blocks forever (S14).

use std::fmt;
use std::marker::PhantomData;
use std::ptr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::chan::waiter::{Signal, Waiter, Wake};
use crate::chan::{wake_one, Chan, Queue, Receiver, RecvError, SendError, Sender};
use crate::chan::{TryRecvError, TrySendError};
use crate::sched::park::{park_quiet, park_until};

/// How long a select may wait.
#[derive(Clone, Copy, Debug)]
#[doc(hidden)]
pub enum Wait {
    /// Until a case is ready.
    Forever,
    /// Not at all (`default`).
    Never,
    /// Until the deadline.
    Until(Instant),
}

/// What a receive case of [`select!`](crate::select!) accepts: a [`Receiver`] (owned or
/// borrowed), or an `Option` of one where `None` disables the case (Go's nil channel, C8).
///
/// # Examples
///
/// ```
/// let (tx, rx) = goro::chan::<u8>(1);
/// tx.send(1).unwrap();
/// let off: Option<goro::Receiver<u8>> = None;
/// goro::select! {
///     recv(off) -> _ => unreachable!("a disabled case is never ready"),
///     recv(rx) -> v => assert_eq!(v, Ok(1)),
/// }
/// ```
pub trait RecvOperand<T> {
    /// The receiver, or `None` if the case is disabled.
    fn receiver(&self) -> Option<&Receiver<T>>;
}

impl<T> RecvOperand<T> for Receiver<T> {
    fn receiver(&self) -> Option<&Receiver<T>> {
        Some(self)
    }
}

impl<T> RecvOperand<T> for &Receiver<T> {
    fn receiver(&self) -> Option<&Receiver<T>> {
        Some(self)
    }
}

impl<T> RecvOperand<T> for &mut Receiver<T> {
    fn receiver(&self) -> Option<&Receiver<T>> {
        Some(self)
    }
}

impl<T> RecvOperand<T> for Option<Receiver<T>> {
    fn receiver(&self) -> Option<&Receiver<T>> {
        self.as_ref()
    }
}

impl<T> RecvOperand<T> for Option<&Receiver<T>> {
    fn receiver(&self) -> Option<&Receiver<T>> {
        *self
    }
}

/// What a send case of [`select!`](crate::select!) accepts: a [`Sender`] (owned or
/// borrowed), or an `Option` of one where `None` disables the case.
pub trait SendOperand<T> {
    /// The sender, or `None` if the case is disabled.
    fn sender(&self) -> Option<&Sender<T>>;
}

impl<T> SendOperand<T> for Sender<T> {
    fn sender(&self) -> Option<&Sender<T>> {
        Some(self)
    }
}

impl<T> SendOperand<T> for &Sender<T> {
    fn sender(&self) -> Option<&Sender<T>> {
        Some(self)
    }
}

impl<T> SendOperand<T> for &mut Sender<T> {
    fn sender(&self) -> Option<&Sender<T>> {
        Some(self)
    }
}

impl<T> SendOperand<T> for Option<Sender<T>> {
    fn sender(&self) -> Option<&Sender<T>> {
        self.as_ref()
    }
}

impl<T> SendOperand<T> for Option<&Sender<T>> {
    fn sender(&self) -> Option<&Sender<T>> {
        *self
    }
}

/// The pieces `select!` expands to. Not a stable API.
// `Case::link` names a crate-private type, so code outside goro cannot implement or drive a
// `Case` by hand; only `select!` and `Select` use it.
#[doc(hidden)]
#[allow(private_interfaces)]
pub mod __private {
    pub use super::{run, RecvCase, RecvOperand, SendCase, SendOperand, Wait};

    /// One case of a select, type-erased; every method but `enabled`, `addr`, `lock` and
    /// `unlock` runs with the case's channel locked.
    pub trait Case {
        /// Clears the outcome of a previous round; false for a disabled case.
        fn reset(&mut self) -> bool;
        /// The channel's address: the lock order, and the identity of a channel in several
        /// cases.
        fn addr(&self) -> usize;
        fn lock(&self);
        fn unlock(&self);
        /// Completes the case now if it can; `Some` carries whom to wake after unlocking.
        fn try_now(&mut self) -> Option<Option<super::Wake>>;
        /// True if the case would complete now, judging by its channel's mirrors (no lock).
        fn looks_ready(&self) -> bool;
        /// Links this case's waiter for `signal` as case `index`.
        ///
        /// # Safety
        ///
        /// The case must not move until `unlink` has run under the lock again.
        unsafe fn link(&mut self, signal: &super::Signal, index: usize);
        /// Unlinks the waiter if it is still linked.
        fn unlink(&mut self);
        /// The case won with the signal's outcome.
        fn finish(&mut self, closed: bool);
        /// Marks the case as the one that ran (read by `select!`'s dispatch).
        fn set_won(&mut self, won: bool);
        /// The case's channel as the leak check sees it (`debug::leaks`); `None` if disabled.
        fn holding(&self) -> Option<crate::sched::wait::Holding>;
    }
}

use __private::Case;

/// A receive case.
#[doc(hidden)]
pub struct RecvCase<'a, T> {
    ch: Option<&'a Chan<T>>,
    slot: Option<T>,
    waiter: Option<Waiter>,
    result: Option<Result<T, RecvError>>,
    won: bool,
}

impl<'a, T> RecvCase<'a, T> {
    pub fn new(rx: Option<&'a Receiver<T>>) -> Self {
        RecvCase {
            ch: rx.map(|r| &*r.ch),
            slot: None,
            waiter: None,
            result: None,
            won: false,
        }
    }

    pub fn won(&self) -> bool {
        self.won
    }

    /// The outcome of the case that ran.
    pub fn take_result(&mut self) -> Result<T, RecvError> {
        self.result.take().unwrap_or(Err(RecvError))
    }
}

#[allow(private_interfaces)]
impl<T> Case for RecvCase<'_, T> {
    fn reset(&mut self) -> bool {
        self.won = false;
        self.ch.is_some()
    }
    fn addr(&self) -> usize {
        self.ch.map_or(0, Chan::addr)
    }
    fn lock(&self) {
        if let Some(c) = self.ch {
            c.lock();
        }
    }
    fn unlock(&self) {
        if let Some(c) = self.ch {
            c.unlock();
        }
    }
    fn looks_ready(&self) -> bool {
        self.ch.is_some_and(Chan::looks_recv_ready)
    }
    fn holding(&self) -> Option<crate::sched::wait::Holding> {
        self.ch.map(|c| c.holding(crate::chan::Queue::Recv))
    }
    fn try_now(&mut self) -> Option<Option<Wake>> {
        let ch = self.ch?;
        // SAFETY: `select` calls this with the channel locked.
        match ch.try_recv_locked(unsafe { ch.state() }) {
            Ok((v, wake)) => {
                self.result = Some(Ok(v));
                Some(wake)
            }
            Err(TryRecvError::Closed) => {
                self.result = Some(Err(RecvError));
                Some(None)
            }
            Err(TryRecvError::Empty) => None,
        }
    }
    unsafe fn link(&mut self, signal: &Signal, index: usize) {
        let Some(ch) = self.ch else { return };
        let slot = &mut self.slot as *mut Option<T> as *mut ();
        let w = self.waiter.insert(Waiter::new(signal, index, slot));
        // SAFETY: locked by the caller; the caller keeps `self` in place until `unlink`.
        unsafe { ch.state().queue(Queue::Recv).push_back(w) };
    }
    fn unlink(&mut self) {
        if let (Some(ch), Some(w)) = (self.ch, &self.waiter) {
            // SAFETY: locked by the caller.
            unsafe { ch.state() }.queue(Queue::Recv).remove(w);
        }
        self.waiter = None;
    }
    fn finish(&mut self, closed: bool) {
        self.result = Some(match (closed, self.slot.take()) {
            (false, Some(v)) => Ok(v),
            _ => Err(RecvError),
        });
    }
    fn set_won(&mut self, won: bool) {
        self.won = won;
        if won {
            crate::sched::trace::chan(crate::sched::trace::ChanOp::SelectRecv, self.addr());
        }
    }
}

// SAFETY: the only non-`Send` field is the waiter's raw pointers, and a waiter is linked only
// inside one `run` call, which does not cross threads (a goroutine never changes thread); between
// rounds `waiter` is `None`. The rest is a `&Chan<T>` and `T`s, `Send` when `T: Send`.
unsafe impl<T: Send> Send for RecvCase<'_, T> {}

impl<T> fmt::Debug for RecvCase<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RecvCase").field("won", &self.won).finish()
    }
}

/// A send case. Holds its value until a receiver takes it.
#[doc(hidden)]
pub struct SendCase<'a, T> {
    ch: Option<&'a Chan<T>>,
    slot: Option<T>,
    waiter: Option<Waiter>,
    result: Option<Result<(), SendError<T>>>,
    won: bool,
}

impl<'a, T> SendCase<'a, T> {
    pub fn new(tx: Option<&'a Sender<T>>, v: T) -> Self {
        SendCase {
            ch: tx.map(|s| &*s.ch),
            slot: Some(v),
            waiter: None,
            result: None,
            won: false,
        }
    }

    pub fn won(&self) -> bool {
        self.won
    }

    /// The outcome of the case that ran.
    pub fn take_result(&mut self) -> Result<(), SendError<T>> {
        self.result.take().unwrap_or(Ok(()))
    }
}

#[allow(private_interfaces)]
impl<T> Case for SendCase<'_, T> {
    fn reset(&mut self) -> bool {
        self.won = false;
        self.ch.is_some() && self.slot.is_some()
    }
    fn addr(&self) -> usize {
        self.ch.map_or(0, Chan::addr)
    }
    fn lock(&self) {
        if let Some(c) = self.ch {
            c.lock();
        }
    }
    fn unlock(&self) {
        if let Some(c) = self.ch {
            c.unlock();
        }
    }
    fn looks_ready(&self) -> bool {
        self.slot.is_some() && self.ch.is_some_and(Chan::looks_send_ready)
    }
    fn holding(&self) -> Option<crate::sched::wait::Holding> {
        self.ch.map(|c| c.holding(crate::chan::Queue::Send))
    }
    fn try_now(&mut self) -> Option<Option<Wake>> {
        let ch = self.ch?;
        let v = self.slot.take()?;
        // SAFETY: `select` calls this with the channel locked.
        match ch.try_send_locked(unsafe { ch.state() }, v) {
            Ok(wake) => {
                self.result = Some(Ok(()));
                Some(wake)
            }
            Err(TrySendError::Closed(v)) => {
                self.result = Some(Err(SendError(v)));
                Some(None)
            }
            Err(TrySendError::Full(v)) => {
                self.slot = Some(v);
                None
            }
        }
    }
    unsafe fn link(&mut self, signal: &Signal, index: usize) {
        let Some(ch) = self.ch else { return };
        let slot = &mut self.slot as *mut Option<T> as *mut ();
        let w = self.waiter.insert(Waiter::new(signal, index, slot));
        // SAFETY: locked by the caller; the caller keeps `self` in place until `unlink`.
        unsafe { ch.state().queue(Queue::Send).push_back(w) };
    }
    fn unlink(&mut self) {
        if let (Some(ch), Some(w)) = (self.ch, &self.waiter) {
            // SAFETY: locked by the caller.
            unsafe { ch.state() }.queue(Queue::Send).remove(w);
        }
        self.waiter = None;
    }
    fn finish(&mut self, closed: bool) {
        self.result = Some(match (closed, self.slot.take()) {
            (true, Some(v)) => Err(SendError(v)),
            _ => Ok(()),
        });
    }
    fn set_won(&mut self, won: bool) {
        self.won = won;
        if won {
            crate::sched::trace::chan(crate::sched::trace::ChanOp::SelectSend, self.addr());
        }
    }
}

// SAFETY: as for `RecvCase`.
unsafe impl<T: Send> Send for SendCase<'_, T> {}

impl<T> fmt::Debug for SendCase<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SendCase").field("won", &self.won).finish()
    }
}

/// Runs a select over `cases` (the algorithm in the module doc). Returns the index of the case
/// that ran, or `None` if none did before `wait` ran out.
#[doc(hidden)]
pub fn run(cases: &mut [&mut dyn Case], wait: Wait) -> Option<usize> {
    const ON_STACK: usize = 16;
    if matches!(wait, Wait::Never) {
        // A select with `default` never blocks: a loop of them must still share its worker.
        crate::sched::worker::preempt_point();
    }
    let n = cases.len();
    if n <= ON_STACK {
        let (mut poll, mut order) = ([0u32; ON_STACK], [0u32; ON_STACK]);
        select_with(cases, &mut poll[..n], &mut order[..n], wait)
    } else {
        let (mut poll, mut order) = (vec![0u32; n], vec![0u32; n]);
        select_with(cases, &mut poll, &mut order, wait)
    }
}

fn select_with(
    cases: &mut [&mut dyn Case],
    poll: &mut [u32],
    order: &mut [u32],
    wait: Wait,
) -> Option<usize> {
    // Step 2: poll order (shuffled) and lock order (by address) of the enabled cases.
    let mut k = 0;
    for (i, c) in cases.iter_mut().enumerate() {
        if c.reset() {
            poll[k] = i as u32;
            order[k] = i as u32;
            k += 1;
        }
    }
    let (poll, order) = (&mut poll[..k], &mut order[..k]);
    if k == 0 {
        return wait_without_cases(wait);
    }
    // Fisher-Yates with one draw from the thread's generator and a local xorshift after it.
    let mut x = fastrand::u64(..) | 1;
    for i in (1..k).rev() {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        // Multiply-shift maps x uniformly enough onto 0..=i for a handful of cases.
        let j = ((x >> 32) * (i as u64 + 1)) >> 32;
        poll.swap(i, j as usize);
    }
    let (poll, order): (&[u32], &mut [u32]) = (poll, order);
    // Fast path: a case that looks ready is tried under its own lock alone. Only a case that
    // really completes returns from here (an operation that happened atomically under that
    // lock), so it is a valid outcome; "nothing ready" is decided only by step 3, which sees
    // every channel at one instant (S5). Poll order keeps the choice uniform (S3).
    for &i in poll {
        let i = i as usize;
        if cases[i].looks_ready() {
            cases[i].lock();
            let done = cases[i].try_now();
            cases[i].unlock();
            if let Some(wake) = done {
                wake_one(wake);
                cases[i].set_won(true);
                return Some(i);
            }
        }
    }
    // The lock order starts as the poll order and is sorted stably, so that cases on one
    // channel keep their random order: they are linked into its queue in that order, and a
    // counterpart takes the first linked. Go gets the same from its heap sort of the poll
    // order; a lock order built from source order made the first-listed of several cases on
    // one channel win every blocked select. Insertion sort: stable, and for the handful of
    // cases a select has, cheaper than the library's stable sort.
    order.copy_from_slice(poll);
    for j in 1..order.len() {
        let (x, key) = (order[j], cases[order[j] as usize].addr());
        let mut i = j;
        while i > 0 && cases[order[i - 1] as usize].addr() > key {
            order[i] = order[i - 1];
            i -= 1;
        }
        order[i] = x;
    }

    // Step 3.
    lock_all(cases, order);
    for &i in poll {
        let i = i as usize;
        if let Some(wake) = cases[i].try_now() {
            unlock_all(cases, order);
            wake_one(wake);
            cases[i].set_won(true);
            return Some(i);
        }
    }
    // Step 4.
    let deadline = match wait {
        Wait::Never => None,
        Wait::Until(d) if d <= Instant::now() => None,
        Wait::Until(d) => Some(Some(d)),
        Wait::Forever => Some(None),
    };
    let Some(deadline) = deadline else {
        unlock_all(cases, order);
        return None;
    };
    let signal = Signal::new_waiting(crate::sched::wait::WaitReason::Select, 0);
    for &i in order.iter() {
        let i = i as usize;
        // SAFETY: locked; `cases` stays borrowed (so in place) until every waiter is unlinked
        // below or by `Unlink` while unwinding.
        unsafe { cases[i].link(&signal, i) };
    }
    unlock_all(cases, order);

    // Step 5.
    let guard = Unlink {
        cases: &mut *cases,
        order,
        signal: &signal,
        armed: true,
    };
    let blocked = Blocked {
        cases: ptr::from_ref(&*guard.cases),
        order: ptr::from_ref(guard.order),
    };
    if deadline.is_none() {
        crate::sched::wait::set_holds(&blocked);
    }
    if !signal.wait_until(deadline, || signal.abort()) {
        guard.finish();
        return None;
    }
    guard.finish();
    let won = signal.case();
    cases[won].finish(signal.closed());
    cases[won].set_won(true);
    Some(won)
}

/// A select with no enabled case: default at once, or wait out the deadline, or block forever.
fn wait_without_cases(wait: Wait) -> Option<usize> {
    match wait {
        Wait::Never => None,
        Wait::Until(d) => {
            crate::sched::wait::set(crate::sched::wait::WaitReason::Sleep);
            while Instant::now() < d {
                park_until(d);
            }
            None
        }
        Wait::Forever => loop {
            crate::sched::wait::set(crate::sched::wait::WaitReason::SelectNoCases);
            // Nothing can wake this (S14); a stray unpark just parks again. At shutdown the
            // goroutine is unwound from inside `park`.
            park_quiet();
        },
    }
}

fn lock_all(cases: &[&mut dyn Case], order: &[u32]) {
    let mut last = 0;
    for &i in order {
        let a = cases[i as usize].addr();
        if a != last {
            cases[i as usize].lock();
            last = a;
        }
    }
}

fn unlock_all(cases: &[&mut dyn Case], order: &[u32]) {
    let mut last = 0;
    for &i in order.iter().rev() {
        let a = cases[i as usize].addr();
        if a != last {
            cases[i as usize].unlock();
            last = a;
        }
    }
}

/// A select blocked for ever, as the leak check sees it: the channels of its enabled cases.
/// Raw pointers, taken from the `Unlink` guard that owns the cases meanwhile: the worker
/// reads them only while the select is suspended in its park.
struct Blocked<'d> {
    cases: *const [&'d mut dyn Case],
    order: *const [u32],
}

impl crate::sched::wait::Holds for Blocked<'_> {
    fn holds(&self, out: &mut Vec<crate::sched::wait::Holding>) {
        // SAFETY: called only while the select is suspended in its park, with the cases and
        // the order in place and untouched (see `wait::Holds`).
        let (cases, order) = unsafe { (&*self.cases, &*self.order) };
        out.extend(order.iter().filter_map(|&i| cases[i as usize].holding()));
    }
}

/// Unlinks every waiter of a blocked select; dropped while armed (unwinding), it first
/// withdraws the select.
struct Unlink<'c, 'd> {
    cases: &'c mut [&'d mut dyn Case],
    order: &'c [u32],
    signal: &'c Signal,
    armed: bool,
}

impl Unlink<'_, '_> {
    fn unlink_all(&mut self) {
        lock_all(self.cases, self.order);
        for &i in self.order {
            self.cases[i as usize].unlink();
        }
        unlock_all(self.cases, self.order);
    }

    /// After DONE (or a successful withdrawal): unlink and disarm.
    fn finish(mut self) {
        self.unlink_all();
        self.armed = false;
    }
}

impl Drop for Unlink<'_, '_> {
    fn drop(&mut self) {
        if !self.armed {
            return;
        }
        // Unwinding while parked: withdraw, or wait for the claimer to finish, then unlink.
        if !self.signal.abort() {
            self.signal.wait_spinning();
        }
        self.unlink_all();
    }
}

/// A select over a list of cases built at run time (Go's `reflect.Select`).
///
/// Add cases with [`recv`](Select::recv) and [`send`](Select::send); each returns a token
/// naming its case. [`select`](Select::select) runs one round with the same semantics as
/// [`select!`](crate::select!) and returns the index of the case that ran; the token then
/// gives its outcome. A send case whose value went out is disabled in later rounds; one that
/// lost keeps its value, which [`take_unsent`](Select::take_unsent) hands back.
///
/// # Examples
///
/// ```
/// goro::run(|| {
///     let chans: Vec<_> = (0..4).map(|_| goro::chan::<usize>(1)).collect();
///     chans[2].0.send(42).unwrap();
///     let mut sel = goro::Select::new();
///     let tokens: Vec<_> = chans.iter().map(|(_, rx)| sel.recv(rx)).collect();
///     let i = sel.select();
///     assert_eq!(i, tokens[2].index());
///     assert_eq!(sel.recv_result(&tokens[2]), Some(Ok(42)));
/// })
/// .unwrap();
/// ```
pub struct Select<'a> {
    id: u64,
    cases: Vec<Box<dyn Case + Send + 'a>>,
}

/// Names a receive case of a [`Select`].
#[derive(Debug)]
pub struct RecvToken<T> {
    select: u64,
    index: usize,
    _t: PhantomData<fn() -> T>,
}

/// Names a send case of a [`Select`].
#[derive(Debug)]
pub struct SendToken<T> {
    select: u64,
    index: usize,
    _t: PhantomData<fn() -> T>,
}

impl<T> RecvToken<T> {
    /// The case's index, as returned by [`Select::select`].
    pub fn index(&self) -> usize {
        self.index
    }
}

impl<T> SendToken<T> {
    /// The case's index, as returned by [`Select::select`].
    pub fn index(&self) -> usize {
        self.index
    }
}

static SELECT_IDS: AtomicU64 = AtomicU64::new(1);

impl Default for Select<'_> {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for Select<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Select")
            .field("cases", &self.cases.len())
            .finish()
    }
}

impl<'a> Select<'a> {
    /// An empty select (selecting on it blocks forever, like Go's `select {}`).
    pub fn new() -> Self {
        Select {
            id: SELECT_IDS.fetch_add(1, Ordering::Relaxed),
            cases: Vec::new(),
        }
    }

    /// Adds a receive case; `None` adds a disabled one.
    pub fn recv<T: Send + 'a>(&mut self, rx: impl Into<Option<&'a Receiver<T>>>) -> RecvToken<T> {
        self.cases.push(Box::new(RecvCase::new(rx.into())));
        RecvToken {
            select: self.id,
            index: self.cases.len() - 1,
            _t: PhantomData,
        }
    }

    /// Adds a send case of `v`; `None` as the sender adds a disabled one.
    pub fn send<T: Send + 'a>(
        &mut self,
        tx: impl Into<Option<&'a Sender<T>>>,
        v: T,
    ) -> SendToken<T> {
        self.cases.push(Box::new(SendCase::new(tx.into(), v)));
        SendToken {
            select: self.id,
            index: self.cases.len() - 1,
            _t: PhantomData,
        }
    }

    /// The number of cases.
    pub fn len(&self) -> usize {
        self.cases.len()
    }

    /// True if there are no cases.
    pub fn is_empty(&self) -> bool {
        self.cases.is_empty()
    }

    /// Waits until one case can run, runs it, and returns its index.
    pub fn select(&mut self) -> usize {
        match self.round(Wait::Forever) {
            Some(i) => i,
            None => unreachable!("goro: a blocking select returned without a case"),
        }
    }

    /// Runs a ready case if there is one (a select with `default`).
    pub fn try_select(&mut self) -> Option<usize> {
        self.round(Wait::Never)
    }

    /// Waits at most `timeout` for a case to run.
    pub fn select_timeout(&mut self, timeout: Duration) -> Option<usize> {
        let now = Instant::now();
        match now.checked_add(timeout) {
            Some(d) => self.round(Wait::Until(d)),
            None => Some(self.select()),
        }
    }

    /// Waits until `deadline` at the latest for a case to run.
    pub fn select_deadline(&mut self, deadline: Instant) -> Option<usize> {
        self.round(Wait::Until(deadline))
    }

    fn round(&mut self, wait: Wait) -> Option<usize> {
        let mut cases: Vec<&mut dyn Case> = self
            .cases
            .iter_mut()
            .map(|c| &mut **c as &mut dyn Case)
            .collect();
        run(&mut cases, wait)
    }

    /// The receive case's outcome, once, after it ran; `None` if it has not run, or if the
    /// token belongs to another select.
    pub fn recv_result<T: 'a>(&mut self, t: &RecvToken<T>) -> Option<Result<T, RecvError>> {
        let c = self.case_mut::<RecvCase<'a, T>>(t.select, t.index)?;
        c.result.take()
    }

    /// The send case's outcome, once, after it ran (`Err` gives the value back: the channel
    /// was closed); `None` if it has not run, or if the token belongs to another select.
    pub fn send_result<T: 'a>(&mut self, t: &SendToken<T>) -> Option<Result<(), SendError<T>>> {
        let c = self.case_mut::<SendCase<'a, T>>(t.select, t.index)?;
        c.result.take()
    }

    /// Takes back the value of a send case that has not run (S13), disabling the case.
    pub fn take_unsent<T: 'a>(&mut self, t: &SendToken<T>) -> Option<T> {
        let c = self.case_mut::<SendCase<'a, T>>(t.select, t.index)?;
        c.slot.take()
    }

    fn case_mut<C>(&mut self, select: u64, index: usize) -> Option<&mut C> {
        if select != self.id {
            return None;
        }
        let c: *mut dyn Case = &mut **self.cases.get_mut(index)?;
        // SAFETY: tokens are made only by `recv`/`send` of this select (the id matches) and
        // name the case they pushed, whose concrete type is `C` for the token's `T`.
        Some(unsafe { &mut *(c as *mut C) })
    }
}

/// Waits on several channel operations and runs the first that can proceed (Go's `select`).
///
/// ```text
/// goro::select! {
///     recv(rx) -> res => ...,       // res: Result<T, RecvError>; Err means closed and drained
///     send(tx, value) -> res => ..., // res: Result<(), SendError<T>>; Err gives the value back
///     default => ...,               // optional: run if no case is ready now
/// }
/// ```
///
/// Operands are receivers and senders, owned or borrowed, or `Option`s of them where `None`
/// disables the case (Go's nil channel; see [`RecvOperand`], [`SendOperand`]). Every operand and send value is evaluated once, in order, before
/// anything else; among ready cases one is chosen uniformly at random; exactly one case
/// communicates, and only its arm runs. A send case that loses drops its value. A timeout is a
/// receive from [`time::after`](crate::time::after). With no cases and no default, `select!`
/// blocks forever. Arms are plain code: `break`, `continue`, `return` and `?` work in them.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// goro::run(|| {
///     let (tx, rx) = goro::chan::<&str>(0);
///     goro::go(move || tx.send("hello").unwrap());
///     goro::select! {
///         recv(rx) -> msg => assert_eq!(msg, Ok("hello")),
///         recv(goro::time::after(Duration::from_secs(5))) -> _ => panic!("timed out"),
///     }
/// })
/// .unwrap();
/// ```
#[macro_export]
macro_rules! select {
    // Every arm ends with a comma (the last may not) and none is `default`: parsed in one
    // step, so a select of hundreds of cases stays far inside the compiler's recursion limit
    // (the cases are then bound eight per step, see `__select_bind`).
    ($($kind:ident ($($args:tt)*) -> $p:pat => $body:expr),+ $(,)?) => {
        $crate::__select_bind!(() $(($kind ($($args)*) $p => $body))+ ; ())
    };
    // Every arm's body is a block, each followed by a comma or not, none `default`: the same.
    ($($kind:ident ($($args:tt)*) -> $p:pat => $body:block $(,)?)+) => {
        $crate::__select_bind!(() $(($kind ($($args)*) $p => $body))+ ; ())
    };
    // Anything else (expression and block arms mixed, `default`): one arm per step, which
    // reaches the compiler's default recursion limit near 60 arms.
    ($($arms:tt)*) => {
        $crate::__select_parse!(() () $($arms)*)
    };
}

/// Parses the arms of `select!` into a list of cases and an optional default.
#[doc(hidden)]
#[macro_export]
macro_rules! __select_parse {
    (($($c:tt)*) ($($d:tt)*) recv($rx:expr) -> $p:pat => $body:block, $($rest:tt)*) => {
        $crate::__select_parse!(($($c)* (recv ($rx) $p => $body)) ($($d)*) $($rest)*)
    };
    (($($c:tt)*) ($($d:tt)*) recv($rx:expr) -> $p:pat => $body:block $($rest:tt)*) => {
        $crate::__select_parse!(($($c)* (recv ($rx) $p => $body)) ($($d)*) $($rest)*)
    };
    (($($c:tt)*) ($($d:tt)*) recv($rx:expr) -> $p:pat => $body:expr, $($rest:tt)*) => {
        $crate::__select_parse!(($($c)* (recv ($rx) $p => $body)) ($($d)*) $($rest)*)
    };
    (($($c:tt)*) ($($d:tt)*) recv($rx:expr) -> $p:pat => $body:expr) => {
        $crate::__select_parse!(($($c)* (recv ($rx) $p => $body)) ($($d)*))
    };
    (($($c:tt)*) ($($d:tt)*) send($tx:expr, $v:expr) -> $p:pat => $body:block, $($rest:tt)*) => {
        $crate::__select_parse!(($($c)* (send ($tx, $v) $p => $body)) ($($d)*) $($rest)*)
    };
    (($($c:tt)*) ($($d:tt)*) send($tx:expr, $v:expr) -> $p:pat => $body:block $($rest:tt)*) => {
        $crate::__select_parse!(($($c)* (send ($tx, $v) $p => $body)) ($($d)*) $($rest)*)
    };
    (($($c:tt)*) ($($d:tt)*) send($tx:expr, $v:expr) -> $p:pat => $body:expr, $($rest:tt)*) => {
        $crate::__select_parse!(($($c)* (send ($tx, $v) $p => $body)) ($($d)*) $($rest)*)
    };
    (($($c:tt)*) ($($d:tt)*) send($tx:expr, $v:expr) -> $p:pat => $body:expr) => {
        $crate::__select_parse!(($($c)* (send ($tx, $v) $p => $body)) ($($d)*))
    };
    (($($c:tt)*) () default => $body:block, $($rest:tt)*) => {
        $crate::__select_parse!(($($c)*) ($body) $($rest)*)
    };
    (($($c:tt)*) () default => $body:block $($rest:tt)*) => {
        $crate::__select_parse!(($($c)*) ($body) $($rest)*)
    };
    (($($c:tt)*) () default => $body:expr, $($rest:tt)*) => {
        $crate::__select_parse!(($($c)*) ($body) $($rest)*)
    };
    (($($c:tt)*) () default => $body:expr) => {
        $crate::__select_parse!(($($c)*) ($body))
    };
    (($($c:tt)*) ($($d:tt)+) default $($rest:tt)*) => {
        ::core::compile_error!("select! has more than one `default` arm")
    };
    (($($c:tt)*) ($($d:tt)*)) => {
        $crate::__select_bind!(() $($c)* ; ($($d)*))
    };
    (($($c:tt)*) ($($d:tt)*) $($rest:tt)+) => {
        ::core::compile_error!(
            "select! arms are `recv(rx) -> res => ...`, `send(tx, value) -> res => ...` or `default => ...`"
        )
    };
}

/// Binds each case to a fresh local, in source order (S1), then runs the select and the arm.
#[doc(hidden)]
#[macro_export]
macro_rules! __select_bind {
    // Eight cases per step, each bound by `__select_case` to a local of its own.
    (($($b:tt)*)
        ($k1:ident $a1:tt $p1:pat => $e1:expr) ($k2:ident $a2:tt $p2:pat => $e2:expr)
        ($k3:ident $a3:tt $p3:pat => $e3:expr) ($k4:ident $a4:tt $p4:pat => $e4:expr)
        ($k5:ident $a5:tt $p5:pat => $e5:expr) ($k6:ident $a6:tt $p6:pat => $e6:expr)
        ($k7:ident $a7:tt $p7:pat => $e7:expr) ($k8:ident $a8:tt $p8:pat => $e8:expr)
        $($rest:tt)*) => {{
        $crate::__select_case!(__goro_c1 $k1 $a1);
        $crate::__select_case!(__goro_c2 $k2 $a2);
        $crate::__select_case!(__goro_c3 $k3 $a3);
        $crate::__select_case!(__goro_c4 $k4 $a4);
        $crate::__select_case!(__goro_c5 $k5 $a5);
        $crate::__select_case!(__goro_c6 $k6 $a6);
        $crate::__select_case!(__goro_c7 $k7 $a7);
        $crate::__select_case!(__goro_c8 $k8 $a8);
        $crate::__select_bind!(($($b)*
            (__goro_c1 $p1 => $e1) (__goro_c2 $p2 => $e2) (__goro_c3 $p3 => $e3)
            (__goro_c4 $p4 => $e4) (__goro_c5 $p5 => $e5) (__goro_c6 $p6 => $e6)
            (__goro_c7 $p7 => $e7) (__goro_c8 $p8 => $e8)) $($rest)*)
    }};
    (($($b:tt)*) ($k:ident $a:tt $p:pat => $e:expr) $($rest:tt)*) => {{
        $crate::__select_case!(__goro_case $k $a);
        $crate::__select_bind!(($($b)* (__goro_case $p => $e)) $($rest)*)
    }};
    (($(($case:ident $p:pat => $body:expr))*) ; ()) => {{
        $crate::select::__private::run(
            &mut [$(&mut $case as &mut dyn $crate::select::__private::Case),*],
            $crate::select::__private::Wait::Forever,
        );
        $(if $case.won() {
            let $p = $case.take_result();
            $body
        } else)* {
            ::core::unreachable!("goro: a blocking select returned without a case")
        }
    }};
    (($(($case:ident $p:pat => $body:expr))*) ; ($default:expr)) => {{
        $crate::select::__private::run(
            &mut [$(&mut $case as &mut dyn $crate::select::__private::Case),*],
            $crate::select::__private::Wait::Never,
        );
        $(if $case.won() {
            let $p = $case.take_result();
            $body
        } else)* {
            $default
        }
    }};
}

/// Binds one case of `select!` to the local `$name`, with its channel operand borrowed (a
/// temporary such as `time::after(d)` lives until the select is over).
#[doc(hidden)]
#[macro_export]
macro_rules! __select_case {
    ($name:ident recv ($rx:expr)) => {
        let __goro_op = &$rx;
        let mut $name = $crate::select::__private::RecvCase::new(
            $crate::select::__private::RecvOperand::receiver(__goro_op),
        );
    };
    ($name:ident send ($tx:expr, $v:expr)) => {
        let __goro_op = &$tx;
        let __goro_value = $v;
        let mut $name = $crate::select::__private::SendCase::new(
            $crate::select::__private::SendOperand::sender(__goro_op),
            __goro_value,
        );
    };
    ($name:ident $other:ident $args:tt) => {
        ::core::compile_error!(
            "select! arms are `recv(rx) -> res => ...`, `send(tx, value) -> res => ...` or `default => ...`"
        );
    };
}
