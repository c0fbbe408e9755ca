//! Tour stops for timers, `goro::sync` and `goro::context`.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use goro::context::{Context, ContextError};
use goro::sync::{Semaphore, WaitGroup};

/// A service that takes `work` to answer, unless its caller's context ends first.
fn service(ctx: &Context, work: Duration) -> Result<&'static str, ContextError> {
    let done = goro::time::Timer::new(work); // stopped when dropped
    goro::select! {
        recv(done.c()) -> _ => Ok("answer"),
        recv(ctx.done()) -> _ => Err(ctx.err().unwrap_or(ContextError::Canceled)),
    }
}

/// A call with a timeout: the caller's deadline travels in a context, and the service gives up
/// with it, so nothing keeps running for an answer nobody will read.
pub fn call_with_timeout(scale: f64) -> String {
    let limit = Duration::from_secs_f64((0.05 * scale).max(0.002));
    let call = |work: Duration| {
        let start = Instant::now();
        let (ctx, _cancel) = Context::background().with_timeout(limit);
        let r = goro::go(move || service(&ctx, work))
            .join()
            .unwrap_or(Err(ContextError::Canceled));
        (r, start.elapsed())
    };
    let (fast, fast_t) = call(limit / 4);
    let (slow, slow_t) = call(limit * 4);
    let show = |r: Result<&str, ContextError>| match r {
        Ok(v) => format!("{v:?}"),
        Err(e) => format!("\"{e}\""),
    };
    format!(
        "limit {:.0} ms: a quick call got {} in {:.1} ms; a slow one got {} after {:.1} ms, and \
         its service stopped then too; {} timers still armed",
        limit.as_secs_f64() * 1e3,
        show(fast),
        fast_t.as_secs_f64() * 1e3,
        show(slow),
        slow_t.as_secs_f64() * 1e3,
        goro::time::armed()
    )
}

/// A worker pool bounded by a semaphore: one goroutine per job, at most `slots` working.
pub fn bounded_pool(scale: f64) -> String {
    let jobs = ((200.0 * scale) as usize).max(8);
    let slots = 4;
    let job = Duration::from_millis(2);
    let run = |bound: Option<u64>| {
        let sem = bound.map(|n| Arc::new(Semaphore::new(n)));
        let (now, most) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        let wg = WaitGroup::new();
        let start = Instant::now();
        for _ in 0..jobs {
            if let Some(s) = &sem {
                let _ = s.acquire(1); // parks the spawner while every slot is busy
            }
            wg.add(1);
            let (sem, now, most, wg) = (sem.clone(), now.clone(), most.clone(), wg.clone());
            goro::go(move || {
                let n = now.fetch_add(1, Ordering::SeqCst) + 1;
                most.fetch_max(n, Ordering::SeqCst);
                goro::time::sleep(job); // an I/O wait: parks, holds no worker
                now.fetch_sub(1, Ordering::SeqCst);
                if let Some(s) = sem {
                    s.release(1);
                }
                wg.done();
            });
        }
        wg.wait();
        (most.load(Ordering::SeqCst), start.elapsed())
    };
    let (b_most, b_t) = run(Some(slots));
    let (u_most, u_t) = run(None);
    format!(
        "{jobs} jobs of {} ms: bounded by a semaphore of {slots}, at most {b_most} ran at once, \
         {:.0} ms in all (at least jobs/{slots} x 2 ms); unbounded, {u_most} at once, {:.0} ms",
        job.as_millis(),
        b_t.as_secs_f64() * 1e3,
        u_t.as_secs_f64() * 1e3
    )
}

/// Cancelling a tree of goroutines with a context: cancel the root and every goroutine under
/// it stops, each at its next look at `done`.
pub fn cancel_tree(scale: f64) -> String {
    let fan = if scale < 0.1 { 3 } else { 6 };
    let armed_before = goro::time::armed();
    let (root, cancel) = Context::background().with_cancel();
    let stopped = Arc::new(AtomicUsize::new(0));
    let wg = WaitGroup::new();
    let mut handles = Vec::new();
    let spawn = |ctx: Context| {
        wg.add(1);
        let (stopped, wg) = (stopped.clone(), wg.clone());
        goro::go(move || {
            let Ok(work) = goro::time::Ticker::new(Duration::from_millis(1)) else {
                return;
            };
            loop {
                goro::select! {
                    recv(work.c()) -> _ => {} // a unit of work
                    recv(ctx.done()) -> _ => break,
                }
            }
            // Disarm before saying so: `wg.done()` lets main count the armed timers.
            drop(work);
            stopped.fetch_add(1, Ordering::SeqCst);
            wg.done();
        });
    };
    for _ in 0..fan {
        let (mid, c) = root.with_cancel();
        handles.push(c);
        for _ in 0..fan {
            let (leaf, c) = mid.with_timeout(Duration::from_secs(3600));
            handles.push(c);
            for _ in 0..fan {
                spawn(leaf.clone());
            }
            spawn(leaf);
        }
        spawn(mid);
    }
    goro::time::sleep(Duration::from_millis(5));
    let t = Instant::now();
    cancel.cancel();
    wg.wait();
    let took = t.elapsed();
    drop(handles);
    format!(
        "{} goroutines in a 3-level tree stopped {:.0} us after the root was cancelled; armed \
         timers: {} before, {} after",
        stopped.load(Ordering::SeqCst),
        took.as_secs_f64() * 1e6,
        armed_before,
        goro::time::armed()
    )
}

