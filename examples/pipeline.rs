//! # pipeline: decompress and parse a file as it downloads
//!
//! What it is for: overlapping the steps of a job that arrives in pieces. A local HTTP
//! service streams a gzip-compressed file of JSON records (generated once from a seed and
//! kept in the temporary directory) at a limited rate, as a network would. Five goroutines
//! connected by bounded channels: **download** passes the body on in chunks as they arrive,
//! **decompress** inflates each chunk (`flate2`), **split** cuts lines, **parse** decodes
//! each line (`serde_json`), and the caller **aggregates**. Each channel holds a few items,
//! so a slow stage holds back the ones before it (backpressure) instead of letting memory
//! grow. Against it: the same three steps one after another.
//!
//! ```go
//! func decompress(ctx context.Context, in <-chan []byte, out chan<- []byte) {
//!     defer close(out)
//!     pr, pw := io.Pipe()
//!     go func() { for b := range in { pw.Write(b) }; pw.Close() }()
//!     zr, _ := gzip.NewReader(pr)
//!     for {
//!         buf := make([]byte, 64<<10)
//!         n, err := zr.Read(buf)
//!         select {
//!         case out <- buf[:n]:
//!         case <-ctx.Done():
//!             return
//!         }
//!         if err != nil { return }
//!     }
//! }
//! ```
//!
//! What to watch: the first record is parsed a few milliseconds after the download starts,
//! instead of after the whole file has arrived and been inflated; the total is close to the
//! download alone, because the other stages work while it waits. Cancelling the context
//! stops every stage within a chunk, and no goroutine is left behind.

use std::io::Write;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use goro::context::Context;
use serde::{Deserialize, Serialize};

use crate::pattern::{leaked_goroutines, ms, scaled, Report};
use crate::webio;

/// One record of the file.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Record {
    /// Its number.
    pub id: u64,
    /// Who.
    pub user: String,
    /// What kind.
    pub category: String,
    /// How much, in cents.
    pub cents: u64,
}

const CATEGORIES: [&str; 5] = ["books", "music", "garden", "tools", "games"];

/// What the aggregate stage computes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Totals {
    /// Records seen.
    pub records: u64,
    /// Cents per category, in `CATEGORIES` order.
    pub cents: [u64; 5],
}

impl Totals {
    fn add(&mut self, r: &Record) {
        self.records += 1;
        if let Some(i) = CATEGORIES.iter().position(|c| *c == r.category) {
            self.cents[i] += r.cents;
        }
    }
}

/// The gzip file of `n` records drawn from `seed`, made on first use and kept in the
/// temporary directory.
pub fn data_file(n: usize, seed: u64) -> std::io::Result<PathBuf> {
    let dir = std::env::temp_dir().join("goro-lab");
    std::fs::create_dir_all(&dir)?;
    let path = dir.join(format!("records-{n}-{seed}.json.gz"));
    if path.exists() {
        return Ok(path);
    }
    let tmp = dir.join(format!("records-{n}-{seed}.{}.tmp", std::process::id()));
    let mut rng = fastrand::Rng::with_seed(seed);
    let f = std::io::BufWriter::new(std::fs::File::create(&tmp)?);
    let mut gz = flate2::write::GzEncoder::new(f, flate2::Compression::fast());
    for id in 0..n as u64 {
        let r = Record {
            id,
            user: format!("user{}", rng.u32(..100_000)),
            category: CATEGORIES[rng.usize(..CATEGORIES.len())].to_string(),
            cents: rng.u64(1..100_000),
        };
        serde_json::to_writer(&mut gz, &r)?;
        gz.write_all(b"\n")?;
    }
    gz.finish()?.flush()?;
    std::fs::rename(&tmp, &path)?;
    Ok(path)
}

