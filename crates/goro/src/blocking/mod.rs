//! `blocking(f)`: run code that blocks its thread (a system call, a C library, a slow
//! computation) on a pool of OS threads while the calling goroutine parks.
//!
//! This folder owns the blocking pool. Threads are started on demand, up to a cap
//! ([`MAX_THREADS`], or `GORO_BLOCKING_THREADS`), and an idle one exits after
//! [`IDLE_EXIT`]. Past the cap, [`blocking`] queues the call until a thread is free and
//! [`try_blocking`] fails with [`PoolFull`], handing the closure back.
//!
//! # Why `f` may borrow from the caller's stack
//!
//! `f` is not `'static`: it may hold references into the calling goroutine's stack. The
//! caller cannot observe its stack frame again before `f` has returned:
//!
//! 1. The closure and a result slot live in the caller's frame; the pool thread gets a
//!    pointer to them, runs `f`, writes the result, then stores `done` (Release) and
//!    unparks the caller through its own handle, touching the frame no more.
//! 2. The caller parks until it reads `done` (Acquire). Spurious wake-ups park again.
//! 3. If the caller's stack is unwound while it waits (the runtime shutting down unwinds
//!    parked goroutines), a guard in the frame waits for `done` before the frame ends: the
//!    frame, and everything `f` borrows, outlives `f` (DESIGN's invariant: shutdown waits
//!    for `f`, or abandons the stack for good, rather than freeing it under `f`).
//!
//! Called from a plain thread, `f` simply runs there.

use std::collections::VecDeque;
use std::fmt;
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Condvar, Mutex, OnceLock};
use std::time::Duration;

use crate::sched::worker;
use crate::wait::park::{park_quiet, Unparker};

/// Threads the pool may start (Go's runtime stops at 10,000 threads).
pub const MAX_THREADS: usize = 512;

/// An idle pool thread exits after this long without work.
pub const IDLE_EXIT: Duration = Duration::from_secs(10);

/// Calls in flight: live work for the deadlock detector.
static IN_FLIGHT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// True while some goroutine waits for a blocking call.
pub(crate) fn in_flight() -> bool {
    IN_FLIGHT.load(Ordering::SeqCst) > 0
}

/// A job: a type-erased pointer to a `Call` in the caller's frame.
struct Job {
    run: unsafe fn(*mut ()),
    call: *mut (),
    done: *const AtomicBool,
    caller: Unparker,
}

// SAFETY: the pointers name the caller's frame, which stays alive and untouched by its owner
// until `done` (protocol steps 1-3); the closure and result they point at are `Send`.
unsafe impl Send for Job {}

struct Pool {
    queue: Mutex<State>,
    work: Condvar,
    cap: usize,
}

struct State {
    jobs: VecDeque<Job>,
    threads: usize,
    idle: usize,
}

fn pool() -> &'static Pool {
    static POOL: OnceLock<Pool> = OnceLock::new();
    POOL.get_or_init(|| Pool {
        queue: Mutex::new(State {
            jobs: VecDeque::new(),
            threads: 0,
            idle: 0,
        }),
        work: Condvar::new(),
        cap: std::env::var("GORO_BLOCKING_THREADS")
            .ok()
            .and_then(|v| v.parse().ok())
            .filter(|&n| n > 0)
            .unwrap_or(MAX_THREADS),
    })
}

impl Pool {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.queue.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Queues `job`; with `strict`, refuses it when every thread is busy and none may start.
    fn submit(&'static self, job: Job, strict: bool) -> Result<(), Job> {
        let done = job.done;
        let mut st = self.lock();
        if st.idle > st.jobs.len() {
            st.jobs.push_back(job);
            drop(st);
            self.work.notify_one();
            return Ok(());
        }
        if st.threads < self.cap {
            st.threads += 1;
            st.jobs.push_back(job);
            drop(st);
            let started = std::thread::Builder::new()
                .name("goro-blocking".into())
                .spawn(move || self.serve());
            if started.is_err() {
                // The OS refused a thread: the caller gets back exactly its own job, to run
                // inline or hand back as `PoolFull` (other submitters may have queued theirs
                // ahead of it or behind it meanwhile, and the other threads counted may be
                // starts that fail too). A job is known by its `done` flag, which lives in
                // its caller's frame. If it is gone from the queue, a thread took it and will
                // finish it.
                let mut st = self.lock();
                st.threads -= 1;
                if let Some(i) = st.jobs.iter().position(|j| std::ptr::eq(j.done, done)) {
                    return st.jobs.remove(i).map_or(Ok(()), Err);
                }
            }
            return Ok(());
        }
        if strict {
            return Err(job);
        }
        st.jobs.push_back(job);
        Ok(())
    }

