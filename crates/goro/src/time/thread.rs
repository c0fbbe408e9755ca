//! The timer thread: fires timers armed on plain OS threads.
//!
//! A worker keeps its own heap, but a thread outside any runtime (or a runtime's caller before
//! `run`) has none, so its timers go to one process-wide heap under a mutex, served by a thread
//! started the first time it is needed. The thread sleeps on a condition variable until the
//! earliest deadline; arming an earlier one wakes it. Firing happens with the heap unlocked
//! (firing takes a timer's lock, and a thread arming a timer holds that lock while it takes the
//! heap's).

use std::sync::{Condvar, Mutex, MutexGuard, OnceLock};
use std::time::Instant;

use crate::sched::timers::{Fire, Timers};

struct TimerThread {
    heap: Mutex<Timers>,
    wake: Condvar,
}

static GLOBAL: OnceLock<TimerThread> = OnceLock::new();

/// True if the timer thread holds any timer (live work for the deadlock detector).
pub(crate) fn pending() -> bool {
    GLOBAL.get().is_some_and(|t| !lock(t).is_empty())
}

fn global() -> &'static TimerThread {
    GLOBAL.get_or_init(|| {
        std::thread::Builder::new()
            .name("goro-timers".into())
            .spawn(serve)
            .expect("goro: cannot start the timer thread");
        TimerThread {
            heap: Mutex::new(Timers::default()),
            wake: Condvar::new(),
        }
    })
}

fn lock(t: &TimerThread) -> MutexGuard<'_, Timers> {
    t.heap.lock().unwrap_or_else(|e| e.into_inner())
}

/// Arms `fire` at `when` on the timer thread.
pub(crate) fn arm(when: Instant, fire: Fire) {
    let t = global();
    let mut heap = lock(t);
    let earlier = heap.next().is_none_or(|next| when < next);
    heap.push(when, fire);
    drop(heap);
    if earlier {
        t.wake.notify_one();
    }
}

fn serve() {
    let t = global();
    let mut heap = lock(t);
    loop {
        let now = Instant::now();
        if let Some((when, fire)) = heap.pop_due(now) {
            drop(heap);
            let again = fire.fire(when, now);
            heap = lock(t);
            if let Some((next, fire)) = again {
                heap.push(next, fire);
            }
            continue;
        }
        heap = match heap.next() {
            Some(next) => {
                t.wake
                    .wait_timeout(heap, next.saturating_duration_since(now))
                    .unwrap_or_else(|e| e.into_inner())
                    .0
            }
            None => t.wake.wait(heap).unwrap_or_else(|e| e.into_inner()),
        };
    }
}
