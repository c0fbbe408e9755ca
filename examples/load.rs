//! A load generator: many concurrent connections, each a goroutine sending one request after
//! another (keep-alive), or one request per connection (`close`), with the latency of each
//! recorded.
//!
//! What it counts, so that its figures can be set beside wrk's:
//! - A request's latency runs from just before its request is written until its response
//!   has been read whole; for a request that needed a new connection, from just before the
//!   connect (the connect is part of what the client waited for). Connect times are also
//!   reported on their own.
//! - A connection that fails (connect, write, read, a timeout, a response it cannot parse)
//!   counts one error and is replaced by a new one, until the run's time is up.
//! - The run ends at its time: a request still in flight then is dropped uncounted (as wrk
//!   does), so a server that stops answering cannot stretch the run.
//! - Responses with a status other than 200 are counted, and are requests like the others.
//!
//! Each goroutine records into a histogram of its own (1 us buckets below 1 ms, then 1%
//! wide), so recording costs no allocation and the report is a merge of fixed-size tables.

use std::io::{self, Read, Write};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use goro::net::TcpStream;

/// How to load a server.
#[derive(Debug, Clone)]
pub struct Load {
    /// Concurrent connections (one goroutine each).
    pub conns: usize,
    /// How long to send requests.
    pub duration: Duration,
    /// One request per connection (`Connection: close`) instead of keep-alive.
    pub close: bool,
    /// How long a connect, a write or a read may take before the connection counts as failed.
    pub timeout: Duration,
}

impl Load {
    /// `conns` keep-alive connections for `duration`, with a 10 s timeout.
    pub fn new(conns: usize, duration: Duration) -> Load {
        Load {
            conns,
            duration,
            close: false,
            timeout: Duration::from_secs(10),
        }
    }
}

/// What a load run measured.
#[derive(Debug, Clone)]
pub struct Report {
    /// Responses read whole, whatever their status.
    pub requests: u64,
    /// Of those, responses whose status was not 200.
    pub not_ok: u64,
    /// Connections that failed (connect, write, read, timeout, unreadable response); each
    /// was replaced by a new one.
    pub errors: u64,
    /// Connections opened.
    pub connects: u64,
    /// How long the run took.
    pub elapsed: Duration,
    /// Median latency.
    pub p50: Duration,
    /// 99th percentile latency.
    pub p99: Duration,
    /// The slowest request.
    pub max: Duration,
    /// 99th percentile connect time.
    pub connect_p99: Duration,
    /// The slowest connect.
    pub max_connect: Duration,
}

impl Report {
    /// Requests per second.
    pub fn rps(&self) -> f64 {
        self.requests as f64 / self.elapsed.as_secs_f64()
    }
}

/// Latencies in buckets: one per microsecond below 1 ms, then each 1/64 of a power of two
/// wider (at most 1.6% off), up to about 70 s.
#[derive(Clone)]
struct Histogram {
    counts: Vec<u64>,
    max: Duration,
}

const LINEAR_US: u64 = 1024;
const SUB: u64 = 64;

impl Histogram {
    fn new() -> Histogram {
        Histogram {
            counts: vec![0; (LINEAR_US + 17 * SUB) as usize],
            max: Duration::ZERO,
        }
    }

    fn bucket(us: u64) -> usize {
        if us < LINEAR_US {
            return us as usize;
        }
        // Power-of-two range (0 for 1024..2048 us), then its 64 sub-buckets.
        let range = (63 - us.leading_zeros() as u64) - 10;
        let sub = (us >> (range + 4)) & (SUB - 1);
        ((LINEAR_US + range.min(16) * SUB) + sub) as usize
    }

    /// The lowest latency of bucket `i`.
    fn value(i: usize) -> Duration {
        let i = i as u64;
        if i < LINEAR_US {
            return Duration::from_micros(i);
        }
        let (range, sub) = ((i - LINEAR_US) / SUB, (i - LINEAR_US) % SUB);
        Duration::from_micros((LINEAR_US << range) + (sub << (range + 4)))
    }

    fn record(&mut self, d: Duration) {
        let us = u64::try_from(d.as_micros()).unwrap_or(u64::MAX);
        let i = Self::bucket(us).min(self.counts.len() - 1);
        self.counts[i] += 1;
        self.max = self.max.max(d);
    }

