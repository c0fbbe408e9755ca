//! The paper's method: each run is a whole process, timed from its start to its exit, with
//! its peak resident memory from the kernel (`wait4`'s `ru_maxrss`), as the study timed its
//! programs. randmat and the chain start from nothing; thresh, winnow, outer and product
//! start from synthetic inputs built inside the process (`problems::synthetic`), as the
//! study's benchmark mode did, so their times include building those inputs and are not the
//! warm method's times on the chain's data.
//!
//! The child is this same binary (`goro study --child STYLE`), or the Go twin with
//! `-method process`; each prints its output's hash, which must equal the sequential goro
//! child's. With the Go twin, each round runs goro's process and then Go's.

use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::ValueEnum;

use super::problems::{synthetic, Output, Style};
use super::{go_twin, goro_style, lines_of, on_runtime, spawned_so_far, Plan, Row, StudyArgs};

/// Runs `problem` once in `style` on the method's inputs and returns its output.
fn compute(style: &dyn Style, problem: &str, p: &super::Params) -> Result<Output, String> {
    let (n, c) = (p.nrows, p.ncols);
    Ok(match problem {
        "randmat" => Output::Matrix(style.randmat(n, c, p.seed)),
        "thresh" => Output::Mask(style.thresh(&Arc::new(synthetic::matrix(n, c)), p.percent)),
        "winnow" => {
            let (m, mask) = (synthetic::matrix(n, c), synthetic::mask(n, c));
            Output::Points(style.winnow(&Arc::new(m), &Arc::new(mask), p.nelts))
        }
        "outer" => {
            let (a, v) = style.outer(&Arc::new(synthetic::points(p.nelts)));
            Output::Outer(a, v)
        }
        "product" => {
            let (a, v) = synthetic::product(p.nelts);
            Output::Vector(style.product(&Arc::new(a), &Arc::new(v)))
        }
        "chain" => {
            let m = Arc::new(style.randmat(n, c, p.seed));
            let mask = Arc::new(style.thresh(&m, p.percent));
            let pts = Arc::new(style.winnow(&m, &mask, p.nelts));
            let (a, v) = style.outer(&pts);
            Output::Vector(style.product(&Arc::new(a), &Arc::new(v)))
        }
        other => return Err(format!("unknown problem {other}")),
    })
}

/// The child: runs one style once on one problem and prints `HASH GOROUTINES`.
pub(super) fn child(plan: &Plan, style: &str) -> Result<(), String> {
    let problem = plan.problems.first().cloned().unwrap_or_default();
    let w = plan.workers.first().copied().unwrap_or(1);
    let p = plan.params;
    let out = if style == "rayon" {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(w)
            .build()
            .map_err(|e| e.to_string())?;
        pool.install(|| compute(&super::rayon_style::Rayon, &problem, &p))?
    } else {
        let s = goro_style(style, w).ok_or(format!("unknown style {style}"))?;
        on_runtime(w, move || compute(s.as_ref(), &problem, &p))??
    };
    println!("{:016x} {}", out.hash(), spawned_so_far());
    Ok(())
}

/// One whole-process run: wall time, peak resident bytes, and its stdout.
fn timed_process(cmd: &mut Command) -> Result<(Duration, u64, String), String> {
    let t = Instant::now();
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start {cmd:?}: {e}"))?;
    let mut out = String::new();
    let mut err = String::new();
    if let Some(mut o) = child.stdout.take() {
        let _ = o.read_to_string(&mut out);
    }
    if let Some(mut e) = child.stderr.take() {
        let _ = e.read_to_string(&mut err);
    }
    let mut status = 0;
    // SAFETY: an all-zero rusage is a valid value for wait4 to overwrite.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: the pid is our own unwaited child; status and usage are valid out-pointers.
    let r = unsafe { libc::wait4(child.id() as libc::pid_t, &mut status, 0, &mut usage) };
    let elapsed = t.elapsed();
    if r < 0 {
        return Err(format!("wait4: {}", std::io::Error::last_os_error()));
    }
    if !(libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0) {
        return Err(format!("{cmd:?} failed ({status:#x}): {out}{err}"));
    }
    // ru_maxrss is in KiB on Linux.
    Ok((elapsed, usage.ru_maxrss as u64 * 1024, out))
}

/// A child's report: its output hash and goroutines started.
fn parse_report(out: &str) -> Option<(u64, u64)> {
    let mut f = out.split_whitespace();
    let hash = u64::from_str_radix(f.next()?, 16).ok()?;
    let g = f.next().and_then(|g| g.parse().ok()).unwrap_or(0);
    Some((hash, g))
}

