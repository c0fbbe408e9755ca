//! The netpoller: one `mio::Poll` (epoll, edge-triggered) for the process, and the readiness
//! state of every registered socket.
//!
//! # Protocol
//!
//! A socket is registered once, for reading and writing, edge-triggered, under a token that
//! names its [`IoState`]. Each direction has a readiness generation and a [`WaitList`]:
//!
//! 1. An operation reads the generation, then tries the non-blocking system call.
//! 2. On `WouldBlock` it waits in the direction's list unless, under the list's lock, the
//!    generation has moved since step 1, and then goes back to step 1. It gives up with
//!    `TimedOut` at the socket's deadline for that direction.
//! 3. Whoever takes an event for the token bumps the generation under the list's lock and
//!    wakes every waiter. Because step 1 read the generation before the system call, an edge
//!    that arrives between the call and the wait is never lost: the wait sees the new
//!    generation and does not park.
//!
//! Waiting goes through the wait list, so a goroutine parks (its worker runs others) and a
//! plain OS thread sleeps; both are woken by whoever takes the event.
//!
//! # Who polls
//!
//! Edge-triggered events go to one caller of `epoll_wait` only, so any number of threads may
//! look and none sees an edge twice. As in Go's `findrunnable`:
//!
//! * Workers look without blocking ([`poll_now`]) every 61 scheduling ticks and before they
//!   go to sleep. A goroutine woken by its own worker's look goes straight to that worker's
//!   queue, without a cross-thread wake-up.
//! * **The poll role.** At most one thread at a time blocks in `epoll_wait`: the holder of
//!   the role ([`Role`], a flag taken by compare-and-swap). A worker that goes to sleep takes
//!   it if it is free and sleeps in `epoll_wait` instead of on its futex, so an event wakes
//!   the very thread that will run the goroutine: one context switch, where a dedicated
//!   thread would cost two (its own, then the worker's) and would take every event the
//!   moment it arrives, even while the workers are busy and about to look themselves.
//! * **Breaking in.** A worker asleep in `epoll_wait` is woken by [`interrupt`]: a write to
//!   an eventfd registered *level-triggered*, so it stays ready for every caller until the
//!   role's holder drains it after its wait (Go's `netpollBreak`). The other callers skip it.
//!   A waker (see `WorkerShared::wake`) first makes its work visible, then reads the worker's
//!   `polling` flag, which the worker sets before its last look for work: SeqCst on both
//!   sides, so either the worker sees the work or the waker sees the flag and breaks in.
//! * **The `goro-netpoll` thread** covers what no worker can. With no worker in the process
//!   (sockets used from plain threads, or between runtimes) it takes the role and blocks in
//!   `epoll_wait` itself; a worker that starts breaks in so the role goes to the workers.
//!   With workers, it acts as Go's `sysmon`: every [`SYSMON_TICK`] it looks without blocking
//!   if the role is free and nobody looked since its last tick (every worker busy in a long
//!   run, the others asleep on their futexes). After [`SYSMON_IDLE_TICKS`] ticks in a row
//!   with the role held it sleeps until the role is given back (the holder wakes it; the
//!   flag `SYSMON_ASLEEP` is set before it last reads the role, SeqCst, and the holder clears
//!   the role before it reads the flag). A worker holds the role only while it sleeps, so
//!   the last worker to stop has given it back, and woken the thread, before it stops.

use std::collections::HashMap;
use std::io;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::time::Instant;

use mio::{Interest, Poll, Registry, Token};

use crate::wait::list::{Wait, WaitList};

/// Goroutines and threads waiting for I/O: live work for the deadlock detector (a socket can
/// become ready whatever the goroutines do).
static IO_WAITERS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// True while anyone waits for I/O (a socket, or a line of stdin).
pub(crate) fn io_waiting() -> bool {
    IO_WAITERS.load(Ordering::SeqCst) > 0
}

/// One waiter in [`io_waiting`], for as long as it is held.
pub(crate) fn io_waiting_token() -> crate::sched::Counted {
    crate::sched::Counted::new(&IO_WAITERS)
}

/// One direction of a socket: its readiness generation and who waits for it.
#[derive(Default)]
pub(crate) struct Readiness {
    gen: AtomicU64,
    waiters: WaitList,
}

