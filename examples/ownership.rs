//! # ownership: "aliases xor mutable", or why the racy Go programs do not compile
//!
//! Go lets two goroutines touch the same memory and leaves the race detector to catch it at
//! run time, if the race happens while it watches. Rust's rule is that a value has either
//! many readers or one writer, and sending a value on a channel *moves* it: the sender cannot
//! touch it afterwards. Each racy Go program below is rejected by the compiler (the
//! `compile_fail` examples are checked by `cargo test`), and each has a fixed version that
//! compiles and is correct.
//!
//! ## A counter incremented from many goroutines
//!
//! ```go
//! n := 0
//! for i := 0; i < 1000; i++ {
//!     go func() { n++ }() // data race: lost updates
//! }
//! ```
//!
//! ```compile_fail,E0373
//! goro::run(|| {
//!     let mut n = 0;
//!     for _ in 0..1000 {
//!         goro::go(|| n += 1); // error: the closure may outlive `n`, which it borrows mutably
//!     }
//! })
//! .unwrap();
//! ```
//!
//! Fixed: share an atomic (or send increments to one owner).
//!
//! ```
//! use std::sync::atomic::{AtomicU64, Ordering};
//! use std::sync::Arc;
//! let n = goro::run(|| {
//!     let n = Arc::new(AtomicU64::new(0));
//!     let hs: Vec<_> = (0..1000)
//!         .map(|_| {
//!             let n = n.clone();
//!             goro::go(move || n.fetch_add(1, Ordering::Relaxed))
//!         })
//!         .collect();
//!     hs.into_iter().for_each(|h| drop(h.join()));
//!     n.load(Ordering::Relaxed)
//! })
//! .unwrap();
//! assert_eq!(n, 1000);
//! ```
//!
//! ## A map written from two goroutines
//!
//! ```go
//! m := map[string]int{}
//! go func() { m["a"] = 1 }()
//! m["b"] = 2 // concurrent map writes: a fatal error, or worse
//! ```
//!
//! ```compile_fail,E0382
//! use std::collections::HashMap;
//! goro::run(|| {
//!     let mut m = HashMap::new();
//!     goro::go(move || m.insert("a", 1));
//!     m.insert("b", 2); // error: borrow of moved value `m`
//! })
//! .unwrap();
//! ```
//!
//! Fixed: a lock around the map, shared by reference counting.
//!
//! ```
//! use std::collections::HashMap;
//! use std::sync::Arc;
//! let len = goro::run(|| {
//!     let m = Arc::new(goro::sync::Mutex::new(HashMap::new()));
//!     let m2 = m.clone();
//!     let h = goro::go(move || m2.lock().insert("a", 1));
//!     m.lock().insert("b", 2);
//!     h.join().unwrap();
//!     let n = m.lock().len();
//!     n
//! })
//! .unwrap();
//! assert_eq!(len, 2);
//! ```
//!
//! ## A slice reused after it was sent
//!
//! ```go
//! buf := make([]byte, 4)
//! ch <- buf
//! buf[0] = 9 // the receiver sees this, or not: a race
//! ```
//!
//! ```compile_fail,E0382
//! goro::run(|| {
//!     let (tx, rx) = goro::chan::<Vec<u8>>(1);
//!     let mut buf = vec![0u8; 4];
//! # // tour:begin
//!     tx.send(buf).unwrap();
//!     buf[0] = 9; // error: borrow of moved value `buf`
//! # // tour:end
//!     drop(rx);
//! })
//! .unwrap();
//! ```
//!
//! Fixed: the receiver owns it now; to write again, get it back (or send a copy).
//!
//! ```
//! goro::run(|| {
//!     let (tx, rx) = goro::chan::<Vec<u8>>(1);
//!     let (back_tx, back_rx) = goro::chan::<Vec<u8>>(1);
//!     goro::go(move || {
//!         for mut b in &rx {
//!             b[0] += 1;
//!             let _ = back_tx.send(b);
//!         }
//!     });
//!     tx.send(vec![0u8; 4]).unwrap();
//!     let mut buf = back_rx.recv().unwrap();
//!     buf[0] = 9; // ours again
//!     assert_eq!(buf[0], 9);
//! })
//! .unwrap();
//! ```
//!
//! What to watch in the run: sending a 64 MiB `Vec` costs the same as sending a `u64`,
//! because the move passes the pointer, length and capacity; the receiver finds the very
//! same buffer (same address) and the sender no longer has it.

use std::time::Instant;

use crate::pattern::{leaked_goroutines, scaled, Report};

/// Sends a `Vec` of `len` bytes to a goroutine and back `rounds` times; returns the
/// addresses of the buffer before and after, and nanoseconds per send.
pub fn ping_buffer(len: usize, rounds: u32) -> (usize, usize, f64) {
    let (tx, rx) = goro::chan::<Vec<u8>>(0);
    let (back_tx, back_rx) = goro::chan::<Vec<u8>>(0);
    let echo = goro::go(move || {
        for b in &rx {
            if back_tx.send(b).is_err() {
                return;
            }
        }
    });
    // Filling 64 MiB takes milliseconds of page faults: a blocking-pool thread does it, so
    // this goroutine's worker stays free for others.
    let mut buf = goro::blocking(|| vec![1u8; len]);
    let before = buf.as_ptr() as usize;
    let t = Instant::now();
    for _ in 0..rounds {
        tx.send(buf).expect("the echo goroutine is alive");
        buf = back_rx.recv().expect("the echo goroutine answers");
    }
    let per_send = t.elapsed().as_nanos() as f64 / f64::from(rounds * 2);
    let after = buf.as_ptr() as usize;
    drop(tx);
    let _ = echo.join();
    (before, after, per_send)
}

/// The pattern's run.
pub fn run(scale: f64) -> Result<Report, String> {
    let before = goro::debug::goroutines_count();
    let rounds = scaled(10_000, scale, 100) as u32;
    let (small_before, small_after, small) = ping_buffer(8, rounds);
    let (big_before, big_after, big) = ping_buffer(64 << 20, rounds);
    if small_before != small_after || big_before != big_after {
        return Err("a sent Vec came back at another address: it was copied".into());
    }
    let copy = goro::blocking(|| {
        let src = vec![1u8; 64 << 20];
        let t = Instant::now();
        let dst = std::hint::black_box(src.clone());
        let ns = t.elapsed().as_nanos() as f64;
        drop(dst);
        ns
    });
    let leaked = leaked_goroutines(before);
    Ok(Report {
        lines: vec![
            format!(
                "a 64 MiB Vec sent {} times each way came back at the same address {big_before:#x}: \
                 moved, never copied",
                rounds
            ),
            "the compiler rejects the three racy Go programs (see this file's compile_fail \
             examples, run by cargo test)"
                .to_string(),
        ],
        figure: format!(
            "one send: {small:.0} ns for an 8-byte Vec, {big:.0} ns for a 64 MiB one; copying \
             the 64 MiB would take {:.0} us",
            copy / 1e3
        ),
        bars: vec![
            ("send an 8-byte Vec".to_string(), small),
            ("send a 64 MiB Vec".to_string(), big),
            ("copy a 64 MiB Vec".to_string(), copy),
        ],
        unit: "ns",
        leaked,
    })
}
