//! `goro study`: divide-and-conquer against distribute-work-synchronize, measured.
//!
//! This folder rebuilds the experiment of Nanz, West, Soares da Silveira and Meyer
//! ("Benchmarking Usability and Performance of Multicore Languages", ESEM 2013) on goro: the
//! Cowichan problems randmat, thresh, winnow, outer and product (`problems.rs`, with the
//! sequential style every other must match exactly), written as a non-expert did, with a
//! goroutine per recursion (`divide.rs`), as an expert did, with a goroutine per worker and a
//! merge at the end (`dws.rs`), and with rayon (`rayon_style.rs`). It times each style on
//! each problem and on their chain for each worker count, checks the outputs against the
//! sequential ones, and reports speed-up, peak memory growth, goroutines started and the
//! lines of code of each style's function, counted from this folder's sources.

pub mod divide;
pub mod dws;
pub mod problems;
pub mod rayon_style;

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::{Args, ValueEnum};
use serde::Serialize;

use problems::{Point, Rows, Style, PROBLEMS};

static SPAWNED: AtomicU64 = AtomicU64::new(0);

/// Counts a goroutine started by a style.
pub(crate) fn spawned() {
    SPAWNED.fetch_add(1, Ordering::Relaxed);
}

/// The problem sizes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Size {
    /// 3000x3000, 1%, 1000 points: seconds.
    Small,
    /// The paper's: 20000x20000, 1%, 10000 points.
    Paper,
}

/// The parameters of one size.
#[derive(Debug, Clone, Copy, Serialize)]
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
    /// Worker counts to measure, comma-separated (default: 1, 2, 4, ... up to the cores).
    #[arg(long, value_delimiter = ',')]
    pub workers: Vec<usize>,
    /// Problems to run, comma-separated (default: randmat,thresh,winnow,outer,product,chain).
    #[arg(long, value_delimiter = ',')]
    pub problems: Vec<String>,
    /// Runs per measurement; the median is reported (default 3, 1 at the paper size).
    #[arg(long)]
    pub runs: Option<usize>,
    /// Print JSON instead of tables.
    #[arg(long)]
    pub json: bool,
    /// Where to write the chart of speed-up against workers.
    #[arg(long, default_value = "target/study.svg")]
    pub svg: std::path::PathBuf,
    /// Multiply the rows and columns by this (for quick checks).
    #[arg(long, default_value_t = 1.0, hide = true)]
    pub scale: f64,
}

/// One measured cell of the tables.
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    /// The problem.
    pub problem: String,
    /// The style.
    pub style: String,
    /// Workers (OS threads).
    pub workers: usize,
    /// Median time, milliseconds.
    pub ms: f64,
    /// Sequential time over this time.
    pub speedup: f64,
    /// The most heap the run held at once beyond what existed before it (its output included),
    /// MB, from the counting allocator; 0 where the binary does not count.
    pub peak_mb: f64,
    /// Goroutines started per run.
    pub goroutines: u64,
    /// Lines of the style's function for the problem (blank and comment lines excluded).
    pub lines: usize,
}

/// The inputs of each problem, computed once by the sequential style, and its outputs to
/// check against.
struct Inputs {
    p: Params,
    m: Arc<Rows<u32>>,
    mask: Arc<Rows<bool>>,
    pts: Arc<Vec<Point>>,
    a: Arc<Rows<f64>>,
    v: Arc<Vec<f64>>,
    r: Vec<f64>,
}

impl Inputs {
    fn new(p: Params) -> Inputs {
        let s = problems::Sequential;
        let m = Arc::new(s.randmat(p.nrows, p.ncols, p.seed));
        let mask = Arc::new(s.thresh(&m, p.percent));
        let pts = Arc::new(s.winnow(&m, &mask, p.nelts));
        let (a, v) = s.outer(&pts);
        let (a, v) = (Arc::new(a), Arc::new(v));
        let r = s.product(&a, &v);
        Inputs {
            p,
            m,
            mask,
            pts,
            a,
            v,
            r,
        }
    }
}

