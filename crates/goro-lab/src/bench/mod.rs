//! `goro bench`: the headline workloads of docs/BENCHMARKS.md, one line each:
//!
//! ```text
//! NAME  <ns per op> ns/op  <total ms> ms
//! parked1M  <ns to start one> ns/op  <total ms> ms  <bytes> B/goroutine
//! ```
//!
//! Each workload runs in a fresh runtime `--runs` times (default 3); the median is printed.
//! `--vs-go` alternates each run with a run of the Go twin and prints the ratios (`vs_go`).

use std::time::Duration;

use clap::Args;
use serde::Serialize;

mod peers;
mod vs_go;
mod workloads;

pub(crate) use vs_go::go_build;

pub use workloads::{
    hog_latency, longlived8, mpmc4x4_b128, nonblock_select_race, parked, pingpong,
    pingpong_on_tokio, pool_unbuf, ring503, rss_bytes, select2_b64, sieve, skynet, spawn_wait,
    spin_for, spsc, spsc_b100, spsc_unbuf, LONG_WORK, POOL, POOL_JOB, SLEEPERS,
};
use workloads::{Workload, WORKLOADS};

/// Arguments of `goro bench`.
#[derive(Args, Debug)]
pub struct BenchArgs {
    /// Workloads to run (default: all). Known: pingpong, spsc_unbuf, spsc_b100, mpmc4x4_b128,
    /// spawn, skynet1M, select2_b64, ring503, sieve5000, parked1M, and the real-program
    /// shapes pool_unbuf, longlived8, hog_latency, nonblock_select_race.
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
    /// Also run the Go twins (benches/go, built with `go build`), alternating goro and Go
    /// run by run, and print a table of the ratios.
    #[arg(long)]
    vs_go: bool,
    /// Also run the workloads on peer libraries where they apply (crossbeam-channel on OS
    /// threads, tokio), alternating with goro run by run, and print a table of the ratios;
    /// with `--vs-go`, as more columns of its table.
    #[arg(long)]
    peers: bool,
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
    /// The least wall time the work could take on the runtime's workers (CPU-bound shapes).
    #[serde(skip)]
    pub ideal: Option<Duration>,
}

impl Measure {
    /// A run that measured only time.
    pub fn timed(ops: u64, elapsed: Duration, result: u64) -> Self {
        Measure {
            ops,
            elapsed,
            bytes_per_op: None,
            result,
            ideal: None,
        }
    }

    /// Wall time over the ideal, for the CPU-bound shapes.
    pub fn x_ideal(&self) -> Option<f64> {
        self.ideal
            .map(|i| self.elapsed.as_secs_f64() / i.as_secs_f64().max(1e-9))
    }
}

/// A workload's median figures.
#[derive(Debug, Serialize)]
struct Line {
    name: &'static str,
    ns_per_op: f64,
    total_ms: f64,
    bytes_per_goroutine: Option<u64>,
    /// Wall time over the ideal (pool_unbuf, longlived8).
    x_ideal: Option<f64>,
    runs: usize,
    workers: usize,
    note: &'static str,
    #[serde(skip)]
    caveat: Option<&'static str>,
}

/// `size * scale`, kept a power of ten for skynet's tree (sizes here are powers of ten).
pub fn scaled(size: u64, scale: f64) -> u64 {
    let n = (size as f64 * scale).max(10.0) as u64;
    10u64.pow(n.ilog10())
}

fn median(mut v: Vec<Measure>) -> Measure {
    v.sort_by_key(|m| m.elapsed);
    v.swap_remove(v.len() / 2)
}

/// The checked arguments: which workloads, on how many workers.
struct Plan {
    workloads: Vec<&'static Workload>,
    workers: usize,
}

fn plan(args: &BenchArgs) -> Result<Plan, String> {
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
    let workloads = WORKLOADS
        .iter()
        .filter(|w| {
            args.names.is_empty() || args.names.iter().any(|n| n.eq_ignore_ascii_case(w.name))
        })
        .collect();
    Ok(Plan { workloads, workers })
}

/// The size of one run of `w` at `scale` (skynet's tree stays a power of ten). The Go twin's
/// `-scale` computes the same.
fn size_of(w: &Workload, scale: f64) -> u64 {
    if w.name == "skynet1M" {
        scaled(w.size, scale)
    } else {
        ((w.size as f64 * scale) as u64).max(2)
    }
}

