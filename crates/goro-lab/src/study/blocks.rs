//! Blocks: one goroutine per worker, each given a contiguous block of rows (a static
//! partition), each building its partial result alone; the partial results are merged once
//! at the end, in worker order. The textbook "distribute work, synchronise", written
//! cleanly; the study's expert programs handed out rows dynamically instead (`expert.rs`).

use std::ops::Range;
use std::sync::Arc;

use super::problems::*;
use super::spawned;

/// Runs `block` on `workers` contiguous row blocks of `0..n` in `workers` goroutines and
/// returns their results in block order.
fn blocks<T, F>(n: usize, workers: usize, block: F) -> Vec<T>
where
    T: Send + 'static,
    F: Fn(Range<usize>) -> T + Send + Sync + 'static,
{
    let block = Arc::new(block);
    let per = n.div_ceil(workers.max(1)).max(1);
    let handles: Vec<_> = (0..n)
        .step_by(per)
        .map(|lo| {
            let block = block.clone();
            spawned();
            goro::go(move || block(lo..(lo + per).min(n)))
        })
        .collect();
    handles
        .into_iter()
        .map(|h| h.join().expect("a worker failed"))
        .collect()
}

/// The block style with `workers` goroutines.
#[derive(Debug, Clone, Copy)]
pub struct Blocks {
    /// Goroutines per problem: one per worker.
    pub workers: usize,
}

impl Style for Blocks {
    fn name(&self) -> &'static str {
        "blocks"
    }

    fn randmat(&self, nrows: usize, ncols: usize, seed: u32) -> Rows<Cell> {
        let parts = blocks(nrows, self.workers, move |rows| {
            rows.map(|i| randmat_row(i, ncols, seed))
                .collect::<Rows<Cell>>()
        });
        parts.into_iter().flatten().collect()
    }

    fn thresh(&self, m: &Arc<Rows<Cell>>, p: u32) -> Rows<bool> {
        let m1 = m.clone();
        let hists = blocks(m.len(), self.workers, move |rows| {
            let mut h = [0u64; 100];
            for i in rows {
                for &v in &m1[i] {
                    h[v as usize] += 1;
                }
            }
            h
        });
        let h = hists.into_iter().fold([0u64; 100], add_histograms);
        let t = threshold(&h, cells(m), p);
        let m2 = m.clone();
        let parts = blocks(m.len(), self.workers, move |rows| {
            rows.map(|i| mask_row(&m2[i], t)).collect::<Rows<bool>>()
        });
        parts.into_iter().flatten().collect()
    }

    fn winnow(&self, m: &Arc<Rows<Cell>>, mask: &Arc<Rows<bool>>, nelts: usize) -> Vec<Point> {
        let (m, mask) = (m.clone(), mask.clone());
        let n = m.len();
        let mut runs = blocks(n, self.workers, move |rows| {
            let mut pts = Vec::new();
            for i in rows {
                pts.extend(masked_points(i, &m[i], &mask[i]));
            }
            pts.sort_unstable();
            pts
        });
        // Merge the sorted runs pairwise until one is left.
        while runs.len() > 1 {
            let mut it = std::mem::take(&mut runs).into_iter();
            while let Some(a) = it.next() {
                runs.push(match it.next() {
                    Some(b) => merge_sorted(a, b),
                    None => a,
                });
            }
        }
        pick(&runs.pop().unwrap_or_default(), nelts)
    }

    fn outer(&self, pts: &Arc<Vec<Point>>) -> (Rows<f64>, Vec<f64>) {
        let p = pts.clone();
        let parts = blocks(pts.len(), self.workers, move |rows| {
            rows.map(|i| outer_row(i, &p)).collect::<Vec<_>>()
        });
        parts.into_iter().flatten().unzip()
    }

    fn product(&self, a: &Arc<Rows<f64>>, v: &Arc<Vec<f64>>) -> Vec<f64> {
        let (a2, v) = (a.clone(), v.clone());
        let parts = blocks(a.len(), self.workers, move |rows| {
            rows.map(|i| dot(&a2[i], &v)).collect::<Vec<f64>>()
        });
        parts.into_iter().flatten().collect()
    }
}