/// Runs `problem` in `style` once; Err if its output differs from the sequential one.
fn run_once(style: &dyn Style, problem: &str, inp: &Inputs) -> Result<(), String> {
    let p = &inp.p;
    let ok = match problem {
        "randmat" => style.randmat(p.nrows, p.ncols, p.seed) == *inp.m,
        "thresh" => style.thresh(&inp.m, p.percent) == *inp.mask,
        "winnow" => style.winnow(&inp.m, &inp.mask, p.nelts) == *inp.pts,
        "outer" => {
            let (a, v) = style.outer(&inp.pts);
            a == *inp.a && v == *inp.v
        }
        "product" => style.product(&inp.a, &inp.v) == inp.r,
        "chain" => {
            let m = Arc::new(style.randmat(p.nrows, p.ncols, p.seed));
            let mask = Arc::new(style.thresh(&m, p.percent));
            let pts = Arc::new(style.winnow(&m, &mask, p.nelts));
            let (a, v) = style.outer(&pts);
            style.product(&Arc::new(a), &Arc::new(v)) == inp.r
        }
        other => return Err(format!("unknown problem {other}")),
    };
    if ok {
        Ok(())
    } else {
        Err(format!("{} computed a different {problem}", style.name()))
    }
}

/// Times `runs` runs after a warm-up run; the median, the largest peak heap growth and
/// goroutines per run.
fn measure(
    style: &dyn Style,
    problem: &str,
    inp: &Inputs,
    runs: usize,
) -> Result<(Duration, f64, u64), String> {
    // One run untimed first: the first touch of fresh memory (page faults: 0.5 ns a byte
    // here, 2 s of a 2.8 s randmat at the paper size) would otherwise be charged to whichever
    // style runs first on a new thread. The allocator keeps the pages for the timed runs.
    run_once(style, problem, inp)?;
    let mut times = Vec::new();
    let mut peak = 0u64;
    let g0 = SPAWNED.load(Ordering::Relaxed);
    for _ in 0..runs.max(1) {
        let t = Instant::now();
        let (r, allocs) = goro_examples::alloc::count(|| run_once(style, problem, inp));
        times.push(t.elapsed());
        r?;
        peak = peak.max(allocs.map_or(0, |a| a.peak));
    }
    times.sort();
    let g = (SPAWNED.load(Ordering::Relaxed) - g0) / runs.max(1) as u64;
    Ok((times[times.len() / 2], peak as f64 / 1e6, g))
}

/// Lines of `fn NAME` in `src`, from its signature to its closing brace, without blank
/// lines and comments.
pub fn function_lines(src: &str, name: &str) -> usize {
    let lines: Vec<&str> = src.lines().collect();
    let Some(start) = lines.iter().position(|l| {
        let t = l.trim_start();
        t.starts_with(&format!("fn {name}(")) || t.starts_with(&format!("fn {name}<"))
    }) else {
        return 0;
    };
    let mut depth = 0i64;
    let mut count = 0;
    for l in &lines[start..] {
        let t = l.trim();
        if !t.is_empty() && !t.starts_with("//") {
            count += 1;
        }
        depth += l.matches('{').count() as i64 - l.matches('}').count() as i64;
        if depth == 0 && l.contains('}') {
            break;
        }
    }
    count
}

/// The source of each style, for counting lines.
fn source(style: &str) -> &'static str {
    match style {
        "sequential" => include_str!("problems.rs"),
        "divide-and-conquer" => include_str!("divide.rs"),
        "distribute-work" => include_str!("dws.rs"),
        _ => include_str!("rayon_style.rs"),
    }
}

/// Lines of `style`'s code for `problem` (the chain: the five together).
pub fn lines_of(style: &str, problem: &str) -> usize {
    let src = source(style);
    // The sequential style's impl comes after the shared kernels in problems.rs.
    let src = match style {
        "sequential" => src.split("impl Style for Sequential").nth(1).unwrap_or(src),
        _ => src,
    };
    if problem == "chain" {
        PROBLEMS[..5].iter().map(|p| function_lines(src, p)).sum()
    } else {
        function_lines(src, problem)
    }
}

/// Lines of each style's shared helper, which its problem functions call.
pub fn helper_lines() -> [(&'static str, &'static str, usize); 2] {
    [
        (
            "divide-and-conquer",
            "split",
            function_lines(source("divide-and-conquer"), "split"),
        ),
        (
            "distribute-work",
            "blocks",
            function_lines(source("distribute-work"), "blocks"),
        ),
    ]
}

