//! mpmc4x4_b128: four producers and four consumers on one channel of capacity 128.
//!
//! goro's version (`on_goro`), and where one applies its twins on crossbeam-channel with OS
//! threads (`on_crossbeam`) and on tokio (`on_tokio`). The Go twin is
//! `benches/go/mpmc4x4_b128.go`.

use super::*;

/// The workload's definition: what `goro bench` and its comparisons run under this name.
pub(crate) const MPMC4X4_B128: Workload = Workload {
    name: "mpmc4x4_b128",
    note: "4 producers, 4 consumers, capacity 128, 8,000,000 messages in all",
    caveat: None,
    run: on_goro,
    size: 8_000_000,
    crossbeam: Some((on_crossbeam, 1)),
    tokio: None,
};

/// mpmc4x4_b128: 4 producers and 4 consumers share a channel of capacity 128; `n` messages in
/// all.
pub fn on_goro(n: u64) -> Measure {
    let (tx, rx) = chan::<u64>(128);
    let per = n / 4;
    let t = Instant::now();
    for p in 0..4 {
        let tx = tx.clone();
        goro::go(move || {
            for i in 0..per {
                tx.send(p * per + i).expect("consumers alive");
            }
        });
    }
    drop(tx);
    let consumers: Vec<_> = (0..4)
        .map(|_| {
            let rx = rx.clone();
            goro::go(move || rx.iter().fold((0u64, 0u64), |(c, s), v| (c + 1, s + v)))
        })
        .collect();
    drop(rx);
    let (count, sum) = consumers
        .into_iter()
        .map(|h| h.join().expect("consumer"))
        .fold((0, 0), |(c, s), (c2, s2)| (c + c2, s + s2));
    let elapsed = t.elapsed();
    let m = per * 4;
    assert_eq!((count, sum), (m, m * (m - 1) / 2));
    Measure::timed(m, elapsed, sum)
}

/// mpmc4x4: 4 producer and 4 consumer threads on a channel of capacity 128.
pub fn on_crossbeam(n: u64) -> (u64, Duration) {
    let (tx, rx) = bounded::<u64>(128);
    let per = n / 4;
    let t = Instant::now();
    let sum: u64 = std::thread::scope(|s| {
        for p in 0..4 {
            let tx = tx.clone();
            s.spawn(move || {
                for i in 0..per {
                    tx.send(p * per + i).expect("consumers alive");
                }
            });
        }
        drop(tx);
        let consumers: Vec<_> = (0..4)
            .map(|_| {
                let rx = rx.clone();
                s.spawn(move || rx.iter().sum::<u64>())
            })
            .collect();
        consumers
            .into_iter()
            .map(|h| h.join().expect("consumer"))
            .sum()
    });
    let elapsed = t.elapsed();
    let m = per * 4;
    assert_eq!(sum, m * (m - 1) / 2);
    (m, elapsed)
}
