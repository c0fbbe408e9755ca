//! The example servers under good and bad input.

mod common;

use std::io::{Read, Write};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use goro::context::Context;
use goro::net::TcpStream;
use goro_examples::{echo, http, load};

fn on_1_and_2_workers(f: impl Fn() + Clone + 'static) {
    for w in [1, 2] {
        common::on(w, f.clone());
    }
}

/// Sends raw bytes, then reads until the server closes (or 5 s pass).
fn exchange(addr: SocketAddr, bytes: &[u8]) -> String {
    let mut c = TcpStream::connect(addr).unwrap();
    c.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    c.write_all(bytes).unwrap();
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match c.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => out.extend_from_slice(&buf[..n]),
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn get_ok(addr: SocketAddr) -> bool {
    exchange(
        addr,
        b"GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
    )
    .starts_with("HTTP/1.1 200 OK")
}

fn server(cfg: http::Config) -> (SocketAddr, goro::context::Cancel) {
    let (ctx, cancel) = Context::background().with_cancel();
    let (addr, _) = http::listen_and_serve("127.0.0.1:0", cfg, ctx).unwrap();
    (addr, cancel)
}

/// A bare server for the load generator's tests: a goroutine per connection running
/// `handle`, until the returned `Cancel` is used or dropped.
fn raw_server(
    handle: impl Fn(TcpStream) + Clone + Send + 'static,
) -> (SocketAddr, goro::context::Cancel) {
    let ln = goro::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = ln.local_addr().unwrap();
    let (ctx, cancel) = Context::background().with_cancel();
    goro::go(move || {
        let _ = ln.set_read_timeout(Some(Duration::from_millis(50)));
        while !ctx.is_done() {
            if let Ok((c, _)) = ln.accept() {
                let handle = handle.clone();
                goro::go(move || handle(c));
            }
        }
    });
    (addr, cancel)
}

#[test]
fn keep_alive_serves_several_requests_on_one_connection() {
    on_1_and_2_workers(|| {
        let (addr, _stop) = server(http::Config::default());
        let out = exchange(
            addr,
            b"GET / HTTP/1.1\r\nHost: t\r\n\r\nHEAD / HTTP/1.1\r\nHost: t\r\n\r\nGET /sleep?ms=1 HTTP/1.1\r\nConnection: close\r\n\r\n",
        );
        assert_eq!(out.matches("HTTP/1.1 200 OK").count(), 3, "{out}");
        assert_eq!(
            out.matches("hello from goro").count(),
            1,
            "HEAD has no body: {out}"
        );
        assert!(out.ends_with("slept 1 ms\n"), "{out}");
    });
}

#[test]
fn a_slow_request_does_not_hold_up_others() {
    on_1_and_2_workers(|| {
        let (addr, _stop) = server(http::Config::default());
        let (tx, rx) = goro::chan(2);
        let tx2 = tx.clone();
        goro::go(move || {
            let out = exchange(
                addr,
                b"GET /sleep?ms=300 HTTP/1.1\r\nConnection: close\r\n\r\n",
            );
            tx.send(("slow", out.contains("slept 300 ms"))).unwrap();
        });
        goro::time::sleep(Duration::from_millis(20));
        goro::go(move || tx2.send(("fast", get_ok(addr))).unwrap());
        assert_eq!(rx.recv().unwrap(), ("fast", true));
        assert_eq!(rx.recv().unwrap(), ("slow", true));
    });
}

#[test]
fn bad_requests_get_an_error_and_the_server_keeps_serving() {
    on_1_and_2_workers(|| {
        let cfg = http::Config {
            header_timeout: Duration::from_millis(200),
            max_header_bytes: 1024,
            ..Default::default()
        };
        let (addr, _stop) = server(cfg);
        let cases: &[(&[u8], &str)] = &[
            (b"\x00\x01garbage\r\n\r\n", "400 Bad Request"),
            (b"GET\r\n\r\n", "400 Bad Request"),
            (b"GET / HTTP/9.9\r\n\r\n", "400 Bad Request"),
            (
                b"GET / HTTP/1.1\r\nno colon here\r\n\r\n",
                "400 Bad Request",
            ),
            (
                b"POST / HTTP/1.1\r\nContent-Length: 0\r\n\r\n",
                "405 Method Not Allowed",
            ),
            (
                b"GET / HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello",
                "400 Bad Request",
            ),
            (
                b"GET /nowhere HTTP/1.1\r\nConnection: close\r\n\r\n",
                "404 Not Found",
            ),
            (
                b"GET /sleep?ms=abc HTTP/1.1\r\nConnection: close\r\n\r\n",
                "400 Bad Request",
            ),
        ];
        for (req, want) in cases {
            let out = exchange(addr, req);
            assert!(
                out.starts_with(&format!("HTTP/1.1 {want}")),
                "{req:?} -> {out:?}"
            );
            assert!(get_ok(addr), "the server stopped serving after {req:?}");
        }
        // Oversized headers.
        let mut big = b"GET / HTTP/1.1\r\n".to_vec();
        for i in 0..100 {
            big.extend_from_slice(format!("X-Filler-{i}: {}\r\n", "x".repeat(40)).as_bytes());
        }
        big.extend_from_slice(b"\r\n");
        let out = exchange(addr, &big);
        assert!(out.starts_with("HTTP/1.1 431"), "{out:?}");
        // A truncated head, then a stall: 408 and closed at the header timeout.
        let start = Instant::now();
        let out = exchange(addr, b"GET / HTTP/1.1\r\nHost: t\r\n");
        assert!(out.starts_with("HTTP/1.1 408"), "{out:?}");
        assert!(start.elapsed() >= Duration::from_millis(200));
        // An abrupt disconnect in the middle of a request.
        {
            let mut c = TcpStream::connect(addr).unwrap();
            c.write_all(b"GET / HT").unwrap();
        }
        assert!(get_ok(addr));
    });
}

#[test]
fn connections_past_the_limit_are_refused_cleanly() {
    // Two connections inside a request (a 1.5 s sleep) fill a server of two: a third gets
    // 503, as nothing waits for a head that could make room.
    on_1_and_2_workers(|| {
        let cfg = http::Config {
            max_conns: 2,
            ..Default::default()
        };
        let (addr, _stop) = server(cfg);
        let busy: Vec<_> = (0..2)
            .map(|_| {
                goro::go(move || {
                    exchange(
                        addr,
                        b"GET /sleep?ms=1500 HTTP/1.1\r\nConnection: close\r\n\r\n",
                    )
                })
            })
            .collect();
        goro::time::sleep(Duration::from_millis(300)); // both are inside their requests
        let out = exchange(addr, b"GET / HTTP/1.1\r\n\r\n");
        assert!(out.starts_with("HTTP/1.1 503"), "{out:?}");
        for b in busy {
            let out = b.join().unwrap();
            assert!(out.starts_with("HTTP/1.1 200 OK"), "{out:?}");
        }
        let start = Instant::now();
        while !get_ok(addr) {
            assert!(
                start.elapsed() < Duration::from_secs(5),
                "never served again"
            );
            goro::time::sleep(Duration::from_millis(10));
        }
    });
}

#[test]
fn a_full_server_closes_the_slowest_heads_to_serve_a_new_client() {
    // Slowloris at a small scale: 30 clients each send half a request head and then
    // nothing, against a server of 20 connections with a 60 s header timeout. Normal
    // clients that come after them are served at once: each takes the place of the slow
    // connection that has waited longest (oldest first). Refused with 503 instead, they
    // would wait for the header timeout.
    on_1_and_2_workers(|| {
        let (ctx, cancel) = Context::background().with_cancel();
        let cfg = http::Config {
            max_conns: 20,
            header_timeout: Duration::from_secs(60),
            ..Default::default()
        };
        let (addr, stats) = http::listen_and_serve("127.0.0.1:0", cfg, ctx).unwrap();
        let slow: Vec<TcpStream> = (0..30)
            .map(|_| {
                let mut c = TcpStream::connect(addr).unwrap();
                c.write_all(b"GET / HTTP/1.1\r\nHost: slo").unwrap();
                goro::time::sleep(Duration::from_millis(2)); // an order among them
                c
            })
            .collect();
        let open = || stats.open.load(std::sync::atomic::Ordering::SeqCst);
        let start = Instant::now();
        while open() < 20 {
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "only {} open",
                open()
            );
            goro::time::sleep(Duration::from_millis(5));
        }
        for _ in 0..5 {
            assert!(get_ok(addr), "a normal client was not served");
        }
        let evicted = stats.evicted.load(std::sync::atomic::Ordering::SeqCst);
        assert!(evicted >= 5, "{evicted} evicted");
        assert_eq!(stats.refused.load(std::sync::atomic::Ordering::SeqCst), 0);
        // The first slow client was the first closed: it reads the end of the stream.
        let mut first = &slow[0];
        first
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        let mut b = [0u8; 64];
        assert!(
            matches!(first.read(&mut b), Ok(0) | Err(_)),
            "the oldest slow connection is still open"
        );
        cancel.cancel();
    });
}

