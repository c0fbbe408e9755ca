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

// ---- Who polls: the workers block in epoll_wait; the netpoll thread only covers ----
//
// The poller's state (its thread, the poll role) is the process's, so each of these runs in
// a child process of its own, which the parent ends if it hangs.

/// How long a child test may run before it counts as hung.
const CHILD_LIMIT: Duration = Duration::from_secs(60);

/// Voluntary context switches of the `goro-netpoll` thread so far (waiting for it to name
/// itself, which it does once it runs).
fn netpoll_thread_switches() -> u64 {
    let t0 = Instant::now();
    loop {
        if let Some(n) = netpoll_thread_switches_now() {
            return n;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(10),
            "no goro-netpoll thread"
        );
        std::thread::sleep(Duration::from_millis(1));
    }
}

fn netpoll_thread_switches_now() -> Option<u64> {
    for t in std::fs::read_dir("/proc/self/task").unwrap() {
        let dir = t.unwrap().path();
        let comm = std::fs::read_to_string(dir.join("comm")).unwrap_or_default();
        if comm.trim() == "goro-netpoll" {
            let status = std::fs::read_to_string(dir.join("status")).unwrap();
            let line = status
                .lines()
                .find(|l| l.starts_with("voluntary_ctxt_switches"))
                .unwrap();
            return line.split_whitespace().nth(1)?.parse().ok();
        }
    }
    None
}

/// With a socket open, the idle worker sleeps in `epoll_wait` (no timer to bound it): a
/// goroutine woken from a plain thread, not by the network, must still wake it.
#[test]
#[ignore = "run by a_worker_asleep_in_the_netpoller_wakes_for_other_work"]
fn child_worker_asleep_in_the_netpoller() {
    on_1_and_2_workers(|| {
        let _ln = TcpListener::bind("127.0.0.1:0").unwrap(); // the poller exists
        for round in 0..40u32 {
            let (tx, rx) = goro::chan(0);
            std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(5));
                tx.send(round).unwrap();
            });
            assert_eq!(rx.recv(), Ok(round));
        }
    });
    println!("CHILD DONE");
}

#[test]
fn a_worker_asleep_in_the_netpoller_wakes_for_other_work() {
    common::child_passes("child_worker_asleep_in_the_netpoller", CHILD_LIMIT);
}

/// Round trips between two goroutines over loopback: each one's readiness is taken by the
/// worker that sleeps in `epoll_wait` or looks between goroutines, not by the netpoll
/// thread, which wakes about once per millisecond at most (its tick), not once per event.
#[test]
#[ignore = "run by the_netpoll_thread_leaves_the_events_to_the_workers"]
fn child_netpoll_thread_quiet() {
    const ROUNDS: u64 = 4000;
    on_1_and_2_workers(|| {
        let addr = echo_server();
        let c = TcpStream::connect(addr).unwrap();
        let mut b = [0u8; 1];
        (&c).write_all(b"x").unwrap();
        (&c).read_exact(&mut b).unwrap();
        let (before, t0) = (netpoll_thread_switches(), Instant::now());
        for _ in 0..ROUNDS {
            (&c).write_all(b"x").unwrap();
            (&c).read_exact(&mut b).unwrap();
        }
        let woke = netpoll_thread_switches() - before;
        let ticks = t0.elapsed().as_millis() as u64 + 1;
        // Taking the events itself, the thread woke for most of the 2 x ROUNDS events.
        assert!(
            woke <= ticks + ROUNDS / 4,
            "the netpoll thread woke {woke} times in {ticks} ms of {ROUNDS} round trips"
        );
    });
    println!("CHILD DONE");
}

#[test]
fn the_netpoll_thread_leaves_the_events_to_the_workers() {
    common::child_passes("child_netpoll_thread_quiet", CHILD_LIMIT);
}

/// A plain thread's socket needs someone to poll for it while the only worker computes
/// without a break (the role is free, nobody looks): the netpoll thread's tick.
#[test]
#[ignore = "run by a_plain_threads_socket_is_served_while_every_worker_computes"]
fn child_plain_socket_beside_a_busy_worker() {
    goro::Runtime::builder()
        .workers(1)
        .run(|| {
            let ln = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            let addr = ln.local_addr().unwrap();
            let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
            let d = done.clone();
            let peer = std::thread::spawn(move || {
                let (mut s, _) = ln.accept().unwrap();
                std::thread::sleep(Duration::from_millis(200)); // the worker is busy by now
                s.write_all(b"ping").unwrap();
            });
            let reader = std::thread::spawn(move || {
                let s = TcpStream::connect(addr).unwrap();
                s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
                let mut b = [0u8; 4];
                let r = (&s).read_exact(&mut b).map(|_| b);
                d.store(true, std::sync::atomic::Ordering::SeqCst);
                r
            });
            // Compute, without a goro call, until the plain thread has its bytes (or 15 s).
            let t0 = Instant::now();
            while !done.load(std::sync::atomic::Ordering::SeqCst)
                && t0.elapsed() < Duration::from_secs(15)
            {
                std::hint::spin_loop();
            }
            peer.join().unwrap();
            assert_eq!(reader.join().unwrap().unwrap(), *b"ping");
        })
        .unwrap();
    println!("CHILD DONE");
}