/// A progress line on stderr while the runs go, only when stderr is a terminal (so piped or
/// captured output stays exactly the documented lines).
pub(crate) struct Progress(Option<indicatif::ProgressBar>);

impl Progress {
    pub(crate) fn new(total: usize) -> Self {
        use std::io::IsTerminal;
        if !std::io::stderr().is_terminal() {
            return Progress(None);
        }
        let bar = indicatif::ProgressBar::new(total as u64);
        bar.set_style(
            indicatif::ProgressStyle::with_template("{spinner} [{pos}/{len}] {msg}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
        );
        bar.enable_steady_tick(std::time::Duration::from_millis(200));
        Progress(Some(bar))
    }

    /// Says what runs next.
    pub(crate) fn step(&self, what: String) {
        if let Some(b) = &self.0 {
            b.set_message(what);
        }
    }

    /// One run done.
    pub(crate) fn done_one(&self) {
        if let Some(b) = &self.0 {
            b.inc(1);
        }
    }

    /// Prints a result line above the progress line.
    pub(crate) fn println(&self, line: String) {
        match &self.0 {
            Some(b) => b.suspend(|| println!("{line}")),
            None => println!("{line}"),
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        if let Some(b) = &self.0 {
            b.finish_and_clear();
        }
    }
}

/// One run of `w` in a fresh runtime.
fn run_once(w: &Workload, workers: usize, scale: f64) -> Result<Measure, String> {
    let (f, n) = (w.run, size_of(w, scale));
    goro::Runtime::builder()
        .hog_warnings(false)
        .workers(workers)
        .exit_report(false)
        .run(move || f(n))
        .map_err(|e| format!("{}: {e}", w.name))
}

/// Runs the named workloads (all when none is named).
pub fn run(args: &BenchArgs) -> Result<(), String> {
    let plan = plan(args)?;
    if args.vs_go {
        return vs_go::run(&plan, args);
    }
    if args.peers {
        return peers::run(&plan, args);
    }
    goro_alone(&plan, args)
}

/// goro's figures alone: the median of `--runs` runs per workload, as lines or JSON.
fn goro_alone(plan: &Plan, args: &BenchArgs) -> Result<(), String> {
    let mut lines = Vec::new();
    let progress = Progress::new(plan.workloads.len() * args.runs);
    for w in &plan.workloads {
        let runs = (0..args.runs)
            .map(|i| {
                progress.step(format!("{} run {}/{}", w.name, i + 1, args.runs));
                let m = run_once(w, plan.workers, args.scale);
                progress.done_one();
                m
            })
            .collect::<Result<Vec<_>, _>>()?;
        let m = median(runs);
        let line = Line {
            name: w.name,
            ns_per_op: m.elapsed.as_nanos() as f64 / m.ops as f64,
            total_ms: m.elapsed.as_secs_f64() * 1e3,
            bytes_per_goroutine: m.bytes_per_op,
            x_ideal: m.x_ideal(),
            runs: args.runs,
            workers: plan.workers,
            note: w.note,
            caveat: w.caveat,
        };
        if !args.json {
            progress.println(format_line(&line));
        }
        lines.push(line);
    }
    if args.json {
        print_json(&lines)?;
    }
    Ok(())
}

/// Prints `rows` as pretty JSON (`--json`).
fn print_json<T: Serialize>(rows: &[T]) -> Result<(), String> {
    println!(
        "{}",
        serde_json::to_string_pretty(rows).map_err(|e| e.to_string())?
    );
    Ok(())
}

/// The median of per-round figures.
fn median_f64(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn format_line(l: &Line) -> String {
    let mut caveat = l.caveat.map(|c| format!("  {c}")).unwrap_or_default();
    if let Some(x) = l.x_ideal {
        caveat = format!("  {x:.2}x ideal{caveat}");
    }
    match l.bytes_per_goroutine {
        Some(b) => format!(
            "{:<13}{:>10.0} ns/op {:>10.1} ms {:>8} B/goroutine{caveat}",
            l.name, l.ns_per_op, l.total_ms, b
        ),
        None => format!(
            "{:<13}{:>10.0} ns/op {:>10.1} ms{caveat}",
            l.name, l.ns_per_op, l.total_ms
        ),
    }
}