/// A deliberate deadlock, in a runtime of its own on a separate thread: two goroutines each
/// wait for the other to send first, and main waits for both.
pub fn deadlock_report(_scale: f64) -> String {
    let (tx, rx) = goro::chan(1);
    std::thread::spawn(move || {
        let r = goro::Runtime::builder()
            .workers(1)
            .exit_report(false)
            .deadlock_detection(Some(Duration::from_millis(100)))
            // A demonstration of a real deadlock: the lab's own threads hold no handle.
            .deadlock_fatal_unproven(true)
            .run(|| {
                for h in start_alice_and_bob() {
                    let _ = h.join();
                }
            });
        let _ = tx.send(match r {
            Err(e) => e.to_string(),
            Ok(()) => "no deadlock?".to_string(),
        });
    });
    let report = rx
        .recv()
        .unwrap_or_else(|_| "the runtime's thread failed".to_string());
    format!(
        "run returned this error (the lab exits with status 2 on it):\n{}",
        indented(&report)
    )
}

/// A report set in under a stop's arrow.
fn indented(report: &str) -> String {
    let lines: Vec<String> = report
        .trim_end()
        .lines()
        .map(|l| format!("       {l}"))
        .collect();
    lines.join("\n")
}

/// Alice and Bob each wait for the other, as in `deadlock_report`, but this time main goes on
/// working (their join handles dropped), so there is no global deadlock to report: the leak
/// check finds the pair.
pub fn leak_check(_scale: f64) -> String {
    let (tx, rx) = goro::chan(1);
    std::thread::spawn(move || {
        let r = goro::Runtime::builder()
            .workers(1)
            .exit_report(false)
            .run(|| {
                start_alice_and_bob();
                // Main stays busy meanwhile: a ticker it serves.
                let ticker = goro::time::tick(Duration::from_millis(1));
                let started = Instant::now();
                let mut ticks = 0;
                let mut found = Vec::new();
                while found.len() < 2 && started.elapsed() < Duration::from_secs(5) {
                    if ticker.recv().is_ok() {
                        ticks += 1;
                    }
                    found = goro::debug::leaks();
                }
                let t0 = Instant::now();
                let report = goro::debug::leak_report();
                (ticks, t0.elapsed(), report)
            });
        let _ = tx.send(r.map_err(|e| e.to_string()));
    });
    match rx.recv() {
        Ok(Ok((ticks, took, report))) => {
            format!(
                "main went on serving a 1 ms ticker ({ticks} {}); goro::debug::leak_report() \
                 took {:.1} ms and named:\n{}",
                if ticks == 1 { "tick" } else { "ticks" },
                took.as_secs_f64() * 1e3,
                indented(&report)
            )
        }
        Ok(Err(e)) => format!("-> failed: {e}"),
        Err(_) => "-> failed: the runtime's thread stopped".to_string(),
    }
}

/// Starts two goroutines that each wait for the other to send first, and returns their join
/// handles. In a function of its own, so that no frame still running holds copies of their
/// channels (the leak check must not take them for live handles).
#[inline(never)]
fn start_alice_and_bob() -> Vec<goro::JoinHandle<()>> {
    let (a_tx, a_rx) = goro::chan::<u32>(0);
    let (b_tx, b_rx) = goro::chan::<u32>(0);
    let alice = goro::Builder::new().name("alice").spawn(move || {
        let v = a_rx.recv().unwrap_or(0); // waits for bob
        let _ = b_tx.send(v);
    });
    let bob = goro::Builder::new().name("bob").spawn(move || {
        let v = b_rx.recv().unwrap_or(0); // waits for alice
        let _ = a_tx.send(v);
    });
    [alice.ok(), bob.ok()].into_iter().flatten().collect()
}

/// A three-stage pipeline run in a traced runtime of its own; says where the trace is.
pub fn traced_pipeline(scale: f64) -> String {
    let n = ((2000.0 * scale) as u64).max(20);
    let path = std::env::temp_dir().join("goro-tour-pipeline.json");
    let (tx, rx) = goro::chan(1);
    let p = path.clone();
    std::thread::spawn(move || {
        let r = goro::Runtime::builder()
            .workers(2)
            .exit_report(false)
            .trace(&p)
            .run(move || {
                let (nums_tx, nums) = goro::chan::<u64>(16);
                let (squares_tx, squares) = goro::chan::<u64>(16);
                goro::Builder::new()
                    .name("generate")
                    .spawn(move || {
                        for i in 0..n {
                            let _ = nums_tx.send(i);
                        }
                    })
                    .ok();
                goro::Builder::new()
                    .name("square")
                    .spawn(move || {
                        for v in &nums {
                            let _ = squares_tx.send(v * v);
                        }
                    })
                    .ok();
                squares.iter().sum::<u64>()
            });
        let _ = tx.send(r.map_err(|e| e.to_string()));
    });
    match rx.recv() {
        Ok(Ok(sum)) => format!(
            "summed {n} squares ({sum}); the trace of its three goroutines is in {} \
             (open it in ui.perfetto.dev or chrome://tracing)",
            path.display()
        ),
        Ok(Err(e)) => format!("the pipeline failed: {e}"),
        Err(_) => "the pipeline's thread failed".to_string(),
    }
}