/// The data-layout side experiment: thresh's histogram pass over the same matrix stored as
/// bytes, 4-byte and 8-byte integers (the paper's Go programs used `int`, 8 bytes), one
/// thread. Returns (layout, bytes scanned, milliseconds).
pub fn layout_experiment(m: &Rows<u32>) -> Vec<(&'static str, usize, f64)> {
    fn time_hist<T: Copy + Into<u64>>(rows: &[Vec<T>]) -> f64 {
        let t = Instant::now();
        let mut h = [0u64; 100];
        for row in rows {
            for &v in row {
                h[v.into() as usize] += 1;
            }
        }
        std::hint::black_box(h);
        t.elapsed().as_secs_f64() * 1e3
    }
    let cells: usize = m.iter().map(Vec::len).sum();
    let bytes: Vec<Vec<u8>> = m
        .iter()
        .map(|r| r.iter().map(|&v| v as u8).collect())
        .collect();
    let b = time_hist(&bytes);
    drop(bytes);
    let w = time_hist(m);
    let longs: Vec<Vec<u64>> = m
        .iter()
        .map(|r| r.iter().map(|&v| u64::from(v)).collect())
        .collect();
    let l = time_hist(&longs);
    vec![
        ("u8", cells, b),
        ("u32", cells * 4, w),
        ("u64", cells * 8, l),
    ]
}

/// One measurement before it becomes a [`Row`]: problem, style, median time, peak heap MB,
/// goroutines per run.
type Timed = (String, String, Duration, f64, u64);

/// Runs the study and returns its rows.
pub fn study(
    p: Params,
    problems: &[String],
    workers: &[usize],
    runs: usize,
) -> Result<Vec<Row>, String> {
    study_on(&Arc::new(Inputs::new(p)), problems, workers, runs)
}

/// The study on inputs already computed.
fn study_on(
    inp: &Arc<Inputs>,
    problems: &[String],
    workers: &[usize],
    runs: usize,
) -> Result<Vec<Row>, String> {
    let mut rows = Vec::new();
    let mut seq_ms = std::collections::HashMap::new();
    for problem in problems {
        let (t, peak, g) = measure(&problems::Sequential, problem, inp, runs)?;
        let ms = t.as_secs_f64() * 1e3;
        seq_ms.insert(problem.clone(), ms);
        rows.push(Row {
            problem: problem.clone(),
            style: "sequential".into(),
            workers: 1,
            ms,
            speedup: 1.0,
            peak_mb: peak,
            goroutines: g,
            lines: lines_of("sequential", problem),
        });
    }
    for &w in workers {
        // The goroutine styles, on a runtime of `w` workers.
        let (inp2, probs) = (inp.clone(), problems.to_vec());
        let goro_rows = goro::Runtime::builder()
            .workers(w)
            .exit_report(false)
            .hog_warnings(false)
            .run(move || -> Result<Vec<Timed>, String> {
                let mut out = Vec::new();
                let dws = dws::DistributeWork { workers: w };
                let styles: [&dyn Style; 2] = [&divide::DivideAndConquer, &dws];
                for problem in &probs {
                    for s in styles {
                        let (t, peak, g) = measure(s, problem, &inp2, runs)?;
                        out.push((problem.clone(), s.name().to_string(), t, peak, g));
                    }
                }
                Ok(out)
            })
            .map_err(|e| e.to_string())??;
        // Rayon, in a pool of `w` threads.
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(w)
            .build()
            .map_err(|e| e.to_string())?;
        let mut rayon_rows = Vec::new();
        for problem in problems {
            let (t, peak, g) = pool.install(|| measure(&rayon_style::Rayon, problem, inp, runs))?;
            rayon_rows.push((problem.clone(), "rayon".to_string(), t, peak, g));
        }
        for (problem, style, t, peak, g) in goro_rows.into_iter().chain(rayon_rows) {
            let ms = t.as_secs_f64() * 1e3;
            rows.push(Row {
                lines: lines_of(&style, &problem),
                speedup: seq_ms.get(&problem).copied().unwrap_or(ms) / ms,
                problem,
                style,
                workers: w,
                ms,
                peak_mb: peak,
                goroutines: g,
            });
        }
    }
    Ok(rows)
}

