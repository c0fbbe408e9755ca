//! The execution tracer: what each worker ran, when, and who woke whom, written at exit as
//! Chrome Trace Event JSON (open it in ui.perfetto.dev or chrome://tracing).
//!
//! Off by default; `GORO_TRACE=out.json` or `RuntimeBuilder::trace(path)` turns it on for a
//! runtime. When off, the scheduler pays one relaxed load of [`ON`] and a predictable branch
//! per resume and per wake-up.
//!
//! Each worker records into its own buffer (no sharing): a slice per resume of a goroutine
//! (begin, end, and whether it parked, yielded or returned) and its idle spells. A wake-up
//! records the start of a flow arrow on the waker's thread (a worker's buffer, or a shared
//! one for plain threads) and leaves the arrow's id in a side table; the woken goroutine's
//! next resume records its end. Channel operations (send, receive, close, the case a select
//! completed) are instants with the channel's address, recorded by the goroutine that made
//! them just before it wakes its counterpart. The buffers are collected when the workers stop, and `run`
//! writes the file.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::Instant;

/// True while some runtime traces (one predictable branch on the hot paths when false).
pub(crate) static ON: AtomicBool = AtomicBool::new(false);

pub(crate) fn on() -> bool {
    ON.load(Ordering::Relaxed)
}

fn epoch() -> Instant {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    *EPOCH.get_or_init(Instant::now)
}

/// Microseconds since the trace epoch.
pub(crate) fn now_us() -> f64 {
    epoch().elapsed().as_secs_f64() * 1e6
}

/// One recorded event.
#[derive(Debug, Clone)]
pub(crate) enum Event {
    /// A goroutine ran from `start` for `dur` microseconds and then `how` ("park", "yield",
    /// "exit"); a park says what for (`reason`, Go's wait reason, empty otherwise).
    Slice {
        g: u64,
        start: f64,
        dur: f64,
        how: &'static str,
        reason: &'static str,
    },
    /// The worker had nothing to run from `start` for `dur`.
    Idle { start: f64, dur: f64 },
    /// A wake-up arrow leaves here (`flow` id) ...
    FlowStart { flow: u64, at: f64 },
    /// ... and arrives where the woken goroutine next runs.
    FlowEnd { flow: u64, at: f64 },
    /// A moment on the worker: "steal" (arg: the victim), "netpoll" (arg: events taken),
    /// "timer" (arg: the goroutine woken, 0 for a channel timer).
    Instant {
        name: &'static str,
        at: f64,
        arg: u64,
    },
    /// Goroutines queued to run on the worker.
    Runnable { at: f64, n: u64 },
    /// Goroutine `g` (0: a plain thread) completed `op` on the channel at address `ch`.
    Chan {
        op: ChanOp,
        ch: usize,
        g: u64,
        at: f64,
    },
}

/// A channel operation, as the trace names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ChanOp {
    /// A value was sent (handed to a receiver or buffered).
    Send,
    /// A value was received.
    Recv,
    /// A receive found the channel closed and drained.
    RecvClosed,
    /// The channel was closed by `close`.
    Close,
    /// The channel was closed by dropping its last `Sender` or its last `Receiver`.
    CloseDropped,
    /// A `select` completed a send on this channel.
    SelectSend,
    /// A `select` completed a receive on this channel.
    SelectRecv,
}

impl ChanOp {
    fn name(self) -> &'static str {
        match self {
            ChanOp::Send => "send",
            ChanOp::Recv => "recv",
            ChanOp::RecvClosed => "recv (closed)",
            ChanOp::Close => "close",
            ChanOp::CloseDropped => "close (last handle dropped)",
            ChanOp::SelectSend => "select send",
            ChanOp::SelectRecv => "select recv",
        }
    }
}

/// Records a completed channel operation if a runtime traces: one relaxed load and a
/// predictable branch when none does.
#[inline]
pub(crate) fn chan(op: ChanOp, ch: usize) {
    if on() {
        chan_traced(op, ch);
    }
}

#[cold]
fn chan_traced(op: ChanOp, ch: usize) {
    super::worker::trace_chan(op, ch);
}

/// Channel names given with `chan_named` while a runtime traced: address and name.
fn chan_names() -> &'static Mutex<Vec<(usize, &'static str)>> {
    static NAMES: OnceLock<Mutex<Vec<(usize, &'static str)>>> = OnceLock::new();
    NAMES.get_or_init(|| Mutex::new(Vec::new()))
}

/// Records that the channel at `ch` is called `name`, if a runtime traces (the trace's
/// viewers show the name instead of the address).
pub(crate) fn name_chan(ch: usize, name: &'static str) {
    if on() {
        chan_names()
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push((ch, name));
    }
}

/// Records a channel operation made on a plain thread.
pub(crate) fn chan_from_thread(op: ChanOp, ch: usize) {
    let ev = Event::Chan {
        op,
        ch,
        g: 0,
        at: now_us(),
    };
    foreign().lock().unwrap_or_else(|e| e.into_inner()).push(ev);
}

static FLOWS: AtomicU64 = AtomicU64::new(1);

/// Arrows started but not yet ended: woken goroutine id -> arrow id.
fn pending() -> &'static Mutex<HashMap<u64, u64>> {
    static P: OnceLock<Mutex<HashMap<u64, u64>>> = OnceLock::new();
    P.get_or_init(|| Mutex::new(HashMap::new()))
}

/// Events recorded on plain threads (wake-ups from outside the workers), tid -1 in the file.
fn foreign() -> &'static Mutex<Vec<Event>> {
    static F: OnceLock<Mutex<Vec<Event>>> = OnceLock::new();
    F.get_or_init(|| Mutex::new(Vec::new()))
}

