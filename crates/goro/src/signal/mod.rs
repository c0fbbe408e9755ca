//! Signals as channel values (Go's `os/signal`): [`notify`] returns a [`Receiver`] on which
//! the signals asked for arrive, so a goroutine waits for Ctrl-C in a `select!` beside its
//! other work, and a server shuts down gracefully on `SIGTERM`.
//!
//! # How a signal reaches the channel
//!
//! 1. The first [`notify`] for a signal installs goro's handler for it (`sigaction`,
//!    `SA_RESTART`). The handler does only what a handler may: it writes the signal's number
//!    as one byte to a pipe (its write end non-blocking: a full pipe drops the byte, as Go
//!    drops a signal nobody has room for), keeping `errno` as it was.
//! 2. A `goro-signals` thread reads the pipe. For each byte it visits the registrations of
//!    that signal, under the registry's lock, and `try_send`s the signal on each: a channel
//!    whose buffer is full does not get it (Go's `signal.Notify` never blocks either).
//! 3. A registration whose receivers are all dropped is removed. When a signal arrives and no
//!    registration for it is left, the thread puts the signal's default action back and
//!    raises it again: a program that no longer listens for Ctrl-C dies of it, as it would
//!    have without goro's handler (Go's `signal.Stop` then `signal.Reset`).
//!
//! `notify` and step 3 both run under the registry's lock, so a handler is never taken away
//! from a signal somebody has just asked for. While a registration is live, the deadlock
//! detector counts the signal as something that may still wake a goroutine (Go's signal
//! goroutine does the same), so a program that waits for `SIGTERM` and nothing else is not
//! reported as deadlocked.

use std::fmt;
use std::io::{self, Read};
use std::os::fd::FromRawFd;
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::Mutex;

use crate::{Receiver, Sender};

/// A signal [`notify`] can deliver. Signals a program cannot catch (`SIGKILL`, `SIGSTOP`),
/// faults (`SIGSEGV`, which goro's stack overflow report uses, `SIGBUS`, `SIGFPE`, `SIGILL`),
/// `SIGPIPE` (ignored by Rust programs, so a closed socket is an error instead) and `SIGQUIT`
/// (goro's goroutine dump) are not offered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Signal {
    /// `SIGINT`: Ctrl-C in a terminal (Go's `os.Interrupt`).
    Interrupt,
    /// `SIGTERM`: the polite request to stop (`kill`, systemd, Kubernetes).
    Terminate,
    /// `SIGHUP`: the terminal went away; daemons take it as "reload your configuration".
    Hangup,
    /// `SIGUSR1`, for the program's own use.
    User1,
    /// `SIGUSR2`, for the program's own use.
    User2,
    /// `SIGWINCH`: the terminal changed size.
    WindowChange,
    /// `SIGALRM`: an `alarm(2)` timer expired.
    Alarm,
}

impl Signal {
    const ALL: [Signal; 7] = [
        Signal::Interrupt,
        Signal::Terminate,
        Signal::Hangup,
        Signal::User1,
        Signal::User2,
        Signal::WindowChange,
        Signal::Alarm,
    ];

    /// The signal's number (`libc::SIGINT` for [`Signal::Interrupt`], ...).
    pub fn number(self) -> i32 {
        match self {
            Signal::Interrupt => libc::SIGINT,
            Signal::Terminate => libc::SIGTERM,
            Signal::Hangup => libc::SIGHUP,
            Signal::User1 => libc::SIGUSR1,
            Signal::User2 => libc::SIGUSR2,
            Signal::WindowChange => libc::SIGWINCH,
            Signal::Alarm => libc::SIGALRM,
        }
    }

    /// The signal whose number is `n`, if [`notify`] offers it.
    pub fn from_number(n: i32) -> Option<Signal> {
        Signal::ALL.into_iter().find(|s| s.number() == n)
    }

    /// This signal's bit in a registration's set.
    fn bit(self) -> u32 {
        1 << (self as u32)
    }
}

/// As Go prints them (`os.Interrupt` prints "interrupt").
impl fmt::Display for Signal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Signal::Interrupt => "interrupt",
            Signal::Terminate => "terminated",
            Signal::Hangup => "hangup",
            Signal::User1 => "user defined signal 1",
            Signal::User2 => "user defined signal 2",
            Signal::WindowChange => "window changed",
            Signal::Alarm => "alarm clock",
        })
    }
}

/// One `notify`: the signals it asked for, and where they go.
struct Registration {
    signals: u32,
    tx: Sender<Signal>,
}

/// The registrations, and the signals goro's handler is installed for (one bit each).
struct Registry {
    regs: Vec<Registration>,
    installed: u32,
}

impl Registry {
    /// Forgets the registrations whose receivers are all gone.
    fn prune(&mut self) {
        self.regs.retain(|r| !r.tx.is_closed());
    }
}

static REGISTRY: Mutex<Registry> = Mutex::new(Registry {
    regs: Vec::new(),
    installed: 0,
});

/// The pipe's write end, once made (-1 before).
static WRITE_FD: AtomicI32 = AtomicI32::new(-1);

fn registry() -> std::sync::MutexGuard<'static, Registry> {
    REGISTRY.lock().unwrap_or_else(|e| e.into_inner())
}

