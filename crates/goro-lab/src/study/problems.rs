//! The Cowichan "toys" as the study used them: their data types, their definitions, and
//! the sequential style, which every other style must match exactly.

use std::sync::Arc;

/// A matrix as rows: each style builds rows independently and moves them into place.
pub type Rows<T> = Vec<Vec<T>>;

/// A masked cell: its value and position. Ordered by value, then row, then column: the
/// order `winnow` sorts by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Point {
    /// The cell's value.
    pub value: u32,
    /// Its row.
    pub i: u32,
    /// Its column.
    pub j: u32,
}

/// The five problems (and the chain of all five).
pub const PROBLEMS: [&str; 6] = ["randmat", "thresh", "winnow", "outer", "product", "chain"];

/// One row of randmat: `s = seed + i`, then for each column `s = 1664525 s + 1013904223`
/// (mod 2^32) and the cell is `s % 100`.
pub fn randmat_row(i: usize, ncols: usize, seed: u32) -> Vec<u32> {
    let mut s = seed.wrapping_add(i as u32);
    (0..ncols)
        .map(|_| {
            s = s.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            s % 100
        })
        .collect()
}

/// The histogram of one row's values (0..99).
pub fn row_histogram(row: &[u32]) -> [u64; 100] {
    let mut h = [0u64; 100];
    for &v in row {
        h[v as usize] += 1;
    }
    h
}

/// Adds histogram `b` into `a`.
pub fn add_histograms(mut a: [u64; 100], b: [u64; 100]) -> [u64; 100] {
    for (x, y) in a.iter_mut().zip(b) {
        *x += y;
    }
    a
}

/// The threshold for `p` percent: scanning values from 99 down, the first at which the
/// running count exceeds `cells * p / 100`.
pub fn threshold(h: &[u64; 100], cells: u64, p: u32) -> u32 {
    let count = cells * u64::from(p) / 100;
    let mut sum = 0u64;
    for v in (0..100u32).rev() {
        sum += h[v as usize];
        if sum > count {
            return v;
        }
    }
    0
}

/// A row of the mask.
pub fn mask_row(row: &[u32], t: u32) -> Vec<bool> {
    row.iter().map(|&v| v >= t).collect()
}

/// The masked cells of row `i`.
pub fn masked_points(i: usize, row: &[u32], mask: &[bool]) -> Vec<Point> {
    row.iter()
        .zip(mask)
        .enumerate()
        .filter(|(_, (_, &m))| m)
        .map(|(j, (&value, _))| Point {
            value,
            i: i as u32,
            j: j as u32,
        })
        .collect()
}

/// Merges two sorted vectors.
pub fn merge_sorted(a: Vec<Point>, b: Vec<Point>) -> Vec<Point> {
    let mut out = Vec::with_capacity(a.len() + b.len());
    let (mut x, mut y) = (a.into_iter().peekable(), b.into_iter().peekable());
    loop {
        match (x.peek(), y.peek()) {
            (Some(p), Some(q)) => {
                if p <= q {
                    out.extend(x.next());
                } else {
                    out.extend(y.next());
                }
            }
            (Some(_), None) => {
                out.extend(x);
                break;
            }
            (None, _) => {
                out.extend(y);
                break;
            }
        }
    }
    out
}

/// Every `n / nelts`-th of the sorted points.
pub fn pick(sorted: &[Point], nelts: usize) -> Vec<Point> {
    if sorted.is_empty() {
        return Vec::new();
    }
    let chunk = sorted.len() / nelts.max(1);
    (0..nelts)
        .map(|k| sorted[(k * chunk).min(sorted.len() - 1)])
        .collect()
}

fn dist(a: &Point, b: &Point) -> f64 {
    let (dx, dy) = (
        f64::from(a.i) - f64::from(b.i),
        f64::from(a.j) - f64::from(b.j),
    );
    (dx * dx + dy * dy).sqrt()
}

/// Row `i` of outer's matrix and `V[i]`: distances to every point, the diagonal `nelts`
/// times the row's largest distance, and the distance from the origin.
pub fn outer_row(i: usize, pts: &[Point]) -> (Vec<f64>, f64) {
    let mut row: Vec<f64> = pts.iter().map(|q| dist(&pts[i], q)).collect();
    let max = row.iter().copied().fold(0.0f64, f64::max);
    row[i] = pts.len() as f64 * max;
    let origin = Point {
        value: 0,
        i: 0,
        j: 0,
    };
    (row, dist(&pts[i], &origin))
}

/// One entry of `A V`.
pub fn dot(row: &[f64], v: &[f64]) -> f64 {
    row.iter().zip(v).map(|(a, b)| a * b).sum()
}

/// A style: one way of writing the five problems.
pub trait Style: Sync {
    /// Its name in tables.
    fn name(&self) -> &'static str;
    /// randmat.
    fn randmat(&self, nrows: usize, ncols: usize, seed: u32) -> Rows<u32>;
    /// thresh: the mask.
    fn thresh(&self, m: &Arc<Rows<u32>>, p: u32) -> Rows<bool>;
    /// winnow: `nelts` points.
    fn winnow(&self, m: &Arc<Rows<u32>>, mask: &Arc<Rows<bool>>, nelts: usize) -> Vec<Point>;
    /// outer: the matrix and the vector.
    fn outer(&self, pts: &Arc<Vec<Point>>) -> (Rows<f64>, Vec<f64>);
    /// product: `A V`.
    fn product(&self, a: &Arc<Rows<f64>>, v: &Arc<Vec<f64>>) -> Vec<f64>;
}

/// The sequential style.
#[derive(Debug, Clone, Copy)]
pub struct Sequential;

impl Style for Sequential {
    fn name(&self) -> &'static str {
        "sequential"
    }

    fn randmat(&self, nrows: usize, ncols: usize, seed: u32) -> Rows<u32> {
        (0..nrows).map(|i| randmat_row(i, ncols, seed)).collect()
    }

    fn thresh(&self, m: &Arc<Rows<u32>>, p: u32) -> Rows<bool> {
        let mut h = [0u64; 100];
        for row in m.iter() {
            h = add_histograms(h, row_histogram(row));
        }
        let cells = m.iter().map(|r| r.len() as u64).sum();
        let t = threshold(&h, cells, p);
        m.iter().map(|row| mask_row(row, t)).collect()
    }

    fn winnow(&self, m: &Arc<Rows<u32>>, mask: &Arc<Rows<bool>>, nelts: usize) -> Vec<Point> {
        let mut pts = Vec::new();
        for (i, (row, mrow)) in m.iter().zip(mask.iter()).enumerate() {
            pts.extend(masked_points(i, row, mrow));
        }
        pts.sort_unstable();
        pick(&pts, nelts)
    }

    fn outer(&self, pts: &Arc<Vec<Point>>) -> (Rows<f64>, Vec<f64>) {
        (0..pts.len()).map(|i| outer_row(i, pts)).unzip()
    }

    fn product(&self, a: &Arc<Rows<f64>>, v: &Arc<Vec<f64>>) -> Vec<f64> {
        a.iter().map(|row| dot(row, v)).collect()
    }
}
