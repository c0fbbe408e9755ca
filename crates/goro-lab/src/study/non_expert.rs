//! The study's non-expert shape, written anew in goro from a description of those programs:
//! divide and conquer with no join in the tree. Each split starts a goroutine for each half and
//! returns; each leaf (one row) sends its result on one shared unbuffered channel, and the
//! caller counts `n` results off it. Nothing waits or merges on the way up, so the only
//! combining is that flat count. (The study's programs wrote each row into a shared matrix
//! and sent `true`; here the row travels with its index, which is the same one message per
//! row on the same one channel, and needs no shared mutable matrix.)
//!
//! On top of that shape, two choices the paper's non-expert programs made:
//! - thresh makes four passes: each row's largest value, a histogram per row, the
//!   histogram (one leaf per value, summing the rows' histograms), and the mask;
//! - winnow funnels every masked cell through one unbuffered channel to one collector,
//!   which then sorts them all sequentially.

use std::sync::Arc;

use goro::Sender;

use super::problems::*;
use super::spawned;

/// Computes `leaf(i)` for every row `i` in `0..n`, one goroutine for the root and for each
/// half down to single rows, and gathers the results by counting `n` of them off one channel.
fn fan<T, L>(n: usize, leaf: L) -> Vec<T>
where
    T: Send + 'static,
    L: Fn(usize) -> T + Send + Sync + 'static,
{
    let (done_tx, done_rx) = goro::chan(0);
    if n > 0 {
        // The root is a goroutine too: a caller that ran a one-row leaf itself would send
        // on the unbuffered channel before anyone receives.
        let leaf = Arc::new(leaf);
        spawned();
        goro::go(move || spread(0, n, leaf, done_tx));
    }
    let results = (0..n).map(|_| {
        done_rx
            .recv()
            .expect("a leaf ended without reporting (it panicked, or could not start)")
    });
    in_row_order(n, results)
}

/// One node of [`fan`]'s tree: a leaf computes and reports; a split starts both halves.
fn spread<T, L>(lo: usize, hi: usize, leaf: Arc<L>, done: Sender<(usize, T)>)
where
    T: Send + 'static,
    L: Fn(usize) -> T + Send + Sync + 'static,
{
    if hi - lo == 1 {
        let v = leaf(lo);
        let _ = done.send((lo, v));
        return;
    }
    let mid = lo + (hi - lo) / 2;
    for (a, b) in [(lo, mid), (mid, hi)] {
        let (leaf, done) = (leaf.clone(), done.clone());
        spawned();
        goro::go(move || spread(a, b, leaf, done));
    }
}

/// The non-expert style.
#[derive(Debug, Clone, Copy)]
pub struct NonExpert;

impl Style for NonExpert {
    fn name(&self) -> &'static str {
        "non-expert"
    }

    fn randmat(&self, nrows: usize, ncols: usize, seed: u32) -> Rows<Cell> {
        fan(nrows, move |i| randmat_row(i, ncols, seed))
    }

    fn thresh(&self, m: &Arc<Rows<Cell>>, p: u32) -> Rows<bool> {
        let m1 = m.clone();
        let maxes = fan(m.len(), move |i| m1[i].iter().copied().max().unwrap_or(0));
        let nmax = usize::from(maxes.into_iter().max().unwrap_or(0));
        let m2 = m.clone();
        let hists = Arc::new(fan(m.len(), move |i| {
            let mut h = vec![0u64; nmax + 1];
            for &v in &m2[i] {
                h[usize::from(v)] += 1;
            }
            h
        }));
        let counts = fan(nmax + 1, move |v| hists.iter().map(|h| h[v]).sum::<u64>());
        let mut h = [0u64; 100];
        h[..=nmax].copy_from_slice(&counts);
        let t = threshold(&h, cells(m), p);
        let m3 = m.clone();
        fan(m.len(), move |i| mask_row(&m3[i], t))
    }

    fn winnow(&self, m: &Arc<Rows<Cell>>, mask: &Arc<Rows<bool>>, nelts: usize) -> Vec<Point> {
        let (funnel_tx, funnel_rx) = goro::chan(0);
        let (m, mask) = (m.clone(), mask.clone());
        spawned();
        goro::go(move || {
            fan(m.len(), move |i| {
                for (j, (&v, &on)) in m[i].iter().zip(&mask[i]).enumerate() {
                    if on {
                        let p = Point {
                            value: u32::from(v),
                            i: i as u32,
                            j: j as u32,
                        };
                        let _ = funnel_tx.send(p);
                    }
                }
            })
        });
        let mut pts: Vec<Point> = funnel_rx.iter().collect();
        pts.sort_unstable();
        pick(&pts, nelts)
    }

    fn outer(&self, pts: &Arc<Vec<Point>>) -> (Rows<f64>, Vec<f64>) {
        let p = pts.clone();
        fan(pts.len(), move |i| outer_row(i, &p))
            .into_iter()
            .unzip()
    }

    fn product(&self, a: &Arc<Rows<f64>>, v: &Arc<Vec<f64>>) -> Vec<f64> {
        let (a2, v) = (a.clone(), v.clone());
        fan(a.len(), move |i| dot(&a2[i], &v))
    }
}