    fn merge(&mut self, other: &Histogram) {
        for (a, b) in self.counts.iter_mut().zip(&other.counts) {
            *a += b;
        }
        self.max = self.max.max(other.max);
    }

    fn count(&self) -> u64 {
        self.counts.iter().sum()
    }

    /// The latency below which a fraction `p` of the recorded ones lie.
    fn percentile(&self, p: f64) -> Duration {
        let n = self.count();
        if n == 0 {
            return Duration::ZERO;
        }
        let rank = ((n as f64 * p).ceil() as u64).clamp(1, n);
        let mut seen = 0;
        for (i, c) in self.counts.iter().enumerate() {
            seen += c;
            if seen >= rank {
                return Self::value(i).min(self.max);
            }
        }
        self.max
    }
}

/// What one connection goroutine measured.
struct Tally {
    latency: Histogram,
    connect: Histogram,
    not_ok: u64,
    errors: u64,
}

/// Reads one response into `buf` (which may hold the start of it, and keeps what follows
/// it); its status, or an error if the stream ended or the head is not HTTP.
fn read_response(c: &mut TcpStream, buf: &mut Vec<u8>) -> io::Result<u16> {
    let bad = || io::Error::new(io::ErrorKind::InvalidData, "not an HTTP response");
    let mut searched = 0;
    let end = loop {
        if let Some(i) = buf[searched..].windows(4).position(|w| w == b"\r\n\r\n") {
            break searched + i + 4;
        }
        searched = buf.len().saturating_sub(3);
        if buf.len() > 64 * 1024 {
            return Err(bad());
        }
        fill(c, buf)?;
    };
    let head = &buf[..end];
    let status = head
        .get(9..12)
        .and_then(|s| std::str::from_utf8(s).ok())
        .and_then(|s| s.parse::<u16>().ok())
        .filter(|_| head.starts_with(b"HTTP/1."))
        .ok_or_else(bad)?;
    let len = content_length(head).ok_or_else(bad)?;
    while buf.len() < end + len {
        fill(c, buf)?;
    }
    buf.drain(..end + len);
    Ok(status)
}

/// Appends what one read brings; an error at the end of the stream.
fn fill(c: &mut TcpStream, buf: &mut Vec<u8>) -> io::Result<()> {
    let at = buf.len();
    buf.resize(at + 16 * 1024, 0);
    let n = c.read(&mut buf[at..]);
    buf.truncate(at + *n.as_ref().unwrap_or(&0));
    match n? {
        0 => Err(io::ErrorKind::UnexpectedEof.into()),
        _ => Ok(()),
    }
}

/// The `Content-Length` of a head (0 if it has none); `None` if it is not a number.
fn content_length(head: &[u8]) -> Option<usize> {
    const NAME: &[u8] = b"content-length:";
    for line in head.split(|&b| b == b'\n') {
        if line.len() > NAME.len() && line[..NAME.len()].eq_ignore_ascii_case(NAME) {
            let v = std::str::from_utf8(&line[NAME.len()..]).ok()?;
            return v.trim().parse().ok();
        }
    }
    Some(0)
}

/// Opens a connection within `timeout`.
fn connect(addr: SocketAddr, timeout: Duration) -> io::Result<TcpStream> {
    let c = TcpStream::connect_timeout(&addr, timeout)?;
    let _ = c.set_nodelay(true);
    Ok(c)
}