#[test]
fn a_thousand_concurrent_connections() {
    on_1_and_2_workers(|| {
        let (ctx, _stop) = Context::background().with_cancel();
        let echo_addr = echo::listen_and_serve("127.0.0.1:0", ctx.clone()).unwrap();
        let hs: Vec<_> = (0..1000u32)
            .map(|i| {
                goro::go(move || {
                    let mut c = TcpStream::connect(echo_addr).unwrap();
                    let msg = format!("message {i}");
                    c.write_all(msg.as_bytes()).unwrap();
                    let mut back = vec![0u8; msg.len()];
                    c.read_exact(&mut back).unwrap();
                    back == msg.as_bytes()
                })
            })
            .collect();
        assert!(hs.into_iter().all(|h| h.join().unwrap()));
        // And the HTTP server under the load generator.
        let (addr, _s) = server(http::Config::default());
        let r = load::run(addr, "/", 100, Duration::from_millis(200));
        assert_eq!(r.errors, 0, "{r:?}");
        assert!(r.requests > 100, "{r:?}");
    });
}

#[test]
fn a_failed_accept_backs_off_as_go_does() {
    let emfile = std::io::Error::from_raw_os_error(libc::EMFILE);
    let mut d = None;
    let mut seen = Vec::new();
    for _ in 0..10 {
        d = http::accept_backoff(&emfile, d);
        seen.push(d.unwrap().as_millis());
    }
    assert_eq!(seen, [5, 10, 20, 40, 80, 160, 320, 640, 1000, 1000]);
    for scarce in [libc::ENFILE, libc::ENOBUFS, libc::ENOMEM] {
        let e = std::io::Error::from_raw_os_error(scarce);
        assert_eq!(
            http::accept_backoff(&e, None),
            Some(Duration::from_millis(5))
        );
    }
    // A client that gave up before the accept, or the listener's own timeout: at once.
    let aborted = std::io::Error::from_raw_os_error(libc::ECONNABORTED);
    assert_eq!(
        http::accept_backoff(&aborted, Some(Duration::from_millis(40))),
        None
    );
    let timeout = std::io::Error::from(std::io::ErrorKind::TimedOut);
    assert_eq!(http::accept_backoff(&timeout, None), None);
}