/// Relays `signals` to the returned channel from now on (Go's `signal.Notify`): each time one
/// arrives, it is sent on the channel unless the channel's buffer (one place per signal asked
/// for) is full, in which case that delivery is dropped, as Go drops it. Any number of
/// channels may ask for the same signal; each gets it. Dropping every [`Receiver`] of the
/// channel ends the registration; once no registration of a signal is left, the next such
/// signal has its default effect again (Ctrl-C ends the program).
///
/// Works on goroutines and plain threads alike; the channel is an ordinary one, for
/// `select!`, `recv_timeout` or a loop.
///
/// # Errors
///
/// If the process cannot make the pipe or start the thread that relays signals (it is out
/// of descriptors or threads). Nothing is installed then.
///
/// # Examples
///
/// ```
/// use goro::signal::{self, Signal};
///
/// goro::run(|| {
///     let sigs = signal::notify(&[Signal::User1]).unwrap();
///     // SAFETY: raise(3) has no preconditions; goro's handler is installed for SIGUSR1.
///     unsafe { libc::raise(libc::SIGUSR1) };
///     assert_eq!(sigs.recv(), Ok(Signal::User1));
/// })
/// .unwrap();
/// ```
pub fn notify(signals: &[Signal]) -> io::Result<Receiver<Signal>> {
    let set = signals.iter().fold(0, |set, s| set | s.bit());
    let (tx, rx) = crate::chan(set.count_ones().max(1) as usize);
    let mut reg = registry();
    start_relay()?;
    reg.prune();
    for s in Signal::ALL {
        if set & s.bit() != 0 && reg.installed & s.bit() == 0 {
            install(s);
            reg.installed |= s.bit();
        }
    }
    reg.regs.push(Registration { signals: set, tx });
    Ok(rx)
}

/// True while some channel still listens for a signal: the deadlock detector's "a signal may
/// still wake a goroutine".
pub(crate) fn watching() -> bool {
    let mut reg = registry();
    reg.prune();
    !reg.regs.is_empty()
}

extern "C" fn on_signal(sig: libc::c_int) {
    let fd = WRITE_FD.load(Ordering::Relaxed);
    if fd < 0 {
        return;
    }
    // SAFETY: errno is this thread's; write(2) is async-signal-safe and writes one byte from
    // a live local; the write end is non-blocking, so a full pipe drops the byte.
    unsafe {
        let errno = *libc::__errno_location();
        let b = sig as u8;
        libc::write(fd, (&raw const b).cast(), 1);
        *libc::__errno_location() = errno;
    }
}

/// Installs goro's handler for `s`.
fn install(s: Signal) {
    // SAFETY: a zeroed sigaction with our handler and SA_RESTART (a system call the signal
    // interrupts is restarted, as Go's handlers ask); the handler only calls write(2).
    unsafe {
        let mut sa: libc::sigaction = std::mem::zeroed();
        sa.sa_sigaction = on_signal as *const () as usize;
        sa.sa_flags = libc::SA_RESTART;
        libc::sigemptyset(&mut sa.sa_mask);
        libc::sigaction(s.number(), &sa, std::ptr::null_mut());
    }
}

/// Makes the pipe and starts the relay thread, the first time (called with the registry
/// locked, so once).
fn start_relay() -> io::Result<()> {
    if WRITE_FD.load(Ordering::Relaxed) >= 0 {
        return Ok(());
    }
    let mut fds = [0i32; 2];
    // SAFETY: pipe2 writes two descriptors into the array we pass.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return Err(io::Error::last_os_error());
    }
    let (rd, wr) = (fds[0], fds[1]);
    // SAFETY: fcntl on a descriptor we own.
    unsafe { libc::fcntl(wr, libc::F_SETFL, libc::O_NONBLOCK) };
    // SAFETY: `rd` is ours alone from here on; the File closes it if the thread ends.
    let pipe = unsafe { std::fs::File::from_raw_fd(rd) };
    let started = std::thread::Builder::new()
        .name("goro-signals".into())
        .spawn(move || relay(pipe));
    if let Err(e) = started {
        // SAFETY: `wr` is ours and was never published; the read end went with the closure.
        unsafe { libc::close(wr) };
        return Err(e);
    }
    WRITE_FD.store(wr, Ordering::Relaxed);
    Ok(())
}

/// The relay thread: one byte per signal, for as long as the process lives.
fn relay(mut pipe: std::fs::File) {
    let mut buf = [0u8; 64];
    loop {
        let n = match pipe.read(&mut buf) {
            Ok(0) => return,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(_) => return,
        };
        for &b in &buf[..n] {
            if let Some(s) = Signal::from_number(i32::from(b)) {
                deliver(s);
            }
        }
    }
}

/// Sends `s` to every live registration of it; with none left, restores its default action
/// and raises it again.
fn deliver(s: Signal) {
    let mut reg = registry();
    reg.prune();
    let mut heard = false;
    for r in reg.regs.iter().filter(|r| r.signals & s.bit() != 0) {
        heard = true;
        let _ = r.tx.try_send(s); // a full buffer drops this delivery, as Go does
    }
    if heard {
        return;
    }
    reg.installed &= !s.bit();
    // SAFETY: putting back the default action of a catchable signal; raise(3) then has it
    // take its default effect (for most, the end of the process).
    unsafe {
        libc::signal(s.number(), libc::SIG_DFL);
        libc::raise(s.number());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_round_trip_and_names_are_go_s() {
        for s in Signal::ALL {
            assert_eq!(Signal::from_number(s.number()), Some(s));
        }
        assert_eq!(Signal::from_number(libc::SIGKILL), None);
        assert_eq!(Signal::from_number(libc::SIGQUIT), None);
        assert_eq!(Signal::Interrupt.to_string(), "interrupt");
        assert_eq!(Signal::Terminate.to_string(), "terminated");
    }
}
