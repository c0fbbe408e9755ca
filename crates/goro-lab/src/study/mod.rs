//! `goro study`: the paper's two Go program shapes and two clean ones, on goro and in Go,
//! measured.
//!
//! This folder rebuilds the experiment of Nanz, West, Soares da Silveira and Meyer
//! ("Benchmarking Usability and Performance of Multicore Languages", ESEM 2013) on goro: the
//! Cowichan problems randmat, thresh, winnow, outer and product, and their chain
//! (`problems.rs`, which also holds the sequential style every other must match exactly, the
//! synthetic inputs and the output hash). The styles, one file each:
//!
//! - `non_expert.rs`: the shape of the study's non-expert Go programs: a goroutine per half
//!   down to single rows joined by a flat count on one channel, a four-pass thresh, and a
//!   winnow that funnels every candidate through one channel and sorts sequentially;
//! - `expert.rs`: the shape of its expert Go programs: a pool of one goroutine per worker
//!   taking rows from a work queue, and a pool of merger goroutines;
//! - `divide.rs`: divide and conquer written cleanly: wait and combine at every node;
//! - `blocks.rs`: a fixed block of rows per worker, combined once;
//! - `rayon_style.rs`: rayon's parallel iterators.
//!
//! Two methods (`--method`): `warm` (the default, `warm.rs`) times warm runs in this process
//! on the chain's real data and reports allocator heap; `paper` (`process.rs`) times each
//! run as a whole process, as the study did, on the study's kind of inputs (synthetic for
//! the middle problems), and reports peak resident memory. With `--vs-go` the Go twins of
//! the same styles (benches/go/study, `go_twin.rs`) run alternately with goro's and their
//! outputs are checked by hash. `report.rs` prints the tables and draws the chart.

pub mod blocks;
pub mod divide;
pub mod expert;
mod go_twin;
pub mod non_expert;
pub mod problems;
mod process;
pub mod rayon_style;
mod report;
mod warm;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use clap::{Args, ValueEnum};
use serde::{Deserialize, Serialize};

use problems::{Style, PROBLEMS};
pub use report::{chart, function_lines, helper_lines, lines_of, tables};

static SPAWNED: AtomicU64 = AtomicU64::new(0);

/// Counts a goroutine started by a style.
pub(crate) fn spawned() {
    SPAWNED.fetch_add(1, Ordering::Relaxed);
}

/// Goroutines started by the styles so far.
fn spawned_so_far() -> u64 {
    SPAWNED.load(Ordering::Relaxed)
}

/// The styles, in table order: the reference, the paper's two shapes, the clean two, rayon.
pub const STYLES: [&str; 6] = [
    "sequential",
    "non-expert",
    "expert",
    "divide-and-conquer",
    "blocks",
    "rayon",
];

/// The styles that have a Go twin.
pub const GO_STYLES: [&str; 5] = [
    "sequential",
    "non-expert",
    "expert",
    "divide-and-conquer",
    "blocks",
];

/// The style called `name`, for `workers` workers; `None` for rayon (which runs in a pool,
/// not on goro) and unknown names.
fn goro_style(name: &str, workers: usize) -> Option<Box<dyn Style + Send>> {
    Some(match name {
        "sequential" => Box::new(problems::Sequential),
        "non-expert" => Box::new(non_expert::NonExpert),
        "expert" => Box::new(expert::Expert { workers }),
        "divide-and-conquer" => Box::new(divide::DivideAndConquer),
        "blocks" => Box::new(blocks::Blocks { workers }),
        _ => return None,
    })
}

/// The problem sizes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Size {
    /// 3000x3000, 1%, 1000 points: seconds.
    Small,
    /// The paper's: 20000x20000, 1%, 10000 points.
    Paper,
}

