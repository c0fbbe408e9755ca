//! # share-by-communicating: a bank of accounts three ways
//!
//! "Do not communicate by sharing memory; instead, share memory by communicating." The same
//! bank (a hundred accounts, clients making random transfers) three ways: the accounts owned
//! by one goroutine that takes requests over a channel and answers on a reply channel; the
//! accounts behind a `goro::sync::Mutex`; and one atomic per account. Each keeps the total
//! constant; each is measured with 1 and 2 workers.
//!
//! ```go
//! type transfer struct{ from, to, amount int; done chan bool }
//!
//! func bank(requests <-chan transfer) {
//!     balance := make([]int, 100) // only this goroutine touches it
//!     for r := range requests {
//!         ok := balance[r.from] >= r.amount
//!         if ok {
//!             balance[r.from] -= r.amount
//!             balance[r.to] += r.amount
//!         }
//!         r.done <- ok
//!     }
//! }
//! ```
//!
//! What to watch: the owner goroutine needs no lock and cannot race, because nothing else
//! can reach the balances, but every transfer is a round trip through two channels, so it is
//! the slowest; the mutex is a few times faster; atomics (a compare-and-swap loop per
//! withdrawal) are faster still but only because each transfer is two independent updates:
//! a rule that spans accounts (an audit seeing a consistent total mid-run) needs the owner
//! or the lock. Ownership is what makes the owner version safe in Rust: the balances are
//! moved into the goroutine, and the compiler rejects any other access.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::pattern::{leaked_goroutines, on_runtime, scaled, Report};

const ACCOUNTS: usize = 100;
const START: i64 = 1_000;

/// A transfer request for the owner goroutine.
struct Transfer {
    from: usize,
    to: usize,
    amount: i64,
    done: goro::Sender<bool>,
}

/// How the accounts are shared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Way {
    /// Owned by one goroutine, reached over a channel.
    Owner,
    /// Behind a `goro::sync::Mutex`.
    Mutex,
    /// One `AtomicI64` per account.
    Atomics,
}

impl Way {
    /// All three, in the order shown.
    pub const ALL: [Way; 3] = [Way::Owner, Way::Mutex, Way::Atomics];

    fn name(self) -> &'static str {
        match self {
            Way::Owner => "owner goroutine",
            Way::Mutex => "sync::Mutex",
            Way::Atomics => "atomics",
        }
    }
}

/// `clients` goroutines each make `each` random transfers (client `c` draws them from seed
/// `c`, so every way sees the same ones) through the function `client()` makes for it:
/// `Some(true)` if the transfer went through, `Some(false)` if the balance did not cover it,
/// `None` if the bank is gone. Returns how many went through.
fn run_clients<T>(clients: usize, each: usize, mut client: impl FnMut() -> T) -> u64
where
    T: FnMut(usize, usize, i64) -> Option<bool> + Send + 'static,
{
    let handles: Vec<_> = (0..clients)
        .map(|c| {
            let mut transfer = client();
            goro::go(move || {
                let mut rng = fastrand::Rng::with_seed(c as u64);
                let mut ok = 0u64;
                for _ in 0..each {
                    let (from, to, amount) = (
                        rng.usize(..ACCOUNTS),
                        rng.usize(..ACCOUNTS),
                        rng.i64(1..100),
                    );
                    match transfer(from, to, amount) {
                        Some(done) => ok += u64::from(done),
                        None => break,
                    }
                }
                ok
            })
        })
        .collect();
    handles.into_iter().map(|h| h.join().unwrap_or(0)).sum()
}

