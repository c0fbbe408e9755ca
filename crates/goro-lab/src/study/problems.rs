//! The Cowichan "toys" as the study used them: their data types, their definitions, the
//! synthetic inputs of the whole-process method, the hash every output is checked by, and
//! the sequential style, which every other style must match exactly.
//!
//! Cells are bytes ([`Cell`]): randmat's values are below 100, so a byte holds them, as in
//! the study's expert programs (and all but one of its non-expert ones). A 20000x20000
//! matrix is 400 MB; 4-byte cells made it 1.6 GB and every pass over it four times longer
//! in memory traffic.

use std::sync::Arc;

/// A matrix as rows: each style builds rows independently and moves them into place.
pub type Rows<T> = Vec<Vec<T>>;

/// A cell of randmat's matrix: a value below 100.
pub type Cell = u8;

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
pub fn randmat_row(i: usize, ncols: usize, seed: u32) -> Vec<Cell> {
    let mut s = seed.wrapping_add(i as u32);
    (0..ncols)
        .map(|_| {
            s = s.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            (s % 100) as Cell
        })
        .collect()
}

/// The histogram of one row's values (0..99).
pub fn row_histogram(row: &[Cell]) -> [u64; 100] {
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
pub fn mask_row(row: &[Cell], t: u32) -> Vec<bool> {
    row.iter().map(|&v| u32::from(v) >= t).collect()
}

/// The number of cells of a matrix.
pub fn cells<T>(m: &Rows<T>) -> u64 {
    m.iter().map(|r| r.len() as u64).sum()
}

/// The masked cells of row `i`.
pub fn masked_points(i: usize, row: &[Cell], mask: &[bool]) -> Vec<Point> {
    row.iter()
        .zip(mask)
        .enumerate()
        .filter(|(_, (_, &m))| m)
        .map(|(j, (&value, _))| Point {
            value: u32::from(value),
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

/// Puts `n` results, each with its row, in row order (the styles that gather rows as they
/// finish); panics if a row is missing.
pub fn in_row_order<T>(n: usize, rows: impl IntoIterator<Item = (usize, T)>) -> Vec<T> {
    let mut out: Vec<Option<T>> = (0..n).map(|_| None).collect();
    for (i, v) in rows {
        out[i] = Some(v);
    }
    out.into_iter()
        .map(|v| v.expect("every row has its result"))
        .collect()
}

/// FNV-1a, 64 bits: the hash by which outputs are compared across processes and languages
/// (benches/go/study computes the same over the same bytes).
#[derive(Debug, Clone, Copy)]
pub struct Hash(u64);

impl Default for Hash {
    fn default() -> Hash {
        Hash(0xcbf2_9ce4_8422_2325)
    }
}

impl Hash {
    /// Adds bytes.
    pub fn bytes(&mut self, b: &[u8]) {
        for &x in b {
            self.0 = (self.0 ^ u64::from(x)).wrapping_mul(0x0100_0000_01b3);
        }
    }

    /// Adds a `u32`, little-endian.
    pub fn u32(&mut self, v: u32) {
        self.bytes(&v.to_le_bytes());
    }

    /// Adds an `f64`'s bits, little-endian.
    pub fn f64(&mut self, v: f64) {
        self.bytes(&v.to_bits().to_le_bytes());
    }

    /// The hash so far.
    pub fn get(self) -> u64 {
        self.0
    }
}

/// What one problem computed: the value the styles are compared by.
#[derive(Debug, Clone, PartialEq)]
pub enum Output {
    /// randmat.
    Matrix(Rows<Cell>),
    /// thresh.
    Mask(Rows<bool>),
    /// winnow.
    Points(Vec<Point>),
    /// outer.
    Outer(Rows<f64>, Vec<f64>),
    /// product (and the chain, whose result is product's).
    Vector(Vec<f64>),
}

impl Output {
    /// The hash of the output's canonical bytes (see [`hash_cells`] and its siblings).
    pub fn hash(&self) -> u64 {
        match self {
            Output::Matrix(m) => hash_cells(m),
            Output::Mask(m) => hash_mask(m),
            Output::Points(p) => hash_points(p),
            Output::Outer(a, v) => hash_floats(a, v),
            Output::Vector(v) => hash_floats(&[], v),
        }
    }
}

/// The hash of a matrix: its cells row by row.
pub fn hash_cells(m: &[Vec<Cell>]) -> u64 {
    let mut h = Hash::default();
    m.iter().for_each(|r| h.bytes(r));
    h.get()
}

/// The hash of a mask: its cells row by row, each as 0 or 1.
pub fn hash_mask(m: &[Vec<bool>]) -> u64 {
    let mut h = Hash::default();
    m.iter().flatten().for_each(|&b| h.bytes(&[u8::from(b)]));
    h.get()
}

/// The hash of points: each point's value, row and column as little-endian `u32`.
pub fn hash_points(p: &[Point]) -> u64 {
    let mut h = Hash::default();
    for p in p {
        h.u32(p.value);
        h.u32(p.i);
        h.u32(p.j);
    }
    h.get()
}

/// The hash of a matrix of `f64` and a vector: each value's bits, little-endian, the matrix
/// row by row and then the vector.
pub fn hash_floats(a: &[Vec<f64>], v: &[f64]) -> u64 {
    let mut h = Hash::default();
    a.iter().flatten().chain(v).for_each(|&x| h.f64(x));
    h.get()
}

/// The synthetic inputs of the whole-process method, after the study's benchmark mode,
/// which timed the middle problems on inputs built in the process rather than on the
/// chain's data: thresh and winnow get a matrix of zeros, winnow a mask with cell
/// `(i, j)` set where `i * j mod (ncols + 1) == 1` (about 13,000 cells at 20000x20000, where
/// the chain's mask has 8 million), outer the points `(0, k, k)`, and product a zero matrix
/// and a zero vector of `nelts`.
pub mod synthetic {
    use super::*;

    /// A matrix of zeros. Each row is its own zeroed allocation, as Go's `make` gives: fresh
    /// pages from the system are zero already, so rows nobody writes are never resident
    /// (`vec![row; n]` would copy one row `n` times and touch every page).
    pub fn matrix(nrows: usize, ncols: usize) -> Rows<Cell> {
        (0..nrows).map(|_| vec![0; ncols]).collect()
    }

    /// The mask: `i * j mod (ncols + 1) == 1`.
    pub fn mask(nrows: usize, ncols: usize) -> Rows<bool> {
        (0..nrows)
            .map(|i| {
                (0..ncols)
                    .map(|j| (i as u64 * j as u64) % (ncols as u64 + 1) == 1)
                    .collect()
            })
            .collect()
    }

    /// `nelts` points on the diagonal, value 0.
    pub fn points(nelts: usize) -> Vec<Point> {
        (0..nelts as u32)
            .map(|k| Point {
                value: 0,
                i: k,
                j: k,
            })
            .collect()
    }

    /// A zero `nelts` x `nelts` matrix and a zero vector.
    pub fn product(nelts: usize) -> (Rows<f64>, Vec<f64>) {
        (
            (0..nelts).map(|_| vec![0.0; nelts]).collect(),
            vec![0.0; nelts],
        )
    }
}

/// A style: one way of writing the five problems.
pub trait Style: Sync {
    /// Its name in tables.
    fn name(&self) -> &'static str;
    /// randmat.
    fn randmat(&self, nrows: usize, ncols: usize, seed: u32) -> Rows<Cell>;
    /// thresh: the mask.
    fn thresh(&self, m: &Arc<Rows<Cell>>, p: u32) -> Rows<bool>;
    /// winnow: `nelts` points.
    fn winnow(&self, m: &Arc<Rows<Cell>>, mask: &Arc<Rows<bool>>, nelts: usize) -> Vec<Point>;
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

    fn randmat(&self, nrows: usize, ncols: usize, seed: u32) -> Rows<Cell> {
        (0..nrows).map(|i| randmat_row(i, ncols, seed)).collect()
    }

    fn thresh(&self, m: &Arc<Rows<Cell>>, p: u32) -> Rows<bool> {
        let mut h = [0u64; 100];
        for row in m.iter() {
            h = add_histograms(h, row_histogram(row));
        }
        let t = threshold(&h, cells(m), p);
        m.iter().map(|row| mask_row(row, t)).collect()
    }

    fn winnow(&self, m: &Arc<Rows<Cell>>, mask: &Arc<Rows<bool>>, nelts: usize) -> Vec<Point> {
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
