//! UDP: a socket whose blocking operations park the goroutine.

use std::fmt;
use std::io;
use std::net::{SocketAddr, ToSocketAddrs};

use super::{limit_methods, Socket};

/// A UDP socket (Go's `net.UDPConn`).
///
/// # Examples
///
/// ```
/// use goro::net::UdpSocket;
/// goro::run(|| {
///     let a = UdpSocket::bind("127.0.0.1:0").unwrap();
///     let b = UdpSocket::bind("127.0.0.1:0").unwrap();
///     a.send_to(b"ping", b.local_addr().unwrap()).unwrap();
///     let mut buf = [0; 16];
///     let (n, from) = b.recv_from(&mut buf).unwrap();
///     assert_eq!((&buf[..n], from), (&b"ping"[..], a.local_addr().unwrap()));
/// })
/// .unwrap();
/// ```
pub struct UdpSocket {
    s: Socket<mio::net::UdpSocket>,
}

impl UdpSocket {
    /// Binds to the first address that works.
    pub fn bind(addr: impl ToSocketAddrs) -> io::Result<UdpSocket> {
        let mut last = None;
        for a in addr.to_socket_addrs()? {
            match mio::net::UdpSocket::bind(a) {
                Ok(io) => {
                    return Ok(UdpSocket {
                        s: Socket::new(io)?,
                    })
                }
                Err(e) => last = Some(e),
            }
        }
        Err(last.unwrap_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "no addresses")))
    }

    /// Sends a datagram to `addr`.
    pub fn send_to(&self, buf: &[u8], addr: impl ToSocketAddrs) -> io::Result<usize> {
        let a = addr
            .to_socket_addrs()?
            .next()
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "no address"))?;
        self.s.write_with(|io| io.send_to(buf, a))
    }

    /// Receives a datagram, with its sender.
    pub fn recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.s.read_with(|io| io.recv_from(buf))
    }

    /// Sets the peer for [`send`](Self::send) and [`recv`](Self::recv), and filters what is
    /// received to it.
    pub fn connect(&self, addr: impl ToSocketAddrs) -> io::Result<()> {
        let a = addr
            .to_socket_addrs()?
            .next()
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "no address"))?;
        self.s.io.connect(a)
    }

    /// Sends to the connected peer.
    pub fn send(&self, buf: &[u8]) -> io::Result<usize> {
        self.s.write_with(|io| io.send(buf))
    }

    /// Receives from the connected peer.
    pub fn recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.s.read_with(|io| io.recv(buf))
    }

    /// The local address.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.s.io.local_addr()
    }

    /// The connected peer's address.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.s.io.peer_addr()
    }

    /// Allows sending to broadcast addresses.
    pub fn set_broadcast(&self, on: bool) -> io::Result<()> {
        self.s.io.set_broadcast(on)
    }

    limit_methods!();
}

impl fmt::Debug for UdpSocket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UdpSocket")
            .field("addr", &self.local_addr().ok())
            .finish()
    }
}
