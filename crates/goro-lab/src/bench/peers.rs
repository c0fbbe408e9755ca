//! `goro bench --peers`: goro against the same workloads on peer libraries
//! (`goro_benches::peers`): for now crossbeam-channel with OS threads, where the workload
//! makes sense for threads (not skynet's million goroutines, nor parked1M). Rounds alternate
//! goro and the peer, as `--vs-go` does with Go, and the ratio is the median of the per-round
//! ratios.

use std::time::Duration;

use goro_benches::peers::crossbeam;
use serde::Serialize;

use super::{run_once, size_of, BenchArgs, Plan, Progress};

/// A peer's version of a workload: size in, (ops, elapsed) out.
type PeerRun = fn(u64) -> (u64, Duration);

/// crossbeam-channel on OS threads, by workload name, with the factor its size is divided
/// by: where every operation is a thread hand-off (a futex sleep and wake, microseconds) or a
/// thread spawn, the full size would take minutes, so those run at 1/100 of it; the time per
/// operation is what is compared.
fn crossbeam_for(name: &str) -> Option<(PeerRun, u64)> {
    Some(match name {
        "pingpong" => (crossbeam::pingpong, 100),
        "spsc_unbuf" => (|n| crossbeam::spsc(n, 0), 100),
        "spsc_b100" => (|n| crossbeam::spsc(n, 100), 1),
        "mpmc4x4_b128" => (crossbeam::mpmc4x4, 1),
        "spawn" => (crossbeam::spawn, 100),
        "select2_b64" => (crossbeam::select2, 1),
        "ring503" => (crossbeam::ring503, 100),
        _ => return None,
    })
}

#[derive(Debug, Serialize)]
struct Row {
    name: &'static str,
    goro_ns_per_op: f64,
    crossbeam_ns_per_op: Option<f64>,
    ratio: Option<f64>,
    rounds: usize,
    workers: usize,
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

pub(super) fn run(plan: &Plan, args: &BenchArgs) -> Result<(), String> {
    if !args.json {
        println!(
            "{:<13}{:>12}{:>17}{:>16}   (median of {} alternated rounds, {} workers)",
            "workload", "goro ns/op", "crossbeam ns/op", "goro/crossbeam", args.runs, plan.workers
        );
    }
    let progress = Progress::new(plan.workloads.len() * args.runs);
    let mut rows = Vec::new();
    for w in &plan.workloads {
        let peer = crossbeam_for(w.name);
        let (mut goro, mut cb) = (Vec::new(), Vec::new());
        for i in 0..args.runs {
            progress.step(format!("{} round {}/{}", w.name, i + 1, args.runs));
            let m = run_once(w, plan.workers, args.scale)?;
            goro.push(m.elapsed.as_nanos() as f64 / m.ops as f64);
            if let Some((f, div)) = peer {
                let (ops, el) = f((size_of(w, args.scale) / div).max(2));
                cb.push(el.as_nanos() as f64 / ops as f64);
            }
            progress.done_one();
        }
        let ratios: Vec<f64> = goro.iter().zip(&cb).map(|(g, c)| g / c).collect();
        let row = Row {
            name: w.name,
            goro_ns_per_op: median(goro),
            crossbeam_ns_per_op: (!cb.is_empty()).then(|| median(cb)),
            ratio: (!ratios.is_empty()).then(|| median(ratios)),
            rounds: args.runs,
            workers: plan.workers,
        };
        if !args.json {
            let (c, r) = match (row.crossbeam_ns_per_op, row.ratio) {
                (Some(c), Some(r)) => (format!("{c:.0}"), format!("{r:.2}")),
                _ => ("-".into(), "-".into()),
            };
            progress.println(format!(
                "{:<13}{:>12.0}{:>17}{:>16}",
                row.name, row.goro_ns_per_op, c, r
            ));
        }
        rows.push(row);
    }
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&rows).map_err(|e| e.to_string())?
        );
    }
    Ok(())
}
