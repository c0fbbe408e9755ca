//! Rayon: Rust's fork-join work stealing, the natural Rust answer to divide and conquer.
//! Parallel iterators split the rows recursively and steal halves, so the code reads like
//! the sequential one.

use std::sync::Arc;

use rayon::prelude::*;

use super::problems::*;

/// The rayon style, run inside a pool of the measured size (`ThreadPool::install`).
#[derive(Debug, Clone, Copy)]
pub struct Rayon;

impl Style for Rayon {
    fn name(&self) -> &'static str {
        "rayon"
    }

    fn randmat(&self, nrows: usize, ncols: usize, seed: u32) -> Rows<Cell> {
        (0..nrows)
            .into_par_iter()
            .map(|i| randmat_row(i, ncols, seed))
            .collect()
    }

    fn thresh(&self, m: &Arc<Rows<Cell>>, p: u32) -> Rows<bool> {
        let h = m
            .par_iter()
            .map(|row| row_histogram(row))
            .reduce(|| [0u64; 100], add_histograms);
        let t = threshold(&h, cells(m), p);
        m.par_iter().map(|row| mask_row(row, t)).collect()
    }

    fn winnow(&self, m: &Arc<Rows<Cell>>, mask: &Arc<Rows<bool>>, nelts: usize) -> Vec<Point> {
        let mut pts: Vec<Point> = m
            .par_iter()
            .zip(mask.par_iter())
            .enumerate()
            .flat_map_iter(|(i, (row, mrow))| masked_points(i, row, mrow))
            .collect();
        pts.par_sort_unstable();
        pick(&pts, nelts)
    }

    fn outer(&self, pts: &Arc<Vec<Point>>) -> (Rows<f64>, Vec<f64>) {
        (0..pts.len())
            .into_par_iter()
            .map(|i| outer_row(i, pts))
            .unzip()
    }

    fn product(&self, a: &Arc<Rows<f64>>, v: &Arc<Vec<f64>>) -> Vec<f64> {
        a.par_iter().map(|row| dot(row, v)).collect()
    }
}
