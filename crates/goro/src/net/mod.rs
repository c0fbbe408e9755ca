//! Networking that parks the goroutine, not the thread (Go's `net` package over its
//! netpoller).
//!
//! This folder owns the netpoller (`poller.rs`: one edge-triggered `mio::Poll`, its protocol,
//! and who polls it) and the sockets built on it: [`TcpListener`], [`TcpStream`],
//! [`UdpSocket`], [`UnixListener`] and [`UnixStream`]. Every socket is non-blocking underneath; an operation that would block waits
//! for the poller's next readiness edge, parking a goroutine (its worker runs others) or
//! sleeping a plain thread. Reads and writes have deadlines, as Go's `SetReadDeadline`: past
//! one, an operation fails with `io::ErrorKind::TimedOut` and the socket stays usable.

pub(crate) mod poller;
mod tcp;
mod udp;
mod unix;

use std::io;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

pub use tcp::{default_backlog, Incoming, TcpListener, TcpStream};
pub use udp::UdpSocket;
pub use unix::{UnixListener, UnixStream};

use crate::context::{Context, ContextError};
use poller::{Readiness, Registration};

/// A deadline that can be changed from any thread while operations use it: nanoseconds since
/// a process-wide base, 0 for none.
#[derive(Default)]
struct Deadline(AtomicU64);

fn base() -> Instant {
    static BASE: OnceLock<Instant> = OnceLock::new();
    *BASE.get_or_init(Instant::now)
}

impl Deadline {
    fn set(&self, at: Option<Instant>) {
        let n = at.map_or(0, |t| {
            u64::try_from(t.saturating_duration_since(base()).as_nanos())
                .unwrap_or(u64::MAX)
                .max(1)
        });
        self.0.store(n, Ordering::Relaxed);
    }

    fn get(&self) -> Option<Instant> {
        match self.0.load(Ordering::Relaxed) {
            0 => None,
            n => Some(base() + Duration::from_nanos(n)),
        }
    }
}

/// One direction's limits: an absolute deadline (Go's `SetReadDeadline`) and a timeout per
/// operation (std's `set_read_timeout`); the earlier applies.
#[derive(Default)]
struct Limits {
    deadline: Deadline,
    timeout_ns: AtomicU64,
}

impl Limits {
    /// The deadline of an operation starting now.
    fn for_op(&self) -> Option<Instant> {
        let per_op = match self.timeout_ns.load(Ordering::Relaxed) {
            0 => None,
            n => Some(crate::time::timer::deadline_after(Duration::from_nanos(n))),
        };
        earlier(self.deadline.get(), per_op)
    }

    fn set_timeout(&self, t: Option<Duration>) -> io::Result<()> {
        let n =
            match t {
                Some(d) if d.is_zero() => return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    "a zero timeout is not allowed (use a deadline in the past to fail at once)",
                )),
                Some(d) => u64::try_from(d.as_nanos()).unwrap_or(u64::MAX),
                None => 0,
            };
        self.timeout_ns.store(n, Ordering::Relaxed);
        Ok(())
    }

    fn timeout(&self) -> Option<Duration> {
        match self.timeout_ns.load(Ordering::Relaxed) {
            0 => None,
            n => Some(Duration::from_nanos(n)),
        }
    }
}

/// Runs the non-blocking `op` until it does not report `WouldBlock`, waiting on `dir` in
/// between (poller protocol steps 1-2), and failing with `TimedOut` past the limits.
fn io_loop<R>(
    dir: &Readiness,
    limits: &Limits,
    op: impl FnMut() -> io::Result<R>,
) -> io::Result<R> {
    wait_loop(dir, limits.for_op(), || None, op)
}

/// The loop of [`io_loop`] and [`io_loop_ctx`]: runs `op` until it does not report
/// `WouldBlock`, waiting on `dir` in between until `deadline`. `cut` says whether the
/// operation must end now, and with what error (never, for a plain operation); past the
/// deadline the error is `cut`'s, or `TimedOut`.
#[inline(always)]
fn wait_loop<R>(
    dir: &Readiness,
    deadline: Option<Instant>,
    cut: impl Fn() -> Option<io::Error>,
    mut op: impl FnMut() -> io::Result<R>,
) -> io::Result<R> {
    loop {
        let seen = dir.seen();
        match op() {
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                if let Some(e) = cut() {
                    return Err(e);
                }
                if deadline.is_some_and(|d| Instant::now() >= d) || !dir.wait(seen, deadline) {
                    return Err(cut().unwrap_or_else(|| {
                        io::Error::new(io::ErrorKind::TimedOut, "goro: i/o deadline exceeded")
                    }));
                }
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            r => return r,
        }
    }
}