/// `clients` goroutines each make `each` random transfers; returns the final total (it must
/// be `ACCOUNTS * START`), the transfers that went through, and the time.
pub fn bank(way: Way, clients: usize, each: usize) -> (i64, u64, Duration) {
    let start = Instant::now();
    let (total, ok) = match way {
        Way::Owner => {
            let (req_tx, req_rx) = goro::chan::<Transfer>(64);
            let owner = goro::Builder::new()
                .name("bank".to_string())
                .spawn(move || {
                    // tour:begin: the lines `goro tour` shows
                    let mut balance = vec![START; ACCOUNTS]; // moved in: nobody else has it
                    for r in &req_rx {
                        let ok = balance[r.from] >= r.amount;
                        if ok {
                            balance[r.from] -= r.amount;
                            balance[r.to] += r.amount;
                        }
                        let _ = r.done.send(ok);
                    }
                    // tour:end
                    balance.iter().sum::<i64>()
                })
                .expect("spawn the bank");
            let ok = run_clients(clients, each, || {
                let req_tx = req_tx.clone();
                let (done, reply) = goro::chan(1);
                move |from, to, amount| {
                    let t = Transfer {
                        from,
                        to,
                        amount,
                        done: done.clone(),
                    };
                    req_tx.send(t).ok()?;
                    Some(reply.recv().unwrap_or(false))
                }
            });
            drop(req_tx);
            (owner.join().unwrap_or(0), ok)
        }
        Way::Mutex => {
            let accounts = Arc::new(goro::sync::Mutex::new(vec![START; ACCOUNTS]));
            let ok = run_clients(clients, each, || {
                let accounts = accounts.clone();
                move |from, to, amount| {
                    let mut b = accounts.lock();
                    let ok = b[from] >= amount;
                    if ok {
                        b[from] -= amount;
                        b[to] += amount;
                    }
                    Some(ok)
                }
            });
            let total = accounts.lock().iter().sum();
            (total, ok)
        }
        Way::Atomics => {
            let accounts: Arc<Vec<AtomicI64>> =
                Arc::new((0..ACCOUNTS).map(|_| AtomicI64::new(START)).collect());
            let ok = run_clients(clients, each, || {
                let accounts = accounts.clone();
                move |from, to, amount| {
                    // Withdraw only if the balance covers it, then deposit.
                    let took = accounts[from]
                        .fetch_update(Ordering::AcqRel, Ordering::Acquire, |b| {
                            (b >= amount).then_some(b - amount)
                        })
                        .is_ok();
                    if took {
                        accounts[to].fetch_add(amount, Ordering::AcqRel);
                    }
                    Some(took)
                }
            });
            (accounts.iter().map(|a| a.load(Ordering::Acquire)).sum(), ok)
        }
    };
    (total, ok, start.elapsed())
}

/// The total every way must keep.
pub const TOTAL: i64 = ACCOUNTS as i64 * START;

/// The pattern's run: each way with 1 and 2 workers, in runtimes of their own; then the
/// owner version once more on the calling runtime (what a trace of this run shows).
pub fn run(scale: f64) -> Result<Report, String> {
    let before = goro::debug::goroutines_count();
    let (clients, each) = (8, scaled(20_000, scale, 200));
    let mut report = Report {
        unit: "transfers/s",
        ..Report::default()
    };
    for way in Way::ALL {
        let mut line = format!("{}:", way.name());
        for workers in [1, 2] {
            let (total, ok, t) = on_runtime(workers, move || bank(way, clients, each))?;
            if total != TOTAL {
                return Err(format!("{}: total {total}, want {TOTAL}", way.name()));
            }
            let rate = (clients * each) as f64 / t.as_secs_f64();
            line.push_str(&format!(
                " {workers} worker(s) {rate:.0} transfers/s ({ok} went through),"
            ));
            report
                .bars
                .push((format!("{}, {workers} worker(s)", way.name()), rate));
        }
        line.pop();
        report.lines.push(line);
    }
    let (total, _, _) = bank(Way::Owner, 4, scaled(200, scale, 20));
    if total != TOTAL {
        return Err(format!("owner on this runtime: total {total}"));
    }
    let get = |l: &str| report.bars.iter().find(|b| b.0 == l).map_or(0.0, |b| b.1);
    report.figure = format!(
        "2 workers: owner {:.0}/s, mutex {:.0}/s, atomics {:.0}/s; every way kept the total at {TOTAL}",
        get("owner goroutine, 2 worker(s)"),
        get("sync::Mutex, 2 worker(s)"),
        get("atomics, 2 worker(s)")
    );
    report.leaked = leaked_goroutines(before);
    Ok(report)
}