/// The tables, one per problem.
pub fn tables(p: &Params, rows: &[Row]) -> String {
    let mut out = format!(
        "Cowichan problems, {}x{} matrix (seed {}), {}%, {} points\n",
        p.nrows, p.ncols, p.seed, p.percent, p.nelts
    );
    let mut problems: Vec<&str> = Vec::new();
    for r in rows {
        if !problems.contains(&r.problem.as_str()) {
            problems.push(&r.problem);
        }
    }
    let helpers: Vec<String> = helper_lines()
        .iter()
        .map(|(style, f, n)| format!("{style} also has its {f} helper, {n} lines"))
        .collect();
    let _ = writeln!(
        out,
        "lines: the style's function for the problem; {}",
        helpers.join("; ")
    );
    for problem in problems {
        let _ = writeln!(
            out,
            "\n{problem}\n{:<20} {:>7} {:>10} {:>8} {:>9} {:>11} {:>6}",
            "style", "workers", "ms", "speedup", "heap MB", "goroutines", "lines"
        );
        let mut rs: Vec<&Row> = rows.iter().filter(|r| r.problem == problem).collect();
        rs.sort_by_key(|r| (r.workers, r.style != "sequential", r.style.clone()));
        for r in rs {
            let _ = writeln!(
                out,
                "{:<20} {:>7} {:>10.1} {:>8.2} {:>9.1} {:>11} {:>6}",
                r.style, r.workers, r.ms, r.speedup, r.peak_mb, r.goroutines, r.lines
            );
        }
    }
    out
}

/// The styles [`chart`] draws, and their colours.
const STYLES: [&str; 3] = ["divide-and-conquer", "distribute-work", "rayon"];
const COLORS: [&str; 3] = ["#c84", "#48c", "#4a8"];

/// A chart of speed-up against workers: a panel per problem, a line per style.
pub fn chart(rows: &[Row]) -> String {
    let mut problems: Vec<&str> = Vec::new();
    for r in rows {
        if !problems.contains(&r.problem.as_str()) {
            problems.push(&r.problem);
        }
    }
    let max_w = rows.iter().map(|r| r.workers).max().unwrap_or(1).max(2) as f64;
    let max_s = rows.iter().map(|r| r.speedup).fold(max_w, f64::max).ceil();
    let (pw, ph, cols) = (300.0, 220.0, 3usize);
    let rows_n = problems.len().div_ceil(cols);
    let (w, h) = (pw * cols as f64, ph * rows_n as f64 + 40.0);
    let mut out = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" font-family=\"sans-serif\" font-size=\"11\">\n<rect width=\"100%\" height=\"100%\" fill=\"#fff\"/>\n"
    );
    for (k, (s, c)) in STYLES.iter().zip(COLORS).enumerate() {
        let _ = writeln!(
            out,
            "<rect x=\"{}\" y=\"8\" width=\"12\" height=\"12\" fill=\"{c}\"/><text x=\"{}\" y=\"18\">{s}</text>",
            10.0 + 180.0 * k as f64,
            26.0 + 180.0 * k as f64
        );
    }
    let _ = writeln!(
        out,
        "<text x=\"560\" y=\"18\">speed-up over sequential against workers (dashed: ideal)</text>"
    );
    for (i, problem) in problems.iter().enumerate() {
        let origin = (pw * (i % cols) as f64, 40.0 + ph * (i / cols) as f64);
        panel(&mut out, rows, problem, origin, (pw, ph), (max_w, max_s));
    }
    out.push_str("</svg>\n");
    out
}