impl Readiness {
    /// Step 1.
    pub(crate) fn seen(&self) -> u64 {
        self.gen.load(Ordering::Acquire)
    }

    /// Step 2: waits until the generation moves past `seen`; false if `deadline` passed.
    pub(crate) fn wait(&self, seen: u64, deadline: Option<Instant>) -> bool {
        let _waiting = io_waiting_token();
        let r = self.waiters.wait(
            crate::wait::reason::WaitReason::IoWait,
            0,
            false,
            deadline,
            |_| self.gen.load(Ordering::Acquire) != seen,
        );
        r != Wait::TimedOut
    }

    /// Step 3.
    pub(crate) fn notify(&self) {
        self.waiters.wake(|w| {
            self.gen.fetch_add(1, Ordering::Release);
            while w.pop_any(0).is_some() {}
        });
    }
}

/// The readiness of one registered socket.
#[derive(Default)]
pub(crate) struct IoState {
    pub(crate) read: Readiness,
    pub(crate) write: Readiness,
}

struct Reactor {
    registry: Registry,
    /// The epoll descriptor, for everyone's `epoll_wait`.
    epfd: std::os::fd::RawFd,
    /// The eventfd that breaks into a blocked `epoll_wait` (see [`interrupt`]).
    brk: std::os::fd::OwnedFd,
    sockets: Mutex<Sockets>,
}

/// Set once the poller exists: until then workers have nothing to look at.
static STARTED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// The poll role: true while a thread blocks (or is about to block) in `epoll_wait`.
static ROLE: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// True while the eventfd holds an unread break-in (so a second one need not write).
static BREAK_PENDING: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Workers running in the process, in any runtime: while there are none, the netpoll thread
/// holds the role.
static WORKERS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// Looks taken, of any kind: the netpoll thread looks itself only when this has not moved
/// during one of its ticks.
static LOOKS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// True while the netpoll thread sleeps until the role is given back.
static SYSMON_ASLEEP: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// The netpoll thread, to wake it.
static THREAD: OnceLock<std::thread::Thread> = OnceLock::new();

/// How often the netpoll thread looks at the role while workers exist.
const SYSMON_TICK: std::time::Duration = std::time::Duration::from_millis(1);

/// Ticks in a row with the role held after which the netpoll thread sleeps until it is freed.
const SYSMON_IDLE_TICKS: u32 = 100;

/// The event token of the eventfd; sockets' tokens start at 1.
const BREAK_TOKEN: u64 = 0;

#[derive(Default)]
struct Sockets {
    next: usize,
    by_token: HashMap<usize, Weak<IoState>>,
}

fn reactor() -> io::Result<&'static Reactor> {
    static REACTOR: OnceLock<Result<Reactor, String>> = OnceLock::new();
    let r = REACTOR.get_or_init(|| {
        let poll = Poll::new().map_err(|e| e.to_string())?;
        let registry = poll.registry().try_clone().map_err(|e| e.to_string())?;
        let epfd = std::os::fd::AsRawFd::as_raw_fd(&poll);
        let brk = break_fd(epfd).map_err(|e| e.to_string())?;
        let t = std::thread::Builder::new()
            .name("goro-netpoll".into())
            .spawn(move || serve(poll))
            .map_err(|e| e.to_string())?;
        let _ = THREAD.set(t.thread().clone());
        STARTED.store(true, Ordering::Release);
        Ok(Reactor {
            registry,
            epfd,
            brk,
            sockets: Mutex::new(Sockets::default()),
        })
    });
    r.as_ref()
        .map_err(|e| io::Error::other(format!("goro: cannot start the netpoller: {e}")))
}