/// One connection's goroutine: requests until `end`, replacing the connection after each
/// failure (and, with `close`, after each response). Every wait is bounded by the timeout
/// and by `end`: a request still in flight when the time is up is dropped uncounted, as wrk
/// does, so a server that stops answering cannot stretch the run.
fn client(addr: SocketAddr, req: &[u8], load: &Load, end: Instant) -> Tally {
    let mut t = Tally {
        latency: Histogram::new(),
        connect: Histogram::new(),
        not_ok: 0,
        errors: 0,
    };
    let mut conn: Option<TcpStream> = None;
    let mut buf = Vec::with_capacity(16 * 1024);
    loop {
        let start = Instant::now();
        if start >= end {
            break;
        }
        let deadline = (start + load.timeout).min(end);
        let mut c = match conn.take() {
            Some(c) => c,
            None => match connect(addr, deadline - start) {
                Ok(c) => {
                    t.connect.record(start.elapsed());
                    buf.clear();
                    c
                }
                Err(_) if Instant::now() >= end => break,
                Err(_) => {
                    t.errors += 1;
                    // Refused or out of ports: pause a little rather than spin.
                    goro::time::sleep(Duration::from_millis(10).min(end - Instant::now()));
                    continue;
                }
            },
        };
        c.set_write_deadline(Some(deadline));
        c.set_read_deadline(Some(deadline));
        let status = c
            .write_all(req)
            .and_then(|_| read_response(&mut c, &mut buf));
        match status {
            Ok(s) => {
                t.latency.record(start.elapsed());
                if s != 200 {
                    t.not_ok += 1;
                }
                if !load.close {
                    conn = Some(c);
                }
            }
            Err(_) if Instant::now() >= end => break,
            Err(_) => t.errors += 1,
        }
    }
    t
}

/// `conns` keep-alive connections to `addr`, each sending `GET path` for `duration`.
pub fn run(addr: SocketAddr, path: &str, conns: usize, duration: Duration) -> Report {
    run_with(addr, path, &Load::new(conns, duration))
}

/// Loads `addr` with `GET path` as `load` says.
pub fn run_with(addr: SocketAddr, path: &str, load: &Load) -> Report {
    let conn = if load.close { "close" } else { "keep-alive" };
    let req = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: {conn}\r\n\r\n");
    let req: std::sync::Arc<[u8]> = req.into_bytes().into();
    let start = Instant::now();
    let end = start + load.duration;
    let hs: Vec<_> = (0..load.conns)
        .map(|_| {
            let (req, load) = (req.clone(), load.clone());
            goro::go(move || client(addr, &req, &load, end))
        })
        .collect();
    let (mut latency, mut connect) = (Histogram::new(), Histogram::new());
    let (mut not_ok, mut errors) = (0, 0);
    for h in hs {
        if let Ok(t) = h.join() {
            latency.merge(&t.latency);
            connect.merge(&t.connect);
            not_ok += t.not_ok;
            errors += t.errors;
        }
    }
    Report {
        requests: latency.count(),
        not_ok,
        errors,
        connects: connect.count(),
        elapsed: start.elapsed(),
        p50: latency.percentile(0.50),
        p99: latency.percentile(0.99),
        max: latency.max,
        connect_p99: connect.percentile(0.99),
        max_connect: connect.max,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_ordered_and_close_to_their_values() {
        let mut last = 0;
        for us in (0..5_000_000u64).step_by(7) {
            let b = Histogram::bucket(us);
            assert!(b >= last, "bucket of {us} us went back");
            last = b;
            let v = Histogram::value(b).as_micros() as u64;
            assert!(v <= us, "{us} us in a bucket starting at {v}");
            assert!(us - v <= us / 60, "{us} us in a bucket starting at {v}");
        }
    }

    #[test]
    fn percentiles_of_a_known_spread() {
        let mut h = Histogram::new();
        for us in 1..=1000u64 {
            h.record(Duration::from_micros(us * 10)); // 10 us .. 10 ms
        }
        assert_eq!(h.count(), 1000);
        let p50 = h.percentile(0.5).as_micros() as f64;
        let p99 = h.percentile(0.99).as_micros() as f64;
        assert!((p50 - 5000.0).abs() / 5000.0 < 0.02, "p50 {p50}");
        assert!((p99 - 9900.0).abs() / 9900.0 < 0.02, "p99 {p99}");
        assert_eq!(h.max, Duration::from_millis(10));
    }

    #[test]
    fn content_length_is_found_in_any_case_and_refused_when_not_a_number() {
        assert_eq!(
            content_length(b"HTTP/1.1 200 OK\r\ncontent-LENGTH: 12\r\n\r\n"),
            Some(12)
        );
        assert_eq!(content_length(b"HTTP/1.1 204 No Content\r\n\r\n"), Some(0));
        assert_eq!(
            content_length(b"HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n"),
            None
        );
    }
}
