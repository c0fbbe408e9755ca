//! # generator and iterator: a goroutine as a coroutine, and Go's "same fringe" problem
//!
//! What it is for: writing a producer as straight-line code (a loop, a recursion) that yields
//! values one at a time, and consuming it as an ordinary `Iterator`. The goroutine sends each
//! value on an unbuffered channel and blocks until the consumer takes it, so the two run in
//! lock step like a coroutine. The classic test is the same fringe: do two binary trees of
//! different shapes hold the same leaves in the same order? A recursive walk per tree, each
//! in its own goroutine, compared pairwise, stops at the first difference.
//!
//! ```go
//! func walk(t *Tree, ch chan<- int) {
//!     if t == nil { return }
//!     walk(t.Left, ch)
//!     ch <- t.Value
//!     walk(t.Right, ch)
//! }
//!
//! func same(a, b *Tree) bool {
//!     ca, cb := make(chan int), make(chan int)
//!     go func() { walk(a, ca); close(ca) }()
//!     go func() { walk(b, cb); close(cb) }()
//!     for {
//!         x, ok1 := <-ca
//!         y, ok2 := <-cb
//!         if ok1 != ok2 || x != y { return false } // Go leaks both walkers here
//!         if !ok1 { return true }
//!     }
//! }
//! ```
//!
//! What to watch: the cost per item. Each value through an unbuffered channel is two
//! switches between goroutines; a hand-written iterator with an explicit stack does no
//! switching at all. The goroutine version is the easier one to write, the iterator the
//! faster, and the figure says by how much. And when the fringes differ early, the walkers
//! are not leaked: dropping the `Receiver` closes the channel, the walker's next send fails
//! and it returns.

use std::sync::Arc;
use std::time::Instant;

use crate::pattern::{leaked_goroutines, scaled, Report};

/// A binary tree with values at the leaves.
#[derive(Debug)]
pub enum Tree {
    /// A leaf.
    Leaf(u32),
    /// Two subtrees.
    Node(Box<Tree>, Box<Tree>),
}

/// A tree over `values` (in order) whose shape is drawn from `seed`.
pub fn random_tree(values: &[u32], seed: u64) -> Tree {
    fn build(v: &[u32], rng: &mut fastrand::Rng) -> Tree {
        if v.len() == 1 {
            return Tree::Leaf(v[0]);
        }
        let cut = rng.usize(1..v.len());
        Tree::Node(
            Box::new(build(&v[..cut], rng)),
            Box::new(build(&v[cut..], rng)),
        )
    }
    // Recursion depth stays near 2 log n for random cuts; callers keep n modest.
    build(values, &mut fastrand::Rng::with_seed(seed))
}

/// Sends the leaves of `t` in order; false once the receiver has gone.
fn walk(t: &Tree, tx: &goro::Sender<u32>) -> bool {
    match t {
        Tree::Leaf(v) => tx.send(*v).is_ok(),
        Tree::Node(l, r) => walk(l, tx) && walk(r, tx),
    }
}

/// The fringe of `t` as an iterator backed by a goroutine: a generator.
// tour:begin: the lines `goro tour` shows
pub fn fringe(t: Arc<Tree>) -> impl Iterator<Item = u32> {
    let (tx, rx) = goro::chan(0);
    goro::Builder::new()
        .name("walker".to_string())
        .spawn(move || {
            walk(&t, &tx);
        })
        .expect("spawn a walker");
    rx.into_iter()
}
// tour:end

/// Same fringe with a goroutine per tree.
pub fn same_fringe_goroutines(a: &Arc<Tree>, b: &Arc<Tree>) -> bool {
    fringe(a.clone()).eq(fringe(b.clone()))
}

/// The fringe of `t` as a plain iterator with an explicit stack: no goroutine.
#[derive(Debug)]
pub struct Leaves<'t> {
    stack: Vec<&'t Tree>,
}

impl<'t> Leaves<'t> {
    /// Leaves of `t`, left to right.
    pub fn new(t: &'t Tree) -> Self {
        Leaves { stack: vec![t] }
    }
}

impl Iterator for Leaves<'_> {
    type Item = u32;
    fn next(&mut self) -> Option<u32> {
        while let Some(t) = self.stack.pop() {
            match t {
                Tree::Leaf(v) => return Some(*v),
                Tree::Node(l, r) => {
                    self.stack.push(r);
                    self.stack.push(l);
                }
            }
        }
        None
    }
}

/// Same fringe with plain iterators.
pub fn same_fringe_iterators(a: &Tree, b: &Tree) -> bool {
    Leaves::new(a).eq(Leaves::new(b))
}

/// A generator of Fibonacci numbers: the goroutine loops for ever, the consumer takes what it
/// wants, and dropping the iterator ends the goroutine.
pub fn fibonacci() -> impl Iterator<Item = u64> {
    let (tx, rx) = goro::chan(0);
    goro::go(move || {
        let (mut a, mut b) = (0u64, 1u64);
        while tx.send(a).is_ok() {
            (a, b) = (b, a.wrapping_add(b));
        }
    });
    rx.into_iter()
}

/// The pattern's run.
pub fn run(scale: f64) -> Result<Report, String> {
    let before = goro::debug::goroutines_count();
    let n = scaled(200_000, scale, 1000) as u32;
    let values: Vec<u32> = (0..n).collect();
    let a = Arc::new(random_tree(&values, 1));
    let b = Arc::new(random_tree(&values, 2));
    let mut other = values.clone();
    other[10] += 1;
    let c = Arc::new(random_tree(&other, 3));

    let fib: Vec<u64> = fibonacci().take(10).collect();

    let t = Instant::now();
    let same_g = same_fringe_goroutines(&a, &b);
    let per_item_g = t.elapsed().as_nanos() as f64 / f64::from(n);
    let t = Instant::now();
    let same_i = same_fringe_iterators(&a, &b);
    let per_item_i = t.elapsed().as_nanos() as f64 / f64::from(n);
    let differ_g = same_fringe_goroutines(&a, &c);
    let differ_i = same_fringe_iterators(&a, &c);
    if !same_g || !same_i || differ_g || differ_i {
        return Err(format!(
            "wrong answers: same {same_g}/{same_i}, different {differ_g}/{differ_i}"
        ));
    }
    let leaked = leaked_goroutines(before);
    Ok(Report {
        lines: vec![
            format!("the first ten Fibonacci numbers from a generator goroutine: {fib:?}"),
            format!(
                "two {n}-leaf trees of different shapes have the same fringe: {same_g} \
                 (goroutines), {same_i} (iterators); a tree whose 11th leaf differs: {differ_g}, \
                 and its walkers returned when their receivers were dropped"
            ),
        ],
        figure: format!(
            "per leaf compared: {per_item_g:.0} ns with a goroutine per tree, {per_item_i:.1} ns \
             with plain iterators ({:.0}x): two switches per value against none",
            per_item_g / per_item_i.max(0.01)
        ),
        bars: vec![
            ("goroutine per tree".to_string(), per_item_g),
            ("plain iterators".to_string(), per_item_i),
        ],
        unit: "ns per leaf",
        leaked,
    })
}
