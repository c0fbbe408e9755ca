//! SEMANTICS.md, Memory model: M1-M5.

use std::cell::UnsafeCell;
use std::sync::Arc;

/// A cell with no synchronisation of its own: only happens-before edges make it safe, so a
/// missing edge shows up under the thread sanitizer and as wrong values under stress.
struct Plain(UnsafeCell<u64>);
// SAFETY: the test only accesses it across a spawn or a join, which are the edges under test.
unsafe impl Sync for Plain {}

#[test]
fn m5_spawn_happens_before_start_and_end_happens_before_join() {
    goro::Runtime::builder()
        .workers(2)
        .run(|| {
            for i in 0..2_000u64 {
                let cell = Arc::new(Plain(UnsafeCell::new(0)));
                // SAFETY: no goroutine sees `cell` yet.
                unsafe { *cell.0.get() = i };
                let c = cell.clone();
                let h = goro::go(move || {
                    // SAFETY: the write above happens before this goroutine starts (M5).
                    let seen = unsafe { *c.0.get() };
                    // SAFETY: the spawner does not touch the cell until join returns.
                    unsafe { *c.0.get() = seen * 2 + 1 };
                    seen
                });
                assert_eq!(h.join().unwrap(), i);
                // SAFETY: the goroutine's write happens before join returns (M5).
                assert_eq!(unsafe { *cell.0.get() }, i * 2 + 1);
            }
        })
        .unwrap();
}

/// The runtime with 2 workers, so the two sides really run on different threads.
fn two_workers(f: impl FnOnce() + 'static) {
    goro::Runtime::builder().workers(2).run(f).unwrap();
}

#[test]
fn m1_send_happens_before_the_receive_completes() {
    two_workers(|| {
        for cap in [0, 1, 8] {
            let (tx, rx) = goro::chan::<Arc<Plain>>(cap);
            let h = goro::go(move || {
                for i in 0..2_000u64 {
                    let cell = Arc::new(Plain(UnsafeCell::new(0)));
                    // SAFETY: only this goroutine has the cell before the send.
                    unsafe { *cell.0.get() = i };
                    tx.send(cell).unwrap();
                }
            });
            for i in 0..2_000u64 {
                let cell = rx.recv().unwrap();
                // SAFETY: the write happened before the send, which happened before this
                // receive completed (M1).
                assert_eq!(unsafe { *cell.0.get() }, i);
            }
            h.join().unwrap();
        }
    });
}

#[test]
fn m2_close_happens_before_a_receive_that_sees_closed() {
    two_workers(|| {
        for _ in 0..2_000u64 {
            let cell = Arc::new(Plain(UnsafeCell::new(0)));
            let (tx, rx) = goro::chan::<()>(0);
            let c = cell.clone();
            goro::go(move || {
                // SAFETY: the receiver reads only after seeing the close (M2).
                unsafe { *c.0.get() = 7 };
                tx.close().unwrap();
            });
            assert!(rx.recv().is_err());
            // SAFETY: as above.
            assert_eq!(unsafe { *cell.0.get() }, 7);
        }
    });
}

#[test]
fn m3_unbuffered_receive_happens_before_the_send_completes() {
    two_workers(|| {
        for i in 0..2_000u64 {
            let cell = Arc::new(Plain(UnsafeCell::new(0)));
            let (tx, rx) = goro::chan::<()>(0);
            let c = cell.clone();
            goro::go(move || {
                // SAFETY: written before the receive; the sender reads after its send (M3).
                unsafe { *c.0.get() = i };
                rx.recv().unwrap();
            });
            tx.send(()).unwrap();
            // SAFETY: as above.
            assert_eq!(unsafe { *cell.0.get() }, i);
        }
    });
}

#[test]
fn m4_kth_receive_happens_before_send_k_plus_c_completes() {
    two_workers(|| {
        const C: usize = 3;
        for i in 0..1_000u64 {
            let cell = Arc::new(Plain(UnsafeCell::new(0)));
            let (tx, rx) = goro::chan::<()>(C);
            for _ in 0..C {
                tx.send(()).unwrap(); // sends 1..=C fill the buffer
            }
            let (c, rx) = (cell.clone(), rx.clone()); // the outer `rx` keeps the channel open
            goro::go(move || {
                // SAFETY: written before receive 1; read after send 1 + C completes (M4).
                unsafe { *c.0.get() = i };
                rx.recv().unwrap();
            });
            tx.send(()).unwrap(); // send C + 1
                                  // SAFETY: as above.
            assert_eq!(unsafe { *cell.0.get() }, i);
        }
    });
}
