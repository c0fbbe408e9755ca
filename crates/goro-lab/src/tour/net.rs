//! Tour stop for the netpoller: a server with one goroutine per connection.

use std::time::{Duration, Instant};

use goro::context::Context;

/// An HTTP server with one goroutine per connection, under a thousand concurrent clients,
/// while a slow request sleeps in its own goroutine.
pub fn one_goroutine_per_connection(scale: f64) -> String {
    let conns = ((1000.0 * scale) as usize).clamp(10, 1000);
    let secs = Duration::from_secs_f64((0.5 * scale).max(0.05));
    let (ctx, _stop) = Context::background().with_cancel();
    let (addr, _) =
        match goro_examples::http::listen_and_serve("127.0.0.1:0", Default::default(), ctx) {
            Ok(a) => a,
            Err(e) => return format!("cannot listen on loopback: {e}"),
        };
    let slow = goro::go(move || {
        let t = Instant::now();
        let r = goro_examples::load::run(addr, "/sleep?ms=200", 1, Duration::from_millis(1));
        (r.requests, t.elapsed())
    });
    let r = goro_examples::load::run(addr, "/", conns, secs);
    let (slow_n, slow_t) = slow.join().unwrap_or((0, Duration::ZERO));
    format!(
        "{} requests over {conns} connections in {:.2} s ({:.0}/s, p99 {:.1} ms, {} errors); \
         meanwhile {slow_n} request slept 200 ms in its own goroutine and returned after {:.0} ms",
        r.requests,
        r.elapsed.as_secs_f64(),
        r.rps(),
        r.p99.as_secs_f64() * 1e3,
        r.errors,
        slow_t.as_secs_f64() * 1e3
    )
}
