//! goro::net: sockets that park goroutines.

#[path = "common/mod.rs"]
mod common;

use std::io::{ErrorKind, Read, Write};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{on_1_and_2_workers, thread};
use goro::net::{TcpListener, TcpStream, UdpSocket};

/// An echo server: one goroutine per connection.
fn echo_server() -> std::net::SocketAddr {
    let ln = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = ln.local_addr().unwrap();
    goro::go(move || {
        for c in ln.incoming() {
            let Ok(c) = c else { return };
            goro::go(move || {
                let mut buf = vec![0u8; 16 * 1024];
                loop {
                    match (&c).read(&mut buf) {
                        Ok(0) | Err(_) => return,
                        Ok(n) => {
                            if (&c).write_all(&buf[..n]).is_err() {
                                return;
                            }
                        }
                    }
                }
            });
        }
    });
    addr
}

#[test]
fn echo_of_1_mib_through_100_concurrent_connections() {
    on_1_and_2_workers(|| {
        let addr = echo_server();
        let clients: Vec<_> = (0..100u32)
            .map(|k| {
                goro::go(move || {
                    let s = Arc::new(TcpStream::connect(addr).unwrap());
                    let data: Vec<u8> = (0..1 << 20).map(|i: u32| (i * 7 + k) as u8).collect();
                    // One goroutine writes while this one reads: neither side may block the
                    // other, or both fill their buffers and stall.
                    let (w, d) = (s.clone(), data.clone());
                    let writer = goro::go(move || {
                        (&*w).write_all(&d).unwrap();
                        w.shutdown(std::net::Shutdown::Write).unwrap();
                    });
                    let mut back = Vec::with_capacity(data.len());
                    (&*s).read_to_end(&mut back).unwrap();
                    writer.join().unwrap();
                    back == data
                })
            })
            .collect();
        for c in clients {
            assert!(c.join().unwrap(), "an echo came back different");
        }
    });
}

#[test]
fn a_read_deadline_fires_and_the_socket_stays_usable() {
    on_1_and_2_workers(|| {
        let addr = echo_server();
        let mut s = TcpStream::connect(addr).unwrap();
        s.set_read_timeout(Some(Duration::from_millis(20))).unwrap();
        let start = Instant::now();
        let mut buf = [0u8; 4];
        let e = s.read(&mut buf).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::TimedOut);
        assert!(start.elapsed() >= Duration::from_millis(20));
        // Still works after the timeout.
        s.write_all(b"ping").unwrap();
        s.read_exact(&mut buf).unwrap();
        assert_eq!(&buf, b"ping");
        // An absolute deadline in the past fails at once.
        s.set_read_timeout(None).unwrap();
        s.set_read_deadline(Some(Instant::now()));
        assert_eq!(s.read(&mut buf).unwrap_err().kind(), ErrorKind::TimedOut);
        assert!(s.set_read_timeout(Some(Duration::ZERO)).is_err());
    });
}

#[test]
fn a_blocked_read_does_not_hold_the_worker() {
    // One worker: a goroutine blocked reading must let the others run.
    goro::Runtime::builder()
        .workers(1)
        .run(|| {
            let addr = echo_server();
            let s = TcpStream::connect(addr).unwrap();
            let reader = goro::go(move || {
                let mut b = [0u8; 1];
                (&s).read_exact(&mut b).map(|_| b[0])
            });
            let mut n = 0u64;
            for i in 0..1000 {
                n += i;
                goro::yield_now();
            }
            assert_eq!(n, 499_500);
            drop(reader); // detach: the runtime unwinds it at exit
        })
        .unwrap();
}

#[test]
fn plain_threads_and_goroutines_talk_over_tcp() {
    on_1_and_2_workers(|| {
        let addr = echo_server();
        let got = thread(move || {
            let mut s = TcpStream::connect(addr).unwrap();
            s.write_all(b"from a thread").unwrap();
            let mut b = [0u8; 13];
            s.read_exact(&mut b).unwrap();
            b.to_vec()
        });
        assert_eq!(got.recv().unwrap(), b"from a thread");
    });
}

