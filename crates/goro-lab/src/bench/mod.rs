//! `goro bench`: the headline workloads of shared/BENCH.md, one line each:
//!
//! ```text
//! NAME  <ns per op> ns/op  <total ms> ms
//! parked1M  <ns to start one> ns/op  <total ms> ms  <bytes> B/goroutine
//! ```
//!
//! Each workload runs in a fresh runtime `--runs` times (default 3); the median is printed.

use std::time::Duration;

use clap::Args;
use serde::Serialize;

mod workloads;

pub use workloads::{parked, rss_bytes, skynet, spawn_wait};

/// Arguments of `goro bench`.
#[derive(Args, Debug)]
pub struct BenchArgs {
    /// Workloads to run (default: all). Known: spawn, skynet1M, parked1M.
    names: Vec<String>,
    /// Workers (OS threads) to run goroutines on; default GORO_WORKERS or one per core.
    #[arg(long)]
    workers: Option<usize>,
    /// Runs per workload; the median is reported.
    #[arg(long, default_value_t = 3)]
    runs: usize,
    /// Print JSON instead of text lines.
    #[arg(long)]
    json: bool,
    /// Multiply every workload's size by this (for quick checks).
    #[arg(long, default_value_t = 1.0, hide = true)]
    scale: f64,
}

/// One measured run of a workload.
#[derive(Debug, Clone, Serialize)]
pub struct Measure {
    /// Operations done (goroutines, messages, ...).
    pub ops: u64,
    /// Time the measured part took.
    #[serde(skip)]
    pub elapsed: Duration,
    /// Resident bytes added per goroutine (parked1M only).
    pub bytes_per_op: Option<u64>,
    /// The workload's checked answer (skynet's sum, goroutines that ran or woke).
    pub result: u64,
}

/// A workload's median figures.
#[derive(Debug, Serialize)]
struct Line {
    name: &'static str,
    ns_per_op: f64,
    total_ms: f64,
    bytes_per_goroutine: Option<u64>,
    runs: usize,
    workers: usize,
    note: &'static str,
    #[serde(skip)]
    caveat: Option<&'static str>,
}

struct Workload {
    name: &'static str,
    /// What the workload does (in `--json`).
    note: &'static str,
    /// Where goro's version differs from BENCH.md's definition for now; printed on the line.
    caveat: Option<&'static str>,
    run: fn(u64) -> Measure,
    size: u64,
}

const WORKLOADS: &[Workload] = &[
    Workload {
        name: "spawn",
        note: "1,000,000 goroutines each call WaitGroup::done",
        caveat: None,
        run: spawn_wait,
        size: 1_000_000,
    },
    Workload {
        name: "skynet1M",
        note: "10-ary tree of 1,111,111 goroutines; results gathered with JoinHandle::join until channels exist",
        caveat: Some("(results via JoinHandle::join until channels exist)"),
        run: skynet,
        size: 1_000_000,
    },
    Workload {
        name: "parked1M",
        note: "1,000,000 goroutines parked on a WaitGroup used as a gate until channels exist",
        caveat: Some("(parked on a WaitGroup gate until channels exist)"),
        run: parked,
        size: 1_000_000,
    },
];

/// `size * scale`, kept a power of ten for skynet's tree (sizes here are powers of ten).
pub fn scaled(size: u64, scale: f64) -> u64 {
    let n = (size as f64 * scale).max(10.0) as u64;
    10u64.pow(n.ilog10())
}

fn median(mut v: Vec<Measure>) -> Measure {
    v.sort_by_key(|m| m.elapsed);
    v.swap_remove(v.len() / 2)
}

/// Runs the named workloads (all when none is named).
pub fn run(args: &BenchArgs) -> Result<(), String> {
    for n in &args.names {
        if !WORKLOADS.iter().any(|w| w.name.eq_ignore_ascii_case(n)) {
            let known: Vec<_> = WORKLOADS.iter().map(|w| w.name).collect();
            return Err(format!(
                "unknown workload {n:?}; known: {}",
                known.join(", ")
            ));
        }
    }
    if args.runs == 0 {
        return Err("--runs must be at least 1".into());
    }
    if !(args.scale > 0.0 && args.scale <= 1.0) {
        return Err("--scale must be in (0, 1]".into());
    }
    let workers = match args.workers {
        Some(n) => n,
        None => match std::env::var("GORO_WORKERS") {
            Ok(v) => v
                .parse()
                .map_err(|_| format!("GORO_WORKERS={v:?} is not a number"))?,
            Err(_) => std::thread::available_parallelism().map_or(1, usize::from),
        },
    };
    let mut lines = Vec::new();
    for w in WORKLOADS {
        if !args.names.is_empty() && !args.names.iter().any(|n| n.eq_ignore_ascii_case(w.name)) {
            continue;
        }
        let mut runs = Vec::with_capacity(args.runs);
        for _ in 0..args.runs {
            let (f, n) = (w.run, scaled(w.size, args.scale));
            let m = goro::Runtime::builder()
                .workers(workers)
                .exit_report(false)
                .run(move || f(n))
                .map_err(|e| format!("{}: {e}", w.name))?;
            runs.push(m);
        }
        let m = median(runs);
        let line = Line {
            name: w.name,
            ns_per_op: m.elapsed.as_nanos() as f64 / m.ops as f64,
            total_ms: m.elapsed.as_secs_f64() * 1e3,
            bytes_per_goroutine: m.bytes_per_op,
            runs: args.runs,
            workers,
            note: w.note,
            caveat: w.caveat,
        };
        if !args.json {
            print_line(&line);
        }
        lines.push(line);
    }
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&lines).map_err(|e| e.to_string())?
        );
    }
    Ok(())
}

fn print_line(l: &Line) {
    let caveat = l.caveat.map(|c| format!("  {c}")).unwrap_or_default();
    match l.bytes_per_goroutine {
        Some(b) => println!(
            "{:<10}{:>10.0} ns/op {:>10.1} ms {:>8} B/goroutine{caveat}",
            l.name, l.ns_per_op, l.total_ms, b
        ),
        None => println!(
            "{:<10}{:>10.0} ns/op {:>10.1} ms{caveat}",
            l.name, l.ns_per_op, l.total_ms
        ),
    }
}
