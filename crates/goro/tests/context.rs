//! goro::context: cancellation through a tree of goroutines, deadlines, values, and no
//! timers left behind. The tests of this file take `SERIAL` because they read the process's
//! count of armed timers.

#[path = "common/mod.rs"]
mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::on_1_and_2_workers;
use goro::context::{Context, ContextError};
use goro::sync::WaitGroup;

static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

/// A goroutine that works until `ctx` is done, then counts itself in `stopped`.
fn worker(ctx: Context, stopped: Arc<AtomicUsize>, wg: WaitGroup) {
    goro::go(move || {
        let work = goro::time::Ticker::new(Duration::from_millis(1)).unwrap();
        loop {
            goro::select! {
                recv(work.c()) -> _ => {}
                recv(ctx.done()) -> _ => break,
            }
        }
        assert!(ctx.err().is_some());
        stopped.fetch_add(1, Ordering::SeqCst);
        wg.done();
    });
}

#[test]
fn cancelling_the_root_reaches_every_goroutine_of_a_three_level_tree() {
    let _s = serial();
    on_1_and_2_workers(|| {
        let (root, cancel) = Context::background().with_cancel();
        let stopped = Arc::new(AtomicUsize::new(0));
        let wg = WaitGroup::new();
        let mut handles = Vec::new();
        let mut n = 0;
        for _ in 0..3 {
            let (mid, c1) = root.with_cancel();
            handles.push(c1);
            for _ in 0..3 {
                let (leaf, c2) = mid.with_timeout(Duration::from_secs(3600));
                handles.push(c2);
                for _ in 0..3 {
                    wg.add(1);
                    n += 1;
                    worker(leaf.with_value(n), stopped.clone(), wg.clone());
                }
            }
            wg.add(1);
            n += 1;
            worker(mid, stopped.clone(), wg.clone());
        }
        goro::time::sleep(Duration::from_millis(5));
        assert_eq!(
            stopped.load(Ordering::SeqCst),
            0,
            "stopped before the cancel"
        );
        cancel.cancel();
        wg.wait();
        assert_eq!(stopped.load(Ordering::SeqCst), n);
        assert_eq!(root.err(), Some(ContextError::Canceled));
        drop(handles);
    });
}

#[test]
fn a_timeout_fires_and_says_deadline_exceeded() {
    let _s = serial();
    on_1_and_2_workers(|| {
        let start = Instant::now();
        let (ctx, _cancel) = Context::background().with_timeout(Duration::from_millis(10));
        assert!(ctx.deadline().is_some());
        assert_eq!(ctx.err(), None);
        assert!(ctx.done().recv().is_err());
        assert!(start.elapsed() >= Duration::from_millis(10));
        assert_eq!(ctx.err(), Some(ContextError::DeadlineExceeded));
        // A child of an expired context is done at birth; a child's deadline is never later
        // than its parent's.
        let (child, _c) = ctx.with_timeout(Duration::from_secs(60));
        assert_eq!(child.err(), Some(ContextError::DeadlineExceeded));
        let (p, _pc) = Context::background().with_timeout(Duration::from_millis(50));
        let (c, _cc) = p.with_timeout(Duration::from_secs(60));
        assert_eq!(c.deadline(), p.deadline());
        // From a plain thread the timer thread fires it.
        let got = common::thread(|| {
            let (ctx, _c) = Context::background().with_timeout(Duration::from_millis(5));
            let _ = ctx.done().recv();
            ctx.err()
        });
        assert_eq!(got.recv().unwrap(), Some(ContextError::DeadlineExceeded));
    });
}

#[test]
fn dropped_contexts_leave_no_timer_armed() {
    let _s = serial();
    on_1_and_2_workers(|| {
        let before = goro::time::armed();
        for _ in 0..1_000 {
            let (ctx, cancel) = Context::background().with_timeout(Duration::from_secs(3600));
            let (child, c2) = ctx.with_deadline(Instant::now() + Duration::from_secs(60));
            assert!(goro::time::armed() >= before + 2);
            drop((child, c2, ctx, cancel));
        }
        assert_eq!(
            goro::time::armed(),
            before,
            "timers left armed by dropped contexts"
        );
        // A cancelled parent forgets its children: no list grows without bound.
        let (parent, _pc) = Context::background().with_cancel();
        for _ in 0..10_000 {
            let (c, cancel) = parent.with_cancel();
            drop((c, cancel));
        }
        let shown = format!("{parent:?}");
        assert!(
            shown.contains("err: None") && shown.contains("children: 0"),
            "{shown}"
        );
    });
}

