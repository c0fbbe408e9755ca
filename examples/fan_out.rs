//! # fan-out: parallel calls to a set of services: gather all, first wins, hedged
//!
//! What it is for: calling several replicas (or several different services) at once and
//! deciding what to wait for. Three strategies over the same local HTTP services, each of
//! which answers after a random delay with a long tail: **gather all** calls every replica
//! and waits for every answer (its latency is the slowest of them); **first wins** calls
//! every replica and takes the first answer, cancelling the others through a context;
//! **hedged** calls one replica and, only if it has not answered within a short delay,
//! a second one, taking whichever answers first (most of the speed of first-wins for a
//! fraction of the extra load).
//!
//! ```go
//! func first(ctx context.Context, replicas []string) string {
//!     ctx, cancel := context.WithCancel(ctx)
//!     defer cancel() // the losers stop
//!     c := make(chan string, len(replicas))
//!     for _, r := range replicas {
//!         go func(r string) { c <- call(ctx, r) }(r)
//!     }
//!     return <-c
//! }
//! ```
//!
//! What to watch: the percentiles. Gather-all has the worst tail (one slow replica is
//! enough); first-wins the best; hedged sits close to first-wins while sending far fewer
//! requests (shown as requests per call).

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use goro::context::Context;

use crate::pattern::{leaked_goroutines, ms, percentile, scaled, Report};
use crate::webio;

/// A service's delay: mostly 1-5 ms, sometimes 10-20 ms, rarely 40-60 ms.
fn delay(rng: &mut fastrand::Rng, scale: f64) -> Duration {
    let r = rng.f64();
    let ms = if r < 0.85 {
        1.0 + 4.0 * rng.f64()
    } else if r < 0.97 {
        10.0 + 10.0 * rng.f64()
    } else {
        40.0 + 20.0 * rng.f64()
    };
    Duration::from_secs_f64(ms * scale.clamp(0.2, 1.0) / 1e3)
}

/// Starts `n` services on local ports until `ctx` ends; returns their addresses and a
/// counter of requests they received.
pub fn start_services(
    n: usize,
    ctx: &Context,
    scale: f64,
) -> std::io::Result<(Vec<SocketAddr>, Arc<AtomicU64>)> {
    let hits = Arc::new(AtomicU64::new(0));
    let mut addrs = Vec::new();
    for i in 0..n {
        let hits = hits.clone();
        let seed = AtomicU64::new(i as u64 * 1000);
        addrs.push(webio::serve(
            &format!("service {i}"),
            ctx.clone(),
            move |_, c| {
                hits.fetch_add(1, Ordering::Relaxed);
                let mut rng = fastrand::Rng::with_seed(seed.fetch_add(1, Ordering::Relaxed));
                goro::time::sleep(delay(&mut rng, scale));
                let body = format!("answer from service {i}\n");
                if webio::write_head(c, "200 OK", Some(body.len())).is_ok() {
                    let _ = std::io::Write::write_all(&mut &*c, body.as_bytes());
                }
            },
        )?);
    }
    Ok((addrs, hits))
}

/// One call: the body of `GET /` from `addr`, or an error (cancelled, refused, ...).
fn call(addr: SocketAddr, ctx: &Context) -> Result<String, String> {
    let mut body = Vec::new();
    match webio::get(addr, "/", ctx, |b| {
        body.extend_from_slice(b);
        true
    }) {
        Ok(200) => Ok(String::from_utf8_lossy(&body).trim().to_string()),
        Ok(code) => Err(format!("status {code}")),
        Err(e) => Err(e.to_string()),
    }
}

/// The strategies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Strategy {
    /// Every replica, wait for all.
    GatherAll,
    /// Every replica, take the first, cancel the rest.
    FirstWins,
    /// One replica, a second after `hedge` if the first has not answered.
    Hedged(Duration),
}

/// One call with `strategy` over `replicas`; the answers it used.
pub fn fan_out(strategy: Strategy, replicas: &[SocketAddr]) -> Vec<String> {
    let (ctx, cancel) = Context::background().with_cancel();
    let (tx, rx) = goro::chan::<Result<String, String>>(replicas.len());
    let launch = |addr: SocketAddr| {
        let (tx, ctx) = (tx.clone(), ctx.clone());
        goro::go(move || {
            let _ = tx.send(call(addr, &ctx));
        });
    };
    let answers = match strategy {
        Strategy::GatherAll => {
            replicas.iter().copied().for_each(launch);
            drop(tx);
            rx.iter().filter_map(Result::ok).collect()
        }
        Strategy::FirstWins => {
            replicas.iter().copied().for_each(launch);
            drop(tx);
            rx.iter().find_map(Result::ok).into_iter().collect()
        }
        Strategy::Hedged(after) => {
            // tour:begin: the lines `goro tour` shows
            launch(replicas[0]);
            let first = goro::select! {
                recv(rx) -> r => r.ok().and_then(Result::ok),
                recv(goro::time::after(after)) -> _ => None,
            };
            // tour:end
            match first {
                Some(a) => vec![a],
                None => {
                    launch(replicas[1 % replicas.len()]);
                    drop(tx);
                    rx.iter().find_map(Result::ok).into_iter().collect()
                }
            }
        }
    };
    cancel.cancel(); // the calls still running give up
    answers
}

/// The pattern's run: a few hundred calls per strategy.
pub fn run(scale: f64) -> Result<Report, String> {
    let before = goro::debug::goroutines_count();
    let (ctx, cancel) = Context::background().with_cancel();
    let (replicas, hits) =
        start_services(3, &ctx, scale).map_err(|e| format!("cannot start services: {e}"))?;
    let calls = scaled(300, scale, 30);
    let hedge = Duration::from_secs_f64(6.0 * scale.clamp(0.2, 1.0) / 1e3);
    let mut report = Report {
        unit: "ms (p50, p90, p99)",
        ..Report::default()
    };
    let mut p99s = Vec::new();
    for (name, s) in [
        ("gather all", Strategy::GatherAll),
        ("first wins", Strategy::FirstWins),
        ("hedged", Strategy::Hedged(hedge)),
    ] {
        let h0 = hits.load(Ordering::Relaxed);
        let mut lat = Vec::with_capacity(calls);
        for _ in 0..calls {
            let t = Instant::now();
            let answers = fan_out(s, &replicas);
            if answers.is_empty() {
                return Err(format!("{name}: a call got no answer"));
            }
            lat.push(t.elapsed());
        }
        lat.sort();
        let per_call = (hits.load(Ordering::Relaxed) - h0) as f64 / calls as f64;
        let (p50, p90, p99) = (
            percentile(&lat, 50.0),
            percentile(&lat, 90.0),
            percentile(&lat, 99.0),
        );
        report.lines.push(format!(
            "{name}: p50 {:.1} ms, p90 {:.1} ms, p99 {:.1} ms over {calls} calls, {per_call:.2} requests per call",
            ms(p50),
            ms(p90),
            ms(p99)
        ));
        for (p, v) in [("p50", p50), ("p90", p90), ("p99", p99)] {
            report.bars.push((format!("{name} {p}"), ms(v)));
        }
        p99s.push(format!("{name} {:.1}", ms(p99)));
    }
    cancel.cancel();
    report.figure = format!("p99 latency (ms): {}", p99s.join(", "));
    report.leaked = leaked_goroutines(before);
    Ok(report)
}
