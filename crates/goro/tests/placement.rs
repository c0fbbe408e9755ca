//! Where the scheduler starts goroutines (crates/goro/src/sched/placement.rs). The rules
//! themselves depend on time (how long a run lasted, how long a queue waited), so their
//! logic is tested as pure functions in that module, and their effect is measured by the
//! benchmarks (`goro bench pool_unbuf longlived8 sieve5000 ring503 ...`). The tests here
//! check what must hold however the machine is loaded: every goroutine runs, once, on one
//! thread, whichever worker the rules picked, and a goroutine queued behind one that never
//! lets its worker go is started by another worker, however it was queued.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::ThreadId;
use std::time::{Duration, Instant};

use goro::Runtime;

fn spin(d: Duration) {
    let t = Instant::now();
    while t.elapsed() < d {
        std::hint::spin_loop();
    }
}

#[test]
fn a_lone_goroutine_queued_behind_one_that_never_yields_still_runs() {
    // One spawn wakes no other worker (the spawner most likely waits for it next); if the
    // spawner keeps its worker instead, the monitor must wake an idle worker to take it.
    // Without that this waits for ever: the other worker sleeps with nothing to look at.
    for round in 0..5 {
        Runtime::builder()
            .workers(2)
            .hog_warnings(false)
            .exit_report(false)
            .run(move || {
                // Let the other worker fall asleep first.
                goro::time::sleep(Duration::from_millis(5 + round));
                let ran = Arc::new(AtomicBool::new(false));
                let r = ran.clone();
                let h = goro::go(move || r.store(true, Ordering::Release));
                while !ran.load(Ordering::Acquire) {
                    std::hint::spin_loop();
                }
                h.join().unwrap();
            })
            .unwrap();
    }
}

#[test]
fn every_job_of_a_pool_runs_once_wherever_its_goroutines_started() {
    // The unbuffered worker pool, where a busy worker hands its unstarted goroutines to an
    // idle one (placement rule 3): whichever worker each pool goroutine started on, each job
    // is done exactly once, each goroutine stays on the thread it started on, and all of
    // them run. On 1, 2 and 3 workers.
    for workers in 1..=3 {
        let (done, threads_per_goroutine) = Runtime::builder()
            .workers(workers)
            .hog_warnings(false)
            .exit_report(false)
            .run(|| {
                let (jobs_tx, jobs_rx) = goro::chan::<u32>(0);
                let (res_tx, res_rx) = goro::chan::<(u32, usize, ThreadId)>(64);
                for id in 0..8 {
                    let (jobs, res) = (jobs_rx.clone(), res_tx.clone());
                    goro::go(move || {
                        for j in &jobs {
                            spin(Duration::from_micros(150));
                            res.send((j, id, std::thread::current().id())).unwrap();
                        }
                    });
                }
                drop((jobs_rx, res_tx));
                goro::go(move || {
                    for j in 0..400 {
                        jobs_tx.send(j).unwrap();
                    }
                });
                let mut done = vec![0u32; 400];
                let mut threads: HashMap<usize, Vec<ThreadId>> = HashMap::new();
                for (j, id, t) in res_rx.iter() {
                    done[j as usize] += 1;
                    let seen = threads.entry(id).or_default();
                    if !seen.contains(&t) {
                        seen.push(t);
                    }
                }
                (done, threads)
            })
            .unwrap();
        assert!(
            done.iter().all(|&n| n == 1),
            "{workers} workers: jobs not done exactly once"
        );
        assert_eq!(threads_per_goroutine.len(), 8, "{workers} workers");
        assert!(
            threads_per_goroutine.values().all(|t| t.len() == 1),
            "{workers} workers: a pool goroutine changed thread"
        );
    }
}

#[test]
fn a_spawner_that_keeps_spawning_loses_nothing_to_thieves() {
    // A goroutine spawning 20,000 others without a pause, each computing a little: thieves
    // take from its queue (placement rule 2), its own worker gives some away between runs
    // (rule 3). Every goroutine runs exactly once.
    let counts = Runtime::builder()
        .workers(2)
        .hog_warnings(false)
        .exit_report(false)
        .run(|| {
            let counts = Arc::new(Mutex::new(vec![0u8; 20_000]));
            let left = Arc::new(AtomicUsize::new(20_000));
            let wg = goro::sync::WaitGroup::new();
            wg.add(20_000);
            for i in 0..20_000 {
                let (counts, left, wg) = (counts.clone(), left.clone(), wg.clone());
                goro::go(move || {
                    if i % 100 == 0 {
                        spin(Duration::from_micros(200));
                    }
                    counts.lock().unwrap()[i] += 1;
                    left.fetch_sub(1, Ordering::Relaxed);
                    wg.done();
                });
            }
            wg.wait();
            assert_eq!(left.load(Ordering::Relaxed), 0);
            let v = counts.lock().unwrap().clone();
            v
        })
        .unwrap();
    assert!(counts.iter().all(|&n| n == 1));
}
