//! # divide-and-conquer: one `go` per recursion against one worker per core
//!
//! What it is for: the two ways to spread a computation over cores. Divide and conquer
//! splits the problem in half, starts a goroutine for one half, recurses on the other, and
//! joins, all the way down: simple, and as parallel as the tree is wide. One worker per
//! core cuts the data into as many pieces as there are workers, sorts each piece in its own
//! goroutine, and merges once at the end. Both on a merge sort of the same data.
//!
//! ```go
//! func sort(a, tmp []int, done chan<- bool) {
//!     if len(a) <= cutoff {
//!         sequentialSort(a, tmp)
//!     } else {
//!         m := len(a) / 2
//!         left := make(chan bool)
//!         go sort(a[:m], tmp[:m], left) // one goroutine per half
//!         sort(a[m:], tmp[m:], nil)
//!         <-left
//!         merge(a, m, tmp)
//!     }
//!     if done != nil { done <- true }
//! }
//! ```
//!
//! What to watch: with a tiny cutoff divide and conquer starts about one goroutine per
//! element and spends its time creating and joining them; with a cutoff of a few thousand it
//! matches the per-core version, which starts only as many goroutines as workers. The study
//! (`goro study`) measures this across five problems.

use std::time::{Duration, Instant};

use crate::pattern::{leaked_goroutines, scaled, Report};

fn insertion_sort(a: &mut [u32]) {
    for i in 1..a.len() {
        let mut j = i;
        while j > 0 && a[j - 1] > a[j] {
            a.swap(j - 1, j);
            j -= 1;
        }
    }
}

/// Merges the sorted halves `a[..m]` and `a[m..]` through `tmp`.
fn merge(a: &mut [u32], m: usize, tmp: &mut [u32]) {
    tmp[..a.len()].copy_from_slice(a);
    let (mut i, mut j, mut k) = (0, m, 0);
    while i < m && j < a.len() {
        if tmp[i] <= tmp[j] {
            a[k] = tmp[i];
            i += 1;
        } else {
            a[k] = tmp[j];
            j += 1;
        }
        k += 1;
    }
    a[k..k + m - i].copy_from_slice(&tmp[i..m]);
}

/// The sequential merge sort both versions build on.
pub fn sort_seq(a: &mut [u32], tmp: &mut [u32], cutoff: usize) {
    if a.len() <= cutoff.max(1) {
        insertion_sort(a);
        return;
    }
    let m = a.len() / 2;
    let (la, ra) = a.split_at_mut(m);
    let (lt, rt) = tmp.split_at_mut(m);
    sort_seq(la, lt, cutoff);
    sort_seq(ra, rt, cutoff);
    merge(a, m, tmp);
}

/// Divide and conquer: a goroutine for the left half at every level down to `cutoff`.
/// Returns the goroutines started. The halves are moved into the goroutine and back, since
/// a goroutine cannot borrow the caller's slice.
pub fn sort_divide(a: Vec<u32>, cutoff: usize) -> (Vec<u32>, u64) {
    if a.len() <= cutoff.max(1) {
        let mut a = a;
        let mut tmp = vec![0u32; a.len()];
        sort_seq(&mut a, &mut tmp, 32);
        return (a, 0);
    }
    let mut left = a;
    let right = left.split_off(left.len() / 2);
    // tour:begin: the lines `goro tour` shows
    let h = goro::go(move || sort_divide(left, cutoff));
    let (right, nr) = sort_divide(right, cutoff);
    let (left, nl) = h.join().expect("a sorting goroutine panicked");
    // tour:end
    let m = left.len();
    let mut a = left;
    a.extend_from_slice(&right);
    let mut tmp = vec![0u32; a.len()];
    merge(&mut a, m, &mut tmp);
    (a, nl + nr + 1)
}

