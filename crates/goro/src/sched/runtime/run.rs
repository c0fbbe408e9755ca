//! The public face of a runtime: [`Runtime::builder`] and its options, `run` and
//! `run_and_report` (cut into the steps of a run: build, start, run main, stop, report), the
//! errors a run ends with, and [`Handle`].

use super::*;

/// Why `run` did not return the main goroutine's value.
#[non_exhaustive]
pub enum RunError {
    /// A goroutine's panic ended the run: the main goroutine's, or, as in Go, that of a
    /// goroutine nobody joins (see [`RuntimeBuilder::unhandled_panic`]). Names the goroutine
    /// and holds the payload.
    Panicked(GoroutinePanic),
    /// `run` was called on a goroutine; runtimes do not nest.
    Nested,
    /// A setting (such as `GORO_WORKERS`) is invalid.
    Config(String),
    /// Every goroutine was parked with nothing left that could wake one (no timer, socket
    /// or blocking call pending): Go's "all goroutines are asleep - deadlock!". Carries the
    /// dump of the goroutines, each with its wait reason and spawn site.
    Deadlock(String),
    /// The system refused what the runtime needs to start: a worker thread, or the memory
    /// for the main goroutine's stack. Nothing ran.
    Refused(String),
}

impl RunError {
    /// The panic's message, when the run ended with a panic whose payload is a string.
    pub fn panic_message(&self) -> Option<&str> {
        match self {
            RunError::Panicked(p) => p.message(),
            _ => None,
        }
    }
}

impl fmt::Display for RunError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RunError::Panicked(p) => write!(f, "{p}"),
            RunError::Nested => write!(
                f,
                "goro::run called on a goroutine: runtimes do not nest; use goro::go"
            ),
            RunError::Config(m) => write!(f, "invalid goro configuration: {m}"),
            RunError::Refused(m) => write!(f, "the runtime cannot start: {m}"),
            RunError::Deadlock(dump) => {
                write!(f, "all goroutines are asleep - deadlock!\n\n{dump}")
            }
        }
    }
}

impl fmt::Debug for RunError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl std::error::Error for RunError {}

/// What `run_and_report` returns besides the value.
#[derive(Debug)]
#[non_exhaustive]
pub struct Exit<T> {
    /// The main goroutine's value.
    pub value: T,
    /// Goroutines still alive when the main goroutine returned that shutdown unwound (their
    /// destructors ran) or dropped unstarted. Those left on a stuck worker or abandoned are
    /// not counted here.
    pub unwound: usize,
    /// Workers that did not stop within the grace period because their goroutine never
    /// yielded; they were left running.
    pub stuck_workers: usize,
    /// Goroutines that would not unwind at shutdown (they caught the unwind and parked
    /// again, or a destructor waited past the shutdown grace): abandoned, their stacks
    /// leaked, each named on stderr with its spawn site.
    pub abandoned: usize,
}

/// Entry point to configure a runtime: `goro::Runtime::builder().workers(2).run(f)`.
#[derive(Debug)]
pub struct Runtime(());

impl Runtime {
    /// A builder with the defaults (`GORO_WORKERS` or one worker per core, 256 KiB stacks).
    pub fn builder() -> RuntimeBuilder {
        RuntimeBuilder::default()
    }
}

/// Settings of a runtime.
#[derive(Debug, Clone)]
pub struct RuntimeBuilder {
    workers: Option<usize>,
    stack_size: usize,
    stack_cache: usize,
    grace: Duration,
    report: bool,
    deadlock: Option<Duration>,
    deadlock_unproven: bool,
    hog_warnings: bool,
    trace: Option<std::path::PathBuf>,
    raise_fd_limit: bool,
    unhandled: UnhandledPanic,
}

/// How long the runtime must stay deadlocked before it is reported (see
/// [`RuntimeBuilder::deadlock_detection`]).
pub const DEADLOCK_GRACE: Duration = Duration::from_secs(1);