#[test]
fn a_plain_threads_socket_is_served_while_every_worker_computes() {
    common::child_passes("child_plain_socket_beside_a_busy_worker", CHILD_LIMIT);
}

/// After the last runtime ends, the netpoll thread (asleep while a worker held the role)
/// must poll for plain threads again.
#[test]
#[ignore = "run by plain_threads_sockets_work_after_the_runtimes_end"]
fn child_plain_sockets_after_runtimes() {
    goro::Runtime::builder()
        .workers(2)
        .run(|| {
            let _ln = TcpListener::bind("127.0.0.1:0").unwrap();
            // Idle long enough for the netpoll thread to go to sleep on the held role.
            goro::time::sleep(Duration::from_millis(300));
        })
        .unwrap();
    let ln = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = ln.local_addr().unwrap();
    let peer = std::thread::spawn(move || {
        let (s, _) = ln.accept().unwrap();
        std::thread::sleep(Duration::from_millis(50));
        (&s).write_all(b"pong").unwrap();
    });
    let s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut b = [0u8; 4];
    (&s).read_exact(&mut b).unwrap();
    assert_eq!(&b, b"pong");
    peer.join().unwrap();
    println!("CHILD DONE");
}

#[test]
fn plain_threads_sockets_work_after_the_runtimes_end() {
    common::child_passes("child_plain_sockets_after_runtimes", CHILD_LIMIT);
}

// ---- Context-aware I/O ----

/// The context error a socket operation ended with, if any.
fn ctx_err(r: std::io::Result<impl std::fmt::Debug>) -> Option<goro::context::ContextError> {
    goro::net::context_error_of(&r.expect_err("the operation was cut short"))
}

#[test]
fn a_read_bound_to_a_context_ends_when_it_is_cancelled_and_the_stream_stays_usable() {
    use goro::context::{Context, ContextError};
    on_1_and_2_workers(|| {
        let ln = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = ln.local_addr().unwrap();
        let peer = goro::go(move || ln.accept().unwrap().0);
        let c = TcpStream::connect(addr).unwrap();
        let mut p = peer.join().unwrap();
        let (ctx, cancel) = Context::background().with_cancel();
        let canceller = goro::go(move || {
            goro::time::sleep(Duration::from_millis(20));
            cancel.cancel();
        });
        let mut buf = [0u8; 4];
        // Nothing is sent: only the cancel ends the read in time (the socket deadline, far
        // off, only keeps a broken wake-up from hanging the test).
        c.set_read_deadline(Some(Instant::now() + Duration::from_secs(30)));
        let r = c.with_context(&ctx).read(&mut buf);
        assert_eq!(ctx_err(r), Some(ContextError::Canceled));
        c.set_read_deadline(None);
        canceller.join().unwrap();
        // Done already: fails at once, and so does a write.
        assert_eq!(
            ctx_err(c.with_context(&ctx).read(&mut buf)),
            Some(ContextError::Canceled)
        );
        assert_eq!(
            ctx_err(c.with_context(&ctx).write(b"x")),
            Some(ContextError::Canceled)
        );
        // The stream is whole.
        p.write_all(b"ping").unwrap();
        (&c).read_exact(&mut buf).unwrap();
        assert_eq!(&buf, b"ping");
        // A context's deadline bounds a read as a socket deadline does.
        let (ctx, _c) = Context::background().with_timeout(Duration::from_millis(20));
        let e = c.with_context(&ctx).read(&mut buf).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::TimedOut);
        assert_eq!(
            goro::net::context_error_of(&e),
            Some(ContextError::DeadlineExceeded)
        );
        // With a live context it is an ordinary read.
        p.write_all(b"pong").unwrap();
        let bg = Context::background();
        c.with_context(&bg).read_exact(&mut buf).unwrap();
        assert_eq!(&buf, b"pong");
    });
}

#[test]
fn an_accept_bound_to_a_context_ends_when_it_is_cancelled() {
    use goro::context::{Context, ContextError};
    on_1_and_2_workers(|| {
        let ln = TcpListener::bind("127.0.0.1:0").unwrap();
        let (ctx, cancel) = Context::background().with_cancel();
        let h = goro::go(move || ctx_err(ln.accept_context(&ctx).map(|(_, a)| a)));
        goro::time::sleep(Duration::from_millis(20));
        cancel.cancel();
        assert_eq!(h.join().unwrap(), Some(ContextError::Canceled));
    });
}

#[test]
fn a_connect_bound_to_a_done_context_fails_with_its_error() {
    use goro::context::{Context, ContextError};
    on_1_and_2_workers(|| {
        let ln = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = ln.local_addr().unwrap();
        let (ctx, cancel) = Context::background().with_cancel();
        cancel.cancel();
        let r = TcpStream::connect_context(&ctx, addr);
        assert_eq!(ctx_err(r.map(drop)), Some(ContextError::Canceled));
        // A live one connects.
        let bg = Context::background();
        let c = TcpStream::connect_context(&bg, addr).unwrap();
        assert_eq!(c.peer_addr().unwrap(), addr);
    });
}