/// Serves `bytes` at `rate` bytes per second in 64 KiB chunks, until `ctx` ends.
pub fn serve_file(
    bytes: Vec<u8>,
    rate: f64,
    ctx: &Context,
) -> std::io::Result<std::net::SocketAddr> {
    let bytes = std::sync::Arc::new(bytes);
    webio::serve("file server", ctx.clone(), move |_, c| {
        if webio::write_head(c, "200 OK", Some(bytes.len())).is_err() {
            return;
        }
        let start = Instant::now();
        let mut sent = 0usize;
        for chunk in bytes.chunks(64 * 1024) {
            if std::io::Write::write_all(&mut &*c, chunk).is_err() {
                return; // the client went away
            }
            sent += chunk.len();
            let due = start + Duration::from_secs_f64(sent as f64 / rate);
            let now = Instant::now();
            if due > now {
                goro::time::sleep(due - now);
            }
        }
    })
}

/// Sends `v` on `out` unless `ctx` ends first; false if the stage should stop.
// tour:begin: the lines `goro tour` shows
fn forward<T: Send>(out: &goro::Sender<T>, v: T, ctx: &Context) -> bool {
    goro::select! {
        send(out, v) -> r => r.is_ok(),
        recv(ctx.done()) -> _ => false,
    }
}
// tour:end

/// What a run measured.
#[derive(Debug, Clone, Default)]
pub struct Timing {
    /// From the start to the first parsed record.
    pub first: Duration,
    /// From the start to the end.
    pub total: Duration,
    /// What was aggregated.
    pub totals: Totals,
}

/// The pipeline: five goroutines and bounded channels. Stops after `limit` records (the
/// context is then cancelled, which stops every stage).
pub fn pipelined(addr: std::net::SocketAddr, limit: Option<u64>) -> Timing {
    let start = Instant::now();
    let (ctx, cancel) = Context::background().with_cancel();
    let (raw_tx, raw_rx) = goro::chan_named::<Vec<u8>>(4, "compressed");
    let (text_tx, text_rx) = goro::chan_named::<Vec<u8>>(4, "text");
    let (lines_tx, lines_rx) = goro::chan_named::<Vec<String>>(4, "lines");
    let (recs_tx, recs_rx) = goro::chan_named::<Vec<Record>>(4, "records");

    let c = ctx.clone();
    stage("download", move || {
        let _ = webio::get(addr, "/records.json.gz", &c, |b| {
            forward(&raw_tx, b.to_vec(), &c)
        });
    });
    let c = ctx.clone();
    stage("decompress", move || decompress(&raw_rx, &text_tx, &c));
    let c = ctx.clone();
    stage("split", move || split_lines(&text_rx, &lines_tx, &c));
    let c = ctx.clone();
    stage("parse", move || parse(&lines_rx, &recs_tx, &c));

    let mut t = Timing::default();
    'outer: for recs in &recs_rx {
        for r in &recs {
            if t.totals.records == 0 {
                t.first = start.elapsed();
            }
            t.totals.add(r);
            if limit.is_some_and(|l| t.totals.records >= l) {
                break 'outer;
            }
        }
    }
    cancel.cancel();
    t.total = start.elapsed();
    t
}

/// Starts a stage of the pipeline on a goroutine named after it.
fn stage(name: &str, f: impl FnOnce() + Send + 'static) {
    goro::Builder::new()
        .name(name.to_string())
        .spawn(f)
        .expect("spawn a pipeline stage");
}

/// Inflates the gzip stream arriving in chunks, passing on what each chunk yields.
fn decompress(raw: &goro::Receiver<Vec<u8>>, text: &goro::Sender<Vec<u8>>, ctx: &Context) {
    let mut gz = flate2::write::GzDecoder::new(Vec::with_capacity(256 * 1024));
    for chunk in raw {
        if gz.write_all(&chunk).is_err() {
            return;
        }
        let out = std::mem::take(gz.get_mut());
        if !out.is_empty() && !forward(text, out, ctx) {
            return;
        }
    }
    if let Ok(rest) = gz.finish() {
        if !rest.is_empty() {
            forward(text, rest, ctx);
        }
    }
}

