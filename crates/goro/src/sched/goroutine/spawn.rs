//! Starting goroutines: [`go`], [`Builder`] (name, stack size, a dedicated thread) and
//! [`SpawnError`].

use super::*;

/// Why a goroutine could not be spawned. Holds the closure so nothing is lost.
pub struct SpawnError<F> {
    reason: SpawnErrorKind,
    closure: F,
}

/// The reason in a [`SpawnError`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SpawnErrorKind {
    /// Called outside a runtime (not on a goroutine) without a [`Handle`].
    NoRuntime,
    /// The runtime has shut down.
    ShutDown,
    /// The stack size is below 16 KiB or above 1 GiB.
    BadStackSize(usize),
    /// The OS refused the thread of a dedicated goroutine (`Builder::dedicated`).
    NoThread,
}

impl<F> SpawnError<F> {
    /// Why.
    pub fn kind(&self) -> SpawnErrorKind {
        self.reason
    }
    /// The closure that was not spawned.
    pub fn into_inner(self) -> F {
        self.closure
    }
}

impl fmt::Display for SpawnErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SpawnErrorKind::NoRuntime => write!(
                f,
                "not inside a goro runtime: call from a goroutine (inside goro::run) or use a goro::Handle"
            ),
            SpawnErrorKind::ShutDown => write!(f, "the goro runtime has shut down"),
            SpawnErrorKind::BadStackSize(n) => {
                write!(f, "stack size {n} is out of range (16 KiB to 1 GiB)")
            }
            SpawnErrorKind::NoThread => {
                write!(f, "the OS refused a thread for a dedicated goroutine")
            }
        }
    }
}

impl<F> fmt::Debug for SpawnError<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SpawnError")
            .field("reason", &self.reason)
            .finish_non_exhaustive()
    }
}

impl<F> fmt::Display for SpawnError<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "cannot spawn goroutine: {}", self.reason)
    }
}

impl<F> std::error::Error for SpawnError<F> {}

/// Goroutine options: name and stack size.
///
/// # Examples
///
/// ```
/// goro::run(|| {
///     let h = goro::Builder::new()
///         .name("deep")
///         .stack_size(4 << 20)
///         .spawn(|| goro::current_name())
///         .unwrap();
///     assert_eq!(h.join().unwrap().as_deref(), Some("deep"));
/// })
/// .unwrap();
/// ```
#[derive(Debug, Default, Clone)]
pub struct Builder {
    pub(super) name: Option<String>,
    pub(super) stack_size: Option<usize>,
    pub(super) dedicated: bool,
}

thread_local! {
    /// On a dedicated goroutine's thread (`Builder::dedicated`): its runtime, so that `go`
    /// there spawns onto it, and its header, so that a panic there names it.
    static DEDICATED: std::cell::RefCell<Option<(Arc<Shared>, Arc<GoroutineHeader>)>> =
        const { std::cell::RefCell::new(None) };
}

/// On a dedicated goroutine's thread: its runtime and label (see `goroutine::running`).
pub(super) fn dedicated_running() -> Option<(Arc<Shared>, super::panics::Label)> {
    DEDICATED.with(|d| {
        d.borrow().as_ref().map(|(rt, g)| {
            let name = g.name.as_deref().map(String::from);
            (rt.clone(), (g.id, name, g.site))
        })
    })
}

/// Stack sizes a goroutine may ask for: Go's maximum is 1 GB.
const MIN_STACK: usize = 16 * 1024;
const MAX_STACK: usize = 1 << 30;

impl Builder {
    /// Default options: no name, the runtime's stack size.
    pub fn new() -> Self {
        Builder::default()
    }

    /// Names the goroutine (shown by `goro::current_name`, and in dumps).
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// Usable stack bytes for this goroutine (16 KiB to 1 GiB); rounded up to whole pages.
    pub fn stack_size(mut self, bytes: usize) -> Self {
        self.stack_size = Some(bytes);
        self
    }

    /// Runs the goroutine on an OS thread of its own instead of a worker: the escape hatch
    /// for a loop that computes for long without calling goro (which goro cannot preempt,
    /// and which would hold up every goroutine of its worker). Everything goro offers works
    /// there as on any plain thread: channels, `select!`, timers, `sync`, sockets and joins
    /// block that thread, and `go` spawns onto the runtime. It is not a goroutine of the
    /// runtime for the rest: `current_id` is `None` there, dumps do not list it, and `run`
    /// does not wait for it or unwind it (a thread is never interrupted); being a thread
    /// goro cannot see into, it keeps the deadlock report from being fatal while it lives.
    /// The stack size is the OS thread's (`stack_size`, or std's default).
    ///
    /// # Examples
    ///
    /// ```
    /// let n = goro::run(|| {
    ///     let (tx, rx) = goro::chan(0);
    ///     let crunch = goro::Builder::new()
    ///         .name("crunch")
    ///         .dedicated(true)
    ///         .spawn(move || {
    ///             let sum: u64 = (0..10_000_000u64).map(std::hint::black_box).sum();
    ///             tx.send(sum).unwrap(); // a goro channel, from its own thread
    ///             goro::go(|| 1).join().unwrap() // and goroutines, spawned onto the runtime
    ///         })
    ///         .unwrap();
    ///     let sum = rx.recv().unwrap();
    ///     crunch.join().unwrap() + (sum > 0) as u64
    /// })
    /// .unwrap();
    /// assert_eq!(n, 2);
    /// ```
    pub fn dedicated(mut self, on: bool) -> Self {
        self.dedicated = on;
        self
    }

