//! `goro bench --vs-go`: goro against the Go twins of the same workloads.
//!
//! The Go program lives in benches/go (this project's own, one file, same definitions and op
//! counts). It is built with `go build` into the workspace's `target/` directory, and run with
//! `GOMAXPROCS` set to goro's worker count. Each round runs the workload once on goro (a fresh
//! runtime in this process) and then once in Go (a fresh process): goro, Go, goro, Go, ... so
//! that a noisy machine's slow and fast phases hit both alike. The ratio reported is the
//! median of the per-round ratios. Without `go` on PATH it says how to get it and prints
//! goro's figures alone.

use std::path::PathBuf;
use std::process::Command;

use serde::Serialize;

use super::peers::{cell, figures, peer_round, PeerFigures};
use super::{median_f64, print_json, run_once, BenchArgs, Measure, Plan, Progress};

/// One workload's comparison.
#[derive(Debug, Serialize)]
struct Row {
    name: &'static str,
    goro_ns_per_op: f64,
    go_ns_per_op: f64,
    ratio: f64,
    ratio_min: f64,
    ratio_max: f64,
    goro_bytes_per_goroutine: Option<u64>,
    go_bytes_per_goroutine: Option<u64>,
    /// Wall time over the ideal, for the CPU-bound shapes: goro's median, and Go's median
    /// against the same ideal.
    goro_x_ideal: Option<f64>,
    go_x_ideal: Option<f64>,
    /// With `--peers`.
    crossbeam: Option<PeerFigures>,
    tokio: Option<PeerFigures>,
    rounds: usize,
    workers: usize,
}

/// The Go twin's figures for one run: ns/op and, for parked1M, resident bytes per goroutine.
#[derive(Debug, Clone, Copy)]
struct GoRun {
    ns_per_op: f64,
    bytes: Option<u64>,
}

