//! Child processes (Go's `os/exec`): [`Command`] starts one, and waiting for it, reading its
//! output or writing its input parks the goroutine, never the worker's thread.
//!
//! # How a wait parks
//!
//! Where the kernel has them (Linux 5.3), a child gets a pidfd, registered with the
//! netpoller like a socket: it becomes readable when the child exits, so `wait` is the
//! netpoller's usual loop (try `waitpid(WNOHANG)`; if the child still runs, park until the
//! next readiness edge). A thousand children waited for cost no thread. Without pidfds (or
//! with `GORO_PIDFD=0`), the wait runs on the blocking pool (`waitid` with `WNOWAIT`, then
//! the reap). The child's pipes are non-blocking and registered too: reading its output
//! parks as reading a socket does.
//!
//! # Killing it when a context is done
//!
//! [`Command::context`] is Go's `exec.CommandContext`: when the context is done before the
//! child has been reaped, the child is killed (`SIGKILL`, through the pidfd when there is
//! one, so the signal cannot reach another process that reused the pid), and `wait`,
//! `status` and `output` return the context's error (`net::context_error`). The kill and the
//! reap take one lock, so a pid is never signalled after it has been reaped.

use std::ffi::OsStr;
use std::io::{self, Read, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::path::Path;
use std::process::{ExitStatus, Output, Stdio};
use std::sync::{Arc, Mutex};

use crate::context::{AfterCancel, Context};
use crate::net::Socket;

/// A command to run (Go's `exec.Cmd`), built as `std::process::Command` is.
///
/// # Examples
///
/// ```
/// use goro::process::Command;
///
/// goro::run(|| {
///     let out = Command::new("echo").arg("hello").output().unwrap();
///     assert!(out.status.success());
///     assert_eq!(out.stdout, b"hello\n");
/// })
/// .unwrap();
/// ```
#[derive(Debug)]
pub struct Command {
    std: std::process::Command,
    ctx: Option<Context>,
    stdin_set: bool,
}

impl Command {
    /// A command that runs `program` (looked up in `PATH` as `std` does).
    pub fn new(program: impl AsRef<OsStr>) -> Command {
        Command {
            std: std::process::Command::new(program),
            ctx: None,
            stdin_set: false,
        }
    }

    /// Adds an argument.
    pub fn arg(&mut self, arg: impl AsRef<OsStr>) -> &mut Command {
        self.std.arg(arg);
        self
    }

    /// Adds arguments.
    pub fn args<I, S>(&mut self, args: I) -> &mut Command
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.std.args(args);
        self
    }

    /// Sets an environment variable of the child.
    pub fn env(&mut self, key: impl AsRef<OsStr>, val: impl AsRef<OsStr>) -> &mut Command {
        self.std.env(key, val);
        self
    }

    /// Removes an environment variable from the child's environment.
    pub fn env_remove(&mut self, key: impl AsRef<OsStr>) -> &mut Command {
        self.std.env_remove(key);
        self
    }

    /// Starts the child with an empty environment.
    pub fn env_clear(&mut self) -> &mut Command {
        self.std.env_clear();
        self
    }

    /// The child's working directory.
    pub fn current_dir(&mut self, dir: impl AsRef<Path>) -> &mut Command {
        self.std.current_dir(dir);
        self
    }

    /// The child's standard input (inherited by default, null for `output`).
    pub fn stdin(&mut self, cfg: impl Into<Stdio>) -> &mut Command {
        self.stdin_set = true;
        self.std.stdin(cfg);
        self
    }

    /// The child's standard output (inherited by default, piped for `output`).
    pub fn stdout(&mut self, cfg: impl Into<Stdio>) -> &mut Command {
        self.std.stdout(cfg);
        self
    }

    /// The child's standard error (inherited by default, piped for `output`).
    pub fn stderr(&mut self, cfg: impl Into<Stdio>) -> &mut Command {
        self.std.stderr(cfg);
        self
    }

    /// Kills the child when `ctx` is done before it exits (Go's `exec.CommandContext`); the
    /// wait then returns the context's error. A command whose context is already done does
    /// not start.
    pub fn context(&mut self, ctx: &Context) -> &mut Command {
        self.ctx = Some(ctx.clone());
        self
    }

    /// The `std` command underneath, for settings this type does not repeat (`uid`,
    /// `process_group`, `pre_exec`, ...).
    pub fn as_std_mut(&mut self) -> &mut std::process::Command {
        &mut self.std
    }

    /// Starts the child (Go's `Cmd.Start`).
    ///
    /// # Errors
    ///
    /// If the program cannot be started, its pipes cannot be registered, or the context
    /// is done already (its error, as `net::context_error` makes it).
    pub fn spawn(&mut self) -> io::Result<Child> {
        if let Some(e) = self.ctx.as_ref().and_then(Context::err) {
            return Err(crate::net::context_error(e));
        }
        Child::new(self.std.spawn()?, self.ctx.clone())
    }

    /// Runs the child with the standard streams it was given (inherited by default) and
    /// waits for it (Go's `Cmd.Run`).
    ///
    /// # Errors
    ///
    /// As [`spawn`](Self::spawn) and [`Child::wait`].
    pub fn status(&mut self) -> io::Result<ExitStatus> {
        self.spawn()?.wait()
    }

    /// Runs the child with its standard output and error captured and its input null
    /// (unless set), and waits for it (Go's `Cmd.Output`, with the error output too).
    ///
    /// # Errors
    ///
    /// As [`spawn`](Self::spawn) and [`Child::wait_with_output`].
    ///
    /// It sets the command's streams for that (output and error piped, input null unless
    /// [`stdin`](Self::stdin) set it), and they stay so for a later `spawn`.
    pub fn output(&mut self) -> io::Result<Output> {
        if !self.stdin_set {
            self.std.stdin(Stdio::null());
        }
        self.std.stdout(Stdio::piped()).stderr(Stdio::piped());
        self.spawn()?.wait_with_output()
    }
}