    /// Spawns on the runtime of the calling goroutine.
    #[track_caller]
    pub fn spawn<F, T>(self, f: F) -> Result<JoinHandle<T>, SpawnError<F>>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        let site = Location::caller();
        let dedicated = || DEDICATED.with(|d| d.borrow().as_ref().map(|(rt, _)| rt.clone()));
        worker::with_runtime(move |rt| match rt {
            Some(rt) => self.spawn_at(rt, f, site),
            None => match dedicated() {
                Some(rt) => self.spawn_at(&rt, f, site),
                None => Err(SpawnError {
                    reason: SpawnErrorKind::NoRuntime,
                    closure: f,
                }),
            },
        })
    }

    /// Spawns on the runtime of `handle`, from any thread.
    #[track_caller]
    pub fn spawn_on<F, T>(self, handle: &Handle, f: F) -> Result<JoinHandle<T>, SpawnError<F>>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        self.spawn_at(handle.shared(), f, Location::caller())
    }

    fn spawn_at<F, T>(
        self,
        rt: &Arc<Shared>,
        f: F,
        site: &'static Location<'static>,
    ) -> Result<JoinHandle<T>, SpawnError<F>>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        if let Some(n) = self.stack_size {
            if !(MIN_STACK..=MAX_STACK).contains(&n) {
                return Err(SpawnError {
                    reason: SpawnErrorKind::BadStackSize(n),
                    closure: f,
                });
            }
        }
        if rt.is_shut_down() {
            return Err(SpawnError {
                reason: SpawnErrorKind::ShutDown,
                closure: f,
            });
        }
        if self.dedicated {
            return spawn_dedicated(self, rt, f, site);
        }
        let task = Spawned::new(f);
        let g = Arc::new(GoroutineHeader::new(self, site, task));
        let joinable: Arc<GoroutineHeader<dyn Joinable<T>>> = g.clone();
        rt.submit(g);
        Ok(JoinHandle { g: joinable })
    }
}

/// See [`Builder::dedicated`]. The goroutine's task runs on the new thread as it would on a
/// fiber: the closure's value or panic lands in the join slot (`Task::run` needs no fiber).
/// The thread's name does not start with `goro-`, so the deadlock proof counts it as a thread
/// that may still wake a goroutine, which it is.
fn spawn_dedicated<F, T>(
    b: Builder,
    rt: &Arc<Shared>,
    f: F,
    site: &'static Location<'static>,
) -> Result<JoinHandle<T>, SpawnError<F>>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    let mut thread = std::thread::Builder::new().name(format!(
        "dedicated {}",
        b.name.as_deref().unwrap_or("goroutine")
    ));
    if let Some(n) = b.stack_size {
        thread = thread.stack_size(n);
    }
    let task = Spawned::new(f);
    let g = Arc::new(GoroutineHeader::new(b, site, task));
    let joinable: Arc<GoroutineHeader<dyn Joinable<T>>> = g.clone();
    let (g2, rt2) = (g.clone(), rt.clone());
    let started = thread.spawn(move || {
        DEDICATED.with(|d| *d.borrow_mut() = Some((rt2, g2.clone())));
        g2.task.run();
        DEDICATED.with(|d| d.borrow_mut().take());
    });
    match started {
        Ok(_) => Ok(JoinHandle { g: joinable }),
        Err(_) => match g.task.claim() {
            Some(f) => {
                drop(joinable);
                Err(SpawnError {
                    reason: SpawnErrorKind::NoThread,
                    closure: f,
                })
            }
            None => unreachable!("goro: a dedicated goroutine whose thread never started ran"),
        },
    }
}

/// Starts `f` as a new goroutine and returns a handle to join it (Go's `go` statement).
///
/// The closure must be `Send + 'static`: it moves to the worker that starts it, and from then
/// on the goroutine never changes thread. A closure that is not `Send` does not compile:
///
/// ```compile_fail
/// goro::run(|| {
///     let rc = std::rc::Rc::new(1);
///     goro::go(move || *rc + 1).join().unwrap();
/// })
/// .unwrap();
/// ```
///
/// Once the runtime is shutting down (its main goroutine has returned), `go` still returns a
/// handle, but the goroutine never runs: `f` is dropped and `join` says
/// [`JoinError::Cancelled`].
///
/// # Panics
///
/// Outside a runtime (not on a goroutine): use [`Handle::go`] or [`Builder::spawn_on`] from
/// plain threads.
///
/// # Examples
///
/// ```
/// let sum = goro::run(|| {
///     let hs: Vec<_> = (0..10u64).map(|i| goro::go(move || i * i)).collect();
///     hs.into_iter().map(|h| h.join().unwrap()).sum::<u64>()
/// })
/// .unwrap();
/// assert_eq!(sum, 285);
/// ```
#[track_caller]
#[doc(alias = "newproc")]
pub fn go<F, T>(f: F) -> JoinHandle<T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    match Builder::new().spawn(f) {
        Ok(h) => h,
        Err(e) if e.reason == SpawnErrorKind::ShutDown => never_started(e.closure),
        Err(e) => panic!("goro::go: {}", e.reason),
    }
}

/// The handle of a goroutine that will never run, because its runtime has shut down: as in
/// Go, where a `go` statement never fails and what it starts after `main` returns never
/// runs. The closure is dropped here (a `Drop` that panics is caught); the join says
/// `Cancelled`. This is what lets a destructor that spawns run during shutdown's unwind.
#[track_caller]
pub(crate) fn never_started<F, T>(f: F) -> JoinHandle<T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    let task = Spawned::new(f);
    let g = Arc::new(GoroutineHeader::new(
        Builder::new(),
        Location::caller(),
        task,
    ));
    g.task.cancel();
    JoinHandle { g }
}
