//! # free-list: recycling buffers through a buffered channel (Go's "leaky buffer")
//!
//! What it is for: reusing expensive objects without a lock. A buffered channel of buffers is
//! the free list: a producer takes one with a non-blocking receive (or allocates when the list
//! is empty), fills it and sends it to a consumer; the consumer processes it and offers it
//! back with a non-blocking send (or drops it when the list is full). The list leaks a little
//! in both directions and never blocks anyone.
//!
//! ```go
//! var freeList = make(chan *Buffer, 100)
//!
//! func client() {
//!     for {
//!         var b *Buffer
//!         select {
//!         case b = <-freeList: // got one
//!         default:
//!             b = new(Buffer) // none free: allocate
//!         }
//!         load(b)
//!         serverChan <- b
//!     }
//! }
//!
//! func server() {
//!     for b := range serverChan {
//!         process(b)
//!         select {
//!         case freeList <- b: // back on the list
//!         default: // list full: let it go
//!         }
//!     }
//! }
//! ```
//!
//! What to watch: the allocation count (from a counting global allocator) falls from one per
//! message to a handful in all, and throughput rises because no 64 KiB buffer is zeroed,
//! faulted in and freed per message. The buffer *moves* through both channels: at any moment
//! exactly one goroutine can touch it, so the reuse cannot race.

use std::time::{Duration, Instant};

use crate::pattern::{leaked_goroutines, scaled, Report};

const BUF: usize = 64 * 1024;

/// One configuration's outcome.
#[derive(Debug, Clone, Copy)]
pub struct Outcome {
    /// Messages passed.
    pub messages: u64,
    /// Their checksum (the same with and without the free list).
    pub checksum: u64,
    /// Time taken.
    pub elapsed: Duration,
    /// Allocations made meanwhile, if the allocator counts them.
    pub allocs: Option<u64>,
}

/// `producers` goroutines each send `per_producer` filled buffers to `consumers` goroutines;
/// with `free_list` the buffers come back through a channel of capacity 16.
pub fn pass(producers: u64, consumers: u64, per_producer: u64, free_list: bool) -> Outcome {
    let start = Instant::now();
    let ((checksum, messages), allocs) = crate::alloc::count(|| {
        let (free_tx, free_rx) = goro::chan::<Vec<u8>>(16);
        let (work_tx, work_rx) = goro::chan::<Vec<u8>>(8);
        let (sum_tx, sum_rx) = goro::chan::<(u64, u64)>(consumers as usize);
        for p in 0..producers {
            let (free_rx, work_tx) = (free_rx.clone(), work_tx.clone());
            goro::go(move || {
                for i in 0..per_producer {
                    // tour:begin: the lines `goro tour` shows
                    let mut b = match free_rx.try_recv() {
                        Ok(b) if free_list => b,
                        _ => vec![0u8; BUF],
                    };
                    // tour:end
                    // load: fill it with something that depends on the message.
                    let seed = (p * per_producer + i) as u8;
                    b.iter_mut()
                        .step_by(64)
                        .enumerate()
                        .for_each(|(k, x)| *x = seed.wrapping_add(k as u8));
                    if work_tx.send(b).is_err() {
                        return;
                    }
                }
            });
        }
        drop((work_tx, free_rx));
        for _ in 0..consumers {
            let (work_rx, free_tx, sum_tx) = (work_rx.clone(), free_tx.clone(), sum_tx.clone());
            goro::go(move || {
                let (mut sum, mut n) = (0u64, 0u64);
                for b in &work_rx {
                    // process
                    sum = sum.wrapping_add(b.iter().step_by(64).map(|&x| u64::from(x)).sum());
                    n += 1;
                    if free_list {
                        let _ = free_tx.try_send(b); // full: the buffer is dropped
                    }
                }
                let _ = sum_tx.send((sum, n));
            });
        }
        drop((work_rx, free_tx, sum_tx));
        sum_rx.iter().fold((0u64, 0u64), |(s, n), (s2, n2)| {
            (s.wrapping_add(s2), n + n2)
        })
    });
    Outcome {
        messages,
        checksum,
        elapsed: start.elapsed(),
        allocs: allocs.map(|a| a.count),
    }
}

/// The pattern's run.
pub fn run(scale: f64) -> Result<Report, String> {
    let before = goro::debug::goroutines_count();
    let per = scaled(20_000, scale, 200) as u64;
    let without = pass(2, 2, per, false);
    let with = pass(2, 2, per, true);
    if with.checksum != without.checksum || with.messages != without.messages {
        return Err(format!("results differ: {with:?} against {without:?}"));
    }
    let rate = |o: &Outcome| o.messages as f64 / o.elapsed.as_secs_f64();
    let allocs = |o: &Outcome| {
        o.allocs
            .map_or("not counted".to_string(), |a| a.to_string())
    };
    let leaked = leaked_goroutines(before);
    Ok(Report {
        lines: vec![
            format!(
                "{} messages of 64 KiB from 2 producers to 2 consumers, checksum {}",
                with.messages, with.checksum
            ),
            format!(
                "without a free list: {} allocations, {:.0} messages/s",
                allocs(&without),
                rate(&without)
            ),
            format!(
                "with a free list of 16: {} allocations, {:.0} messages/s",
                allocs(&with),
                rate(&with)
            ),
        ],
        figure: format!(
            "allocations {} -> {}, throughput x{:.1} with the free list",
            allocs(&without),
            allocs(&with),
            rate(&with) / rate(&without)
        ),
        bars: vec![
            ("without a free list".to_string(), rate(&without)),
            ("with a free list".to_string(), rate(&with)),
        ],
        unit: "messages/s",
        leaked,
    })
}