/// The goro child's command line.
fn goro_child(a: &StudyArgs, problem: &str, style: &str, w: usize) -> Result<Command, String> {
    let exe = std::env::current_exe().map_err(|e| format!("cannot find this binary: {e}"))?;
    let size = a.size.to_possible_value().map(|v| v.get_name().to_string());
    let mut cmd = Command::new(exe);
    cmd.args([
        "study",
        "--method",
        "paper",
        "--child",
        style,
        "--problems",
        problem,
    ])
    .args(["--workers", &w.to_string(), "--scale", &a.scale.to_string()])
    .args(["--size", &size.unwrap_or_else(|| "small".into())]);
    Ok(cmd)
}

/// One run of a child: its time, peak resident MB, goroutines started and output hash.
fn one_run(mut cmd: Command) -> Result<(Duration, f64, u64, u64), String> {
    let (t, rss, out) = timed_process(&mut cmd)?;
    let (hash, goroutines) = parse_report(&out).ok_or(format!("a child printed {out:?}"))?;
    Ok((t, rss as f64 / 1e6, goroutines, hash))
}

/// The study by whole processes; with `go`, each round of a style runs goro's process and
/// then Go's.
pub(super) fn study(plan: &Plan, a: &StudyArgs, go: Option<&Path>) -> Result<Vec<Row>, String> {
    let mut rows = Vec::new();
    for problem in &plan.problems {
        let mut want = None;
        let mut cells: Vec<(String, usize)> = vec![("sequential".into(), 1)];
        for &w in &plan.workers {
            cells.extend(plan.styles.iter().map(|s| (s.clone(), w)));
        }
        for (style, w) in cells {
            let with_go = go.filter(|_| super::GO_STYLES.contains(&style.as_str()));
            // Alternate: goro's process, then Go's, `runs` times.
            let mut goro_times = Vec::new();
            let mut go_times = Vec::new();
            for _ in 0..plan.runs {
                goro_times.push(one_run(goro_child(a, problem, &style, w)?)?);
                if let Some(bin) = with_go {
                    let cmd = go_twin::process(bin, &plan.params, problem, &style, w);
                    go_times.push(one_run(cmd)?);
                }
            }
            for (lang, times) in [("goro", goro_times), ("Go", go_times)] {
                if times.is_empty() {
                    continue;
                }
                let hash = times[0].3;
                if times.iter().any(|t| t.3 != hash) {
                    return Err(format!("{lang} {style} changed its {problem} between runs"));
                }
                match want {
                    None => want = Some(hash),
                    Some(h) if h != hash => {
                        return Err(format!(
                            "{lang} {style} computed a different {problem} (hash {hash:016x}, want {h:016x})"
                        ))
                    }
                    Some(_) => {}
                }
                let mut ts: Vec<Duration> = times.iter().map(|t| t.0).collect();
                ts.sort();
                rows.push(Row {
                    problem: problem.clone(),
                    style: style.clone(),
                    lang: lang.into(),
                    workers: w,
                    ms: ts[ts.len() / 2].as_secs_f64() * 1e3,
                    speedup: 0.0,
                    mem_mb: times.iter().map(|t| t.1).fold(0.0, f64::max),
                    goroutines: times[0].2,
                    lines: lines_of(&style, lang, problem),
                });
            }
        }
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::study::problems;

    #[test]
    fn a_child_that_fails_or_is_killed_is_an_error_that_says_why() {
        let mut fails = Command::new("sh");
        fails.args(["-c", "echo oops >&2; exit 3"]);
        let err = timed_process(&mut fails).unwrap_err();
        assert!(err.contains("oops"), "{err}");
        let mut killed = Command::new("sh");
        killed.args(["-c", "kill -9 $$"]);
        assert!(timed_process(&mut killed).is_err());
        let mut fine = Command::new("sh");
        fine.args(["-c", "echo 00000000000000ff 7"]);
        let (_, rss, out) = timed_process(&mut fine).unwrap();
        assert!(rss > 0);
        assert_eq!(parse_report(&out), Some((255, 7)));
        // A missing program is an error too, not a panic.
        assert!(timed_process(&mut Command::new("/nonexistent/goro")).is_err());
    }

    #[test]
    fn parses_a_child_report() {
        assert_eq!(parse_report("00000000000000ff 12\n"), Some((255, 12)));
        assert_eq!(parse_report("garbage"), None);
    }

    #[test]
    fn every_style_computes_the_synthetic_inputs_alike() {
        let p = super::super::Params {
            nrows: 40,
            ncols: 33,
            seed: 7,
            percent: 1,
            nelts: 12,
        };
        for problem in problems::PROBLEMS {
            let want = compute(&problems::Sequential, problem, &p).unwrap();
            for w in [1, 2] {
                for name in super::super::STYLES {
                    let got = if name == "rayon" {
                        compute(&super::super::rayon_style::Rayon, problem, &p).unwrap()
                    } else {
                        let s = goro_style(name, w).unwrap();
                        let pr = problem.to_string();
                        on_runtime(w, move || compute(s.as_ref(), &pr, &p))
                            .unwrap()
                            .unwrap()
                    };
                    assert!(got == want, "{name} on {problem}, {w} workers");
                }
            }
        }
    }
}