#[test]
#[ignore = "run in a child process by out_of_descriptors_the_server_pauses_and_serves_everyone"]
fn child_server_out_of_descriptors() {
    // This process only: 24 descriptors for the runtime, the listener and the connections.
    let lim = libc::rlimit {
        rlim_cur: 24,
        rlim_max: 24,
    };
    // SAFETY: a valid input; lowering limits needs no privilege.
    assert_eq!(unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &lim) }, 0);
    goro::Runtime::builder()
        .workers(2)
        .exit_report(false)
        .run(|| {
            let (ctx, cancel) = Context::background().with_cancel();
            let (addr, stats) =
                http::listen_and_serve("127.0.0.1:0", http::Config::default(), ctx).unwrap();
            println!("ADDR {addr}");
            // Serve until the parent closes our stdin.
            goro::blocking(|| std::io::stdin().read_to_end(&mut Vec::new())).unwrap();
            cancel.cancel();
            let errors = stats
                .accept_errors
                .load(std::sync::atomic::Ordering::SeqCst);
            println!("ERRORS {errors}");
        })
        .unwrap();
}

#[test]
fn out_of_descriptors_the_server_pauses_and_serves_everyone() {
    use std::io::BufRead;
    use std::process::{Command, Stdio};
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "child_server_out_of_descriptors",
            "--ignored",
            "--nocapture",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = std::io::BufReader::new(child.stdout.take().unwrap());
    let addr: SocketAddr = loop {
        let mut line = String::new();
        assert!(
            out.read_line(&mut line).unwrap() > 0,
            "the server did not start"
        );
        if let Some(a) = line.trim().strip_prefix("ADDR ") {
            break a.parse().unwrap();
        }
    };
    // Three times as many clients as the server has descriptors: the kernel queues them
    // all, and the server's accepts fail until answered connections close.
    let clients: Vec<std::net::TcpStream> = (0..60)
        .map(|_| {
            let mut c = std::net::TcpStream::connect(addr).unwrap();
            c.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
            c.write_all(b"GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
                .unwrap();
            c
        })
        .collect();
    let served = clients
        .into_iter()
        .filter(|mut c| {
            let mut buf = Vec::new();
            let _ = c.read_to_end(&mut buf);
            buf.starts_with(b"HTTP/1.1 200 OK")
        })
        .count();
    drop(child.stdin.take());
    let mut rest = String::new();
    out.read_to_string(&mut rest).unwrap();
    assert!(child.wait().unwrap().success(), "{rest}");
    let errors: u64 = rest
        .lines()
        .find_map(|l| l.strip_prefix("ERRORS "))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("no count from the server: {rest}"));
    assert_eq!(
        served, 60,
        "every client answered once descriptors came back"
    );
    // Pausing 5 ms and then longer after each failure: a few dozen failed accepts at most.
    // Retrying at once spun a worker (a core at 100%) through hundreds of thousands.
    eprintln!("served {served}, {errors} failed accepts");
    assert!(errors < 500, "{errors} failed accepts");
}