/// One worker per core: `workers` pieces sorted by `workers` goroutines, then merged.
pub fn sort_per_core(a: Vec<u32>, workers: usize) -> Vec<u32> {
    let piece = a.len().div_ceil(workers.max(1)).max(1);
    let handles: Vec<_> = a
        .chunks(piece)
        .map(|c| {
            let mut c = c.to_vec();
            goro::go(move || {
                let mut tmp = vec![0u32; c.len()];
                sort_seq(&mut c, &mut tmp, 32);
                c
            })
        })
        .collect();
    let mut sorted: Vec<Vec<u32>> = handles
        .into_iter()
        .map(|h| h.join().expect("a sorting goroutine panicked"))
        .collect();
    // Merge pairwise until one run is left.
    while sorted.len() > 1 {
        let mut next = Vec::with_capacity(sorted.len().div_ceil(2));
        let mut it = sorted.into_iter();
        while let Some(mut x) = it.next() {
            if let Some(y) = it.next() {
                let m = x.len();
                x.extend_from_slice(&y);
                let mut tmp = vec![0u32; x.len()];
                merge(&mut x, m, &mut tmp);
            }
            next.push(x);
        }
        sorted = next;
    }
    sorted.pop().unwrap_or_default()
}

/// Seeded random data.
pub fn data(n: usize, seed: u64) -> Vec<u32> {
    let mut rng = fastrand::Rng::with_seed(seed);
    (0..n).map(|_| rng.u32(..)).collect()
}

fn timed<R>(f: impl FnOnce() -> R) -> (R, Duration) {
    let t = Instant::now();
    let r = f();
    (r, t.elapsed())
}

/// The pattern's run.
pub fn run(scale: f64) -> Result<Report, String> {
    let before = goro::debug::goroutines_count();
    let n = scaled(1_000_000, scale, 10_000);
    let workers = goro::workers().unwrap_or(1);
    let input = data(n, 7);
    let mut want = input.clone();
    want.sort_unstable();

    let (seq, t_seq) = timed(|| {
        let mut a = input.clone();
        let mut tmp = vec![0u32; n];
        sort_seq(&mut a, &mut tmp, 32);
        a
    });
    let ((fine, g_fine), t_fine) = timed(|| sort_divide(input.clone(), 1));
    let ((coarse, g_coarse), t_coarse) = timed(|| sort_divide(input.clone(), n / 64));
    let (per_core, t_core) = timed(|| sort_per_core(input.clone(), workers));
    for (name, got) in [
        ("sequential", &seq),
        ("divide to 1", &fine),
        ("divide to n/64", &coarse),
        ("per core", &per_core),
    ] {
        if *got != want {
            return Err(format!("{name}: not sorted"));
        }
    }
    let leaked = leaked_goroutines(before);
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    Ok(Report {
        lines: vec![
            format!("sequential merge sort of {n} numbers: {:.1} ms", ms(t_seq)),
            format!(
                "divide and conquer down to 1 element: {:.1} ms, {g_fine} goroutines",
                ms(t_fine)
            ),
            format!(
                "divide and conquer down to n/64: {:.1} ms, {g_coarse} goroutines",
                ms(t_coarse)
            ),
            format!(
                "one goroutine per worker ({workers}), then merge: {:.1} ms, {workers} goroutines",
                ms(t_core)
            ),
        ],
        figure: format!(
            "speed-up over sequential: divide to 1 x{:.2}, divide to n/64 x{:.2}, per core x{:.2}",
            t_seq.as_secs_f64() / t_fine.as_secs_f64(),
            t_seq.as_secs_f64() / t_coarse.as_secs_f64(),
            t_seq.as_secs_f64() / t_core.as_secs_f64()
        ),
        bars: vec![
            ("sequential".to_string(), ms(t_seq)),
            (format!("divide to 1 ({g_fine} goroutines)"), ms(t_fine)),
            (
                format!("divide to n/64 ({g_coarse} goroutines)"),
                ms(t_coarse),
            ),
            (format!("per core ({workers} goroutines)"), ms(t_core)),
        ],
        unit: "ms",
        leaked,
    })
}
