//! criterion micro-benchmarks of goro's bridge to async Rust, each beside tokio's own way of
//! doing the same: `block_on` of a ready future and of one woken from another thread, and
//! a round trip between a goroutine and a tokio task over goro channels.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion};

fn in_runtime(f: impl FnOnce() -> Duration + 'static) -> Duration {
    goro::Runtime::builder()
        .workers(2)
        .exit_report(false)
        .hog_warnings(false)
        .run(f)
        .expect("runtime")
}

/// Ready on its second poll; the first hands the waker to `partner`, which wakes it.
struct Handoff {
    polled: bool,
    to: std::sync::mpsc::SyncSender<Waker>,
}

impl Future for Handoff {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.polled {
            return Poll::Ready(());
        }
        self.polled = true;
        self.to.send(cx.waker().clone()).expect("waker thread");
        Poll::Pending
    }
}

/// A thread that wakes every waker it is handed.
fn waking_thread() -> std::sync::mpsc::SyncSender<Waker> {
    let (tx, rx) = std::sync::mpsc::sync_channel::<Waker>(1);
    std::thread::spawn(move || {
        for w in rx {
            w.wake();
        }
    });
    tx
}

fn block_on_ready(c: &mut Criterion) {
    c.bench_function("goro::block_on(ready) on a goroutine", |b| {
        b.iter_custom(|iters| {
            in_runtime(move || {
                let t = Instant::now();
                for i in 0..iters {
                    std::hint::black_box(goro::block_on(async move { i }));
                }
                t.elapsed()
            })
        })
    });
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .expect("tokio");
    let h = rt.handle().clone();
    c.bench_function("tokio Handle::block_on(ready) on a thread", |b| {
        b.iter(|| std::hint::black_box(h.block_on(async { 1u64 })))
    });
}

fn block_on_woken(c: &mut Criterion) {
    c.bench_function(
        "goro::block_on(woken by another thread) on a goroutine",
        |b| {
            b.iter_custom(|iters| {
                in_runtime(move || {
                    let to = waking_thread();
                    let t = Instant::now();
                    for _ in 0..iters {
                        goro::block_on(Handoff {
                            polled: false,
                            to: to.clone(),
                        });
                    }
                    t.elapsed()
                })
            })
        },
    );
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .expect("tokio");
    let to = waking_thread();
    let h = rt.handle().clone();
    let t2 = to.clone();
    c.bench_function(
        "tokio Handle::block_on(woken by another thread) on a thread",
        |b| {
            b.iter(|| {
                h.block_on(Handoff {
                    polled: false,
                    to: t2.clone(),
                })
            })
        },
    );
    c.bench_function("tokio .await (woken by another thread) in a task", |b| {
        b.iter_custom(|iters| {
            let to = to.clone();
            rt.block_on(async move {
                tokio::spawn(async move {
                    let t = Instant::now();
                    for _ in 0..iters {
                        Handoff {
                            polled: false,
                            to: to.clone(),
                        }
                        .await;
                    }
                    t.elapsed()
                })
                .await
                .expect("task")
            })
        })
    });
}

fn goroutine_task_pingpong(c: &mut Criterion) {
    c.bench_function(
        "goroutine <-> tokio task round trip over goro channels",
        |b| {
            b.iter_custom(|iters| {
                in_runtime(move || {
                    let (ping_tx, ping_rx) = goro::chan::<u64>(0);
                    let (pong_tx, pong_rx) = goro::chan::<u64>(0);
                    let task = goro::tokio::spawn(async move {
                        while let Ok(v) = ping_rx.recv_async().await {
                            if pong_tx.send_async(v + 1).await.is_err() {
                                return;
                            }
                        }
                    });
                    let t = Instant::now();
                    let mut v = 0;
                    for _ in 0..iters {
                        ping_tx.send(v).expect("task alive");
                        v = pong_rx.recv().expect("task alive");
                    }
                    let d = t.elapsed();
                    drop(ping_tx);
                    task.join().expect("task");
                    d
                })
            })
        },
    );
    // The baseline is the lab's own tokio pingpong (`goro bench --peers`), on 2 workers.
    c.bench_function(
        "tokio task <-> tokio task round trip over tokio mpsc",
        |b| b.iter_custom(|iters| goro_lab::bench::pingpong_on_tokio(iters, 2).1),
    );
}

criterion_group!(
    benches,
    block_on_ready,
    block_on_woken,
    goroutine_task_pingpong
);
criterion_main!(benches);
