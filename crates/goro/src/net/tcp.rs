//! TCP: a listener and a stream whose blocking operations park the goroutine.

use std::fmt;
use std::io;
use std::net::{Shutdown, SocketAddr, ToSocketAddrs};
use std::time::{Duration, Instant};

use super::{limit_methods, stream_io, Socket};
use crate::context::Context;

/// Tries `f` on each address `addr` resolves to; the last error if none works.
fn each_addr<T>(
    addr: impl ToSocketAddrs,
    mut f: impl FnMut(SocketAddr) -> io::Result<T>,
) -> io::Result<T> {
    let mut last = None;
    for a in addr.to_socket_addrs()? {
        match f(a) {
            Ok(t) => return Ok(t),
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "no addresses to use")))
}

/// A TCP socket listening for connections (Go's `net.Listener`).
///
/// # Examples
///
/// An echo server and a client, in one program:
///
/// ```
/// use std::io::{Read, Write};
/// use goro::net::{TcpListener, TcpStream};
/// goro::run(|| {
///     let ln = TcpListener::bind("127.0.0.1:0").unwrap();
///     let addr = ln.local_addr().unwrap();
///     goro::go(move || {
///         let (mut c, _) = ln.accept().unwrap();
///         let mut buf = [0; 5];
///         c.read_exact(&mut buf).unwrap();
///         c.write_all(&buf).unwrap();
///     });
///     let mut s = TcpStream::connect(addr).unwrap();
///     s.write_all(b"hello").unwrap();
///     let mut back = [0; 5];
///     s.read_exact(&mut back).unwrap();
///     assert_eq!(&back, b"hello");
/// })
/// .unwrap();
/// ```
pub struct TcpListener {
    s: Socket<mio::net::TcpListener>,
}

/// The listen backlog [`TcpListener::bind`] asks for: the system's maximum, read once from
/// `/proc/sys/net/core/somaxconn` (4096 on current Linux), at most 65,535, as Go does; 4096
/// if it cannot be read. (std and mio ask for 128: under a burst of new connections the
/// kernel then drops SYNs, and each dropped one costs its client a retransmit, a second or
/// more.)
pub fn default_backlog() -> u32 {
    static BACKLOG: std::sync::OnceLock<u32> = std::sync::OnceLock::new();
    *BACKLOG.get_or_init(|| {
        std::fs::read_to_string("/proc/sys/net/core/somaxconn")
            .ok()
            .and_then(|s| s.split_whitespace().next()?.parse::<u32>().ok())
            .filter(|&n| n > 0)
            .map_or(4096, |n| n.min(65_535))
    })
}

/// `listen(2)` on a socket that may already listen: Linux then sets the length of its queue
/// of connections not yet accepted (the kernel caps it at `somaxconn`).
fn listen(fd: std::os::fd::RawFd, backlog: u32) -> io::Result<()> {
    let n = i32::try_from(backlog).unwrap_or(i32::MAX);
    // SAFETY: a plain system call on a descriptor the caller owns; no memory is passed.
    if unsafe { libc::listen(fd, n) } == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

impl TcpListener {
    /// Binds to the first address that works (port 0 picks a free port), with the system's
    /// largest listen backlog ([`default_backlog`]).
    pub fn bind(addr: impl ToSocketAddrs) -> io::Result<TcpListener> {
        Self::bind_with_backlog(addr, default_backlog())
    }

    /// [`bind`](Self::bind) with a listen backlog of `backlog` connections waiting to be
    /// accepted (the kernel caps it at `/proc/sys/net/core/somaxconn`).
    pub fn bind_with_backlog(addr: impl ToSocketAddrs, backlog: u32) -> io::Result<TcpListener> {
        each_addr(addr, |a| {
            let l = mio::net::TcpListener::bind(a)?;
            listen(std::os::fd::AsRawFd::as_raw_fd(&l), backlog)?;
            Ok(TcpListener { s: Socket::new(l)? })
        })
    }

    /// Sets the listen backlog of this listener, as [`bind_with_backlog`] would have
    /// (Linux resizes the queue of a listening socket when it listens again).
    ///
    /// [`bind_with_backlog`]: Self::bind_with_backlog
    pub fn set_backlog(&self, backlog: u32) -> io::Result<()> {
        listen(std::os::fd::AsRawFd::as_raw_fd(self), backlog)
    }

    /// Takes a listener from std (made non-blocking here).
    pub fn from_std(l: std::net::TcpListener) -> io::Result<TcpListener> {
        l.set_nonblocking(true)?;
        Ok(TcpListener {
            s: Socket::new(mio::net::TcpListener::from_std(l))?,
        })
    }

    /// Waits for a connection (the read deadline applies).
    #[doc(alias = "Accept")]
    pub fn accept(&self) -> io::Result<(TcpStream, SocketAddr)> {
        let (io, addr) = self.s.read_with(|l| l.accept())?;
        Ok((TcpStream::from_mio(io)?, addr))
    }

    /// Waits for a connection until `ctx` is done: then it fails with
    /// [`context_error`](super::context_error)'s error, at once if `ctx` is cancelled while it
    /// waits (a server's accept loop that stops on shutdown needs no polling timeout).
    pub fn accept_context(&self, ctx: &Context) -> io::Result<(TcpStream, SocketAddr)> {
        let (io, addr) = self.s.read_ctx(ctx, |l| l.accept())?;
        Ok((TcpStream::from_mio(io)?, addr))
    }

    /// The connections, one `accept` at a time.
    pub fn incoming(&self) -> Incoming<'_> {
        Incoming { l: self }
    }

    /// The address it listens on.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.s.io.local_addr()
    }

    /// Sets the IP time-to-live of accepted sockets' packets.
    pub fn set_ttl(&self, ttl: u32) -> io::Result<()> {
        self.s.io.set_ttl(ttl)
    }

    /// The IP time-to-live.
    pub fn ttl(&self) -> io::Result<u32> {
        self.s.io.ttl()
    }

    limit_methods!();
}