impl Default for RuntimeBuilder {
    fn default() -> Self {
        RuntimeBuilder {
            workers: None,
            stack_size: DEFAULT_STACK_SIZE,
            stack_cache: 1024,
            grace: Duration::from_secs(1),
            report: std::env::var("GORO_EXIT_REPORT").map_or(true, |v| v != "0"),
            deadlock: std::env::var("GORO_DEADLOCK")
                .map_or(true, |v| v != "0")
                .then_some(DEADLOCK_GRACE),
            deadlock_unproven: std::env::var("GORO_DEADLOCK").is_ok_and(|v| v == "fatal"),
            hog_warnings: crate::sched::monitor::enabled(),
            trace: std::env::var_os("GORO_TRACE")
                .filter(|p| !p.is_empty())
                .map(Into::into),
            raise_fd_limit: std::env::var("GORO_FD_LIMIT").map_or(true, |v| v != "keep"),
            unhandled: UnhandledPanic::EndRun,
        }
    }
}

impl RuntimeBuilder {
    /// Global deadlock detection (Go's "all goroutines are asleep - deadlock!"): when every
    /// goroutine is parked and nothing pending could wake one (no timer, socket wait or
    /// blocking call) for `grace`, `run` stops and returns [`RunError::Deadlock`] with a dump
    /// of the goroutines. Default: on, with [`DEADLOCK_GRACE`] (1 s); `None` or
    /// `GORO_DEADLOCK=0` turns it off.
    ///
    /// goro channels, mutexes and handles work from plain OS threads too, and goro cannot see
    /// what those threads hold. So the report ends `run` only when the deadlock is proven:
    /// every goro runtime in the process is quiet, and every thread of the process is a
    /// runtime's own (its workers, the caller of `run`, goro's helper threads). Otherwise a
    /// thread goro cannot see (a `std::thread` about to send, a C callback, the test
    /// harness's main thread) might still wake a goroutine: the same report is printed once
    /// to stderr as a warning, and the program goes on. [`deadlock_fatal_unproven`] (or
    /// `GORO_DEADLOCK=fatal`) makes it end `run` in that case too.
    ///
    /// [`deadlock_fatal_unproven`]: Self::deadlock_fatal_unproven
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// let r = goro::Runtime::builder()
    ///     .deadlock_detection(Some(Duration::from_millis(100)))
    ///     .exit_report(false)
    ///     .run(|| {
    ///         let (tx, _rx) = goro::chan::<u32>(0);
    ///         tx.send(1).unwrap(); // nobody will ever receive
    ///     });
    /// let e = r.unwrap_err().to_string();
    /// assert!(e.starts_with("all goroutines are asleep - deadlock!"));
    /// assert!(e.contains("[chan send"));
    /// ```
    pub fn deadlock_detection(mut self, grace: Option<Duration>) -> Self {
        self.deadlock = grace;
        self
    }

    /// With `true`, a quiet runtime is reported as deadlocked (and `run` ends) even when other
    /// threads of the process, or another goro runtime that is not quiet, could still wake a
    /// goroutine: for programs whose other threads never hold goro handles, and for tests.
    /// Default `false`, or `true` with `GORO_DEADLOCK=fatal`. See
    /// [`deadlock_detection`](Self::deadlock_detection).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// let harness = std::thread::spawn(|| std::thread::sleep(Duration::from_secs(5)));
    /// let r = goro::Runtime::builder()
    ///     .deadlock_detection(Some(Duration::from_millis(100)))
    ///     .deadlock_fatal_unproven(true)
    ///     .exit_report(false)
    ///     .run(|| goro::chan::<u32>(0).0.send(1).unwrap());
    /// assert!(r.unwrap_err().to_string().starts_with("all goroutines are asleep"));
    /// # drop(harness);
    /// ```
    pub fn deadlock_fatal_unproven(mut self, on: bool) -> Self {
        self.deadlock_unproven = on;
        self
    }