/// Builds the Go package `package` of benches/go (`.` for the bench twins) into the
/// workspace's `target/BIN`; `Ok(None)` when there is no Go toolchain. The lab is built
/// inside the workspace, so both are found from its manifest directory.
pub(crate) fn go_build(package: &str, bin: &str) -> Result<Option<PathBuf>, String> {
    match Command::new("go").arg("version").output() {
        Ok(o) if o.status.success() => {}
        _ => return Ok(None),
    }
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let (src, bin) = (root.join("benches/go"), root.join("target").join(bin));
    let out = Command::new("go")
        .args(["build", "-o"])
        .arg(&bin)
        .arg(package)
        .current_dir(&src)
        .output()
        .map_err(|e| format!("cannot run go build in {}: {e}", src.display()))?;
    if !out.status.success() {
        return Err(format!(
            "go build {package} in {} failed:\n{}",
            src.display(),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(Some(bin))
}

/// Parses a line of the Go twin: `NAME <ns> ns/op <ms> ms [<bytes> B/goroutine]`.
fn parse_go_line(line: &str) -> Option<GoRun> {
    let f: Vec<&str> = line.split_whitespace().collect();
    let ns_per_op = f.get(1)?.parse().ok()?;
    let bytes = match (f.get(5), f.get(6)) {
        (Some(b), Some(&"B/goroutine")) => Some(b.parse().ok()?),
        _ => None,
    };
    Some(GoRun { ns_per_op, bytes })
}

fn run_go(bin: &PathBuf, name: &str, workers: usize, scale: f64) -> Result<GoRun, String> {
    let out = Command::new(bin)
        .args(["-runs", "1", "-scale", &scale.to_string(), name])
        .env("GOMAXPROCS", workers.to_string())
        .output()
        .map_err(|e| format!("cannot run {}: {e}", bin.display()))?;
    let text = String::from_utf8_lossy(&out.stdout);
    match text.lines().next().and_then(parse_go_line) {
        Some(r) if out.status.success() => Ok(r),
        _ => Err(format!(
            "the Go twin failed on {name}: {}{}",
            text,
            String::from_utf8_lossy(&out.stderr)
        )),
    }
}

pub(super) fn run(plan: &Plan, args: &BenchArgs) -> Result<(), String> {
    let Some(bin) = go_build(".", "goro-bench-go")? else {
        eprintln!(
            "Go is not on PATH, so there is nothing to compare with. Install it (on Debian: \
             apt-get install golang-go) and run again. goro's figures alone:"
        );
        if args.peers {
            return super::peers::run(plan, args);
        }
        return super::goro_alone(plan, args);
    };
    let mut rows = Vec::new();
    if !args.json {
        let peers = if args.peers {
            format!(
                "{:>13}{:>9}{:>11}{:>9}",
                "crossbeam ns", "ratio", "tokio ns", "ratio"
            )
        } else {
            String::new()
        };
        println!(
            "{:<13}{:>12}{:>12}{:>9}{peers}   (goro/other: median of {} alternated rounds, {} workers / GOMAXPROCS)",
            "workload", "goro ns/op", "Go ns/op", "goro/Go", args.runs, plan.workers
        );
    }
    let progress = Progress::new(plan.workloads.len() * args.runs);
    for w in &plan.workloads {
        let row = rounds(w, plan, args, &bin, &progress)?;
        if !args.json {
            progress.println(format_row(&row, args.peers));
        }
        rows.push(row);
    }
    if args.json {
        print_json(&rows)?;
    }
    Ok(())
}

/// The alternated rounds of one workload (goro, Go, and the peers if asked), as a row of
/// medians and ratios.
fn rounds(
    w: &super::Workload,
    plan: &Plan,
    args: &BenchArgs,
    bin: &std::path::PathBuf,
    progress: &Progress,
) -> Result<Row, String> {
    let mut goro: Vec<Measure> = Vec::new();
    let mut go: Vec<GoRun> = Vec::new();
    let (mut cb, mut tk, mut tk_bytes) = (Vec::new(), Vec::new(), None);
    for i in 0..args.runs {
        progress.step(format!("{} round {}/{}", w.name, i + 1, args.runs));
        goro.push(run_once(w, plan.workers, args.scale)?);
        go.push(run_go(bin, w.name, plan.workers, args.scale)?);
        if args.peers {
            let p = peer_round(w, plan.workers, args.scale);
            cb.extend(p.crossbeam);
            tk.extend(p.tokio);
            tk_bytes = p.tokio_bytes.or(tk_bytes);
        }
        progress.done_one();
    }
    let goro_ns: Vec<f64> = goro
        .iter()
        .map(|m| m.elapsed.as_nanos() as f64 / m.ops as f64)
        .collect();
    let ratios: Vec<f64> = goro_ns
        .iter()
        .zip(&go)
        .map(|(g, o)| g / o.ns_per_op)
        .collect();
    let bytes = |v: Vec<Option<u64>>| -> Option<u64> {
        let mut v: Vec<u64> = v.into_iter().flatten().collect();
        v.sort_unstable();
        v.get(v.len() / 2).copied()
    };
    // The ideal per op is the same for every run of a workload at one size.
    let ideal_ns = goro
        .first()
        .and_then(|m| m.ideal.map(|i| i.as_nanos() as f64 / m.ops as f64));
    let go_ns = median_f64(go.iter().map(|r| r.ns_per_op).collect());
    Ok(Row {
        name: w.name,
        goro_ns_per_op: median_f64(goro_ns.clone()),
        go_ns_per_op: go_ns,
        ratio: median_f64(ratios.clone()),
        ratio_min: ratios.iter().copied().fold(f64::INFINITY, f64::min),
        ratio_max: ratios.iter().copied().fold(0.0, f64::max),
        goro_bytes_per_goroutine: bytes(goro.iter().map(|m| m.bytes_per_op).collect()),
        go_bytes_per_goroutine: bytes(go.iter().map(|r| r.bytes).collect()),
        goro_x_ideal: ideal_ns
            .map(|_| median_f64(goro.iter().filter_map(Measure::x_ideal).collect())),
        go_x_ideal: ideal_ns.map(|i| go_ns / i),
        crossbeam: figures(&goro_ns, &cb, None),
        tokio: figures(&goro_ns, &tk, tk_bytes),
        rounds: args.runs,
        workers: plan.workers,
    })
}

fn format_row(r: &Row, peers: bool) -> String {
    let mut s = format!(
        "{:<13}{:>12.0}{:>12.0}{:>9.2}",
        r.name, r.goro_ns_per_op, r.go_ns_per_op, r.ratio
    );
    if peers {
        let ((c, cr), (t, tr)) = (cell(&r.crossbeam), cell(&r.tokio));
        s.push_str(&format!("{c:>13}{cr:>9}{t:>11}{tr:>9}"));
    }
    s.push_str(&format!(
        "   (Go rounds: {:.2}-{:.2})",
        r.ratio_min, r.ratio_max
    ));
    if let (Some(g), Some(o)) = (r.goro_x_ideal, r.go_x_ideal) {
        s.push_str(&format!("   (of the ideal: goro {g:.2}x, Go {o:.2}x)"));
    }
    if let (Some(g), Some(o)) = (r.goro_bytes_per_goroutine, r.go_bytes_per_goroutine) {
        s.push_str(&format!(
            "\n{:<13}{:>10} B{:>10} B{:>9.2}   (resident bytes per parked goroutine)",
            "",
            g,
            o,
            g as f64 / o as f64
        ));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_go_twin_lines() {
        let r = parse_go_line("spawn            193 ns/op      192.6 ms").unwrap();
        assert_eq!((r.ns_per_op, r.bytes), (193.0, None));
        let r = parse_go_line("parked1M   5977 ns/op  5976.5 ms   2706 B/goroutine").unwrap();
        assert_eq!((r.ns_per_op, r.bytes), (5977.0, Some(2706)));
        assert!(parse_go_line("garbage").is_none());
    }
}