#[test]
fn a_request_head_trickling_in_gets_408_at_the_header_deadline() {
    // Slowloris: one byte every 50 ms of a 60-byte head (3 s in all) against a 300 ms
    // header timeout. A timeout per read never fired (each byte restarted it); one
    // deadline for the head answers 408 long before the head is complete.
    common::on(2, || {
        let (addr, cancel) = server(http::Config {
            header_timeout: Duration::from_millis(300),
            ..http::Config::default()
        });
        let mut c = TcpStream::connect(addr).unwrap();
        c.set_read_timeout(Some(Duration::from_millis(1))).unwrap();
        let head = b"GET / HTTP/1.1\r\nHost: t\r\nX-Slow: 0123456789012345678901\r\n\r\n";
        let mut got = Vec::new();
        let mut sent = 0;
        for b in head {
            if c.write_all(&[*b]).is_err() {
                break;
            }
            sent += 1;
            goro::time::sleep(Duration::from_millis(50));
            let mut buf = [0u8; 256];
            if let Ok(n) = c.read(&mut buf) {
                got.extend_from_slice(&buf[..n]);
                if n == 0 || !got.is_empty() {
                    break;
                }
            }
        }
        let text = String::from_utf8_lossy(&got);
        assert!(
            text.starts_with("HTTP/1.1 408"),
            "{sent} bytes sent, got {text:?}"
        );
        assert!(sent < head.len(), "answered only after the whole head");
        cancel.cancel();
    });
}

