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
//! 3. The poller, on an event for the token, bumps the generation under the list's lock and
//!    wakes every waiter. Because step 1 read the generation before the system call, an edge
//!    that arrives between the call and the wait is never lost: the wait sees the new
//!    generation and does not park.
//!
//! Waiting goes through the wait list, so a goroutine parks (its worker runs others) and a
//! plain OS thread sleeps; both are woken by the poller.
//!
//! # Who polls
//!
//! A `goro-netpoll` thread blocks in `epoll_wait` and wakes the waiters, so readiness is seen
//! even while every worker is busy or asleep. Workers also look without blocking
//! ([`poll_now`]) every 61 scheduling ticks and before they go to sleep, as Go's
//! `findrunnable` does: a goroutine woken by its own worker's look goes straight to that
//! worker's queue, without a cross-thread wake-up.

use std::collections::HashMap;
use std::io;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::time::Instant;

use mio::{Events, Interest, Poll, Registry, Token};

use crate::sync::waitlist::{Wait, WaitList};

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
            crate::sched::wait::WaitReason::IoWait,
            0,
            false,
            deadline,
            |_| self.gen.load(Ordering::Acquire) != seen,
        );
        r != Wait::TimedOut
    }

    /// Step 3.
    fn notify(&self) {
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
    /// The epoll descriptor, for workers' non-blocking looks (`poll_now`).
    epfd: std::os::fd::RawFd,
    sockets: Mutex<Sockets>,
}

/// Set once the poller exists: until then workers have nothing to look at.
static STARTED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

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
        std::thread::Builder::new()
            .name("goro-netpoll".into())
            .spawn(move || serve(poll))
            .map_err(|e| e.to_string())?;
        STARTED.store(true, Ordering::Release);
        Ok(Reactor {
            registry,
            epfd,
            sockets: Mutex::new(Sockets::default()),
        })
    });
    r.as_ref()
        .map_err(|e| io::Error::other(format!("goro: cannot start the netpoller: {e}")))
}

fn serve(mut poll: Poll) {
    let mut events = Events::with_capacity(1024);
    let mut ready = Vec::new();
    loop {
        if let Err(e) = poll.poll(&mut events, None) {
            if e.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            eprintln!("goro: netpoller stopped: {e}");
            return;
        }
        let Ok(r) = reactor() else { return };
        {
            let sockets = r.sockets.lock().unwrap_or_else(|e| e.into_inner());
            for ev in events.iter() {
                if let Some(st) = sockets.by_token.get(&ev.token().0).and_then(Weak::upgrade) {
                    let read = ev.is_readable() || ev.is_read_closed() || ev.is_error();
                    let write = ev.is_writable() || ev.is_write_closed() || ev.is_error();
                    ready.push((st, read, write));
                }
            }
        }
        dispatch(&mut ready);
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
/// their home worker's own thread, go straight to its queue. Edge-triggered events go to one
/// caller of `epoll_wait` only, so the netpoll thread and the workers never see one twice.
/// Returns how many events it took.
pub(crate) fn poll_now() -> usize {
    if !STARTED.load(Ordering::Acquire) {
        return 0;
    }
    let Ok(r) = reactor() else { return 0 };
    const N: usize = 64;
    let mut evs = [libc::epoll_event { events: 0, u64: 0 }; N];
    // SAFETY: `evs` has room for N events; a timeout of 0 never blocks; the descriptor is
    // the reactor's, open for the life of the process.
    let n = unsafe { libc::epoll_wait(r.epfd, evs.as_mut_ptr(), N as i32, 0) };
    let Ok(n) = usize::try_from(n) else { return 0 };
    if n == 0 {
        return 0;
    }
    let mut ready = Vec::with_capacity(n);
    {
        let sockets = r.sockets.lock().unwrap_or_else(|e| e.into_inner());
        for ev in &evs[..n] {
            let (flags, token) = (ev.events, ev.u64);
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
    dispatch(&mut ready);
    n
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