/// How runs are timed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Method {
    /// Warm runs in one process on the chain's real data (after an untimed run); memory is
    /// the most heap a run held beyond what existed before it.
    Warm,
    /// The study's: each run a whole process, on synthetic inputs for thresh, winnow, outer
    /// and product (randmat and the chain need none); memory is peak resident.
    Paper,
}

/// The parameters of one size.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct Params {
    /// Matrix rows.
    pub nrows: usize,
    /// Matrix columns.
    pub ncols: usize,
    /// randmat's seed.
    pub seed: u32,
    /// thresh's percentage.
    pub percent: u32,
    /// winnow's number of points.
    pub nelts: usize,
}

impl Size {
    /// Its parameters.
    pub fn params(self) -> Params {
        match self {
            Size::Small => Params {
                nrows: 3000,
                ncols: 3000,
                seed: 666,
                percent: 1,
                nelts: 1000,
            },
            Size::Paper => Params {
                nrows: 20_000,
                ncols: 20_000,
                seed: 666,
                percent: 1,
                nelts: 10_000,
            },
        }
    }
}

/// Arguments of `goro study`.
#[derive(Args, Debug)]
pub struct StudyArgs {
    /// Problem size.
    #[arg(long, value_enum, default_value_t = Size::Small)]
    pub size: Size,
    /// How runs are timed: warm in this process, or each a whole process as the paper did.
    #[arg(long, value_enum, default_value_t = Method::Warm)]
    pub method: Method,
    /// Worker counts to measure, comma-separated (default: 1, 2, 4, ... up to the cores).
    #[arg(long, value_delimiter = ',')]
    pub workers: Vec<usize>,
    /// Problems to run, comma-separated (default: randmat,thresh,winnow,outer,product,chain).
    #[arg(long, value_delimiter = ',')]
    pub problems: Vec<String>,
    /// Styles to run besides sequential, comma-separated: non-expert, expert,
    /// divide-and-conquer, blocks, rayon (default: all).
    #[arg(long, value_delimiter = ',')]
    pub styles: Vec<String>,
    /// Runs per measurement; the median is reported (default 3, 1 at the paper size).
    #[arg(long)]
    pub runs: Option<usize>,
    /// Also run the Go twins of the styles (benches/go/study, built with `go build`),
    /// alternating with goro's runs.
    #[arg(long)]
    pub vs_go: bool,
    /// Print JSON instead of tables.
    #[arg(long)]
    pub json: bool,
    /// Where to write the chart of speed-up against workers.
    #[arg(long, default_value = "target/study.svg")]
    pub svg: std::path::PathBuf,
    /// Multiply the rows and columns by this (for quick checks).
    #[arg(long, default_value_t = 1.0, hide = true)]
    pub scale: f64,
    /// Print the tables and draw the chart of a run saved with `--json` instead of
    /// measuring.
    #[arg(long, value_name = "JSON")]
    pub from: Option<std::path::PathBuf>,
    /// Run one style once on the method's inputs and print its output's hash (the child
    /// process of `--method paper`).
    #[arg(long, hide = true)]
    pub child: Option<String>,
}

/// One measured cell of the tables.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Row {
    /// The problem.
    pub problem: String,
    /// The style.
    pub style: String,
    /// "goro" for goro-lab's programs (rayon and sequential included), "Go" for the twins.
    pub lang: String,
    /// Workers (goro's workers, rayon's threads, GOMAXPROCS).
    pub workers: usize,
    /// Median time, milliseconds.
    pub ms: f64,
    /// The same language's sequential time over this time.
    pub speedup: f64,
    /// MB: with `--method warm` the most heap a goro-lab run held at once beyond what existed
    /// before it (its output included; 0 for Go); with `--method paper` the process's peak
    /// resident memory.
    pub mem_mb: f64,
    /// Goroutines started per run.
    pub goroutines: u64,
    /// Lines of the style's function for the problem (blank and comment lines excluded).
    pub lines: usize,
}