/// A running child (Go's `exec.Cmd` after `Start`). Its pipes, when asked for, park the
/// goroutine that reads or writes them. Dropping it neither kills nor waits for the child,
/// as with `std`.
pub struct Child {
    std: std::process::Child,
    /// The child's pidfd in the netpoller; `None` where the kernel has none.
    pidfd: Option<Socket<PidFd>>,
    /// Shared with the context's kill (see the module doc).
    state: Arc<Mutex<Fate>>,
    ctx: Option<Context>,
    /// The kill registered with the context, withdrawn once the child is reaped.
    watch: Option<AfterCancel>,
    /// The exit status, once reaped.
    status: Option<ExitStatus>,
    /// The write end of the child's standard input, if piped.
    pub stdin: Option<ChildStdin>,
    /// The read end of the child's standard output, if piped.
    pub stdout: Option<ChildStdout>,
    /// The read end of the child's standard error, if piped.
    pub stderr: Option<ChildStderr>,
}

impl std::fmt::Debug for Child {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Child")
            .field("id", &self.std.id())
            .field("pidfd", &self.pidfd.is_some())
            .field("status", &self.status)
            .finish_non_exhaustive()
    }
}

/// What happened to the child, under the lock the kill and the reap share.
#[derive(Debug, Default)]
struct Fate {
    reaped: bool,
    killed: bool,
}

impl Child {
    fn new(mut std: std::process::Child, ctx: Option<Context>) -> io::Result<Child> {
        let parts = (|| {
            let pidfd = PidFd::open(std.id()).map(Socket::new).transpose()?;
            let stdin = std.stdin.take().map(ChildStdin::new).transpose()?;
            let stdout = std.stdout.take().map(ChildStdout::new).transpose()?;
            let stderr = std.stderr.take().map(ChildStderr::new).transpose()?;
            io::Result::Ok((pidfd, stdin, stdout, stderr))
        })();
        let (pidfd, stdin, stdout, stderr) = match parts {
            Ok(parts) => parts,
            Err(e) => {
                // Its pidfd or a pipe could not be registered (out of descriptors or
                // memory): the caller gets the error, and no child is left running or
                // unreaped.
                let _ = std.kill();
                let _ = std.wait();
                return Err(e);
            }
        };
        let state = Arc::new(Mutex::new(Fate::default()));
        let watch = ctx.as_ref().map(|ctx| {
            let (state, pid) = (state.clone(), std.id());
            let fd = pidfd.as_ref().and_then(|p| p.io.0.try_clone().ok());
            ctx.on_done(move || {
                let mut fate = state.lock().unwrap_or_else(|e| e.into_inner());
                if !fate.reaped {
                    fate.killed = true;
                    kill(fd.as_ref(), pid);
                }
            })
        });
        Ok(Child {
            std,
            pidfd,
            state,
            ctx,
            watch,
            status: None,
            stdin,
            stdout,
            stderr,
        })
    }

    /// The child's process id.
    pub fn id(&self) -> u32 {
        self.std.id()
    }

    /// Kills the child (`SIGKILL`); killing one that has exited is not an error.
    pub fn kill(&mut self) -> io::Result<()> {
        let fate = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if !fate.reaped {
            kill(self.pidfd.as_ref().map(|p| &p.io.0), self.std.id());
        }
        Ok(())
    }