impl std::os::fd::AsRawFd for TcpListener {
    fn as_raw_fd(&self) -> std::os::fd::RawFd {
        self.s.io.as_raw_fd()
    }
}

impl std::os::fd::AsFd for TcpListener {
    fn as_fd(&self) -> std::os::fd::BorrowedFd<'_> {
        self.s.io.as_fd()
    }
}

impl std::os::fd::AsRawFd for TcpStream {
    fn as_raw_fd(&self) -> std::os::fd::RawFd {
        self.s.io.as_raw_fd()
    }
}

impl std::os::fd::AsFd for TcpStream {
    fn as_fd(&self) -> std::os::fd::BorrowedFd<'_> {
        self.s.io.as_fd()
    }
}

impl fmt::Debug for TcpListener {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TcpListener")
            .field("addr", &self.local_addr().ok())
            .finish()
    }
}

/// An endless iterator of accepted connections.
#[derive(Debug)]
pub struct Incoming<'a> {
    l: &'a TcpListener,
}

impl Iterator for Incoming<'_> {
    type Item = io::Result<TcpStream>;
    fn next(&mut self) -> Option<Self::Item> {
        Some(self.l.accept().map(|(s, _)| s))
    }
}

/// A TCP connection (Go's `net.Conn`). `Read` and `Write` are implemented for `&TcpStream`
/// too, so one goroutine can read while another writes (share it in an `Arc`).
pub struct TcpStream {
    s: Socket<mio::net::TcpStream>,
}

impl TcpStream {
    fn from_mio(io: mio::net::TcpStream) -> io::Result<TcpStream> {
        Ok(TcpStream {
            s: Socket::new(io)?,
        })
    }

    /// Connects to the first address that answers, parking while the handshake runs.
    #[doc(alias = "Dial")]
    pub fn connect(addr: impl ToSocketAddrs) -> io::Result<TcpStream> {
        each_addr(addr, |a| Self::connect_one(a, None))
    }

    /// Connects, giving up with `TimedOut` after `timeout`.
    #[doc(alias = "DialTimeout")]
    pub fn connect_timeout(addr: &SocketAddr, timeout: Duration) -> io::Result<TcpStream> {
        Self::connect_one(*addr, Some(crate::time::timer::deadline_after(timeout)))
    }

    /// Connects until `ctx` is done (Go's `DialContext`): each address in turn, each
    /// attempt ended at once when `ctx` is cancelled or its deadline passes, with
    /// [`context_error`](super::context_error)'s error.
    #[doc(alias = "DialContext")]
    pub fn connect_context(ctx: &Context, addr: impl ToSocketAddrs) -> io::Result<TcpStream> {
        each_addr(addr, |a| {
            if let Some(e) = ctx.err() {
                return Err(super::context_error(e));
            }
            let s = Self::from_mio(mio::net::TcpStream::connect(a)?)?;
            s.s.write_ctx(ctx, |io| {
                super::connected(io.take_error(), io.peer_addr().map(drop))
            })
            .map(|()| s)
        })
    }

    fn connect_one(addr: SocketAddr, deadline: Option<Instant>) -> io::Result<TcpStream> {
        let s = Self::from_mio(mio::net::TcpStream::connect(addr)?)?;
        s.s.write.deadline.set(deadline);
        // Writable means the handshake ended, one way or the other.
        let r =
            s.s.write_with(|io| super::connected(io.take_error(), io.peer_addr().map(drop)));
        s.s.write.deadline.set(None);
        r.map(|()| s)
    }

    /// Shuts down the read half, the write half, or both.
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        self.s.io.shutdown(how)
    }

    /// The remote address.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.s.io.peer_addr()
    }

    /// The local address.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.s.io.local_addr()
    }

    /// Sets `TCP_NODELAY` (Nagle's algorithm off when true; Go's default is true).
    pub fn set_nodelay(&self, on: bool) -> io::Result<()> {
        self.s.io.set_nodelay(on)
    }

    /// `TCP_NODELAY`.
    pub fn nodelay(&self) -> io::Result<bool> {
        self.s.io.nodelay()
    }

    /// Sets the IP time-to-live.
    pub fn set_ttl(&self, ttl: u32) -> io::Result<()> {
        self.s.io.set_ttl(ttl)
    }

    /// The IP time-to-live.
    pub fn ttl(&self) -> io::Result<u32> {
        self.s.io.ttl()
    }

    /// Reads without removing the data from the socket's queue.
    pub fn peek(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.s.read_with(|io| io.peek(buf))
    }

    limit_methods!();
}

stream_io!(TcpStream);

impl fmt::Debug for TcpStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TcpStream")
            .field("local", &self.local_addr().ok())
            .field("peer", &self.peer_addr().ok())
            .finish()
    }
}