#[test]
fn connecting_to_a_closed_port_fails_cleanly() {
    on_1_and_2_workers(|| {
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap()
        };
        let e = TcpStream::connect(port).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::ConnectionRefused);
    });
}

#[test]
fn udp_round_trip_and_recv_deadline() {
    on_1_and_2_workers(|| {
        let a = UdpSocket::bind("127.0.0.1:0").unwrap();
        let b = UdpSocket::bind("127.0.0.1:0").unwrap();
        let b_addr = b.local_addr().unwrap();
        let server = goro::go(move || {
            let mut buf = [0u8; 64];
            let (n, from) = b.recv_from(&mut buf).unwrap();
            b.send_to(&buf[..n], from).unwrap();
        });
        a.connect(b_addr).unwrap();
        a.send(b"datagram").unwrap();
        let mut buf = [0u8; 64];
        let n = a.recv(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"datagram");
        server.join().unwrap();
        a.set_read_timeout(Some(Duration::from_millis(10))).unwrap();
        assert_eq!(a.recv(&mut buf).unwrap_err().kind(), ErrorKind::TimedOut);
    });
}

#[test]
fn unix_stream_pair_moves_a_megabyte_both_ways() {
    on_1_and_2_workers(|| {
        let (a, b) = goro::net::UnixStream::pair().unwrap();
        let data: Vec<u8> = (0..1u32 << 20).map(|i| (i % 251) as u8).collect();
        let d = data.clone();
        let writer = goro::go(move || {
            (&a).write_all(&d).unwrap();
            a.shutdown(std::net::Shutdown::Write).unwrap();
            a
        });
        let mut got = Vec::new();
        (&b).read_to_end(&mut got).unwrap();
        writer.join().unwrap();
        assert_eq!(got, data);
    });
}

/// The listen backlog of a listening socket, as Linux reports it (`tcpi_sacked` of a
/// listener's `TCP_INFO` is its maximum accept queue).
fn listen_backlog(fd: std::os::fd::RawFd) -> u32 {
    // SAFETY: `tcp_info` is plain data; getsockopt writes at most `len` bytes into it.
    unsafe {
        let mut info: libc::tcp_info = std::mem::zeroed();
        let mut len = std::mem::size_of::<libc::tcp_info>() as libc::socklen_t;
        let r = libc::getsockopt(
            fd,
            libc::SOL_TCP,
            libc::TCP_INFO,
            (&raw mut info).cast(),
            &mut len,
        );
        assert_eq!(r, 0, "{}", std::io::Error::last_os_error());
        info.tcpi_sacked
    }
}

#[test]
fn a_listener_queues_as_many_connections_as_the_system_allows() {
    use std::os::fd::AsRawFd;
    // Go listens with the system's maximum; std and mio with 128, and a burst of new
    // connections then loses SYNs (a retransmit, a second or more, for each client).
    let somaxconn: u32 = std::fs::read_to_string("/proc/sys/net/core/somaxconn")
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert_eq!(goro::net::default_backlog(), somaxconn.min(65_535));
    goro::run(move || {
        let ln = TcpListener::bind("127.0.0.1:0").unwrap();
        assert_eq!(listen_backlog(ln.as_raw_fd()), somaxconn.min(65_535));
        ln.set_backlog(50).unwrap();
        assert_eq!(listen_backlog(ln.as_raw_fd()), 50);
        let small = TcpListener::bind_with_backlog("127.0.0.1:0", 7).unwrap();
        assert_eq!(listen_backlog(small.as_raw_fd()), 7);
        // Still a working listener.
        let addr = small.local_addr().unwrap();
        let c = goro::go(move || TcpStream::connect(addr).unwrap());
        small.accept().unwrap();
        c.join().unwrap();
    })
    .unwrap();
}