    /// The exit status if the child has exited (reaping it), without waiting.
    pub fn try_wait(&mut self) -> io::Result<Option<ExitStatus>> {
        if self.status.is_none() {
            self.status = reap(&mut self.std, &self.state)?;
        }
        self.outcome().transpose()
    }

    /// Waits for the child to exit, parking the goroutine (Go's `Cmd.Wait`). Its standard
    /// input, if piped, is closed first, so a child that reads to the end can finish.
    ///
    /// # Errors
    ///
    /// The context's error if [`Command::context`]'s context killed the child; an error of
    /// `waitpid` otherwise.
    pub fn wait(&mut self) -> io::Result<ExitStatus> {
        drop(self.stdin.take());
        if self.status.is_none() {
            let (std, state) = (&mut self.std, &self.state);
            let status = match &self.pidfd {
                Some(p) => p.read_with(|_| {
                    reap(std, state)?.ok_or_else(|| io::ErrorKind::WouldBlock.into())
                }),
                None => crate::blocking(|| {
                    wait_exited(std.id())?;
                    reap(std, state)?.ok_or_else(|| io::Error::other("the child did not exit"))
                }),
            }?;
            self.status = Some(status);
        }
        self.outcome().expect("reaped")
    }

    /// Waits for the child, collecting what it writes to its piped standard output and
    /// error (both read at once, so neither pipe fills and stalls it).
    ///
    /// # Errors
    ///
    /// As [`wait`](Self::wait), or an error reading a pipe.
    pub fn wait_with_output(mut self) -> io::Result<Output> {
        drop(self.stdin.take());
        // Bound to the context too: a grandchild that keeps the pipes open must not keep
        // a killed child's caller waiting (Go's `Cmd.WaitDelay` problem).
        let ctx = self.ctx.clone().unwrap_or_else(Context::background);
        let err = self.stderr.take().map(|e| {
            let ctx = ctx.clone();
            let read = move || {
                let mut v = Vec::new();
                read_all(&e.0, &ctx, &mut v).map(|_| v)
            };
            match crate::Builder::new().name("os/exec stderr").spawn(read) {
                Ok(h) => Reader::Goroutine(h),
                Err(e) => Reader::Thread(std::thread::spawn(e.into_inner())),
            }
        });
        let mut stdout = Vec::new();
        let read_out = match self.stdout.take() {
            Some(o) => read_all(&o.0, &ctx, &mut stdout),
            None => Ok(()),
        };
        let stderr = err.map(Reader::join).transpose();
        // The wait comes first among the errors: the context's, if it killed the child.
        let status = self.wait()?;
        read_out?;
        let stderr = stderr?.unwrap_or_default();
        Ok(Output {
            status,
            stdout,
            stderr,
        })
    }

    /// The reaped child's outcome: its status, or the context's error if the context killed
    /// it. `None` before it is reaped.
    fn outcome(&mut self) -> Option<io::Result<ExitStatus>> {
        let status = self.status?;
        if let Some(w) = self.watch.take() {
            w.stop();
        }
        let killed = self.state.lock().unwrap_or_else(|e| e.into_inner()).killed;
        match self.ctx.as_ref().and_then(Context::err) {
            Some(e) if killed => Some(Err(crate::net::context_error(e))),
            _ => Some(Ok(status)),
        }
    }
}

