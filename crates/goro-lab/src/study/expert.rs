//! The study's expert shape, written anew in goro from a description of those programs: a
//! fixed pool of one goroutine per worker takes rows one at a time from a work queue (a channel
//! fed by one goroutine), so a worker that finishes early takes more rows; each worker keeps
//! its own partial result; the partial results are combined by a pool of merger goroutines
//! (winnow's sorted runs are merged pairwise, each pair in its own goroutine, round after
//! round). Cells are bytes, as the experts stored them.

use std::sync::Arc;

use super::problems::*;
use super::spawned;

/// Hands the rows `0..n` one at a time over an unbuffered channel to `workers` goroutines;
/// each starts from `init()`, folds every row it takes into its state with `take`, and
/// returns its state when the queue closes. The states come back in worker order.
fn pool<S, I, F>(n: usize, workers: usize, init: I, take: F) -> Vec<S>
where
    S: Send + 'static,
    I: Fn() -> S + Send + Sync + 'static,
    F: Fn(&mut S, usize) + Send + Sync + 'static,
{
    let (work_tx, work_rx) = goro::chan::<usize>(0);
    spawned();
    goro::go(move || {
        for i in 0..n {
            if work_tx.send(i).is_err() {
                break;
            }
        }
    });
    let (init, take) = (Arc::new(init), Arc::new(take));
    let handles: Vec<_> = (0..workers.max(1))
        .map(|_| {
            let (rx, init, take) = (work_rx.clone(), init.clone(), take.clone());
            spawned();
            goro::go(move || {
                let mut state = init();
                for i in &rx {
                    take(&mut state, i);
                }
                state
            })
        })
        .collect();
    drop(work_rx);
    handles
        .into_iter()
        .map(|h| h.join().expect("a worker failed"))
        .collect()
}

/// `row(i)` for every row of `0..n` through [`pool`], put back in row order.
fn rows<T, F>(n: usize, workers: usize, row: F) -> Vec<T>
where
    T: Send + 'static,
    F: Fn(usize) -> T + Send + Sync + 'static,
{
    let parts = pool(
        n,
        workers,
        Vec::new,
        move |done: &mut Vec<(usize, T)>, i| done.push((i, row(i))),
    );
    in_row_order(n, parts.into_iter().flatten())
}

/// Merges sorted runs pairwise, each pair in its own goroutine, until one is left.
fn merge_runs(mut runs: Vec<Vec<Point>>) -> Vec<Point> {
    while runs.len() > 1 {
        let mut it = std::mem::take(&mut runs).into_iter();
        let mut mergers = Vec::new();
        while let Some(a) = it.next() {
            match it.next() {
                Some(b) => {
                    spawned();
                    mergers.push(goro::go(move || merge_sorted(a, b)));
                }
                None => runs.push(a),
            }
        }
        let merged: Vec<Vec<Point>> = mergers
            .into_iter()
            .map(|h| h.join().expect("a merger failed"))
            .collect();
        runs.splice(0..0, merged);
    }
    runs.pop().unwrap_or_default()
}

/// The expert style with a pool of `workers` goroutines.
#[derive(Debug, Clone, Copy)]
pub struct Expert {
    /// Goroutines in the pool: one per worker.
    pub workers: usize,
}

impl Style for Expert {
    fn name(&self) -> &'static str {
        "expert"
    }

    fn randmat(&self, nrows: usize, ncols: usize, seed: u32) -> Rows<Cell> {
        rows(nrows, self.workers, move |i| randmat_row(i, ncols, seed))
    }

    fn thresh(&self, m: &Arc<Rows<Cell>>, p: u32) -> Rows<bool> {
        let m1 = m.clone();
        let hists = pool(
            m.len(),
            self.workers,
            || [0u64; 100],
            move |h, i| {
                for &v in &m1[i] {
                    h[usize::from(v)] += 1;
                }
            },
        );
        let h = hists.into_iter().fold([0u64; 100], add_histograms);
        let t = threshold(&h, cells(m), p);
        let m2 = m.clone();
        rows(m.len(), self.workers, move |i| mask_row(&m2[i], t))
    }

    fn winnow(&self, m: &Arc<Rows<Cell>>, mask: &Arc<Rows<bool>>, nelts: usize) -> Vec<Point> {
        let (m, mask) = (m.clone(), mask.clone());
        let parts = pool(m.len(), self.workers, Vec::new, move |pts, i| {
            pts.extend(masked_points(i, &m[i], &mask[i]))
        });
        let sorters: Vec<_> = parts
            .into_iter()
            .map(|mut run| {
                spawned();
                goro::go(move || {
                    run.sort_unstable();
                    run
                })
            })
            .collect();
        let runs = sorters
            .into_iter()
            .map(|h| h.join().expect("a sorter failed"))
            .collect();
        pick(&merge_runs(runs), nelts)
    }

    fn outer(&self, pts: &Arc<Vec<Point>>) -> (Rows<f64>, Vec<f64>) {
        let p = pts.clone();
        rows(pts.len(), self.workers, move |i| outer_row(i, &p))
            .into_iter()
            .unzip()
    }

    fn product(&self, a: &Arc<Rows<f64>>, v: &Arc<Vec<f64>>) -> Vec<f64> {
        let (a2, v) = (a.clone(), v.clone());
        rows(a.len(), self.workers, move |i| dot(&a2[i], &v))
    }
}