/// One problem's panel of [`chart`] at `origin`, `size` big: axes, the ideal, and a line per
/// style; `scale` is the largest worker count and speed-up, shared by every panel.
fn panel(
    out: &mut String,
    rows: &[Row],
    problem: &str,
    (ox, oy): (f64, f64),
    (pw, ph): (f64, f64),
    (max_w, max_s): (f64, f64),
) {
    let (x0, y0, x1, y1) = (ox + 40.0, oy + ph - 30.0, ox + pw - 15.0, oy + 20.0);
    let x = |wk: f64| x0 + (wk - 1.0) / (max_w - 1.0).max(1.0) * (x1 - x0);
    let y = |s: f64| y0 - s / max_s * (y0 - y1);
    let _ = writeln!(
        out,
        "<text x=\"{}\" y=\"{}\" font-weight=\"bold\">{problem}</text>\n<line x1=\"{x0}\" y1=\"{y0}\" x2=\"{x1}\" y2=\"{y0}\" stroke=\"#999\"/>\n<line x1=\"{x0}\" y1=\"{y0}\" x2=\"{x0}\" y2=\"{y1}\" stroke=\"#999\"/>\n<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"#bbb\" stroke-dasharray=\"4 3\"/>",
        ox + 40.0,
        oy + 14.0,
        x(1.0),
        y(1.0),
        x(max_w),
        y(max_w)
    );
    for t in 0..=max_s as usize {
        let _ = writeln!(
            out,
            "<text x=\"{}\" y=\"{:.1}\" text-anchor=\"end\">{t}</text>",
            x0 - 4.0,
            y(t as f64) + 4.0
        );
    }
    let mut ws: Vec<usize> = rows.iter().map(|r| r.workers).collect();
    ws.sort_unstable();
    ws.dedup();
    for wk in &ws {
        let _ = writeln!(
            out,
            "<text x=\"{:.1}\" y=\"{}\" text-anchor=\"middle\">{wk}</text>",
            x(*wk as f64),
            y0 + 14.0
        );
    }
    for (s, c) in STYLES.iter().zip(COLORS) {
        let mut pts: Vec<(f64, f64)> = rows
            .iter()
            .filter(|r| r.problem == *problem && r.style == *s)
            .map(|r| (x(r.workers as f64), y(r.speedup)))
            .collect();
        pts.sort_by(|a, b| a.0.total_cmp(&b.0));
        let path: Vec<String> = pts.iter().map(|(a, b)| format!("{a:.1},{b:.1}")).collect();
        let _ = writeln!(
            out,
            "<polyline class=\"style\" points=\"{}\" fill=\"none\" stroke=\"{c}\" stroke-width=\"2\"/>",
            path.join(" ")
        );
        for (a, b) in pts {
            let _ = writeln!(
                out,
                "<circle cx=\"{a:.1}\" cy=\"{b:.1}\" r=\"3\" fill=\"{c}\"/>"
            );
        }
    }
}

/// mimalloc's `mi_option_purge_delay` (its index in the `mi_option_e` enum of the vendored
/// v2 header; the Rust binding has no constant for it).
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// `goro study`.
pub fn run(a: &StudyArgs) -> Result<(), String> {
    // Keep freed memory committed: by default mimalloc returns it to the system 10 ms after
    // a free, so every large run would fault its pages in again (half a nanosecond a byte
    // here) and the timings would measure the kernel more than the styles.
    // SAFETY: setting an option is a plain store into mimalloc's option table; -1 is the
    // documented value for "never purge".
    unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, -1) };
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
    let runs = a.runs.unwrap_or(if a.size == Size::Paper { 1 } else { 3 });
    let inp = Arc::new(Inputs::new(p));
    let rows = study_on(&inp, &problems, &workers, runs)?;
    let layout = if problems.iter().any(|p| p == "thresh") {
        layout_experiment(&inp.m)
    } else {
        Vec::new()
    };
    if a.json {
        let layout: Vec<_> = layout
            .iter()
            .map(|(t, bytes, ms)| serde_json::json!({ "type": t, "bytes": bytes, "ms": ms }))
            .collect();
        let v = serde_json::json!({ "params": p, "rows": rows, "layout": layout });
        println!("{v}");
    } else {
        print!("{}", tables(&p, &rows));
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
    if let Some(dir) = a.svg.parent() {
        if !dir.as_os_str().is_empty() {
            std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        }
    }
    std::fs::write(&a.svg, chart(&rows)).map_err(|e| format!("{}: {e}", a.svg.display()))?;
    if !a.json {
        println!("\nchart: {}", a.svg.display());
    }
    Ok(())
}
