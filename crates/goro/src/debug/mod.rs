//! Seeing inside: goroutine dumps (Go's `SIGQUIT` dump and `runtime.Stack(all)`), grouped for
//! leak hunting.
//!
//! This folder owns the user-facing side of dumps. A dump is gathered by the workers
//! themselves: the caller posts a request (`Shared::dump_gen`); each worker answers at its
//! next scheduling point, or at once if it sleeps, by walking its own slab of started
//! goroutines on its own thread (nothing reads another thread's goroutines), and adds one
//! [`Goroutine`] record per goroutine. Unstarted goroutines still queued are not listed. A
//! worker that runs one goroutine without yielding cannot answer; after a short wait the dump
//! says which workers are missing.
//!
//! `SIGQUIT` prints the dump of every runtime (`sigquit.rs`; `GORO_SIGQUIT=0` opts out).
//!
//! The same records make the deadlock report (`RunError::Deadlock`) and the list of
//! goroutines still parked when `run` returns.

mod sigquit;

pub(crate) use sigquit::register;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::Duration;

use crate::sched::wait::WaitReason;
use crate::sched::worker;

/// One goroutine in a dump.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Goroutine {
    /// Its id (Go's goid).
    pub id: u64,
    /// Its name, if it was given one.
    pub name: Option<String>,
    /// What it waits for; `None` if it is runnable (queued to run again).
    pub reason: Option<WaitReason>,
    /// How long it has waited (to within the monitor's 10-50 ms tick); `None` if runnable.
    pub waited: Option<Duration>,
    /// The address of the channel or primitive it waits on, where recorded: goroutines with
    /// the same address wait on the same thing.
    pub object: Option<usize>,
    /// Where it was spawned (`file:line:column`).
    pub site: String,
    /// The worker it lives on.
    pub worker: usize,
}

impl Goroutine {
    /// The state without the time: what groups share.
    fn state(&self) -> String {
        self.reason
            .map_or_else(|| "runnable".to_string(), |r| r.to_string())
    }

    /// The state with the time waited, as Go prints it once it matters: `chan receive, 2.1s`.
    fn state_and_time(&self) -> String {
        match self.waited {
            Some(w) if w >= Duration::from_millis(100) => {
                format!("{}, {:.1}s", self.state(), w.as_secs_f64())
            }
            _ => self.state(),
        }
    }
}

/// Formats records as Go does: `goroutine 7 "name" [chan receive]:` then where it was created.
pub(crate) fn format(gs: &[Goroutine]) -> String {
    let mut out = String::new();
    for g in gs {
        let name = g
            .name
            .as_ref()
            .map_or(String::new(), |n| format!(" \"{n}\""));
        let on = match (g.object, g.reason) {
            (Some(o), Some(WaitReason::ChanReceive | WaitReason::ChanSend)) => {
                format!("\twaiting on chan {o:#x}\n")
            }
            (Some(o), _) => format!("\twaiting on {o:#x}\n"),
            _ => String::new(),
        };
        let _ = writeln!(
            out,
            "goroutine {}{name} [{}]:\n{on}\tcreated at {} (worker {})\n",
            g.id,
            g.state_and_time(),
            g.site,
            g.worker
        );
    }
    out
}

/// Groups records with the same spawn site and state, largest group first: what a leak looks
/// like is many goroutines from one line waiting for the same thing.
pub(crate) fn format_grouped(gs: &[Goroutine]) -> String {
    let mut groups: BTreeMap<(String, String), Vec<u64>> = BTreeMap::new();
    for g in gs {
        groups
            .entry((g.site.clone(), g.state()))
            .or_default()
            .push(g.id);
    }
    let mut groups: Vec<_> = groups.into_iter().collect();
    groups.sort_by(|a, b| b.1.len().cmp(&a.1.len()).then(a.0.cmp(&b.0)));
    let mut out = String::new();
    for ((site, state), ids) in groups {
        let shown: Vec<String> = ids.iter().take(5).map(u64::to_string).collect();
        let more = if ids.len() > 5 { ", ..." } else { "" };
        let _ = writeln!(
            out,
            "{} goroutine(s) [{state}] created at {site} (ids {}{more})",
            ids.len(),
            shown.join(", ")
        );
    }
    out
}

/// Every started goroutine of the calling goroutine's runtime, sorted by id; empty outside a
/// runtime. A goroutine calling this parks briefly so that its own worker can answer.
pub fn goroutines() -> Vec<Goroutine> {
    match worker::current_runtime() {
        Some(rt) => rt.dump(Duration::from_millis(200)).0,
        None => Vec::new(),
    }
}

/// A dump of every goroutine of the calling goroutine's runtime, in Go's shape:
///
/// ```text
/// goroutine 7 "fetcher" [chan receive]:
///     created at src/main.rs:42:5 (worker 1)
/// ```
///
/// # Examples
///
/// ```
/// goro::run(|| {
///     let (_tx, rx) = goro::chan::<u32>(0);
///     let _h = goro::Builder::new().name("waiter").spawn(move || rx.recv()).unwrap();
///     goro::time::sleep(std::time::Duration::from_millis(5));
///     let d = goro::debug::dump();
///     assert!(d.contains("\"waiter\" [chan receive]"), "{d}");
///     assert!(d.contains("\"main\" [runnable]") || d.contains("\"main\" [sleep]"), "{d}");
/// })
/// .unwrap();
/// ```
pub fn dump() -> String {
    format(&goroutines())
}

/// The goroutines grouped by spawn site and state, with counts: for leak hunting.
///
/// # Examples
///
/// ```
/// goro::run(|| {
///     let (_tx, rx) = goro::chan::<u32>(0);
///     for _ in 0..10 {
///         let rx = rx.clone();
///         goro::go(move || rx.recv());
///     }
///     goro::time::sleep(std::time::Duration::from_millis(5));
///     assert!(goro::debug::dump_grouped().starts_with("10 goroutine(s) [chan receive]"));
/// })
/// .unwrap();
/// ```
pub fn dump_grouped() -> String {
    format_grouped(&goroutines())
}
