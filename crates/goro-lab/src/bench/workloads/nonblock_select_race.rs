//! nonblock_select_race: Go's TestNonblockSelectRace, timed.
//!
//! goro's version (`on_goro`), and where one applies its twins on crossbeam-channel with OS
//! threads (`on_crossbeam`) and on tokio (`on_tokio`). The Go twin is
//! `benches/go/nonblock_select_race.go`.

use super::*;

/// The workload's definition: what `goro bench` and its comparisons run under this name.
pub(crate) const NONBLOCK_SELECT_RACE: Workload = Workload {
    name: "nonblock_select_race",
    note: "100,000 rounds of Go's TestNonblockSelectRace: spawn, select with default, answer",
    caveat: None,
    run: on_goro,
    size: 100_000,
    crossbeam: None,
    tokio: None,
};

/// nonblock_select_race: Go's TestNonblockSelectRace. Each round fills one channel of
/// capacity 1, spawns a goroutine that selects on it and a second one with a `default`
/// case, fills the second from the caller, takes one of the two back without blocking, and
/// waits for the goroutine's answer: one of the two must have been ready. Ops are rounds.
pub fn on_goro(rounds: u64) -> Measure {
    let (done_tx, done_rx) = chan::<bool>(1);
    let t = Instant::now();
    for _ in 0..rounds {
        let (c1_tx, c1) = chan::<u32>(1);
        let (c2_tx, c2) = chan::<u32>(1);
        c1_tx.send(1).expect("room for one");
        let done = done_tx.clone();
        // The caller keeps its own receivers: in goro a channel whose receivers are all gone
        // refuses sends, and the goroutine may be done before the caller sends on c2.
        let (r1, r2) = (c1.clone(), c2.clone());
        go(move || {
            let ready = goro::select! {
                recv(r1) -> _ => true,
                recv(r2) -> _ => true,
                default => false,
            };
            let _ = done.send(ready);
        });
        c2_tx.send(1).expect("room for one");
        goro::select! {
            recv(c1) -> _ => {},
            default => {},
        }
        assert!(done_rx.recv().expect("answer"), "no channel was ready");
    }
    Measure::timed(rounds, t.elapsed(), rounds)
}
