//! [`Select`]: a select over cases built at run time (Go's `reflect.Select`).

use super::*;

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
