//! select2_b64: two producers on channels of capacity 64, drained by two-case selects.
//!
//! goro's version (`on_goro`), and where one applies its twins on crossbeam-channel with OS
//! threads (`on_crossbeam`) and on tokio (`on_tokio`). The Go twin is
//! `benches/go/select2_b64.go`.

use super::*;

/// The workload's definition: what `goro bench` and its comparisons run under this name.
pub(crate) const SELECT2_B64: Workload = Workload {
    name: "select2_b64",
    note: "two producers send 2,000,000 each on capacity-64 channels; 4,000,000 two-case selects",
    caveat: None,
    run: on_goro,
    size: 4_000_000,
    crossbeam: Some((on_crossbeam, 1)),
    tokio: None,
};

/// select2_b64: two producers each send `n / 2` values on their own channel of capacity 64;
/// the caller receives all of them with two-case selects. A producer's channel closes when it
/// is done; its case is then switched off.
pub fn on_goro(n: u64) -> Measure {
    let half = n / 2;
    let (a_tx, a_rx) = chan::<u64>(64);
    let (b_tx, b_rx) = chan::<u64>(64);
    let t = Instant::now();
    for tx in [a_tx, b_tx] {
        goro::go(move || {
            for i in 0..half {
                tx.send(i).expect("selector alive");
            }
        });
    }
    let (mut a, mut b) = (Some(&a_rx), Some(&b_rx));
    let (mut got, mut sum) = (0u64, 0u64);
    while got < 2 * half {
        goro::select! {
            recv(a) -> v => match v {
                Ok(v) => { got += 1; sum += v; }
                Err(_) => a = None,
            },
            recv(b) -> v => match v {
                Ok(v) => { got += 1; sum += v; }
                Err(_) => b = None,
            },
        }
    }
    let elapsed = t.elapsed();
    assert_eq!(sum, half * (half - 1));
    Measure::timed(2 * half, elapsed, sum)
}

/// select2_b64: two producer threads on capacity-64 channels; the caller receives every
/// value with a two-case `select!`.
pub fn on_crossbeam(n: u64) -> (u64, Duration) {
    let half = n / 2;
    let (a_tx, a) = bounded::<u64>(64);
    let (b_tx, b) = bounded::<u64>(64);
    let t = Instant::now();
    let producers: Vec<_> = [a_tx, b_tx]
        .into_iter()
        .map(|tx| {
            std::thread::spawn(move || {
                for i in 0..half {
                    tx.send(i).expect("selector alive");
                }
            })
        })
        .collect();
    // A producer that is done disconnects its channel; crossbeam's way to switch the case off
    // is to put `never()` in its place.
    let (mut a, mut b) = (a, b);
    let (mut got, mut sum) = (0, 0);
    while got < 2 * half {
        crossbeam_channel::select! {
            recv(a) -> v => match v {
                Ok(v) => { got += 1; sum += v; }
                Err(_) => a = crossbeam_channel::never(),
            },
            recv(b) -> v => match v {
                Ok(v) => { got += 1; sum += v; }
                Err(_) => b = crossbeam_channel::never(),
            },
        }
    }
    let elapsed = t.elapsed();
    producers
        .into_iter()
        .for_each(|h| h.join().expect("producer"));
    assert_eq!(sum, half * (half - 1));
    (2 * half, elapsed)
}