/// Fills in each row's speed-up over its language's sequential row for the problem.
fn fill_speedups(rows: &mut [Row]) {
    let seq: Vec<(String, String, f64)> = rows
        .iter()
        .filter(|r| r.style == "sequential")
        .map(|r| (r.problem.clone(), r.lang.clone(), r.ms))
        .collect();
    for r in rows.iter_mut() {
        r.speedup = seq
            .iter()
            .find(|(p, l, _)| *p == r.problem && *l == r.lang)
            .map_or(0.0, |(_, _, ms)| ms / r.ms.max(1e-6));
    }
}

/// What one study measures.
#[derive(Debug, Clone)]
pub struct Plan {
    /// The size.
    pub params: Params,
    /// Problems, in order.
    pub problems: Vec<String>,
    /// Styles besides sequential, in [`STYLES`] order.
    pub styles: Vec<String>,
    /// Worker counts.
    pub workers: Vec<usize>,
    /// Runs per measurement.
    pub runs: usize,
}

impl Plan {
    /// A plan of every problem and style.
    pub fn new(params: Params, workers: &[usize], runs: usize) -> Plan {
        Plan {
            params,
            problems: PROBLEMS.iter().map(|s| s.to_string()).collect(),
            styles: STYLES[1..].iter().map(|s| s.to_string()).collect(),
            workers: workers.to_vec(),
            runs,
        }
    }
}

/// Runs the study in this process (the warm method, no Go) and returns its rows.
pub fn study(
    p: Params,
    problems: &[String],
    workers: &[usize],
    runs: usize,
) -> Result<Vec<Row>, String> {
    let mut plan = Plan::new(p, workers, runs);
    plan.problems = problems.to_vec();
    let mut rows = warm::study(&plan, &Arc::new(warm::Inputs::new(p)), None)?;
    fill_speedups(&mut rows);
    Ok(rows)
}

/// Runs `f` on a goro runtime of `workers` workers, quietly.
fn on_runtime<T: Send + 'static>(
    workers: usize,
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<T, String> {
    goro::Runtime::builder()
        .workers(workers)
        .exit_report(false)
        .hog_warnings(false)
        .run(f)
        .map_err(|e| e.to_string())
}

/// mimalloc's `mi_option_purge_delay` (its index in the `mi_option_e` enum of the vendored
/// v2 header; the Rust binding has no constant for it).
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// The plan the arguments ask for.
fn plan_of(a: &StudyArgs) -> Result<Plan, String> {
    let mut p = a.size.params();
    if !(a.scale > 0.0 && a.scale <= 1.0) {
        return Err("--scale must be in (0, 1]".into());
    }
    p.nrows = ((p.nrows as f64 * a.scale) as usize).max(8);
    p.ncols = ((p.ncols as f64 * a.scale) as usize).max(8);
    p.nelts = ((p.nelts as f64 * a.scale) as usize).max(4);
    let problems: Vec<String> = if a.problems.is_empty() {
        PROBLEMS.iter().map(|s| s.to_string()).collect()
    } else {
        a.problems.clone()
    };
    if let Some(bad) = problems.iter().find(|p| !PROBLEMS.contains(&p.as_str())) {
        return Err(format!(
            "unknown problem {bad:?}; known: {}",
            PROBLEMS.join(", ")
        ));
    }
    if let Some(bad) = a.styles.iter().find(|s| !STYLES.contains(&s.as_str())) {
        return Err(format!(
            "unknown style {bad:?}; known: {}",
            STYLES.join(", ")
        ));
    }
    let styles = STYLES[1..]
        .iter()
        .filter(|s| a.styles.is_empty() || a.styles.iter().any(|x| x == *s))
        .map(|s| s.to_string())
        .collect();
    let workers = if a.workers.is_empty() {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let mut w: Vec<usize> = std::iter::successors(Some(1usize), |w| Some(w * 2))
            .take_while(|&w| w < cores)
            .collect();
        w.push(cores);
        w
    } else {
        a.workers.clone()
    };
    if workers.contains(&0) {
        return Err("--workers must be at least 1".into());
    }
    let runs = a
        .runs
        .unwrap_or(if a.size == Size::Paper { 1 } else { 3 })
        .max(1);
    Ok(Plan {
        params: p,
        problems,
        styles,
        workers,
        runs,
    })
}