#[test]
fn idle_and_write_timeouts_close_connections_that_hold_on() {
    common::on(2, || {
        let (ctx, cancel) = Context::background().with_cancel();
        let cfg = http::Config {
            idle_timeout: Duration::from_millis(200),
            write_timeout: Duration::from_millis(300),
            ..http::Config::default()
        };
        let (addr, stats) = http::listen_and_serve("127.0.0.1:0", cfg, ctx).unwrap();
        // Idle: one request on a keep-alive connection, then silence. The server closes it
        // after the idle timeout, long before the 10 s header timeout or our 5 s patience.
        let mut c = TcpStream::connect(addr).unwrap();
        c.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        c.write_all(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n").unwrap();
        let mut buf = [0u8; 512];
        let n = c.read(&mut buf).unwrap();
        assert!(buf[..n].starts_with(b"HTTP/1.1 200 OK"));
        assert_eq!(
            c.read(&mut buf).unwrap(),
            0,
            "closed after the idle timeout"
        );
        // A client that asks for 64 MiB and never reads: the write deadline frees the
        // connection's goroutine and descriptor.
        let mut slow = TcpStream::connect(addr).unwrap();
        slow.write_all(b"GET /bytes?n=67108864 HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
            .unwrap();
        let open = || stats.open.load(std::sync::atomic::Ordering::SeqCst);
        let t = std::time::Instant::now();
        while open() > 0 && t.elapsed() < Duration::from_secs(10) {
            goro::time::sleep(Duration::from_millis(20));
        }
        assert_eq!(
            open(),
            0,
            "the never-reading client still holds its connection"
        );
        drop(slow);
        cancel.cancel();
    });
}

#[test]
fn bare_line_feeds_are_a_request_and_garbage_is_refused_at_once() {
    common::on(2, || {
        let (addr, cancel) = server(http::Config::default());
        // Lines ended by LF alone: Go's net/http answers them, so must we.
        let out = exchange(addr, b"GET / HTTP/1.1\nHost: t\nConnection: close\n\n");
        assert!(out.starts_with("HTTP/1.1 200 OK"), "{out:?}");
        let out = exchange(addr, b"GET / HTTP/1.1\nConnection: close\r\n\r\n");
        assert!(out.starts_with("HTTP/1.1 200 OK"), "{out:?}");
        // Garbage shorter than the head limit, with no blank line: 400 at the first line,
        // not silence after the 10 s header timeout (exchange gives up after 5 s).
        let out = exchange(addr, b"\x16\x03\x01 this is not http\r\nmore\r\n");
        assert!(out.starts_with("HTTP/1.1 400"), "{out:?}");
        assert!(get_ok(addr));
        cancel.cancel();
    });
}

#[test]
fn cpu_work_in_a_request_does_not_hold_up_other_connections() {
    // One worker: the /spin route computes on a blocking-pool thread, so a plain request
    // sent after it is answered while it computes. Computed on the connection's goroutine,
    // the spin would hold the only worker and the plain request would wait for it.
    common::on(1, || {
        let (addr, cancel) = server(http::Config::default());
        let (done_tx, done) = goro::chan::<&str>(2);
        let d2 = done_tx.clone();
        let spin = goro::go(move || {
            let out = exchange(
                addr,
                b"GET /spin?ms=1500 HTTP/1.1\r\nConnection: close\r\n\r\n",
            );
            assert!(out.starts_with("HTTP/1.1 200 OK"), "{out:?}");
            let _ = d2.send("spin");
        });
        goro::time::sleep(Duration::from_millis(100)); // the spin has begun
        assert!(get_ok(addr));
        let _ = done_tx.send("plain");
        assert_eq!(
            done.recv().unwrap(),
            "plain",
            "the plain request waited for the spin"
        );
        spin.join().unwrap();
        cancel.cancel();
    });
}

#[test]
fn the_load_generator_replaces_failed_connections_and_counts_them() {
    // A server that answers one request per connection and closes it, loaded with
    // keep-alive: each connection's second request fails. The generator counts the failure,
    // opens a new connection, and goes on, where it used to stop that connection for good.
    common::on(2, || {
        let (addr, cancel) = raw_server(|c| {
            let (mut buf, mut chunk) = (Vec::new(), [0u8; 1024]);
            while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                match (&c).read(&mut chunk) {
                    Ok(0) | Err(_) => return,
                    Ok(n) => buf.extend_from_slice(&chunk[..n]),
                }
            }
            let _ = (&c).write_all(
                b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nConnection: close\r\n\r\nok\n",
            );
        });
        let r = load::run(addr, "/", 4, Duration::from_millis(300));
        cancel.cancel();
        assert!(r.requests > 20, "{r:?}");
        assert!(r.errors > 4, "{r:?}");
        assert!(r.connects > 4 && r.connects >= r.requests, "{r:?}");
    });
}

#[test]
fn the_load_generator_can_open_a_connection_per_request() {
    common::on(2, || {
        let (addr, _stop) = server(http::Config::default());
        let load = load::Load {
            close: true,
            ..load::Load::new(4, Duration::from_millis(200))
        };
        let r = load::run_with(addr, "/", &load);
        assert!(r.requests > 4, "{r:?}");
        assert_eq!((r.errors, r.not_ok), (0, 0), "{r:?}");
        // A connection each, but for the requests cut off by the end of the run.
        assert!(
            r.connects >= r.requests && r.connects <= r.requests + 4,
            "{r:?}"
        );
    });
}

#[test]
fn the_load_generator_ends_on_time_against_a_server_that_never_answers() {
    // A listener that accepts and then says nothing: every request waits. The run still
    // ends at its time (it used to wait out the 10 s read timeout), and the unanswered
    // requests are neither answers nor failures.
    common::on(2, || {
        // Each connection's goroutine holds it, silent, until the test ends.
        let (addr, cancel) = raw_server(|c| {
            let mut b = [0u8; 1024];
            while matches!((&c).read(&mut b), Ok(n) if n > 0) {} // until the client closes
        });
        let t = Instant::now();
        let r = load::run(addr, "/", 4, Duration::from_millis(300));
        let took = t.elapsed();
        cancel.cancel();
        assert!(took < Duration::from_secs(5), "the run took {took:?}");
        assert_eq!((r.requests, r.errors), (0, 0), "{r:?}");
        assert_eq!(r.connects, 4, "{r:?}");
    });
}
