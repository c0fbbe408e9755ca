//! criterion micro-benchmarks of the runtime's hot paths: switching, spawning, channels,
//! select, mutexes and timers (benches/go/micro_test.go has the Go twins of the last four).
//! Each measurement runs its
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

/// Send then receive on a buffered channel from one goroutine: the uncontended path.
fn buffered_send_recv(c: &mut Criterion) {
    c.bench_function("buffered send + recv, one goroutine", |b| {
        b.iter_custom(|iters| {
            in_runtime(1, move || {
                let (tx, rx) = goro::chan::<u64>(1);
                let t = Instant::now();
                for i in 0..iters {
                    tx.send(i).expect("open");
                    std::hint::black_box(rx.recv().expect("open"));
                }
                t.elapsed()
            })
        })
    });
}

/// Two goroutines on one worker passing a value back and forth on unbuffered channels: one
/// iteration is one hand-off (half a round trip).
fn unbuffered_handoff(c: &mut Criterion) {
    c.bench_function("unbuffered hand-off (1 worker)", |b| {
        b.iter_custom(|iters| {
            in_runtime(1, move || {
                let (ping_tx, ping_rx) = goro::chan::<u64>(0);
                let (pong_tx, pong_rx) = goro::chan::<u64>(0);
                let rounds = iters.div_ceil(2);
                let other = goro::go(move || {
                    for v in &ping_rx {
                        if pong_tx.send(v).is_err() {
                            return;
                        }
                    }
                });
                let t = Instant::now();
                for i in 0..rounds {
                    ping_tx.send(i).expect("partner");
                    std::hint::black_box(pong_rx.recv().expect("partner"));
                }
                let d = t.elapsed();
                drop(ping_tx);
                other.join().expect("partner");
                d
            })
        })
    });
}

/// A select with a default over two empty channels: the "nothing ready" path.
fn select_nothing_ready(c: &mut Criterion) {
    c.bench_function("select over 2 empty channels with default", |b| {
        b.iter_custom(|iters| {
            in_runtime(1, move || {
                let (_a_tx, a) = goro::chan::<u64>(1);
                let (_b_tx, bb) = goro::chan::<u64>(1);
                let mut defaults = 0u64;
                let t = Instant::now();
                for _ in 0..iters {
                    goro::select! {
                        recv(a) -> _ => {},
                        recv(bb) -> _ => {},
                        default => defaults += 1,
                    }
                }
                let d = t.elapsed();
                assert_eq!(defaults, iters);
                d
            })
        })
    });
}

/// Lock and unlock a `goro::sync::Mutex` nobody else wants (Go: `BenchmarkMutexUncontended`).
fn mutex_uncontended(c: &mut Criterion) {
    c.bench_function("Mutex lock + unlock, uncontended", |b| {
        b.iter_custom(|iters| {
            in_runtime(1, move || {
                let m = goro::sync::Mutex::new(0u64);
                let t = Instant::now();
                for _ in 0..iters {
                    *m.lock() += 1;
                }
                let d = t.elapsed();
                assert_eq!(*m.lock(), iters);
                d
            })
        })
    });
}

/// Two goroutines on two workers each lock, increment and unlock, `iters / 2` times: one
/// iteration is one lock + unlock (Go: `BenchmarkMutexContended`, GOMAXPROCS=2).
fn mutex_contended(c: &mut Criterion) {
    c.bench_function("Mutex lock + unlock, 2 goroutines on 2 workers", |b| {
        b.iter_custom(|iters| {
            in_runtime(2, move || {
                let m = std::sync::Arc::new(goro::sync::Mutex::new(0u64));
                let half = iters.div_ceil(2);
                let m2 = m.clone();
                let t = Instant::now();
                let other = goro::go(move || {
                    for _ in 0..half {
                        *m2.lock() += 1;
                    }
                });
                for _ in 0..half {
                    *m.lock() += 1;
                }
                other.join().expect("partner");
                let d = t.elapsed();
                assert_eq!(*m.lock(), 2 * half);
                d
            })
        })
    });
}

/// Arm a timer an hour out and stop it (Go: `BenchmarkTimerArmStop`).
fn timer_arm_stop(c: &mut Criterion) {
    c.bench_function("Timer new + stop", |b| {
        b.iter_custom(|iters| {
            in_runtime(1, move || {
                let t = Instant::now();
                for _ in 0..iters {
                    let timer = goro::time::Timer::new(Duration::from_secs(3600));
                    std::hint::black_box(timer.stop());
                }
                t.elapsed()
            })
        })
    });
}

/// The timeout idiom when the work wins: a select over a ready channel and `after(1h)` (Go:
/// `BenchmarkAfterInSelect`).
fn after_in_select(c: &mut Criterion) {
    c.bench_function("select on a ready channel and after(1h)", |b| {
        b.iter_custom(|iters| {
            in_runtime(1, move || {
                let (tx, rx) = goro::chan::<u64>(1);
                let t = Instant::now();
                for i in 0..iters {
                    tx.send(i).expect("open");
                    goro::select! {
                        recv(rx) -> v => { std::hint::black_box(v.ok()); }
                        recv(goro::time::after(Duration::from_secs(3600))) -> _ => unreachable!(),
                    }
                }
                t.elapsed()
            })
        })
    });
}

criterion_group!(
    benches,
    yield_pingpong,
    spawn_join,
    buffered_send_recv,
    unbuffered_handoff,
    select_nothing_ready,
    mutex_uncontended,
    mutex_contended,
    timer_arm_stop,
    after_in_select
);
criterion_main!(benches);
