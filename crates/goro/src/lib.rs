//! goro: Go's concurrency system for Rust.
//!
//! Goroutines are stackful coroutines multiplexed onto a few OS threads by an M:N
//! work-stealing scheduler. A goroutine is ordinary blocking code — no `async`, no `.await` —
//! and everything that waits (joining, `sleep`, a `WaitGroup`, a channel, a `select!`) parks
//! only the goroutine, not the thread under it.
//!
//! # A short tour
//!
//! ```
//! use std::time::Duration;
//!
//! let total = goro::run(|| {
//!     // `go` starts a goroutine and returns a handle to join it.
//!     let handles: Vec<_> = (1..=4u64)
//!         .map(|i| {
//!             goro::go(move || {
//!                 goro::time::sleep(Duration::from_millis(i)); // parks this goroutine only
//!                 i * 10
//!             })
//!         })
//!         .collect();
//!     handles.into_iter().map(|h| h.join().unwrap()).sum::<u64>()
//! })
//! .unwrap();
//! assert_eq!(total, 100);
//! ```
//!
//! # Go to goro
//!
//! | Go | goro |
//! |---|---|
//! | `func main() { ... }` | `goro::run(\|\| { ... })` returns `Result<T, RunError>` |
//! | `ch := make(chan T, n)` | `let (tx, rx) = goro::`[`chan`](fn@chan)`::<T>(n)` (MPMC; both ends clone) |
//! | `ch <- v` / `v := <-ch` | `tx.send(v)?` / `rx.recv()` (`Err` = closed and drained) |
//! | `v, ok := <-ch` | `match rx.recv() { Ok(v) => .., Err(RecvError) => .. }` |
//! | `close(ch)` | `tx.close()`, or drop the last `Sender` |
//! | `for v := range ch` | `for v in &rx` |
//! | `select { case v := <-a: ... default: ... }` | [`select!`]`{ recv(a) -> v => .., default => .. }` |
//! | a nil channel in `select` | `None` as the case's operand |
//! | `reflect.Select` | [`Select`] |
//! | `time.After(d)` | [`time::after`]`(d)` |
//! | `go f()` | [`go`]`(f)` returns a [`JoinHandle`]; `.join()` gives the value or the panic |
//! | `runtime.Gosched()` | [`yield_now`] |
//! | `GOMAXPROCS` | `GORO_WORKERS`, or [`Runtime::builder`]`().workers(n)` |
//! | `sync.WaitGroup` | [`sync::WaitGroup`] (`add`, `done`, `wait`) |
//! | `sync.Mutex`, `sync.RWMutex` | [`sync::Mutex<T>`](sync::Mutex), [`sync::RwLock<T>`](sync::RwLock) (RAII guards) |
//! | `sync.Once`, `sync.OnceValue`, `sync.Cond` | [`sync::Once`], [`sync::OnceLock`], [`sync::Cond`] |
//! | `semaphore.Weighted`, `errgroup.Group` | [`sync::Semaphore`], [`sync::ErrGroup`] |
//! | `time.Sleep(d)` | [`time::sleep`]`(d)` |
//! | `time.NewTimer`, `time.NewTicker`, `time.Tick` | [`time::Timer`], [`time::Ticker`], [`time::tick`] |
//! | `ctx, cancel := context.WithTimeout(ctx, d)` | `let (ctx, cancel) = ctx.`[`with_timeout`](context::Context::with_timeout)`(d)` (dropping `cancel` cancels) |
//! | `<-ctx.Done()`, `ctx.Err()` | `recv(ctx.done())` in a `select!`, `ctx.err()` |
//! | `net.Listen`, `ln.Accept()`, `net.Dial` | [`net::TcpListener::bind`], `accept`, [`net::TcpStream::connect`] (reads and writes park the goroutine) |
//! | `conn.SetReadDeadline(t)` | `set_read_deadline(Some(t))` (fails with `TimedOut`) |
//! | `net.DialContext`, I/O that stops with a context | [`net::TcpStream::connect_context`], `stream.with_context(&ctx)`, `accept_context` |
//! | `exec.CommandContext(ctx, name, args...)` | [`process::Command`]`::new(name).args(..).context(&ctx)`; waits and pipes park the goroutine |
//! | `signal.Notify(c, os.Interrupt)` | [`signal::notify`]`(&[Signal::Interrupt])` returns the channel |
//! | a blocking syscall (Go hands off its P) | [`blocking`](fn@blocking)`(\|\| ...)` |
//! | `gopark` / `goready` | [`park`] / [`Unparker::unpark`] |
//! | a panic in a goroutine kills the program | so it does, unless the goroutine is joined: `join` returns it as a value |
//!
//! # Where things live
//!
//! * `sched/`: the runtime, workers, run queues, goroutine headers, placement, the timer
//!   heaps, the monitor and the tracer.
//! * `wait/`: parking: park/unpark and the wake handles, waiter records, the futex lock, wait
//!   lists and wait reasons, used by every blocking operation.
//! * `stack/`: the stack pool with guard pages, the overflow report, the context switch.
//! * `chan/`: channels (Go's `hchan`) and their async ends; `select/`: `select!` and `Select`.
//! * `future/`: `block_on` and the tokio bridge (feature `tokio`): async Rust on goroutines.
//! * `time/`: sleep, timers and tickers (the heaps themselves are in `sched/timers.rs`).
//! * `sync/`: mutexes, semaphores and the rest, all on one wait list; `context/`: cancellation
//!   trees and deadlines.
//! * `net/`: the netpoller and sockets; `blocking/`: the pool for blocking calls; `io/`: stdin
//!   and files; `process/`: child processes; `signal/`: signals as channel values; `debug/`:
//!   dumps, leak reports, SIGQUIT.
//!
//! Each folder's module doc says what it owns and the protocol it follows. The decisions behind
//! the design are in docs/DESIGN.md at the root of the repository.

/// The README's example runs as a doctest, so it cannot go stale.
#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
struct ReadmeDoctests;

/// So do the examples of docs/GO.md, the guide for Go programmers.
#[cfg(doctest)]
#[doc = include_str!("../../../docs/GO.md")]
struct GoGuideDoctests;

pub mod blocking;
pub mod chan;
pub mod context;
pub mod debug;
mod future;
pub mod io;
mod loom;
pub mod net;
pub mod process;
mod sched;
pub mod select;
pub mod signal;
pub mod stack;
pub mod sync;
pub mod time;
mod wait;

pub use blocking::{blocking, try_blocking};
pub use chan::{
    chan, chan_named, try_chan, CapacityError, CloseError, Receiver, RecvError, RecvTimeoutError,
    SendError, SendFailure, SendTimeoutError, Sender, TryRecvError, TrySendError,
};
pub use future::block_on;
#[cfg(feature = "tokio")]
pub use future::tokio;
pub use sched::goroutine::{
    go, Builder, GoroutinePanic, JoinError, JoinHandle, SpawnError, SpawnErrorKind, UnhandledPanic,
};
pub use sched::runtime::{
    run, Exit, Handle, RunError, Runtime, RuntimeBuilder, DEADLOCK_GRACE, DEFAULT_STACK_SIZE,
};
pub use sched::{current_id, current_name, num_goroutine, workers, yield_now};
pub use select::{RecvOperand, RecvToken, Select, SendOperand, SendToken};
pub use wait::park::{park, Unparker};
pub use wait::reason::WaitReason;