#[test]
fn values_are_found_by_type_through_cancellable_nodes() {
    #[derive(Debug, PartialEq)]
    struct User(&'static str);
    let ctx = Context::background()
        .with_value(User("ada"))
        .with_value(42u32);
    let (ctx, _c) = ctx.with_cancel();
    let ctx = ctx.with_value(7u32);
    assert_eq!(ctx.value::<User>(), Some(&User("ada")));
    assert_eq!(ctx.value::<u32>(), Some(&7), "the nearest value wins");
    assert!(ctx.value::<String>().is_none());
    assert!(
        Context::background().done().try_recv().is_err(),
        "the root is never done"
    );
}

#[test]
fn a_context_without_cancel_outlives_its_parent_and_keeps_its_values() {
    let _serial = serial();
    on_1_and_2_workers(|| {
        struct User(&'static str);
        let (req, cancel) = Context::background()
            .with_value(User("ada"))
            .with_timeout(Duration::from_millis(5));
        let audit = req.without_cancel();
        // A child of the detached context is cancelled only by its own cancel.
        let (child, child_cancel) = audit.with_cancel();
        goro::time::sleep(Duration::from_millis(20));
        assert_eq!(req.err(), Some(ContextError::DeadlineExceeded));
        assert_eq!((audit.err(), audit.deadline()), (None, None));
        assert!(!child.is_done());
        assert_eq!(child.value::<User>().map(|u| u.0), Some("ada"));
        // Its done channel never closes: a select on it takes the other case.
        let r = goro::select! {
            recv(audit.done()) -> _ => "done",
            default(Duration::from_millis(5)) => "still running",
        };
        assert_eq!(r, "still running");
        child_cancel.cancel();
        assert_eq!(child.err(), Some(ContextError::Canceled));
        drop(cancel);
    });
}

#[test]
fn after_func_runs_once_the_context_is_done_unless_stopped() {
    let _serial = serial();
    on_1_and_2_workers(|| {
        let calls = Arc::new(AtomicUsize::new(0));
        let (ctx, cancel) = Context::background().with_timeout(Duration::from_millis(5));
        let c = calls.clone();
        let on_goroutine = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let g = on_goroutine.clone();
        let first = ctx.after_func(move || {
            g.store(goro::current_id().is_some(), Ordering::SeqCst);
            c.fetch_add(1, Ordering::SeqCst);
        });
        let c = calls.clone();
        let withdrawn = ctx.after_func(move || {
            c.fetch_add(100, Ordering::SeqCst);
        });
        assert!(withdrawn.stop());
        assert!(!withdrawn.stop(), "stopped once");
        let start = Instant::now();
        while calls.load(Ordering::SeqCst) == 0 {
            assert!(start.elapsed() < Duration::from_secs(10), "never called");
            goro::time::sleep(Duration::from_millis(1));
        }
        assert!(!first.stop(), "it has started");
        // Registered on a context already done: called at once.
        let c = calls.clone();
        let late = ctx.after_func(move || {
            c.fetch_add(10, Ordering::SeqCst);
        });
        assert!(!late.stop());
        while calls.load(Ordering::SeqCst) < 11 {
            assert!(start.elapsed() < Duration::from_secs(10), "never called");
            goro::time::sleep(Duration::from_millis(1));
        }
        goro::time::sleep(Duration::from_millis(10));
        assert_eq!(calls.load(Ordering::SeqCst), 11);
        assert!(on_goroutine.load(Ordering::SeqCst));
        // A context that is never done never calls, and stop says it stopped it.
        let never = Context::background().after_func(|| unreachable!());
        assert!(never.stop());
        drop(cancel);
    });
}

#[test]
fn a_cancel_cause_reaches_every_descendant_and_the_error_stands_in_otherwise() {
    let _serial = serial();
    let (ctx, cancel) = Context::background().with_cancel_cause();
    let (child, _c) = ctx.with_cancel();
    assert!(ctx.cause().is_none(), "not done yet");
    cancel.cancel(std::io::Error::other("the upstream went away"));
    cancel.cancel("a second cause is ignored");
    for c in [&ctx, &child, &ctx.with_cancel().0] {
        assert_eq!(c.err(), Some(ContextError::Canceled));
        assert_eq!(c.cause().unwrap().to_string(), "the upstream went away");
    }
    // Without a cause, the cause is the error.
    let (plain, cancel) = Context::background().with_cancel();
    drop(cancel);
    assert_eq!(plain.cause().unwrap().to_string(), "context canceled");
    let (timed, _c) = Context::background().with_timeout(Duration::ZERO);
    assert_eq!(
        timed.cause().unwrap().to_string(),
        "context deadline exceeded"
    );
    let (dropped, cancel) = Context::background().with_cancel_cause();
    drop(cancel);
    assert_eq!(dropped.cause().unwrap().to_string(), "context canceled");
}