/// An eventfd registered level-triggered in `epfd` under [`BREAK_TOKEN`].
fn break_fd(epfd: std::os::fd::RawFd) -> io::Result<std::os::fd::OwnedFd> {
    use std::os::fd::{AsRawFd, FromRawFd};
    // SAFETY: plain system calls; the descriptor is owned from here on.
    let fd = unsafe { libc::eventfd(0, libc::EFD_NONBLOCK | libc::EFD_CLOEXEC) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `fd` was just opened and is owned by nothing else.
    let fd = unsafe { std::os::fd::OwnedFd::from_raw_fd(fd) };
    let mut ev = libc::epoll_event {
        events: libc::EPOLLIN as u32,
        u64: BREAK_TOKEN,
    };
    // SAFETY: both descriptors are open; `ev` lives across the call.
    if unsafe { libc::epoll_ctl(epfd, libc::EPOLL_CTL_ADD, fd.as_raw_fd(), &mut ev) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(fd)
}

/// Breaks into the `epoll_wait` of the role's holder, if any (and if none, makes the next
/// blocking wait return at once).
pub(crate) fn interrupt() {
    if !STARTED.load(Ordering::Acquire) || BREAK_PENDING.swap(true, Ordering::SeqCst) {
        return;
    }
    let Ok(r) = reactor() else { return };
    let one = 1u64.to_ne_bytes();
    // SAFETY: writes 8 bytes from a live buffer to the reactor's eventfd. It cannot fail but
    // for a counter at its maximum, which means a break-in is pending anyway.
    let _ = unsafe {
        libc::write(
            std::os::fd::AsRawFd::as_raw_fd(&r.brk),
            one.as_ptr().cast(),
            one.len(),
        )
    };
}

/// The poll role, held: its holder may block in `epoll_wait` (see the module doc).
pub(crate) struct Role(&'static Reactor);

impl Role {
    /// Takes the role if the poller exists and nobody holds it.
    pub(crate) fn take() -> Option<Role> {
        if !STARTED.load(Ordering::Acquire) || ROLE.load(Ordering::Relaxed) {
            return None;
        }
        let r = reactor().ok()?;
        ROLE.compare_exchange(false, true, Ordering::SeqCst, Ordering::Relaxed)
            .ok()
            .map(|_| Role(r))
    }

    /// Blocks in `epoll_wait` for at most `timeout_ms` (-1: no limit) and wakes the waiters
    /// of what it took; returns how many sockets' events it took.
    pub(crate) fn wait(&self, timeout_ms: i32) -> usize {
        let n = take_events(self.0, timeout_ms);
        if BREAK_PENDING.load(Ordering::SeqCst) {
            let mut buf = [0u8; 8];
            // SAFETY: reads at most 8 bytes into a live buffer from the reactor's eventfd
            // (non-blocking: nothing to read is fine).
            let _ = unsafe {
                libc::read(
                    std::os::fd::AsRawFd::as_raw_fd(&self.0.brk),
                    buf.as_mut_ptr().cast(),
                    buf.len(),
                )
            };
            BREAK_PENDING.store(false, Ordering::SeqCst);
        }
        n
    }
}

impl Drop for Role {
    fn drop(&mut self) {
        ROLE.store(false, Ordering::SeqCst);
        if SYSMON_ASLEEP.load(Ordering::SeqCst) {
            SYSMON_ASLEEP.store(false, Ordering::SeqCst);
            if let Some(t) = THREAD.get() {
                t.unpark();
            }
        }
    }
}

/// Counts a worker in [`WORKERS`] for as long as it is held.
pub(crate) struct WorkerCount(());

impl WorkerCount {
    pub(crate) fn new() -> WorkerCount {
        if WORKERS.fetch_add(1, Ordering::SeqCst) == 0 {
            // The netpoll thread may hold the role: make it give it up.
            interrupt();
        }
        WorkerCount(())
    }
}

impl Drop for WorkerCount {
    fn drop(&mut self) {
        // No need to wake the netpoll thread: it sleeps only while a worker holds the role,
        // and that worker gives it back (waking the thread) before it leaves its loop.
        WORKERS.fetch_sub(1, Ordering::SeqCst);
    }
}

/// The netpoll thread (see "Who polls" in the module doc).
fn serve(poll: Poll) {
    let _keep = poll; // owns the epoll descriptor
                      // Started by `reactor`'s initialiser: this waits for it to finish.
    let Ok(r) = reactor() else { return };
    let mut held_ticks = 0u32;
    let mut looks = LOOKS.load(Ordering::SeqCst);
    loop {
        if WORKERS.load(Ordering::SeqCst) == 0 {
            match Role::take() {
                Some(role) if WORKERS.load(Ordering::SeqCst) == 0 => {
                    role.wait(-1);
                }
                Some(_) => {}
                None => std::thread::park_timeout(SYSMON_TICK),
            }
            continue;
        }
        std::thread::park_timeout(SYSMON_TICK);
        if ROLE.load(Ordering::SeqCst) {
            held_ticks += 1;
            if held_ticks >= SYSMON_IDLE_TICKS {
                SYSMON_ASLEEP.store(true, Ordering::SeqCst);
                if ROLE.load(Ordering::SeqCst) && WORKERS.load(Ordering::SeqCst) != 0 {
                    while SYSMON_ASLEEP.load(Ordering::SeqCst)
                        && WORKERS.load(Ordering::SeqCst) != 0
                    {
                        std::thread::park();
                    }
                }
                SYSMON_ASLEEP.store(false, Ordering::SeqCst);
                held_ticks = 0;
            }
            continue;
        }
        held_ticks = 0;
        let now = LOOKS.load(Ordering::SeqCst);
        if now == looks {
            take_events(r, 0);
        }
        looks = LOOKS.load(Ordering::SeqCst);
    }
}

fn dispatch(ready: &mut Vec<(Arc<IoState>, bool, bool)>) {
    for (st, read, write) in ready.drain(..) {
        if read {
            st.read.notify();
        }
        if write {
            st.write.notify();
        }
    }
}

/// A worker's look at the poller without blocking (Go's `netpoll(0)` in `findrunnable`):
/// takes whatever readiness edges are pending and wakes their waiters, which, woken from
/// their home worker's own thread, go straight to its queue. Returns how many sockets' events
/// it took.
pub(crate) fn poll_now() -> usize {
    if !STARTED.load(Ordering::Acquire) {
        return 0;
    }
    let Ok(r) = reactor() else { return 0 };
    take_events(r, 0)
}

/// One `epoll_wait` of at most `timeout_ms` (0: a look, -1: no limit), then wakes the waiters
/// of what it took. Returns how many sockets' events it took; the break-in eventfd is not
/// one (it is left for the role's holder to drain).
fn take_events(r: &Reactor, timeout_ms: i32) -> usize {
    const N: usize = 64;
    let mut evs = [libc::epoll_event { events: 0, u64: 0 }; N];
    // SAFETY: `evs` has room for N events; the descriptor is the reactor's, open for the
    // life of the process.
    let n = unsafe { libc::epoll_wait(r.epfd, evs.as_mut_ptr(), N as i32, timeout_ms) };
    LOOKS.fetch_add(1, Ordering::Relaxed);
    let Ok(n) = usize::try_from(n) else { return 0 };
    let mut ready = Vec::new();
    {
        let evs = &evs[..n];
        if evs.iter().all(|ev| ev.u64 == BREAK_TOKEN) {
            return 0;
        }
        let sockets = r.sockets.lock().unwrap_or_else(|e| e.into_inner());
        for ev in evs {
            let (flags, token) = (ev.events, ev.u64);
            if token == BREAK_TOKEN {
                continue;
            }
            let Ok(token) = usize::try_from(token) else {
                continue;
            };
            if let Some(st) = sockets.by_token.get(&token).and_then(Weak::upgrade) {
                let err = flags & (libc::EPOLLERR | libc::EPOLLHUP) as u32 != 0;
                let read =
                    err || flags & (libc::EPOLLIN | libc::EPOLLRDHUP | libc::EPOLLPRI) as u32 != 0;
                let write = err || flags & libc::EPOLLOUT as u32 != 0;
                ready.push((st, read, write));
            }
        }
    }
    let taken = ready.len();
    dispatch(&mut ready);
    taken
}

/// A socket's place in the netpoller; dropping it forgets the socket (closing the socket
/// removes it from epoll).
pub(crate) struct Registration {
    token: usize,
    pub(crate) state: Arc<IoState>,
}

impl Registration {
    /// Registers `source` for both directions, edge-triggered.
    pub(crate) fn new(source: &mut impl mio::event::Source) -> io::Result<Registration> {
        let r = reactor()?;
        let state = Arc::new(IoState::default());
        let token = {
            let mut s = r.sockets.lock().unwrap_or_else(|e| e.into_inner());
            s.next += 1;
            let t = s.next;
            s.by_token.insert(t, Arc::downgrade(&state));
            t
        };
        let reg = Registration { token, state };
        r.registry.register(
            source,
            Token(token),
            Interest::READABLE | Interest::WRITABLE,
        )?;
        Ok(reg)
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        if let Ok(r) = reactor() {
            let mut s = r.sockets.lock().unwrap_or_else(|e| e.into_inner());
            s.by_token.remove(&self.token);
        }
    }
}