/// The earlier of two optional deadlines.
fn earlier(a: Option<Instant>, b: Option<Instant>) -> Option<Instant> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// `io_loop` for an operation bound to `ctx` as well: it fails once `ctx` is done (with
/// [`context_error`]'s error), whether by its deadline, which bounds the wait as the
/// socket's own deadline does, or by a cancel, which wakes the waiting operation: the
/// cancel pokes the direction's readiness (`Context::on_done`), the operation tries again,
/// finds it would still block, and sees the context done.
fn io_loop_ctx<R>(
    state: &Arc<poller::IoState>,
    dir: fn(&poller::IoState) -> &Readiness,
    limits: &Limits,
    ctx: &Context,
    op: impl FnMut() -> io::Result<R>,
) -> io::Result<R> {
    if let Some(e) = ctx.err() {
        return Err(context_error(e));
    }
    let st = state.clone();
    let wake = ctx.on_done(move || dir(&st).notify());
    let deadline = earlier(limits.for_op(), ctx.deadline());
    let r = wait_loop(dir(state), deadline, || ctx.err().map(context_error), op);
    wake.stop();
    r
}

/// The error of a socket operation cut short by its context: `TimedOut` for a deadline,
/// `Other` for a cancel, each carrying the [`ContextError`] (get it back with
/// [`io::Error::get_ref`] and `downcast_ref`, or with [`context_error_of`]).
pub fn context_error(e: ContextError) -> io::Error {
    let kind = match e {
        ContextError::DeadlineExceeded => io::ErrorKind::TimedOut,
        _ => io::ErrorKind::Other,
    };
    io::Error::new(kind, e)
}

/// The context's error, if `e` is a socket operation's that its context cut short.
pub fn context_error_of(e: &io::Error) -> Option<ContextError> {
    e.get_ref()?.downcast_ref::<ContextError>().copied()
}

/// A registered socket with the limits of its two directions.
pub(crate) struct Socket<S: mio::event::Source> {
    pub(crate) io: S,
    reg: Registration,
    read: Limits,
    write: Limits,
}

impl<S: mio::event::Source> Socket<S> {
    pub(crate) fn new(mut io: S) -> io::Result<Self> {
        let reg = Registration::new(&mut io)?;
        Ok(Socket {
            io,
            reg,
            read: Limits::default(),
            write: Limits::default(),
        })
    }

    pub(crate) fn read_with<R>(&self, mut op: impl FnMut(&S) -> io::Result<R>) -> io::Result<R> {
        io_loop(&self.reg.state.read, &self.read, || op(&self.io))
    }

    pub(crate) fn write_with<R>(&self, mut op: impl FnMut(&S) -> io::Result<R>) -> io::Result<R> {
        io_loop(&self.reg.state.write, &self.write, || op(&self.io))
    }

    pub(crate) fn read_ctx<R>(
        &self,
        ctx: &Context,
        mut op: impl FnMut(&S) -> io::Result<R>,
    ) -> io::Result<R> {
        io_loop_ctx(
            &self.reg.state,
            |s| &s.read,
            &self.read,
            ctx,
            || op(&self.io),
        )
    }

    fn write_ctx<R>(
        &self,
        ctx: &Context,
        mut op: impl FnMut(&S) -> io::Result<R>,
    ) -> io::Result<R> {
        io_loop_ctx(
            &self.reg.state,
            |s| &s.write,
            &self.write,
            ctx,
            || op(&self.io),
        )
    }
}