/// Cuts the text into whole lines, keeping a partial last line for the next chunk.
fn split_lines(text: &goro::Receiver<Vec<u8>>, lines: &goro::Sender<Vec<String>>, ctx: &Context) {
    let mut partial = Vec::new();
    for t in text {
        partial.extend_from_slice(&t);
        let Some(end) = partial.iter().rposition(|&b| b == b'\n') else {
            continue;
        };
        let batch: Vec<String> = String::from_utf8_lossy(&partial[..end])
            .lines()
            .map(str::to_owned)
            .collect();
        partial.drain(..=end);
        if !forward(lines, batch, ctx) {
            return;
        }
    }
}

/// Parses each line as a JSON record (lines that are not one are skipped).
fn parse(lines: &goro::Receiver<Vec<String>>, recs: &goro::Sender<Vec<Record>>, ctx: &Context) {
    for batch in lines {
        let parsed: Vec<Record> = batch
            .iter()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect();
        if !forward(recs, parsed, ctx) {
            return;
        }
    }
}

/// The same three steps one after another: download all, inflate all, parse all.
pub fn sequential(addr: std::net::SocketAddr) -> Timing {
    let start = Instant::now();
    let ctx = Context::background();
    let mut body = Vec::new();
    let _ = webio::get(addr, "/records.json.gz", &ctx, |b| {
        body.extend_from_slice(b);
        true
    });
    // Inflating and parsing it all is long CPU work: a blocking-pool thread does it, so that
    // this goroutine's worker stays free for others. Still one step after the other.
    let mut t = goro::blocking(|| {
        let mut text = Vec::new();
        let _ = std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&body[..]), &mut text);
        let mut t = Timing::default();
        for line in String::from_utf8_lossy(&text).lines() {
            if let Ok(r) = serde_json::from_str::<Record>(line) {
                if t.totals.records == 0 {
                    t.first = start.elapsed();
                }
                t.totals.add(&r);
            }
        }
        t
    });
    t.total = start.elapsed();
    t
}

/// The pattern's run.
pub fn run(scale: f64) -> Result<Report, String> {
    let before = goro::debug::goroutines_count();
    let n = scaled(400_000, scale, 2_000);
    let path = goro::blocking(|| data_file(n, 42)).map_err(|e| format!("making the data: {e}"))?;
    let bytes = goro::io::read_file(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    // A download that takes about 0.4 s at full size.
    let rate = (bytes.len() as f64 / 0.4).max(1e6);
    let (ctx, stop) = Context::background().with_cancel();
    let addr = serve_file(bytes.clone(), rate, &ctx).map_err(|e| format!("cannot serve: {e}"))?;
    let seq = sequential(addr);
    let pipe = pipelined(addr, None);
    if seq.totals != pipe.totals || seq.totals.records != n as u64 {
        return Err(format!(
            "totals differ: sequential {:?}, pipelined {:?}",
            seq.totals, pipe.totals
        ));
    }
    let stopped = pipelined(addr, Some(1000.min(n as u64 / 2)));
    stop.cancel();
    let leaked = leaked_goroutines(before);
    Ok(Report {
        lines: vec![
            format!(
                "{n} records ({:.1} MB compressed, served at {:.0} MB/s), total {} cents",
                bytes.len() as f64 / 1e6,
                rate / 1e6,
                pipe.totals.cents.iter().sum::<u64>()
            ),
            format!(
                "one step after another: first record after {:.1} ms, done after {:.1} ms",
                ms(seq.first),
                ms(seq.total)
            ),
            format!(
                "pipelined: first record after {:.1} ms, done after {:.1} ms",
                ms(pipe.first),
                ms(pipe.total)
            ),
            format!(
                "stopped after {} records by cancelling the context: every stage returned",
                stopped.totals.records
            ),
        ],
        figure: format!(
            "first record {:.1} ms pipelined against {:.1} ms in sequence; total {:.0} ms against {:.0} ms",
            ms(pipe.first),
            ms(seq.first),
            ms(pipe.total),
            ms(seq.total)
        ),
        bars: vec![
            ("sequential: first record".to_string(), ms(seq.first)),
            ("pipelined: first record".to_string(), ms(pipe.first)),
            ("sequential: total".to_string(), ms(seq.total)),
            ("pipelined: total".to_string(), ms(pipe.total)),
        ],
        unit: "ms",
        leaked,
    })
}