    /// What a panic nobody joins does: a goroutine panicked after its [`JoinHandle`] was
    /// dropped, or its handle is dropped without a join after it panicked.
    ///
    /// By default ([`UnhandledPanic::EndRun`]) it ends the run as an unrecovered panic ends a
    /// Go program: the runtime shuts down as if the main goroutine had returned (the
    /// goroutines still alive, main included, are unwound and their destructors run), and
    /// `run` returns [`RunError::Panicked`] naming the goroutine, its spawn site and its
    /// message. The first such panic is the one returned. [`UnhandledPanic::Ignore`] keeps
    /// the program going: the panic is printed, as every panic is, and dropped.
    ///
    /// A joined goroutine's panic is never unhandled: [`JoinHandle::join`] returns it as
    /// [`JoinError::Panicked`](crate::JoinError::Panicked), and the run goes on. Neither is one caught by the goroutine
    /// itself with `std::panic::catch_unwind` (Go's `recover`).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// // A detached goroutine's panic ends the run, even while main still waits.
    /// let r = goro::Runtime::builder().exit_report(false).run(|| {
    ///     goro::Builder::new()
    ///         .name("fetcher")
    ///         .spawn(|| panic!("no route to host"))
    ///         .unwrap();
    ///     goro::time::sleep(Duration::from_secs(60));
    /// });
    /// let e = r.unwrap_err();
    /// assert_eq!(e.panic_message(), Some("no route to host"));
    /// assert!(e.to_string().contains("\"fetcher\""));
    ///
    /// // Ignored, it only prints.
    /// let r = goro::Runtime::builder()
    ///     .unhandled_panic(goro::UnhandledPanic::Ignore)
    ///     .run(|| {
    ///         drop(goro::go(|| panic!("printed, then dropped")));
    ///         goro::time::sleep(Duration::from_millis(10));
    ///         7
    ///     });
    /// assert_eq!(r.unwrap(), 7);
    /// ```
    pub fn unhandled_panic(mut self, what: UnhandledPanic) -> Self {
        self.unhandled = what;
        self
    }

    /// Whether `run` raises the process's soft limit on open file descriptors
    /// (`RLIMIT_NOFILE`) to its hard limit, as Go does at start since 1.19. Default: on;
    /// `false` or `GORO_FD_LIMIT=keep` leaves it. A server with a goroutine per connection
    /// needs a descriptor per connection: with the usual soft limit of 1,024 it runs out at
    /// about a thousand clients while the hard limit allows hundreds of thousands. The
    /// raised limit is the process's, and child processes inherit it; a program that
    /// passes descriptors above 1,023 to `select(2)` must keep the limit.
    pub fn raise_fd_limit(mut self, on: bool) -> Self {
        self.raise_fd_limit = on;
        self
    }

    /// Records an execution trace and writes it to `path` when `run` returns, as Chrome Trace
    /// Event JSON (open it in ui.perfetto.dev or chrome://tracing): one track per worker, a
    /// slice per goroutine run, idle spells, and an arrow from each wake-up to the run it
    /// caused. `GORO_TRACE=path` does the same for every runtime.
    ///
    /// # Examples
    ///
    /// ```
    /// let path = std::env::temp_dir().join(format!("goro-trace-{}.json", std::process::id()));
    /// goro::Runtime::builder()
    ///     .trace(&path)
    ///     .run(|| goro::go(|| 1).join().unwrap())
    ///     .unwrap();
    /// let json = std::fs::read_to_string(&path).unwrap();
    /// assert!(json.contains("\"traceEvents\""));
    /// std::fs::remove_file(&path).unwrap();
    /// ```
    pub fn trace(mut self, path: impl Into<std::path::PathBuf>) -> Self {
        self.trace = Some(path.into());
        self
    }

    /// Whether the monitor warns on stderr about a goroutine that runs 10 ms without yielding
    /// (default: on unless `GORO_MONITOR=0`). Benchmarks that spawn a million goroutines in
    /// one loop turn it off.
    pub fn hog_warnings(mut self, on: bool) -> Self {
        self.hog_warnings = on;
        self
    }

    /// Number of workers (OS threads running goroutines). Default: `GORO_WORKERS`, else
    /// `std::thread::available_parallelism`.
    pub fn workers(mut self, n: usize) -> Self {
        self.workers = Some(n);
        self
    }

    /// Default usable stack bytes of each goroutine (16 KiB to 1 GiB; default 256 KiB).
    pub fn stack_size(mut self, bytes: usize) -> Self {
        self.stack_size = bytes;
        self
    }

    /// Freed stacks kept with their memory for reuse; beyond this many, the memory of freed
    /// stacks goes back to the kernel. Default 1024.
    pub fn stack_cache(mut self, stacks: usize) -> Self {
        self.stack_cache = stacks;
        self
    }

    /// How long shutdown waits for a worker whose goroutine does not yield, and then for a
    /// worker's goroutines to unwind (default 1 s). A goroutine still not unwound then (it
    /// catches the unwind and parks again, or a destructor waits on something that does not
    /// come) is abandoned: never resumed, its stack leaked, counted in
    /// [`Exit::abandoned`] and named on stderr.
    pub fn shutdown_grace(mut self, d: Duration) -> Self {
        self.grace = d;
        self
    }

