//! `goro tour`: each stop runs a small program on goro, says in a sentence what it shows, and
//! prints what it measured; then every pattern of `goro_examples::PATTERNS`, with the lines of
//! code that matter.

use std::time::Instant;

use crate::bench::{parked, scaled, skynet};

mod channels;
mod net;
mod sync;

struct Stop {
    title: &'static str,
    what: &'static str,
    run: fn(f64) -> String,
}

const STOPS: &[Stop] = &[
    Stop {
        title: "spawn and join",
        what: "`go` starts a goroutine and returns a handle; `join` parks the caller until the \
               goroutine returns its value, or its panic, which never takes the program down.",
        run: spawn_and_join,
    },
    Stop {
        title: "a million goroutines",
        what: "Each goroutine has its own stack, carved from one pool with guard pages, so a \
               million of them parked at once cost a few KiB each and fit under Linux's limit \
               on memory mappings.",
        run: |scale| {
            let m = parked(scaled(1_000_000, scale));
            format!(
                "started {} parked goroutines in {:.0} ms ({:.0} ns each), {} resident bytes each",
                thousands(m.ops),
                m.elapsed.as_secs_f64() * 1e3,
                m.elapsed.as_nanos() as f64 / m.ops as f64,
                m.bytes_per_op.unwrap_or(0)
            )
        },
    },
    Stop {
        title: "skynet",
        what: "A 10-ary tree of 1,111,111 goroutines: each leaf sends its number on its parent's \
               unbuffered channel, each inner node sends its children's sum: spawning is cheap \
               enough to use one goroutine per tiny task.",
        run: |scale| {
            let m = skynet(scaled(1_000_000, scale));
            format!(
                "sum {} over {} goroutines in {:.0} ms ({:.0} ns per goroutine)",
                thousands(m.result),
                thousands(m.ops),
                m.elapsed.as_secs_f64() * 1e3,
                m.elapsed.as_nanos() as f64 / m.ops as f64
            )
        },
    },
    Stop {
        title: "unbuffered and buffered channels",
        what: "An unbuffered channel is a rendezvous: each send waits for its receiver, so every \
               value is a hand-off between two goroutines. A buffered one is a queue: the \
               producer runs ahead by up to its capacity, and switches happen once per batch.",
        run: channels::unbuffered_vs_buffered,
    },
    Stop {
        title: "select with default",
        what: "A select with a default never blocks: a producer offers each update and drops it \
               when the slow consumer's buffer is full, instead of slowing down to its pace.",
        run: channels::select_default,
    },
    Stop {
        title: "a call with a timeout",
        what: "The caller's deadline travels in a context; the service selects on its work and \
               on ctx.done(), so a call that takes too long fails with \"context deadline \
               exceeded\" and the service stops working on it at the same moment.",
        run: sync::call_with_timeout,
    },
    Stop {
        title: "a worker pool bounded by a semaphore",
        what: "One goroutine per job, but a weighted semaphore lets only four work at once: the \
               spawner parks while all slots are busy, so memory and load stay bounded however \
               many jobs arrive.",
        run: sync::bounded_pool,
    },
    Stop {
        title: "cancelling a tree of goroutines",
        what: "Contexts form a tree: cancelling the root cancels every descendant, each \
               goroutine sees its done channel close in its select, and the deadline timers of \
               the tree are disarmed.",
        run: sync::cancel_tree,
    },
    Stop {
        title: "a deadlock, reported",
        what: "When every goroutine waits and nothing pending (a timer, a socket, a blocking \
               call) could wake one, goro says so as Go does, naming each goroutine's wait \
               reason and where it was spawned, instead of hanging.",
        run: sync::deadlock_report,
    },
    Stop {
        title: "a partial deadlock, found",
        what: "The same two goroutines wait for each other while main goes on working, so \
               nothing stops. goro::debug::leaks() finds them anyway: every goroutine scans \
               its own stack for the handles of the channels the blocked ones wait on, and \
               those that only each other could wake are named (Go's goroutineleak profile).",
        run: sync::leak_check,
    },
    Stop {
        title: "a pipeline, traced",
        what: "GORO_TRACE=file (or RuntimeBuilder::trace) records what each worker ran and who \
               woke whom; the file opens in a browser as a timeline with a track per worker \
               and an arrow for every hand-off between the stages.",
        run: sync::traced_pipeline,
    },
    Stop {
        title: "one goroutine per connection",
        what: "An HTTP server written the simple way: a goroutine per connection doing plain \
               blocking reads and writes, which park the goroutine while the netpoller waits \
               on epoll. A thousand clients hammer it while one request sleeps in its own \
               goroutine, slowing nobody else.",
        run: net::one_goroutine_per_connection,
    },
];

