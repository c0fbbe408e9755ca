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
        // A truncated head, then a stall: cut off after the header timeout.
        let start = Instant::now();
        let out = exchange(addr, b"GET / HTTP/1.1\r\nHost: t\r\n");
        assert!(out.is_empty(), "{out:?}");
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
    on_1_and_2_workers(|| {
        let cfg = http::Config {
            max_conns: 2,
            ..Default::default()
        };
        let (addr, _stop) = server(cfg);
        let held: Vec<TcpStream> = (0..2).map(|_| TcpStream::connect(addr).unwrap()).collect();
        goro::time::sleep(Duration::from_millis(50)); // let the server count them
        let out = exchange(addr, b"GET / HTTP/1.1\r\n\r\n");
        assert!(out.starts_with("HTTP/1.1 503"), "{out:?}");
        drop(held);
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
fn a_thousand_concurrent_connections() {
    goro_examples::raise_fd_limit();
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