    /// Whether `run` prints a line to stderr when goroutines were still alive at exit (default
    /// on; `GORO_EXIT_REPORT=0` turns it off).
    pub fn exit_report(mut self, on: bool) -> Self {
        self.report = on;
        self
    }

    fn resolve_workers(&self) -> Result<usize, RunError> {
        let n = match (self.workers, std::env::var("GORO_WORKERS")) {
            (Some(n), _) => n,
            (None, Ok(v)) => v.trim().parse::<usize>().map_err(|_| {
                RunError::Config(format!("GORO_WORKERS={v:?} is not a positive number"))
            })?,
            (None, Err(_)) => std::thread::available_parallelism().map_or(1, usize::from),
        };
        if n == 0 || n > 4096 {
            return Err(RunError::Config(format!("{n} workers: use 1 to 4096")));
        }
        if !(16 * 1024..=1 << 30).contains(&self.stack_size) {
            return Err(RunError::Config(format!(
                "stack size {} out of range (16 KiB to 1 GiB)",
                self.stack_size
            )));
        }
        Ok(n)
    }

    /// Runs `f` as the main goroutine and returns its value when it returns.
    #[track_caller]
    pub fn run<F, T>(self, f: F) -> Result<T, RunError>
    where
        F: FnOnce() -> T + 'static,
        T: 'static,
    {
        self.run_and_report(f).map(|e| e.value)
    }

    /// Like [`run`](Self::run), and also says how many goroutines were still alive.
    #[track_caller]
    pub fn run_and_report<F, T>(self, f: F) -> Result<Exit<T>, RunError>
    where
        F: FnOnce() -> T + 'static,
        T: 'static,
    {
        let site = Location::caller();
        if worker::in_worker() {
            return Err(RunError::Nested);
        }
        install_panic_hook();
        if self.raise_fd_limit {
            crate::net::raise_fd_limit();
        }
        let n = self.resolve_workers()?;
        let (parts, shared): (Vec<_>, Vec<_>) = (0..n).map(WorkerShared::new).unzip();
        let rt = self.shared_state(shared);
        // The main goroutine's stack, before any thread starts: without it nothing can run,
        // and a refusal here is the caller's error, not an abort later.
        let mut main_stack = Vec::with_capacity(1);
        if let Err(e) = rt.stacks.alloc_batch(0, 1, &mut main_stack) {
            return Err(RunError::Refused(format!(
                "no memory for the main goroutine's stack: {e}"
            )));
        }
        let main_stack = main_stack.pop().expect("alloc_batch returned one stack");
        let (part0, threads) = start_workers(&rt, parts)?;
        crate::debug::install_sigquit();
        crate::sched::monitor::register(&rt);
        let monitor = self.start_monitor(&rt);

        let ending = MainEnding::default();
        let main = ending.main_goroutine(f, site, &rt, self.report, main_stack);
        let main_label = (main.g.id, Some("main".to_string()), site);
        worker::run_worker(rt.clone(), part0, Some(main));

        let stuck = rt.wait_stopped(self.grace);
        if let Some(m) = monitor {
            m.thread().unpark(); // it checks the shutdown flag as it wakes
            let _ = m.join();
        }
        for t in threads {
            if t.is_finished() {
                let _ = t.join();
            }
        }
        rt.cancel_leftovers();
        let (unwound, abandoned) = self.report_leftovers(&rt, stuck, &ending);
        rt.write_trace();
        if let Some(report) = rt.deadlock.lock().unwrap_or_else(|e| e.into_inner()).take() {
            return Err(RunError::Deadlock(report));
        }
        // A goroutine's panic that nobody joined ended the run (main's own, if it panicked
        // too, came after: the first panic is the one that ended the program).
        if let Some(p) = rt.panicked.lock().unwrap_or_else(|e| e.into_inner()).take() {
            return Err(RunError::Panicked(p));
        }
        let result = ending.out.borrow_mut().take();
        match result {
            Some(Ok(value)) => Ok(Exit {
                value,
                unwound,
                stuck_workers: stuck,
                abandoned,
            }),
            Some(Err(p)) => Err(RunError::Panicked(GoroutinePanic::new(main_label, p))),
            None => Err(RunError::Panicked(GoroutinePanic::new(
                main_label,
                Box::new("main goroutine did not finish"),
            ))),
        }
    }