/// A run saved with `--json`.
#[derive(Deserialize)]
struct Saved {
    params: Params,
    method: Method,
    rows: Vec<Row>,
}

/// `--from`: the tables and chart of a saved run.
fn replot(path: &std::path::Path, a: &StudyArgs) -> Result<(), String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let saved: Saved = serde_json::from_str(&text).map_err(|e| {
        format!(
            "{} is not the output of goro study --json: {e}",
            path.display()
        )
    })?;
    print!("{}", tables(&saved.params, saved.method, &saved.rows));
    write_chart(&a.svg, &saved.rows)?;
    println!("\nchart: {}", a.svg.display());
    Ok(())
}

/// Writes [`chart`] of `rows` to `svg`, making its folder.
fn write_chart(svg: &std::path::Path, rows: &[Row]) -> Result<(), String> {
    if let Some(dir) = svg.parent() {
        if !dir.as_os_str().is_empty() {
            std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        }
    }
    std::fs::write(svg, chart(rows)).map_err(|e| format!("{}: {e}", svg.display()))
}

/// `goro study`.
pub fn run(a: &StudyArgs) -> Result<(), String> {
    // Keep freed memory committed: by default mimalloc returns it to the system 10 ms after
    // a free, so every large run would fault its pages in again (half a nanosecond a byte
    // here) and the warm timings would measure the kernel more than the styles.
    if a.method == Method::Warm {
        // SAFETY: setting an option is a plain store into mimalloc's option table; -1 is the
        // documented value for "never purge".
        unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, -1) };
    }
    let plan = plan_of(a)?;
    if let Some(style) = &a.child {
        return process::child(&plan, style);
    }
    if let Some(path) = &a.from {
        return replot(path, a);
    }
    let go = if a.vs_go {
        let bin = go_twin::build()?;
        if bin.is_none() {
            eprintln!(
                "Go is not on PATH, so there are no Go twins to run. Install it (on Debian: \
                 apt-get install golang-go) and run again. goro's figures alone:"
            );
        }
        bin
    } else {
        None
    };
    let (mut rows, layout) = match a.method {
        Method::Warm => {
            let inp = Arc::new(warm::Inputs::new(plan.params));
            let rows = warm::study(&plan, &inp, go.as_deref())?;
            let layout = if plan.problems.iter().any(|p| p == "thresh") {
                warm::layout_experiment(&inp)
            } else {
                Vec::new()
            };
            (rows, layout)
        }
        Method::Paper => (process::study(&plan, a, go.as_deref())?, Vec::new()),
    };
    fill_speedups(&mut rows);
    if a.json {
        let layout: Vec<_> = layout
            .iter()
            .map(|(t, bytes, ms)| serde_json::json!({ "type": t, "bytes": bytes, "ms": ms }))
            .collect();
        let v = serde_json::json!({
            "params": plan.params, "method": a.method, "rows": rows, "layout": layout
        });
        println!("{v}");
    } else {
        print!("{}", tables(&plan.params, a.method, &rows));
        if !layout.is_empty() {
            println!("\ndata layout: thresh's histogram pass, one thread, the matrix stored as");
            for (t, bytes, ms) in &layout {
                println!(
                    "  {t:<4} {:>8.1} MB  {ms:>8.1} ms  {:>6.2} GB/s",
                    *bytes as f64 / 1e6,
                    *bytes as f64 / ms / 1e6
                );
            }
        }
    }
    write_chart(&a.svg, &rows)?;
    if !a.json {
        println!("\nchart: {}", a.svg.display());
    }
    Ok(())
}