/// A wake-up of goroutine `g`: starts an arrow; returns the event for the waker's buffer.
pub(crate) fn wake(g: u64) -> Event {
    let flow = FLOWS.fetch_add(1, Ordering::Relaxed);
    pending()
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(g, flow);
    Event::FlowStart { flow, at: now_us() }
}

/// Records a wake-up made on a plain thread.
pub(crate) fn wake_from_thread(g: u64) {
    let ev = wake(g);
    foreign().lock().unwrap_or_else(|e| e.into_inner()).push(ev);
}

/// The arrow that ends at goroutine `g`'s resume now, if one is pending.
pub(crate) fn woken(g: u64, at: f64) -> Option<Event> {
    let flow = pending()
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .remove(&g)?;
    Some(Event::FlowEnd { flow, at })
}

fn escape(s: &str) -> String {
    s.chars()
        .flat_map(|c| match c {
            '"' => vec!['\\', '"'],
            '\\' => vec!['\\', '\\'],
            c if c.is_control() => vec![' '],
            c => vec![c],
        })
        .collect()
}

/// Chrome Trace Event JSON for the workers' buffers (index = worker) and the foreign one;
/// `names` gives the goroutines that had one.
pub(crate) fn to_json(workers: &[(usize, Vec<Event>)], names: &HashMap<u64, String>) -> String {
    let mut out = String::from("{\"displayTimeUnit\":\"ns\",\"traceEvents\":[\n");
    let mut first = true;
    let mut push = |s: String| {
        if !first {
            out.push_str(",\n");
        }
        first = false;
        out.push_str(&s);
    };
    for (w, _) in workers {
        push(format!(
            "{{\"ph\":\"M\",\"name\":\"thread_name\",\"pid\":1,\"tid\":{w},\"args\":{{\"name\":\"worker {w}\"}}}}"
        ));
    }
    // Channel names, as metadata (an address reused by a later channel keeps the last name).
    for (ch, name) in chan_names()
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .iter()
    {
        let name = name.replace('\\', "\\\\").replace('"', "\\\"");
        push(format!(
            "{{\"ph\":\"M\",\"cat\":\"chan\",\"name\":\"chan_name\",\"pid\":1,\"tid\":-1,\"args\":{{\"chan\":\"{ch:#x}\",\"name\":\"{name}\"}}}}"
        ));
    }
    let foreign_events = std::mem::take(&mut *foreign().lock().unwrap_or_else(|e| e.into_inner()));
    let all = workers
        .iter()
        .map(|(w, evs)| (*w as i64, evs.as_slice()))
        .chain(std::iter::once((-1i64, foreign_events.as_slice())));
    for (tid, evs) in all {
        for ev in evs {
            push(event_json(ev, tid, names));
        }
    }
    out.push_str("\n]}\n");
    out
}

/// One event as a Chrome Trace Event object, on track `tid`.
fn event_json(ev: &Event, tid: i64, names: &HashMap<u64, String>) -> String {
    let mut s = String::new();
    match ev {
        Event::Slice {
            g,
            start,
            dur,
            how,
            reason,
        } => {
            let label = match names.get(g) {
                Some(n) => format!("goroutine {g} {}", escape(n)),
                None => format!("goroutine {g}"),
            };
            let _ = write!(
                s,
                "{{\"ph\":\"X\",\"cat\":\"goroutine\",\"name\":\"{label}\",\"pid\":1,\"tid\":{tid},\"ts\":{start:.3},\"dur\":{dur:.3},\"args\":{{\"goroutine\":{g},\"then\":\"{how}\",\"reason\":\"{reason}\"}}}}"
            );
        }
        Event::Idle { start, dur } => {
            let _ = write!(
                s,
                "{{\"ph\":\"X\",\"cat\":\"idle\",\"name\":\"idle\",\"pid\":1,\"tid\":{tid},\"ts\":{start:.3},\"dur\":{dur:.3}}}"
            );
        }
        Event::FlowStart { flow, at } => {
            let _ = write!(
                s,
                "{{\"ph\":\"s\",\"cat\":\"wake\",\"name\":\"wake\",\"id\":{flow},\"pid\":1,\"tid\":{tid},\"ts\":{at:.3}}}"
            );
        }
        Event::Instant { name, at, arg } => {
            let _ = write!(
                s,
                "{{\"ph\":\"i\",\"s\":\"t\",\"cat\":\"{name}\",\"name\":\"{name}\",\"pid\":1,\"tid\":{tid},\"ts\":{at:.3},\"args\":{{\"arg\":{arg}}}}}"
            );
        }
        Event::Runnable { at, n } => {
            let _ = write!(
                s,
                "{{\"ph\":\"C\",\"name\":\"runnable (worker {tid})\",\"pid\":1,\"tid\":{tid},\"ts\":{at:.3},\"args\":{{\"goroutines\":{n}}}}}"
            );
        }
        Event::Chan { op, ch, g, at } => {
            let name = op.name();
            let _ = write!(
                s,
                "{{\"ph\":\"i\",\"s\":\"t\",\"cat\":\"chan\",\"name\":\"{name}\",\"pid\":1,\"tid\":{tid},\"ts\":{at:.3},\"args\":{{\"chan\":\"{ch:#x}\",\"goroutine\":{g}}}}}"
            );
        }
        Event::FlowEnd { flow, at } => {
            let _ = write!(
                s,
                "{{\"ph\":\"f\",\"bp\":\"e\",\"cat\":\"wake\",\"name\":\"wake\",\"id\":{flow},\"pid\":1,\"tid\":{tid},\"ts\":{at:.3}}}"
            );
        }
    }
    s
}
