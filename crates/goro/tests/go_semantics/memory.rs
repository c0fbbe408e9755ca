//! SEMANTICS.md, Memory model: M5 (M1-M4 are about channels and come with them).

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