/// A stream connect's end, seen once the socket is writable (the handshake ended one way or
/// the other): the pending error, or `WouldBlock` while the peer is not there yet.
fn connected(error: io::Result<Option<io::Error>>, peer: io::Result<()>) -> io::Result<()> {
    match error? {
        Some(e) => Err(e),
        None => match peer {
            Err(e) if e.kind() == io::ErrorKind::NotConnected => {
                Err(io::ErrorKind::WouldBlock.into())
            }
            r => r,
        },
    }
}

/// `Read` and `Write` for a stream socket type and for shared references to it (so one
/// goroutine can read while another writes), over its `Socket`'s readiness.
macro_rules! stream_io {
    ($t:ty) => {
        impl std::io::Read for &$t {
            fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
                self.s.read_with(|mut io| std::io::Read::read(&mut io, buf))
            }
        }

        impl std::io::Write for &$t {
            fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
                self.s
                    .write_with(|mut io| std::io::Write::write(&mut io, buf))
            }

            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }

        impl std::io::Read for $t {
            fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
                std::io::Read::read(&mut &*self, buf)
            }
        }

        impl std::io::Read for $crate::net::WithContext<'_, $t> {
            fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
                self.io
                    .s
                    .read_ctx(self.ctx, |mut io| std::io::Read::read(&mut io, buf))
            }
        }

        impl std::io::Write for $crate::net::WithContext<'_, $t> {
            fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
                self.io
                    .s
                    .write_ctx(self.ctx, |mut io| std::io::Write::write(&mut io, buf))
            }

            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }

        impl $t {
            /// This stream's reads and writes bound to `ctx` (Go code passes a context to
            /// its calls): each fails once `ctx` is done, at its deadline or the moment it
            /// is cancelled, with [`context_error`](crate::net::context_error)'s error; the
            /// stream's own deadlines apply too. The stream stays usable afterwards.
            pub fn with_context<'a>(
                &'a self,
                ctx: &'a $crate::context::Context,
            ) -> $crate::net::WithContext<'a, $t> {
                $crate::net::WithContext { io: self, ctx }
            }
        }

        impl std::io::Write for $t {
            fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
                std::io::Write::write(&mut &*self, buf)
            }

            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
    };
}
use stream_io;

/// A stream's reads and writes bound to a context: see `TcpStream::with_context`.
#[derive(Debug)]
pub struct WithContext<'a, S> {
    io: &'a S,
    ctx: &'a Context,
}

/// The deadline and timeout setters every socket type shares.
macro_rules! limit_methods {
    () => {
        /// Reads (and accepts) fail with `TimedOut` once `deadline` passes, until it is
        /// changed (Go's `SetReadDeadline`). `None` removes it.
        pub fn set_read_deadline(&self, deadline: Option<std::time::Instant>) {
            self.s.read.deadline.set(deadline);
        }

        /// Writes fail with `TimedOut` once `deadline` passes (Go's `SetWriteDeadline`).
        pub fn set_write_deadline(&self, deadline: Option<std::time::Instant>) {
            self.s.write.deadline.set(deadline);
        }

        /// Each read waits at most `timeout` (std's `set_read_timeout`); zero is an error.
        pub fn set_read_timeout(
            &self,
            timeout: Option<std::time::Duration>,
        ) -> std::io::Result<()> {
            self.s.read.set_timeout(timeout)
        }

        /// Each write waits at most `timeout`; zero is an error.
        pub fn set_write_timeout(
            &self,
            timeout: Option<std::time::Duration>,
        ) -> std::io::Result<()> {
            self.s.write.set_timeout(timeout)
        }

        /// The per-read timeout.
        pub fn read_timeout(&self) -> Option<std::time::Duration> {
            self.s.read.timeout()
        }

        /// The per-write timeout.
        pub fn write_timeout(&self) -> Option<std::time::Duration> {
            self.s.write.timeout()
        }
    };
}
use limit_methods;

/// Raises the soft limit on open file descriptors to the hard limit (see
/// `RuntimeBuilder::raise_fd_limit`). Failing leaves the limit as it was: it only makes room.
pub(crate) fn raise_fd_limit() {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `lim` is a valid out-parameter for getrlimit, and a valid input for setrlimit.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) == 0 && lim.rlim_cur < lim.rlim_max {
            lim.rlim_cur = lim.rlim_max;
            libc::setrlimit(libc::RLIMIT_NOFILE, &lim);
        }
    }
}