    /// The runtime's shared state over the workers' shared halves.
    fn shared_state(&self, workers: Vec<CachePadded<WorkerShared>>) -> Arc<Shared> {
        // Every worker but 0 (which starts the main goroutine) begins looking for work.
        let looking = workers.len() - 1;
        let rt = Arc::new(Shared {
            nlooking: AtomicUsize::new(looking),
            workers: workers.into_boxed_slice(),
            global: Injector::new(),
            idle: Mutex::new(Vec::new()),
            nidle: AtomicUsize::new(0),
            nspinning: AtomicUsize::new(0),
            shutdown: AtomicBool::new(false),
            foreign_spawned: AtomicUsize::new(1),
            stacks: StackPool::new(self.stack_size, self.stack_cache),
            stopped: Mutex::new(0),
            stopped_cv: Condvar::new(),
            dump_gen: AtomicU64::new(0),
            dump_lines: Mutex::new(Vec::new()),
            dump_want: Mutex::new(Want::Records),
            dump_serial: Mutex::new(()),
            deadlock: Mutex::new(None),
            unhandled: self.unhandled,
            panicked: Mutex::new(None),
            clock_ms: AtomicU64::new(0),
            epoch: Instant::now(),
            monitor: std::sync::OnceLock::new(),
            monitor_idle: AtomicBool::new(false),
            trace_path: self.trace.clone(),
            trace_out: Mutex::new((Vec::new(), std::collections::HashMap::new())),
            grace: self.grace,
            abandoned: Mutex::new(Vec::new()),
            // SAFETY: gettid has no preconditions.
            caller_tid: unsafe { libc::gettid() },
        });
        if rt.trace_path.is_some() {
            crate::sched::trace::ON.store(true, Ordering::Relaxed);
        }
        rt
    }

    /// Starts the monitor thread (hog warnings, the deadlock check); `None` if the thread
    /// could not be started, which leaves the runtime without both but otherwise whole.
    fn start_monitor(&self, rt: &Arc<Shared>) -> Option<std::thread::JoinHandle<()>> {
        let (rt2, warn) = (rt.clone(), self.hog_warnings);
        let deadlock = self
            .deadlock
            .map(|grace| crate::sched::monitor::DeadlockCheck {
                grace,
                fatal_unproven: self.deadlock_unproven,
            });
        let t = std::thread::Builder::new()
            .name("goro-monitor".into())
            .spawn(move || crate::sched::monitor::run(rt2, deadlock, warn))
            .ok();
        if let Some(t) = &t {
            let _ = rt.monitor.set(t.thread().clone());
        }
        t
    }

    /// Says on stderr (if reports are on) what was left when main returned: stuck workers,
    /// abandoned goroutines, goroutines left on stuck workers, and the ones unwound, with the
    /// leak report the main goroutine wrote. Returns how many were unwound and abandoned.
    fn report_leftovers<T>(
        &self,
        rt: &Shared,
        stuck: usize,
        ending: &MainEnding<T>,
    ) -> (usize, usize) {
        if stuck > 0 && self.report {
            for (i, w) in rt.workers.iter().enumerate() {
                let g = w.running.id.load(Ordering::Relaxed);
                if g != 0 {
                    eprintln!(
                        "goro: worker {i} is still running goroutine {g}, which has not yielded for {:?}; \
                         it was left running (call goro::yield_now in long loops)",
                        self.grace
                    );
                }
            }
        }
        let abandoned =
            std::mem::take(&mut *rt.abandoned.lock().unwrap_or_else(|e| e.into_inner()));
        if !abandoned.is_empty() && self.report {
            eprintln!(
                "goro: {} goroutine(s) would not unwind within the shutdown grace of {:?} and \
                 were abandoned (their stacks are leaked):",
                abandoned.len(),
                self.grace
            );
            for (id, site) in abandoned.iter().take(20) {
                eprintln!("goro:   goroutine {id}, created at {site}");
            }
        }
        // Goroutines of a stuck worker were not unwound: it never got to its teardown.
        let left_running: usize = rt
            .workers
            .iter()
            .filter(|w| !w.left_loop.load(Ordering::SeqCst))
            .map(|w| {
                w.running
                    .started
                    .load(Ordering::SeqCst)
                    .saturating_sub(w.exited.load(Ordering::SeqCst))
            })
            .sum();
        let alive = ending.alive.load(Ordering::SeqCst);
        let unwound = alive.saturating_sub(left_running + abandoned.len());
        if left_running > 0 && self.report {
            eprintln!(
                "goro: {left_running} goroutine(s) were left on stuck worker(s), neither \
                 unwound nor dropped"
            );
        }
        // The report counts what it lists: goroutines that had started. One that was only
        // waiting to run is dropped unstarted and is not a leak.
        let listed = ending.listed.get().min(unwound);
        if listed > 0 && self.report {
            eprintln!("goro: {listed} goroutine(s) still alive when main returned were unwound:");
            for line in ending.leaks.borrow().lines() {
                eprintln!("goro:   {line}");
            }
        }
        (unwound, abandoned.len())
    }
}

