//! A load generator: many concurrent keep-alive connections, each a goroutine sending one
//! request after another, with the latency of each recorded.

use std::io::{self, Read, Write};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use goro::net::TcpStream;

/// What a load run measured.
#[derive(Debug, Clone)]
pub struct Report {
    /// Requests answered.
    pub requests: u64,
    /// Requests that failed (connect, write, read or a non-200 status).
    pub errors: u64,
    /// How long the run took.
    pub elapsed: Duration,
    /// Median and 99th percentile latency.
    pub p50: Duration,
    /// 99th percentile latency.
    pub p99: Duration,
    /// The slowest request.
    pub max: Duration,
    /// The slowest connect.
    pub max_connect: Duration,
}

impl Report {
    /// Requests per second.
    pub fn rps(&self) -> f64 {
        self.requests as f64 / self.elapsed.as_secs_f64()
    }
}

/// Reads one response; true if it was a 200.
fn read_response(c: &mut TcpStream, buf: &mut Vec<u8>) -> io::Result<bool> {
    let mut chunk = [0u8; 4096];
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n").map(|i| i + 4) {
            let head = String::from_utf8_lossy(&buf[..end]).to_string();
            let len = head
                .lines()
                .find_map(|l| {
                    let (k, v) = l.split_once(':')?;
                    k.eq_ignore_ascii_case("content-length")
                        .then(|| v.trim().parse::<usize>().ok())?
                })
                .unwrap_or(0);
            while buf.len() < end + len {
                let n = c.read(&mut chunk)?;
                if n == 0 {
                    return Err(io::ErrorKind::UnexpectedEof.into());
                }
                buf.extend_from_slice(&chunk[..n]);
            }
            buf.drain(..end + len);
            return Ok(head.starts_with("HTTP/1.1 200"));
        }
        let n = c.read(&mut chunk)?;
        if n == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

/// `conns` connections to `addr`, each sending `GET path` for `duration`.
pub fn run(addr: SocketAddr, path: &str, conns: usize, duration: Duration) -> Report {
    let req = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\n\r\n").into_bytes();
    let start = Instant::now();
    let end = start + duration;
    let hs: Vec<_> = (0..conns)
        .map(|_| {
            let req = req.clone();
            goro::go(move || {
                let mut lat = Vec::new();
                let mut errors = 0u64;
                let t = Instant::now();
                let Ok(mut c) = TcpStream::connect(addr) else {
                    return (lat, 1, t.elapsed());
                };
                let connect = t.elapsed();
                let _ = c.set_nodelay(true);
                let _ = c.set_read_timeout(Some(Duration::from_secs(10)));
                let mut buf = Vec::new();
                while Instant::now() < end {
                    let t = Instant::now();
                    let ok = c.write_all(&req).is_ok()
                        && read_response(&mut c, &mut buf).unwrap_or(false);
                    if !ok {
                        errors += 1;
                        break;
                    }
                    lat.push(t.elapsed());
                }
                (lat, errors, connect)
            })
        })
        .collect();
    let mut all = Vec::new();
    let mut errors = 0;
    let mut max_connect = Duration::ZERO;
    for h in hs {
        if let Ok((l, e, c)) = h.join() {
            all.extend(l);
            errors += e;
            max_connect = max_connect.max(c);
        }
    }
    let elapsed = start.elapsed();
    all.sort();
    let pct = |p: f64| {
        all.get(((all.len() as f64 * p) as usize).min(all.len().saturating_sub(1)))
            .copied()
            .unwrap_or_default()
    };
    Report {
        requests: all.len() as u64,
        errors,
        elapsed,
        p50: pct(0.50),
        p99: pct(0.99),
        max: all.last().copied().unwrap_or_default(),
        max_connect,
    }
}
