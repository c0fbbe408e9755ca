//! criterion micro-benchmarks of the runtime core's hot paths. Each measurement runs its
//! iterations inside one runtime (`iter_custom`), so start-up is not counted.

use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion};

fn in_runtime(workers: usize, f: impl FnOnce() -> Duration + 'static) -> Duration {
    goro::Runtime::builder()
        .workers(workers)
        .exit_report(false)
        .run(f)
        .expect("runtime")
}

/// Two goroutines on one worker taking turns with `yield_now`: one iteration is one switch
/// away and back.
fn yield_pingpong(c: &mut Criterion) {
    c.bench_function("yield_now between two goroutines (1 worker)", |b| {
        b.iter_custom(|iters| {
            in_runtime(1, move || {
                let other = goro::go(move || {
                    for _ in 0..iters {
                        goro::yield_now();
                    }
                });
                let t = Instant::now();
                for _ in 0..iters {
                    goro::yield_now();
                }
                let d = t.elapsed();
                other.join().expect("partner");
                d
            })
        })
    });
}

/// Spawn a goroutine and join it, one at a time.
fn spawn_join(c: &mut Criterion) {
    for workers in [1, 2] {
        c.bench_function(&format!("spawn + join ({workers} workers)"), |b| {
            b.iter_custom(|iters| {
                in_runtime(workers, move || {
                    let t = Instant::now();
                    for i in 0..iters {
                        let v = goro::go(move || i).join().expect("goroutine");
                        std::hint::black_box(v);
                    }
                    t.elapsed()
                })
            })
        });
    }
}

criterion_group!(benches, yield_pingpong, spawn_join);
criterion_main!(benches);