/// Starts workers 1.. on threads of their own; returns worker 0's parts (the calling thread
/// runs it) and the threads. If a thread cannot be started, the ones started are shut down.
fn start_workers(
    rt: &Arc<Shared>,
    parts: Vec<WorkerParts>,
) -> Result<(WorkerParts, Vec<std::thread::JoinHandle<()>>), RunError> {
    let mut threads = Vec::with_capacity(parts.len() - 1);
    let mut parts = parts.into_iter();
    let part0 = parts.next().expect("at least one worker");
    for p in parts {
        let rt2 = rt.clone();
        let name = format!("goro-worker-{}", p.index);
        let t = std::thread::Builder::new().name(name).spawn(move || {
            worker::run_worker(rt2.clone(), p, None);
            rt2.worker_stopped();
        });
        match t {
            Ok(t) => threads.push(t),
            Err(e) => {
                rt.begin_shutdown();
                return Err(RunError::Refused(format!(
                    "cannot start a worker thread: {e}"
                )));
            }
        }
    }
    Ok((part0, threads))
}

/// What the main goroutine leaves for `run` when it ends: its result, how many goroutines
/// were alive then, and the leak report it wrote.
struct MainEnding<T> {
    out: Rc<RefCell<Option<std::thread::Result<T>>>>,
    alive: Arc<AtomicUsize>,
    leaks: Rc<RefCell<String>>,
    /// How many goroutines the leak report lists: the started ones (an unstarted goroutine
    /// only waited to run; its closure is dropped without a word).
    listed: Rc<std::cell::Cell<usize>>,
}

impl<T> Default for MainEnding<T> {
    fn default() -> Self {
        MainEnding {
            out: Rc::new(RefCell::new(None)),
            alive: Arc::new(AtomicUsize::new(0)),
            leaks: Rc::new(RefCell::new(String::new())),
            listed: Rc::new(std::cell::Cell::new(0)),
        }
    }
}

impl<T: 'static> MainEnding<T> {
    /// The main goroutine running `f`: it records `f`'s result (or panic), counts the
    /// goroutines still alive, writes the leak report if `report`, and begins the shutdown.
    fn main_goroutine<F>(
        &self,
        f: F,
        site: &'static Location<'static>,
        rt: &Arc<Shared>,
        report: bool,
        stack: crate::stack::pool::Stack,
    ) -> MainGoroutine
    where
        F: FnOnce() -> T + 'static,
    {
        let (out, rt2, alive) = (self.out.clone(), rt.clone(), self.alive.clone());
        let (leaks, listed) = (self.leaks.clone(), self.listed.clone());
        let body: Box<dyn FnOnce()> = Box::new(move || {
            match panic::catch_unwind(AssertUnwindSafe(f)) {
                // Shutdown's unwind (a deadlock ended the run while main waited): not main's
                // own panic. Let it go on; `run` reports the deadlock.
                Err(p) if crate::stack::switch::is_shutdown_unwind(&*p) => panic::resume_unwind(p),
                r => *out.borrow_mut() = Some(r),
            }
            // The main goroutine itself is still counted in `live`.
            let n = rt2.live().saturating_sub(1);
            alive.store(n, Ordering::SeqCst);
            if report && n > 0 {
                let (text, count) = leak_report(&rt2);
                *leaks.borrow_mut() = text;
                listed.set(count);
            }
            rt2.begin_shutdown();
        });
        let g: Arc<GoroutineHeader> =
            Arc::new(GoroutineHeader::new(Builder::new().name("main"), site, ()));
        MainGoroutine { g, body, stack }
    }
}

