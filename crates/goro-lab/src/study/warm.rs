//! The warm method: every style runs in this process on the chain's real data, computed once
//! by the sequential style; each measurement is the median of `runs` timed runs after an
//! untimed one, and memory is the most heap a run held beyond what existed before it. With
//! the Go twin, each problem and worker count is measured in goro and then in Go (a fresh
//! process that builds the same inputs, then times its styles the same way), so a noisy
//! machine's phases hit both.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::problems::{self, Cell, Output, Point, Rows, Style};
use super::{go_twin, goro_style, lines_of, on_runtime, spawned_so_far, Plan, Row, GO_STYLES};

/// The inputs of each problem, computed once by the sequential style, and its outputs to
/// check against.
pub(super) struct Inputs {
    p: super::Params,
    m: Arc<Rows<Cell>>,
    mask: Arc<Rows<bool>>,
    pts: Arc<Vec<Point>>,
    a: Arc<Rows<f64>>,
    v: Arc<Vec<f64>>,
    r: Vec<f64>,
}

impl Inputs {
    pub(super) fn new(p: super::Params) -> Inputs {
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

    /// The hash of the sequential output of `problem`.
    fn hash(&self, problem: &str) -> u64 {
        match problem {
            "randmat" => problems::hash_cells(&self.m),
            "thresh" => problems::hash_mask(&self.mask),
            "winnow" => problems::hash_points(&self.pts),
            "outer" => problems::hash_floats(&self.a, &self.v),
            _ => problems::hash_floats(&[], &self.r),
        }
    }

    /// Whether `out` is what the sequential style computed for `problem`.
    fn matches(&self, problem: &str, out: &Output) -> bool {
        match (problem, out) {
            ("randmat", Output::Matrix(m)) => *m == *self.m,
            ("thresh", Output::Mask(m)) => *m == *self.mask,
            ("winnow", Output::Points(p)) => *p == *self.pts,
            ("outer", Output::Outer(a, v)) => *a == *self.a && *v == *self.v,
            ("product" | "chain", Output::Vector(r)) => *r == self.r,
            _ => false,
        }
    }
}

/// Runs `problem` in `style` once on the inputs.
fn compute(style: &dyn Style, problem: &str, inp: &Inputs) -> Result<Output, String> {
    let p = &inp.p;
    Ok(match problem {
        "randmat" => Output::Matrix(style.randmat(p.nrows, p.ncols, p.seed)),
        "thresh" => Output::Mask(style.thresh(&inp.m, p.percent)),
        "winnow" => Output::Points(style.winnow(&inp.m, &inp.mask, p.nelts)),
        "outer" => {
            let (a, v) = style.outer(&inp.pts);
            Output::Outer(a, v)
        }
        "product" => Output::Vector(style.product(&inp.a, &inp.v)),
        "chain" => {
            let m = Arc::new(style.randmat(p.nrows, p.ncols, p.seed));
            let mask = Arc::new(style.thresh(&m, p.percent));
            let pts = Arc::new(style.winnow(&m, &mask, p.nelts));
            let (a, v) = style.outer(&pts);
            Output::Vector(style.product(&Arc::new(a), &Arc::new(v)))
        }
        other => return Err(format!("unknown problem {other}")),
    })
}

/// Runs `problem` in `style` once; Err if its output differs from the sequential one.
fn check(style: &dyn Style, problem: &str, out: &Output, inp: &Inputs) -> Result<(), String> {
    if inp.matches(problem, out) {
        Ok(())
    } else {
        Err(format!("{} computed a different {problem}", style.name()))
    }
}

/// One measurement: the median time, the largest heap growth (MB) and goroutines per run.
type Measured = (Duration, f64, u64);

/// Times `runs` runs after a warm-up run; each output is checked after its timing.
fn measure(
    style: &dyn Style,
    problem: &str,
    inp: &Inputs,
    runs: usize,
) -> Result<Measured, String> {
    // One run untimed first: the first touch of fresh memory (page faults: 0.5 ns a byte
    // here) would otherwise be charged to whichever style runs first on a new thread. The
    // allocator keeps the pages for the timed runs.
    check(style, problem, &compute(style, problem, inp)?, inp)?;
    let mut times = Vec::new();
    let mut peak = 0u64;
    let g0 = spawned_so_far();
    for _ in 0..runs {
        let t = Instant::now();
        let (out, allocs) = goro_examples::alloc::count(|| compute(style, problem, inp));
        times.push(t.elapsed());
        check(style, problem, &out?, inp)?;
        peak = peak.max(allocs.map_or(0, |a| a.peak));
    }
    times.sort();
    let g = (spawned_so_far() - g0) / runs as u64;
    Ok((times[times.len() / 2], peak as f64 / 1e6, g))
}

fn row(problem: &str, style: &str, lang: &str, workers: usize, m: Measured) -> Row {
    Row {
        problem: problem.into(),
        style: style.into(),
        lang: lang.into(),
        workers,
        ms: m.0.as_secs_f64() * 1e3,
        speedup: 0.0,
        mem_mb: m.1,
        goroutines: m.2,
        lines: lines_of(style, lang, problem),
    }
}

/// The study by the warm method on `inp` (computed for `plan.params`); with `go`, the Go
/// twin's rows too.
pub(super) fn study(plan: &Plan, inp: &Arc<Inputs>, go: Option<&Path>) -> Result<Vec<Row>, String> {
    let mut rows = Vec::new();
    for problem in &plan.problems {
        let seq = measure(&problems::Sequential, problem, inp, plan.runs)?;
        rows.push(row(problem, "sequential", "goro", 1, seq));
        if let Some(bin) = go {
            rows.extend(go_rows(bin, plan, inp, problem, &["sequential"], 1)?);
        }
        for &w in &plan.workers {
            let (inp2, pr, runs) = (inp.clone(), problem.clone(), plan.runs);
            let names: Vec<String> = plan
                .styles
                .iter()
                .filter(|s| *s != "rayon")
                .cloned()
                .collect();
            let measured = on_runtime(w, move || -> Result<Vec<(String, Measured)>, String> {
                let mut out = Vec::new();
                for name in names {
                    let style = goro_style(&name, w).ok_or(format!("no style {name}"))?;
                    out.push((name, measure(style.as_ref(), &pr, &inp2, runs)?));
                }
                Ok(out)
            })??;
            for (name, m) in measured {
                rows.push(row(problem, &name, "goro", w, m));
            }
            if plan.styles.iter().any(|s| s == "rayon") {
                let pool = rayon::ThreadPoolBuilder::new()
                    .num_threads(w)
                    .build()
                    .map_err(|e| e.to_string())?;
                let m =
                    pool.install(|| measure(&super::rayon_style::Rayon, problem, inp, plan.runs))?;
                rows.push(row(problem, "rayon", "goro", w, m));
            }
            if let Some(bin) = go {
                let styles: Vec<&str> = GO_STYLES[1..]
                    .iter()
                    .copied()
                    .filter(|s| plan.styles.iter().any(|x| x == s))
                    .collect();
                rows.extend(go_rows(bin, plan, inp, problem, &styles, w)?);
            }
        }
    }
    Ok(rows)
}

/// The Go twin's rows for `problem` at `workers`, each output checked against goro's
/// sequential one.
fn go_rows(
    bin: &Path,
    plan: &Plan,
    inp: &Inputs,
    problem: &str,
    styles: &[&str],
    workers: usize,
) -> Result<Vec<Row>, String> {
    if styles.is_empty() {
        return Ok(Vec::new());
    }
    let want = inp.hash(problem);
    let runs = go_twin::warm(bin, &plan.params, problem, styles, workers, plan.runs)?;
    runs.into_iter()
        .map(|g| {
            if g.hash != want {
                return Err(format!(
                    "the Go twin's {} computed a different {problem} (hash {:016x}, want {want:016x})",
                    g.style, g.hash
                ));
            }
            let m = (Duration::from_secs_f64(g.ms / 1e3), 0.0, g.goroutines);
            Ok(row(problem, &g.style, "Go", workers, m))
        })
        .collect()
}

/// The data-layout side experiment: thresh's histogram pass over randmat's matrix stored as
/// bytes, 4-byte and 8-byte integers, one thread. Returns (layout, bytes scanned,
/// milliseconds).
pub(super) fn layout_experiment(inp: &Inputs) -> Vec<(&'static str, usize, f64)> {
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
    let m = &*inp.m;
    let cells = inp.p.nrows * inp.p.ncols;
    let b = time_hist(m);
    let words: Vec<Vec<u32>> = m
        .iter()
        .map(|r| r.iter().map(|&v| u32::from(v)).collect())
        .collect();
    let w = time_hist(&words);
    drop(words);
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A stand-in for the Go twin that prints `line` whatever it is asked.
    fn fake_twin(name: &str, line: &str) -> std::path::PathBuf {
        use std::os::unix::fs::PermissionsExt;
        let path =
            std::env::temp_dir().join(format!("goro-fake-twin-{}-{name}", std::process::id()));
        std::fs::write(&path, format!("#!/bin/sh\necho '{line}'\n")).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        path
    }

    #[test]
    fn a_go_output_that_differs_is_an_error_and_a_matching_one_a_row() {
        let p = super::super::Params {
            nrows: 12,
            ncols: 9,
            seed: 666,
            percent: 10,
            nelts: 4,
        };
        let inp = Inputs::new(p);
        let plan = Plan::new(p, &[1], 1);
        let wrong = fake_twin("wrong", "expert 1.5 00000000000000ff 3");
        let err = go_rows(&wrong, &plan, &inp, "product", &["expert"], 1).unwrap_err();
        assert!(err.contains("different product"), "{err}");
        let right = fake_twin(
            "right",
            &format!("expert 1.5 {:016x} 3", inp.hash("product")),
        );
        let rows = go_rows(&right, &plan, &inp, "product", &["expert"], 1).unwrap();
        assert_eq!(
            (rows[0].lang.as_str(), rows[0].ms, rows[0].goroutines),
            ("Go", 1.5, 3)
        );
        // A twin that prints fewer lines than styles asked for failed.
        assert!(go_rows(&right, &plan, &inp, "product", &["expert", "blocks"], 1).is_err());
        let _ = std::fs::remove_file(wrong);
        let _ = std::fs::remove_file(right);
    }
}