    fn serve(&self) {
        let mut st = self.lock();
        loop {
            if let Some(job) = st.jobs.pop_front() {
                drop(st);
                // SAFETY: the job's pointers are valid until we store `done` (step 1).
                unsafe { (job.run)(job.call) };
                // SAFETY: as above; after this store we touch nothing of the caller's frame.
                unsafe { (*job.done).store(true, Ordering::Release) };
                job.caller.unpark();
                st = self.lock();
                continue;
            }
            st.idle += 1;
            let (s, timeout) = self
                .work
                .wait_timeout(st, IDLE_EXIT)
                .unwrap_or_else(|e| e.into_inner());
            st = s;
            st.idle -= 1;
            if timeout.timed_out() && st.jobs.is_empty() {
                st.threads -= 1;
                return;
            }
        }
    }
}

/// The closure and its result, in the caller's frame.
struct Call<F, R> {
    f: Option<F>,
    result: Option<std::thread::Result<R>>,
}

/// Runs the `Call<F, R>` behind `p`.
///
/// # Safety
///
/// `p` must point at a live `Call<F, R>` that nobody else touches meanwhile.
unsafe fn run_call<F: FnOnce() -> R, R>(p: *mut ()) {
    // SAFETY: the caller's contract.
    let call = unsafe { &mut *p.cast::<Call<F, R>>() };
    if let Some(f) = call.f.take() {
        call.result = Some(catch_unwind(AssertUnwindSafe(f)));
    }
}

/// Blocks the unwinding thread until the pool is done with the frame (step 3).
struct WaitDone<'a>(&'a AtomicBool);

impl Drop for WaitDone<'_> {
    fn drop(&mut self) {
        // Only shutdown's unwind gets here with the call in flight. Parking then hands the
        // worker back to its teardown, which resumes this goroutine until the call is done,
        // or abandons it with its stack (never reused) after the shutdown grace.
        while !self.0.load(Ordering::Acquire) {
            park_quiet();
        }
    }
}

/// The pool is at its cap and every thread is busy; the closure comes back.
pub struct PoolFull<F>(pub F);

impl<F> fmt::Debug for PoolFull<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PoolFull(..)")
    }
}

impl<F> fmt::Display for PoolFull<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "goro: the blocking pool is at its cap of {} threads, all busy (GORO_BLOCKING_THREADS)",
            pool().cap
        )
    }
}

impl<F> std::error::Error for PoolFull<F> {}

/// Runs `f` on the blocking pool and parks the calling goroutine until it returns; its
/// worker runs other goroutines meanwhile. `f` may borrow from the caller (see the module
/// doc for why that is sound). A panic in `f` is resumed here. On a plain thread, `f` runs
/// in place.
///
/// # Examples
///
/// ```
/// goro::run(|| {
///     let path = std::env::temp_dir();
///     // A directory listing blocks in the kernel: keep it off the worker.
///     let n = goro::blocking(|| std::fs::read_dir(&path).map(|d| d.count()));
///     assert!(n.is_ok());
/// })
/// .unwrap();
/// ```
pub fn blocking<F: FnOnce() -> R + Send, R: Send>(f: F) -> R {
    match run(f, false) {
        Ok(r) => r,
        // The OS refused the pool a thread for this call: run it here rather than fail.
        Err(PoolFull(f)) => f(),
    }
}

/// Like [`blocking`], but fails at once, handing `f` back, when the pool is at its cap and
/// every thread is busy.
pub fn try_blocking<F: FnOnce() -> R + Send, R: Send>(f: F) -> Result<R, PoolFull<F>> {
    run(f, true)
}

fn run<F: FnOnce() -> R + Send, R: Send>(f: F, strict: bool) -> Result<R, PoolFull<F>> {
    if !worker::in_goroutine() {
        return Ok(f());
    }
    let mut call = Call {
        f: Some(f),
        result: None,
    };
    let done = AtomicBool::new(false);
    let job = Job {
        run: run_call::<F, R>,
        call: (&raw mut call).cast(),
        done: &done,
        caller: Unparker::current(),
    };
    if pool().submit(job, strict).is_err() {
        let f = call.f.take();
        return match f {
            Some(f) => Err(PoolFull(f)),
            None => unreachable!("goro: a refused job ran"),
        };
    }
    crate::wait::reason::set(crate::wait::reason::WaitReason::BlockingCall);
    // Declared before the guard, so dropped after it: a stack unwinding here still counts as a
    // call in flight until the pool is done with it.
    let _in_flight = crate::sched::Counted::new(&IN_FLIGHT);
    let guard = WaitDone(&done);
    while !done.load(Ordering::Acquire) {
        park_quiet();
    }
    drop(guard);
    match call.result.take() {
        Some(Ok(r)) => Ok(r),
        Some(Err(p)) => resume_unwind(p),
        None => unreachable!("goro: a blocking call finished without a result"),
    }
}