/// `1234567` as `1,234,567`.
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() * 4 / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn spawn_and_join(_scale: f64) -> String {
    let t = Instant::now();
    let squares: Vec<_> = (1..=10u64).map(|i| goro::go(move || i * i)).collect();
    let sum: u64 = squares.into_iter().map(|h| h.join().unwrap_or(0)).sum();
    // The panic is on purpose: keep the default hook from printing it as if it were a bug.
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let boom = goro::Builder::new()
        .name("doomed")
        .spawn(|| -> u64 { std::panic::panic_any("on purpose") });
    let caught = match boom.map(goro::JoinHandle::join) {
        Ok(Err(e)) => e.to_string(),
        _ => "no panic?".into(),
    };
    std::panic::set_hook(hook);
    format!(
        "10 goroutines returned squares summing to {sum}; a panicking one reported \"{caught}\"; {:.0} us in all",
        t.elapsed().as_secs_f64() * 1e6
    )
}

/// Runs every stop; `scale` shrinks the workloads (1.0 is full size).
pub fn run(workers: Option<usize>, scale: f64) -> Result<(), String> {
    if !(scale > 0.0 && scale <= 1.0) {
        return Err("--scale must be in (0, 1]".into());
    }
    // The stops that start a million goroutines do it in one loop on purpose: no warnings.
    let mut b = goro::Runtime::builder()
        .exit_report(false)
        .hog_warnings(false);
    if let Some(n) = workers {
        b = b.workers(n);
    }
    let total = STOPS.len() + goro_examples::PATTERNS.len();
    b.run(move || {
        for (i, s) in STOPS.iter().enumerate() {
            println!("[{}/{}] {}", i + 1, total, s.title);
            println!("    {}", s.what);
            println!("    -> {}\n", (s.run)(scale));
        }
        // The patterns, at a fifth of their `goro run` size.
        for (i, p) in goro_examples::PATTERNS.iter().enumerate() {
            println!("[{}/{}] {}", STOPS.len() + i + 1, total, p.title);
            println!("    {}", p.what);
            for line in p.code().lines() {
                println!("    | {line}");
            }
            match (p.run)(scale * 0.2) {
                Ok(r) => {
                    for line in &r.lines {
                        println!("    {line}");
                    }
                    println!("    -> {}", r.figure);
                    if r.leaked > 0 {
                        println!("    !! {} goroutines were left running", r.leaked);
                    }
                    println!(
                        "    (goro run {} runs it full size; --trace draws it; see it move: {})\n",
                        p.name,
                        animation(p.name)
                    );
                }
                Err(e) => println!("    -> failed: {e}\n"),
            }
        }
    })
    .map_err(|e| e.to_string())
}

/// Where a pattern's animation is: the one docs/PATTERNS.md shows, if the pattern has one,
/// else the command that makes it.
fn animation(name: &str) -> String {
    let file = format!("docs/patterns/{name}.anim.svg");
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    if root.join(&file).exists() {
        file
    } else {
        format!("goro run {name} --scale 0.01 --animate {name}.svg")
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn thousands_groups_digits() {
        assert_eq!(super::thousands(0), "0");
        assert_eq!(super::thousands(999), "999");
        assert_eq!(super::thousands(1000), "1,000");
        assert_eq!(super::thousands(499_999_500_000), "499,999,500,000");
    }
}
