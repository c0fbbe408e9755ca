//! Async HTTP from goroutines: a real async client crate (hyper), called from plain
//! goroutine code through `goro::tokio::block_on`, fetching from goro's own HTTP server.
//!
//! The fan-out pattern's "three replicas" with real HTTP: three goro HTTP servers answer
//! `/sleep?ms=N` after a random delay; each call asks all three at once, one goroutine per
//! replica, and takes the first answer. The others land in a buffered channel and are
//! dropped. hyper's futures need tokio's reactor, which `goro::tokio` keeps on two threads
//! of its own; the goroutine parks while its request is in flight.
//!
//! ```go
//! c := make(chan string, len(replicas))
//! for _, r := range replicas {
//!     go func(r string) { resp, _ := http.Get(r + "/sleep?ms=5"); c <- read(resp) }(r)
//! }
//! first := <-c
//! ```
//!
//! Watch: the latency of a call is that of its fastest replica.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use goro::context::Context;
use http_body_util::{BodyExt, Empty};
use hyper::body::Bytes;

use crate::pattern::{leaked_goroutines, ms, percentile, scaled, Report};

/// GETs `path` from `addr` with hyper over a tokio socket: the body, as text.
pub async fn get(addr: SocketAddr, path: &str) -> Result<String, String> {
    let stream = tokio::net::TcpStream::connect(addr)
        .await
        .map_err(|e| format!("connect {addr}: {e}"))?;
    let (mut sender, conn) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
            .await
            .map_err(|e| format!("handshake: {e}"))?;
    tokio::spawn(conn); // drives the connection until the request is done
    let req = hyper::Request::get(path)
        .header("host", addr.to_string())
        .body(Empty::<Bytes>::new())
        .map_err(|e| e.to_string())?;
    let res = sender
        .send_request(req)
        .await
        .map_err(|e| format!("request: {e}"))?;
    if !res.status().is_success() {
        return Err(format!("{path}: {}", res.status()));
    }
    let body = res
        .into_body()
        .collect()
        .await
        .map_err(|e| format!("body: {e}"))?;
    Ok(String::from_utf8_lossy(&body.to_bytes()).into_owned())
}

/// One call: every replica at once, the first answer wins.
fn first_of(replicas: &[SocketAddr]) -> Result<String, String> {
    // tour:begin: the lines `goro tour` shows
    let (tx, rx) = goro::chan(replicas.len()); // room for every answer: nobody blocks
    for &addr in replicas {
        let tx = tx.clone();
        let path = format!("/sleep?ms={}", 1 + fastrand::u64(..20));
        goro::go(move || {
            let answer = goro::tokio::block_on(get(addr, &path));
            let _ = tx.send(answer);
        });
    }
    drop(tx);
    rx.recv().map_err(|_| "no replica answered".to_string())?
    // tour:end
}

/// Runs the example (`scale` shrinks the number of calls).
pub fn run(scale: f64) -> Result<Report, String> {
    let before = goro::debug::goroutines_count();
    let (ctx, cancel) = Context::background().with_cancel();
    let mut replicas = Vec::new();
    let mut servers = Vec::new();
    for _ in 0..3 {
        let (addr, stats) =
            crate::http::listen_and_serve("127.0.0.1:0", Default::default(), ctx.clone())
                .map_err(|e| format!("cannot start a replica: {e}"))?;
        replicas.push(addr);
        servers.push(stats);
    }
    let calls = scaled(200, scale, 10);
    let mut lat = Vec::with_capacity(calls);
    for _ in 0..calls {
        let t = Instant::now();
        let body = first_of(&replicas)?;
        if !body.starts_with("slept ") {
            return Err(format!("unexpected answer {body:?}"));
        }
        lat.push(t.elapsed());
    }
    cancel.cancel();
    for s in &servers {
        s.wait_stopped(Duration::from_secs(5));
    }
    lat.sort();
    let (p50, p99) = (percentile(&lat, 50.0), percentile(&lat, 99.0));
    Ok(Report {
        lines: vec![
            format!("{calls} calls, each to 3 replicas at once through hyper, first answer wins"),
            "each replica sleeps 1-20 ms at random; a call waits for the fastest".into(),
        ],
        figure: format!(
            "first answer: p50 {:.1} ms, p99 {:.1} ms (one replica alone: 10.5 ms on average)",
            ms(p50),
            ms(p99)
        ),
        bars: vec![("p50".into(), ms(p50)), ("p99".into(), ms(p99))],
        unit: "ms",
        leaked: leaked_goroutines(before),
    })
}
