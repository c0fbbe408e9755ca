//! skynet1M: a 10-ary tree of goroutines summing a million leaves over unbuffered channels.
//!
//! goro's version (`on_goro`), and where one applies its twins on crossbeam-channel with OS
//! threads (`on_crossbeam`) and on tokio (`on_tokio`). The Go twin is
//! `benches/go/skynet1m.go`.

use super::*;

/// The workload's definition: what `goro bench` and its comparisons run under this name.
pub(crate) const SKYNET1M: Workload = Workload {
    name: "skynet1M",
    note:
        "10-ary tree of 1,111,111 goroutines; each sends its sum on its parent's unbuffered channel",
    caveat: None,
    run: on_goro,
    size: 1_000_000,
    crossbeam: None,
    tokio: Some(|n, w| super::no_bytes(on_tokio(n, w))),
};

fn skynet_node(out: Sender<u64>, num: u64, size: u64) {
    if size == 1 {
        let _ = out.send(num);
        return;
    }
    let child = size / 10;
    let (tx, rx) = chan(0);
    for i in 0..10 {
        let tx = tx.clone();
        goro::go(move || skynet_node(tx, num + i * child, child));
    }
    drop(tx);
    let sum = (0..10).map(|_| rx.recv().expect("skynet child")).sum();
    let _ = out.send(sum);
}

/// skynet: a 10-ary tree of goroutines with `leaves` leaves; each leaf sends its number on its
/// parent's unbuffered channel, each inner node sends its children's sum. Ops are all
/// goroutines of the tree.
pub fn on_goro(leaves: u64) -> Measure {
    let t = Instant::now();
    let (tx, rx) = chan(0);
    goro::go(move || skynet_node(tx, 0, leaves));
    let sum = rx.recv().expect("skynet root");
    let elapsed = t.elapsed();
    assert_eq!(sum, leaves * (leaves - 1) / 2, "skynet sum");
    let mut nodes = 0;
    let mut level = leaves;
    while level >= 1 {
        nodes += level;
        level /= 10;
    }
    Measure {
        ops: nodes,
        elapsed,
        bytes_per_op: None,
        result: sum,
        ideal: None,
    }
}

fn tokio_node(num: u64, size: u64) -> Pin<Box<dyn Future<Output = u64> + Send>> {
    Box::pin(async move {
        if size == 1 {
            return num;
        }
        let child = size / 10;
        let handles: Vec<_> = (0..10)
            .map(|i| tokio::spawn(tokio_node(num + i * child, child)))
            .collect();
        let mut sum = 0;
        for h in handles {
            sum += h.await.expect("skynet task");
        }
        sum
    })
}

/// skynet: a 10-ary tree of tasks; each returns its subtree's sum through its join handle.
pub fn on_tokio(leaves: u64, workers: usize) -> (u64, Duration) {
    super::on_runtime(workers, async move {
        let t = Instant::now();
        let sum = tokio::spawn(tokio_node(0, leaves)).await.expect("root");
        let elapsed = t.elapsed();
        assert_eq!(sum, leaves * (leaves - 1) / 2);
        let (mut nodes, mut level) = (0, leaves);
        while level >= 1 {
            nodes += level;
            level /= 10;
        }
        (nodes, elapsed)
    })
}
