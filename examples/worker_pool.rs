//! # worker-pool: N goroutines take jobs from one channel and send results on another
//!
//! What it is for: bounding how much work runs at once while keeping every core busy. The
//! jobs channel is the queue; each worker loops receiving from it until it is closed; the
//! results channel carries the answers back. How many workers pay off depends on what a job
//! waits for: a CPU-bound job can only use as many workers as there are cores, a job that
//! waits (here a sleep, standing for a network call) uses as many as there are jobs in
//! flight.
//!
//! ```go
//! func worker(jobs <-chan int, results chan<- int) {
//!     for j := range jobs {
//!         results <- work(j)
//!     }
//! }
//!
//! func main() {
//!     jobs := make(chan int, 100)
//!     results := make(chan int, 100)
//!     for w := 0; w < 4; w++ {
//!         go worker(jobs, results)
//!     }
//!     go func() {
//!         for j := 0; j < 1000; j++ {
//!             jobs <- j
//!         }
//!         close(jobs)
//!     }()
//!     for j := 0; j < 1000; j++ {
//!         <-results
//!     }
//! }
//! ```
//!
//! What to watch: CPU-bound throughput stops growing at the number of cores (workers beyond
//! that only take turns); sleep-bound throughput doubles with each doubling of workers.

use std::time::{Duration, Instant};

use crate::pattern::{leaked_goroutines, scaled, Report};

/// What a job does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Job {
    /// Burns CPU for about `iters` rounds of a hash.
    Cpu { iters: u32 },
    /// Waits, as a call to another service would.
    Sleep(Duration),
}

/// The work of one job: a value that depends on every round, so nothing is optimised away.
pub fn work(job: Job, n: u64) -> u64 {
    match job {
        Job::Cpu { iters } => {
            let mut h = n ^ 0x9E37_79B9_7F4A_7C15;
            for _ in 0..iters {
                h ^= h >> 33;
                h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
                h ^= h >> 29;
            }
            h
        }
        Job::Sleep(d) => {
            goro::time::sleep(d);
            n
        }
    }
}

/// Runs `jobs` jobs through `workers` workers; returns the sum of the results (to check
/// that every job ran exactly once) and the time taken.
pub fn pool(jobs: u64, workers: usize, job: Job) -> (u64, Duration) {
    let start = Instant::now();
    let (jobs_tx, jobs_rx) = goro::chan_named::<u64>(100, "jobs");
    let (results_tx, results_rx) = goro::chan_named::<u64>(100, "results");
    for w in 0..workers {
        let (jobs_rx, results_tx) = (jobs_rx.clone(), results_tx.clone());
        goro::Builder::new()
            .name(format!("worker {w}"))
            .spawn(move || {
                // tour:begin: the lines `goro tour` shows
                for j in &jobs_rx {
                    if results_tx.send(work(job, j)).is_err() {
                        return;
                    }
                }
                // tour:end
            })
            .expect("spawn a worker");
    }
    // Only the workers hold the results' senders now: when they all return, it closes.
    drop(results_tx);
    drop(jobs_rx);
    goro::Builder::new()
        .name("feeder".to_string())
        .spawn(move || {
            for j in 0..jobs {
                if jobs_tx.send(j).is_err() {
                    return;
                }
            }
            // Dropping the last Sender closes `jobs`: the workers' loops end.
        })
        .expect("spawn the feeder");
    let sum = results_rx.iter().fold(0u64, u64::wrapping_add);
    (sum, start.elapsed())
}

/// The sum `pool` must return.
pub fn expected(jobs: u64, job: Job) -> u64 {
    (0..jobs).fold(0u64, |s, j| s.wrapping_add(work_pure(job, j)))
}

fn work_pure(job: Job, n: u64) -> u64 {
    match job {
        Job::Sleep(_) => n,
        cpu => work(cpu, n),
    }
}

/// The pattern's run: throughput for 1, 2, 4 and 8 workers on each kind of job.
pub fn run(scale: f64) -> Result<Report, String> {
    let before = goro::debug::goroutines_count();
    let cpu = Job::Cpu { iters: 40_000 };
    let sleep = Job::Sleep(Duration::from_millis(2));
    let cpu_jobs = scaled(400, scale, 16) as u64;
    let sleep_jobs = scaled(400, scale, 16) as u64;
    let mut report = Report {
        unit: "jobs/s",
        ..Report::default()
    };
    for (kind, job, jobs) in [
        ("CPU-bound", cpu, cpu_jobs),
        ("sleep-bound", sleep, sleep_jobs),
    ] {
        let want = expected(jobs, job);
        let _ = pool(jobs / 4, 2, job); // warm up: stacks, timers
        let mut line = format!("{kind} ({jobs} jobs):");
        for workers in [1, 2, 4, 8] {
            let (sum, t) = pool(jobs, workers, job);
            if sum != want {
                return Err(format!("{kind}, {workers} workers: sum {sum}, want {want}"));
            }
            let rate = jobs as f64 / t.as_secs_f64();
            line.push_str(&format!(" {workers} workers {rate:.0}/s,"));
            report
                .bars
                .push((format!("{kind}, {workers} workers"), rate));
        }
        line.pop();
        report.lines.push(line);
    }
    let rate = |label: &str| {
        report
            .bars
            .iter()
            .find(|b| b.0 == label)
            .map_or(0.0, |b| b.1)
    };
    report.figure = format!(
        "8 workers over 1: CPU-bound x{:.1} (bounded by its {} workers), sleep-bound x{:.1}",
        rate("CPU-bound, 8 workers") / rate("CPU-bound, 1 workers"),
        goro::workers().unwrap_or(1),
        rate("sleep-bound, 8 workers") / rate("sleep-bound, 1 workers"),
    );
    report.leaked = leaked_goroutines(before);
    Ok(report)
}
