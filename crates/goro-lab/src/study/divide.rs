//! Divide and conquer, written cleanly: halve the rows, start a goroutine for one half,
//! recurse on the other, wait for the goroutine's result on a done channel, combine the two
//! results at every node of the tree (concatenate, add histograms, merge sorted runs: winnow
//! becomes a parallel merge sort). Down to a single row, so a problem of `n` rows starts
//! `n - 1` goroutines. The study's non-expert programs split the same way but joined with a
//! flat count (`non_expert.rs`).

use std::sync::Arc;

use super::problems::*;
use super::spawned;

/// Computes `leaf(i)` for each row `i` in `lo..hi` and combines the results pairwise with
/// `merge`, one goroutine per split.
fn split<T, L, M>(lo: usize, hi: usize, leaf: &Arc<L>, merge: &Arc<M>) -> T
where
    T: Send + 'static,
    L: Fn(usize) -> T + Send + Sync + 'static,
    M: Fn(T, T) -> T + Send + Sync + 'static,
{
    if hi - lo <= 1 {
        return leaf(lo);
    }
    let mid = lo + (hi - lo) / 2;
    let (done_tx, done_rx) = goro::chan(1);
    let (l, m) = (leaf.clone(), merge.clone());
    spawned();
    goro::go(move || {
        let _ = done_tx.send(split(lo, mid, &l, &m));
    });
    let right = split(mid, hi, leaf, merge);
    let left = done_rx
        .recv()
        .expect("a half ended without its result (it panicked, or could not start)");
    merge(left, right)
}

fn concat<T>(mut a: Vec<T>, b: Vec<T>) -> Vec<T> {
    a.extend(b);
    a
}

/// The divide-and-conquer style.
#[derive(Debug, Clone, Copy)]
pub struct DivideAndConquer;

impl Style for DivideAndConquer {
    fn name(&self) -> &'static str {
        "divide-and-conquer"
    }

    fn randmat(&self, nrows: usize, ncols: usize, seed: u32) -> Rows<Cell> {
        let leaf = Arc::new(move |i| vec![randmat_row(i, ncols, seed)]);
        split(0, nrows, &leaf, &Arc::new(concat))
    }

    fn thresh(&self, m: &Arc<Rows<Cell>>, p: u32) -> Rows<bool> {
        let m1 = m.clone();
        let hist = Arc::new(move |i: usize| row_histogram(&m1[i]));
        let h = split(0, m.len(), &hist, &Arc::new(add_histograms));
        let t = threshold(&h, cells(m), p);
        let m2 = m.clone();
        let mask = Arc::new(move |i: usize| vec![mask_row(&m2[i], t)]);
        split(0, m.len(), &mask, &Arc::new(concat))
    }

    fn winnow(&self, m: &Arc<Rows<Cell>>, mask: &Arc<Rows<bool>>, nelts: usize) -> Vec<Point> {
        let (m, mask) = (m.clone(), mask.clone());
        let n = m.len();
        let leaf = Arc::new(move |i: usize| {
            let mut pts = masked_points(i, &m[i], &mask[i]);
            pts.sort_unstable();
            pts
        });
        let sorted = split(0, n, &leaf, &Arc::new(merge_sorted));
        pick(&sorted, nelts)
    }

    fn outer(&self, pts: &Arc<Vec<Point>>) -> (Rows<f64>, Vec<f64>) {
        let p = pts.clone();
        let leaf = Arc::new(move |i: usize| vec![outer_row(i, &p)]);
        split(0, pts.len(), &leaf, &Arc::new(concat))
            .into_iter()
            .unzip()
    }

    fn product(&self, a: &Arc<Rows<f64>>, v: &Arc<Vec<f64>>) -> Vec<f64> {
        let (a2, v) = (a.clone(), v.clone());
        let leaf = Arc::new(move |i: usize| vec![dot(&a2[i], &v)]);
        split(0, a.len(), &leaf, &Arc::new(concat))
    }
}