/// The leak report, written by the main goroutine as it returns: who is still there,
/// grouped, before they are unwound; those in a partial deadlock (`debug::leaks`) marked,
/// when there are few enough for the check to be quick. Returns it with how many goroutines
/// it lists.
fn leak_report(rt: &Shared) -> (String, usize) {
    let me = crate::sched::worker::current_goroutine_id();
    let (gs, _) = rt.dump(Duration::from_millis(200), false);
    let gs: Vec<_> = gs.into_iter().filter(|g| Some(g.id) != me).collect();
    let leaked: std::collections::HashSet<u64> = if gs.len() <= EXIT_LEAK_CHECK {
        crate::debug::leaks().iter().map(|g| g.id).collect()
    } else {
        std::collections::HashSet::new()
    };
    let text = crate::debug::format_grouped_marking(&gs, |g| leaked.contains(&g.id));
    (text, gs.len())
}

/// Wraps the process's panic hook, once: a panic on a goroutine is announced with the
/// goroutine's id, name and spawn site (std names only the OS thread, a worker that runs
/// thousands of goroutines), then the hook that was there before runs as usual, std's default
/// or the program's own. `GORO_PANIC_HOOK=0` leaves the hook alone.
fn install_panic_hook() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    // The hook cannot be changed from a panicking thread (`run` called by a destructor
    // during an unwind): leave it for a later `run`.
    if std::env::var("GORO_PANIC_HOOK").is_ok_and(|v| v == "0") || std::thread::panicking() {
        return;
    }
    ONCE.call_once(|| {
        let prev = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            worker::while_printing_panic(|| {
                if let Some((id, name, site)) = worker::current_goroutine_label() {
                    let name = name.as_deref();
                    let who = crate::sched::goroutine::Named { id, name, site };
                    eprintln!("{who} panicked:");
                }
                prev(info);
            })
        }));
    });
}

/// Runs `f` as the main goroutine of a new runtime with default settings and returns its
/// value (Go's `main`).
///
/// Goroutines still alive when `f` returns are unwound (their destructors run) and counted on
/// stderr. A panic in `f` comes back as [`RunError::Panicked`]; so does, as in Go, a panic in
/// any goroutine nobody joins (it ends the run: see [`RuntimeBuilder::unhandled_panic`]),
/// while a joined goroutine's panic reaches its [`JoinHandle::join`] as a value.
///
/// # Examples
///
/// ```
/// let answer = goro::run(|| goro::go(|| 42).join().unwrap()).unwrap();
/// assert_eq!(answer, 42);
/// ```
#[track_caller]
pub fn run<F, T>(f: F) -> Result<T, RunError>
where
    F: FnOnce() -> T + 'static,
    T: 'static,
{
    Runtime::builder().run(f)
}

/// A handle to a running runtime, to spawn goroutines from plain OS threads.
///
/// # Examples
///
/// ```
/// goro::run(|| {
///     let h = goro::Handle::current().unwrap();
///     let t = std::thread::spawn(move || h.go(|| 5).join().unwrap());
///     assert_eq!(t.join().unwrap(), 5);
/// })
/// .unwrap();
/// ```
#[derive(Clone, Debug)]
pub struct Handle {
    rt: Arc<Shared>,
}

impl Handle {
    /// The runtime of the calling goroutine, if any.
    pub fn current() -> Option<Handle> {
        worker::current_runtime().map(|rt| Handle { rt })
    }

    pub(crate) fn shared(&self) -> &Arc<Shared> {
        &self.rt
    }

    /// Spawns a goroutine on this runtime (Go's `go`), from any thread.
    ///
    /// # Panics
    ///
    /// If the runtime has shut down; [`Builder::spawn_on`] returns an error instead.
    #[track_caller]
    pub fn go<F, T>(&self, f: F) -> JoinHandle<T>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        match Builder::new().spawn_on(self, f) {
            Ok(h) => h,
            Err(e) if e.kind() == SpawnErrorKind::ShutDown => {
                crate::sched::goroutine::never_started(e.into_inner())
            }
            Err(e) => panic!("goro::Handle::go: {}", e.kind()),
        }
    }

    /// True once the runtime's `run` has begun shutting down.
    pub fn is_shut_down(&self) -> bool {
        self.rt.is_shut_down()
    }
}
