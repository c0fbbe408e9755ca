//! `goro bench --peers`: goro against the same workloads on peer libraries (each workload's
//! file in `workloads/` holds its twins), where the workload makes sense for them: crossbeam-channel with OS
//! threads (pingpong, spsc, mpmc, select, ring; spawn as thread spawn) and tokio's
//! multi-thread runtime (spawn, skynet, pingpong, ring, parked1M). Rounds alternate goro and
//! the peers, as `--vs-go` does with Go, and each ratio is the median of the per-round ratios
//! (goro's time over the peer's).

use serde::Serialize;

use super::{median_f64, print_json, run_once, size_of, BenchArgs, Plan, Progress, Workload};

/// One peer's figures for one workload.
#[derive(Debug, Serialize)]
pub(super) struct PeerFigures {
    ns_per_op: f64,
    /// goro's time over the peer's, median of the rounds.
    ratio: f64,
    bytes_per_task: Option<u64>,
}

#[derive(Debug, Serialize)]
struct Row {
    name: &'static str,
    goro_ns_per_op: f64,
    goro_bytes_per_goroutine: Option<u64>,
    crossbeam: Option<PeerFigures>,
    tokio: Option<PeerFigures>,
    rounds: usize,
    workers: usize,
}

/// The median of a peer's times, and of goro's time over it round by round.
pub(super) fn figures(goro: &[f64], peer: &[f64], bytes: Option<u64>) -> Option<PeerFigures> {
    if peer.is_empty() {
        return None;
    }
    let ratios = goro.iter().zip(peer).map(|(g, p)| g / p).collect();
    Some(PeerFigures {
        ns_per_op: median_f64(peer.to_vec()),
        ratio: median_f64(ratios),
        bytes_per_task: bytes,
    })
}

pub(super) fn cell(p: &Option<PeerFigures>) -> (String, String) {
    match p {
        Some(p) => (format!("{:.0}", p.ns_per_op), format!("{:.3}", p.ratio)),
        None => ("-".into(), "-".into()),
    }
}

/// The peers' times for one round of `w` (ns/op), and tokio's bytes per task where measured.
#[derive(Debug, Default)]
pub(super) struct PeerRound {
    pub(super) crossbeam: Option<f64>,
    pub(super) tokio: Option<f64>,
    pub(super) tokio_bytes: Option<u64>,
}

pub(super) fn peer_round(w: &Workload, workers: usize, scale: f64) -> PeerRound {
    let n = size_of(w, scale);
    let mut r = PeerRound::default();
    if let Some((f, div)) = w.crossbeam {
        let (ops, el) = f((n / div).max(2));
        r.crossbeam = Some(el.as_nanos() as f64 / ops as f64);
    }
    if let Some(f) = w.tokio {
        let (ops, el, bytes) = f(n, workers);
        r.tokio = Some(el.as_nanos() as f64 / ops as f64);
        r.tokio_bytes = bytes;
    }
    r
}

pub(super) fn run(plan: &Plan, args: &BenchArgs) -> Result<(), String> {
    if !args.json {
        println!(
            "{:<13}{:>11}{:>13}{:>9}{:>11}{:>9}   (goro/peer: median of {} alternated rounds, {} workers)",
            "workload", "goro ns", "crossbeam ns", "ratio", "tokio ns", "ratio", args.runs, plan.workers
        );
    }
    let progress = Progress::new(plan.workloads.len() * args.runs);
    let mut rows = Vec::new();
    for w in &plan.workloads {
        let (mut goro, mut cb, mut tk) = (Vec::new(), Vec::new(), Vec::new());
        let (mut goro_bytes, mut tk_bytes) = (None, None);
        for i in 0..args.runs {
            progress.step(format!("{} round {}/{}", w.name, i + 1, args.runs));
            let m = run_once(w, plan.workers, args.scale)?;
            goro.push(m.elapsed.as_nanos() as f64 / m.ops as f64);
            goro_bytes = m.bytes_per_op;
            let p = peer_round(w, plan.workers, args.scale);
            cb.extend(p.crossbeam);
            tk.extend(p.tokio);
            tk_bytes = p.tokio_bytes.or(tk_bytes);
            progress.done_one();
        }
        let row = Row {
            name: w.name,
            crossbeam: figures(&goro, &cb, None),
            tokio: figures(&goro, &tk, tk_bytes),
            goro_ns_per_op: median_f64(goro),
            goro_bytes_per_goroutine: goro_bytes,
            rounds: args.runs,
            workers: plan.workers,
        };
        if !args.json {
            let ((c, cr), (t, tr)) = (cell(&row.crossbeam), cell(&row.tokio));
            let mut line = format!(
                "{:<13}{:>11.0}{:>13}{:>9}{:>11}{:>9}",
                row.name, row.goro_ns_per_op, c, cr, t, tr
            );
            if let (Some(g), Some(t)) = (
                row.goro_bytes_per_goroutine,
                row.tokio.as_ref().and_then(|p| p.bytes_per_task),
            ) {
                line.push_str(&format!(
                    "\n{:<13}{:>9} B{:>13}{:>9}{:>9} B{:>9.2}   (resident bytes per parked goroutine / task)",
                    "", g, "", "", t, g as f64 / t.max(1) as f64
                ));
            }
            progress.println(line);
        }
        rows.push(row);
    }
    if args.json {
        print_json(&rows)?;
    }
    Ok(())
}
