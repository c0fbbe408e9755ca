//! # timeout: a background call with a time limit, three ways, and what becomes of the late answer
//!
//! What it is for: not waiting longer than you can afford for something that may be slow.
//! The call runs in a goroutine; the caller waits for its answer or for the limit, whichever
//! comes first. Three ways: a `select!` on the answer and on `time::after`, a context with a
//! deadline that the call itself watches (so it stops working too), and `recv_timeout`.
//!
//! ```go
//! c := make(chan Result, 1) // room for the late answer: the sender never blocks
//! go func() { c <- slowCall() }()
//! select {
//! case r := <-c:
//!     use(r)
//! case <-time.After(100 * time.Millisecond):
//!     fmt.Println("timed out")
//! }
//! ```
//!
//! What to watch: each way returns at the limit; the goroutine doing the slow call still
//! finishes (or, with a context, stops early) and nothing is left running. With an unbuffered
//! channel Go's version leaks the late sender for ever; in goro the caller's `Receiver` is
//! dropped at the timeout, which closes the channel, so the late send fails and hands its
//! value back.

use std::time::{Duration, Instant};

use goro::context::Context;

use crate::pattern::{leaked_goroutines, ms, Report};

/// A call that takes `work` unless `ctx` ends first.
fn slow_call(ctx: Option<&Context>, work: Duration) -> Result<u64, String> {
    let timer = goro::time::Timer::new(work);
    match ctx {
        Some(ctx) => goro::select! {
            recv(timer.c()) -> _ => Ok(42),
            recv(ctx.done()) -> _ => Err(ctx.err().map_or("cancelled".into(), |e| e.to_string())),
        },
        None => {
            let _ = timer.c().recv();
            Ok(42)
        }
    }
}

/// One way's outcome: what the caller got, when, and when the goroutine behind it ended.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// Which way.
    pub way: &'static str,
    /// What the caller got.
    pub got: String,
    /// When the caller had it.
    pub returned: Duration,
    /// When the goroutine doing the call ended.
    pub ended: Duration,
    /// What the goroutine saw of its late answer.
    pub late: String,
}

/// Runs the call three ways with `limit`, the call taking `work`.
pub fn three_ways(limit: Duration, work: Duration) -> Vec<Outcome> {
    let mut out = Vec::new();

    // 1. select! with time::after, a one-slot buffer for the late answer.
    let start = Instant::now();
    let (tx, rx) = goro::chan::<Result<u64, String>>(1);
    let h = goro::go(move || {
        let late = match tx.send(slow_call(None, work)) {
            Ok(()) => "buffered, then dropped with the channel".to_string(),
            Err(e) => format!("send failed: {e}"),
        };
        (start.elapsed(), late)
    });
    let got = goro::select! {
        recv(rx) -> r => format!("{r:?}"),
        recv(goro::time::after(limit)) -> _ => "\"timed out\"".to_string(),
    };
    let returned = start.elapsed();
    let (ended, late) = h.join().unwrap_or_default();
    out.push(Outcome {
        way: "select! with time::after",
        got,
        returned,
        ended,
        late,
    });

    // 2. A context with a deadline: the call watches it and stops working.
    let start = Instant::now();
    // tour:begin: the lines `goro tour` shows
    let (ctx, _cancel) = Context::background().with_timeout(limit);
    let h = goro::go(move || {
        let r = slow_call(Some(&ctx), work);
        (start.elapsed(), r)
    });
    // tour:end
    let (ended, r) = h
        .join()
        .unwrap_or((Duration::ZERO, Err("join failed".into())));
    out.push(Outcome {
        way: "context deadline",
        got: format!("{r:?}"),
        returned: start.elapsed(),
        ended,
        late: "none: the call gave up at the deadline".to_string(),
    });

    // 3. recv_timeout on an unbuffered channel: Go's leak, which goro does not have.
    let start = Instant::now();
    let (tx, rx) = goro::chan::<Result<u64, String>>(0);
    let h = goro::go(move || {
        let late = match tx.send(slow_call(None, work)) {
            Ok(()) => "received".to_string(),
            Err(e) => format!(
                "the send failed (the receiver was dropped) and handed back {:?}",
                e.into_inner()
            ),
        };
        (start.elapsed(), late)
    });
    let got = match rx.recv_timeout(limit) {
        Ok(r) => format!("{r:?}"),
        Err(e) => format!("\"{e}\""),
    };
    let returned = start.elapsed();
    drop(rx);
    let (ended, late) = h.join().unwrap_or_default();
    out.push(Outcome {
        way: "recv_timeout, unbuffered",
        got,
        returned,
        ended,
        late,
    });
    out
}

/// The pattern's run.
pub fn run(scale: f64) -> Result<Report, String> {
    let before = goro::debug::goroutines_count();
    let limit = Duration::from_secs_f64((0.05 * scale).max(0.01));
    let work = limit * 3;
    let outcomes = three_ways(limit, work);
    let mut report = Report {
        unit: "ms",
        ..Report::default()
    };
    for o in &outcomes {
        report.lines.push(format!(
            "{}: got {} after {:.1} ms; the call's goroutine ended at {:.1} ms; its late answer: {}",
            o.way,
            o.got,
            ms(o.returned),
            ms(o.ended),
            o.late
        ));
        report
            .bars
            .push((format!("{}: caller waited", o.way), ms(o.returned)));
        report
            .bars
            .push((format!("{}: call ran", o.way), ms(o.ended)));
    }
    report.leaked = leaked_goroutines(before);
    report.figure = format!(
        "limit {:.0} ms, call {:.0} ms: callers waited {} ms; {} goroutines left behind",
        ms(limit),
        ms(work),
        outcomes
            .iter()
            .map(|o| format!("{:.1}", ms(o.returned)))
            .collect::<Vec<_>>()
            .join(" / "),
        report.leaked
    );
    Ok(report)
}