/// Reads a child's pipe to its end, or until `ctx` is done.
fn read_all(
    pipe: &Socket<mio::unix::pipe::Receiver>,
    ctx: &Context,
    into: &mut Vec<u8>,
) -> io::Result<()> {
    let mut buf = [0u8; 16 * 1024];
    loop {
        match pipe.read_ctx(ctx, |mut io| io.read(&mut buf)) {
            Ok(0) => return Ok(()),
            Ok(n) => into.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}

/// The reader of a pipe that `wait_with_output` reads beside the other.
enum Reader {
    Goroutine(crate::JoinHandle<io::Result<Vec<u8>>>),
    Thread(std::thread::JoinHandle<io::Result<Vec<u8>>>),
}

impl Reader {
    fn join(self) -> io::Result<Vec<u8>> {
        match self {
            Reader::Goroutine(h) => h
                .join()
                .unwrap_or_else(|e| Err(io::Error::other(e.to_string()))),
            Reader::Thread(t) => t
                .join()
                .unwrap_or_else(|_| Err(io::Error::other("the pipe's reader panicked"))),
        }
    }
}

/// Reaps the child if it has exited (`waitpid(WNOHANG)`), under the lock the kill takes.
fn reap(child: &mut std::process::Child, state: &Mutex<Fate>) -> io::Result<Option<ExitStatus>> {
    let mut fate = state.lock().unwrap_or_else(|e| e.into_inner());
    let r = child.try_wait()?;
    if r.is_some() {
        fate.reaped = true;
    }
    Ok(r)
}

/// Waits, on a blocking-pool thread, until child `pid` has exited, leaving it to be reaped
/// (`WNOWAIT`): the reap then happens under the kill's lock.
fn wait_exited(pid: u32) -> io::Result<()> {
    loop {
        // SAFETY: an all-zero siginfo_t is a valid out-parameter for waitid.
        let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
        // SAFETY: waitid on our own child, writing into a live siginfo_t.
        let r = unsafe {
            libc::waitid(
                libc::P_PID,
                pid as libc::id_t,
                &mut info,
                libc::WEXITED | libc::WNOWAIT,
            )
        };
        if r == 0 {
            return Ok(());
        }
        let e = io::Error::last_os_error();
        if e.kind() != io::ErrorKind::Interrupted {
            return Err(e);
        }
    }
}

/// Sends `SIGKILL`: through the pidfd if there is one, else to the pid (the caller holds the
/// lock that keeps the pid from being reaped meanwhile).
fn kill(pidfd: Option<&OwnedFd>, pid: u32) {
    // SAFETY: pidfd_send_signal on a live pidfd with no siginfo, or kill(2) on our
    // unreaped child's pid; neither touches our memory.
    unsafe {
        match pidfd {
            Some(fd) => {
                libc::syscall(
                    libc::SYS_pidfd_send_signal,
                    fd.as_raw_fd(),
                    libc::SIGKILL,
                    std::ptr::null::<libc::siginfo_t>(),
                    0,
                );
            }
            None => {
                libc::kill(pid as libc::pid_t, libc::SIGKILL);
            }
        }
    }
}

/// A child's pidfd, readable once it exits: a source for the netpoller.
#[derive(Debug)]
struct PidFd(OwnedFd);

impl PidFd {
    /// The pidfd of child `pid`; `None` where the kernel has none (before 5.3), or with
    /// `GORO_PIDFD=0`.
    fn open(pid: u32) -> Option<PidFd> {
        if std::env::var("GORO_PIDFD").is_ok_and(|v| v == "0") {
            return None;
        }
        // SAFETY: pidfd_open takes a pid and flags and returns a new descriptor or -1.
        let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid as libc::pid_t, 0) };
        let fd = i32::try_from(fd).ok().filter(|&fd| fd >= 0)?;
        // SAFETY: pidfd_open returned a descriptor nobody else owns.
        Some(PidFd(unsafe { OwnedFd::from_raw_fd(fd) }))
    }
}

impl mio::event::Source for PidFd {
    fn register(
        &mut self,
        registry: &mio::Registry,
        token: mio::Token,
        interests: mio::Interest,
    ) -> io::Result<()> {
        mio::unix::SourceFd(&self.0.as_raw_fd()).register(registry, token, interests)
    }

    fn reregister(
        &mut self,
        registry: &mio::Registry,
        token: mio::Token,
        interests: mio::Interest,
    ) -> io::Result<()> {
        mio::unix::SourceFd(&self.0.as_raw_fd()).reregister(registry, token, interests)
    }

    fn deregister(&mut self, registry: &mio::Registry) -> io::Result<()> {
        mio::unix::SourceFd(&self.0.as_raw_fd()).deregister(registry)
    }
}

/// Defines a child pipe end over a non-blocking mio pipe, registered with the netpoller.
macro_rules! pipe_end {
    ($(#[$doc:meta])* $name:ident, $std:ty, $mio:ty) => {
        $(#[$doc])*
        pub struct $name(Socket<$mio>);

        impl std::fmt::Debug for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(stringify!($name))
            }
        }

        impl $name {
            fn new(p: $std) -> io::Result<$name> {
                let io = <$mio>::from(p);
                io.set_nonblocking(true)?;
                Ok($name(Socket::new(io)?))
            }
        }
    };
}

pipe_end!(
    /// The write end of a child's standard input; writes park the goroutine while the pipe
    /// is full. Dropping it closes the pipe (the child sees the end of its input).
    ChildStdin,
    std::process::ChildStdin,
    mio::unix::pipe::Sender
);
pipe_end!(
    /// The read end of a child's standard output; reads park the goroutine.
    ChildStdout,
    std::process::ChildStdout,
    mio::unix::pipe::Receiver
);
pipe_end!(
    /// The read end of a child's standard error; reads park the goroutine.
    ChildStderr,
    std::process::ChildStderr,
    mio::unix::pipe::Receiver
);

impl Write for ChildStdin {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.write_with(|mut io| io.write(buf))
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Read for ChildStdout {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.0.read_with(|mut io| io.read(buf))
    }
}

impl Read for ChildStderr {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.0.read_with(|mut io| io.read(buf))
    }
}
