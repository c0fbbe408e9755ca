//! A small HTTP/1.1 server, one goroutine per connection: Go's favourite way to write a
//! server, with plain blocking reads and writes that park the goroutine while the netpoller
//! waits.
//!
//! ```go
//! http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "hello\n") })
//! http.HandleFunc("/sleep", func(w http.ResponseWriter, r *http.Request) {
//!     ms, _ := strconv.Atoi(r.URL.Query().Get("ms"))
//!     time.Sleep(time.Duration(ms) * time.Millisecond)
//!     fmt.Fprintf(w, "slept %d ms\n", ms)
//! })
//! http.ListenAndServe(addr, nil)
//! ```
//!
//! What it serves: `GET /` (a short body), `GET /sleep?ms=N` (sleeps N ms in its goroutine,
//! at most 10 s: other connections are not slowed), `GET /spin?ms=N` (computes N ms on a
//! `goro::blocking` thread, so other connections are not slowed either), `GET /bytes?n=N`
//! (a body of N bytes), keep-alive (HTTP/1.1 by default,
//! `Connection: close` honoured). Bad input: a malformed request line or header gets `400 Bad
//! Request`, headers over the limit `431`, a method other than GET or HEAD `405`, a body it
//! does not expect `400`; each closes the connection. A request head must arrive whole
//! within the header timeout (one deadline, however the bytes trickle in), else `408` and
//! the connection closes; an idle keep-alive connection is closed after the idle timeout.
//! When the server holds its limit of connections, a new one takes the place of the one that
//! has waited longest for a request head (an idle keep-alive connection, or a client that
//! sends its head a byte at a time: slowloris), which is closed; only if every connection is
//! inside a request does the new one get `503` and close at once. The server keeps serving
//! the others throughout.

use std::collections::BTreeMap;
use std::io::{self, Read, Write};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use goro::context::Context;
use goro::net::{TcpListener, TcpStream};

/// Server limits.
#[derive(Debug, Clone)]
pub struct Config {
    /// Connections served at once. A new one past the limit takes the place of the one that
    /// has waited longest for a request head; with none waiting, it is answered `503` and
    /// closed.
    pub max_conns: usize,
    /// Time a client has to send a whole request head, from its first byte (for the first
    /// request of a connection, from the accept).
    pub header_timeout: Duration,
    /// Time a keep-alive connection may stay idle between requests before it is closed.
    pub idle_timeout: Duration,
    /// Time a response may take to be written (a client that never reads is cut off).
    pub write_timeout: Duration,
    /// Largest request head (request line and headers) accepted.
    pub max_header_bytes: usize,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            max_conns: 10_000,
            header_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(60),
            write_timeout: Duration::from_secs(10),
            max_header_bytes: 8 * 1024,
        }
    }
}

/// Counters the server keeps, and whether it has stopped.
#[derive(Debug)]
pub struct Stats {
    /// Requests answered 200.
    pub ok: AtomicUsize,
    /// Requests answered with a 4xx.
    pub bad: AtomicUsize,
    /// Connections refused with 503.
    pub refused: AtomicUsize,
    /// Connections open now.
    pub open: AtomicUsize,
    /// Accepts that failed for want of resources (each followed by a pause).
    pub accept_errors: AtomicUsize,
    /// Connections closed, while they waited for a request head, to make room for a new one.
    pub evicted: AtomicUsize,
    /// Closed once the server has stopped: see [`Stats::wait_stopped`].
    stopped: goro::Receiver<()>,
    /// Dropped by the server when it stops, which closes `stopped`.
    stopper: std::sync::Mutex<Option<goro::Sender<()>>>,
}

impl Default for Stats {
    fn default() -> Self {
        let (tx, rx) = goro::chan(0);
        Stats {
            ok: AtomicUsize::new(0),
            bad: AtomicUsize::new(0),
            refused: AtomicUsize::new(0),
            open: AtomicUsize::new(0),
            accept_errors: AtomicUsize::new(0),
            evicted: AtomicUsize::new(0),
            stopped: rx,
            stopper: std::sync::Mutex::new(Some(tx)),
        }
    }
}

impl Stats {
    /// Waits at most `limit` for the server to stop after its context is done: it stops
    /// accepting at once, closes the connections that wait for a request, and lets every
    /// request in flight finish (its response says `Connection: close`), as Go's
    /// `Server.Shutdown` does. True if it stopped (no connection left open).
    pub fn wait_stopped(&self, limit: Duration) -> bool {
        goro::select! {
            recv(self.stopped) -> _ => true,
            default(limit) => false,
        }
    }

    fn mark_stopped(&self) {
        self.stopper
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
    }
}

/// The connections waiting for a request head, by when they began to wait: the ones a full
/// server closes first. Sharded by connection, so that the two visits each request pays
/// (on entering the wait and on leaving it) rarely meet another connection's.
#[derive(Default)]
struct Waiting {
    shards: [std::sync::Mutex<Shard>; 16],
}

/// One shard of [`Waiting`]: connections by (when they began to wait, connection id).
type Shard = BTreeMap<(Instant, u64), Arc<TcpStream>>;

impl Waiting {
    fn shard(
        &self,
        id: u64,
    ) -> std::sync::MutexGuard<'_, BTreeMap<(Instant, u64), Arc<TcpStream>>> {
        self.shards[id as usize % self.shards.len()]
            .lock()
            .unwrap_or_else(|e| e.into_inner())
    }

    /// Connection `id` begins to wait for a head now; the key to `leave` with.
    fn enter(&self, id: u64, c: &Arc<TcpStream>) -> (Instant, u64) {
        let key = (Instant::now(), id);
        self.shard(id).insert(key, c.clone());
        key
    }

    fn leave(&self, key: (Instant, u64)) {
        self.shard(key.1).remove(&key);
    }

    /// Takes out the connection that has waited longest, if any.
    fn oldest(&self) -> Option<Arc<TcpStream>> {
        loop {
            let key = self
                .shards
                .iter()
                .filter_map(|s| {
                    let s = s.lock().unwrap_or_else(|e| e.into_inner());
                    s.keys().next().copied()
                })
                .min()?;
            // It may have left meanwhile: then look again.
            if let Some(c) = self.shard(key.1).remove(&key) {
                return Some(c);
            }
        }
    }
}

/// How long to pause after a failed accept, given the pause after the previous one (`None`
/// after a success): Go's `net/http` rule. Errors that say the process is out of file
/// descriptors or memory (`EMFILE`, `ENFILE`, `ENOBUFS`, `ENOMEM`) pause 5 ms, then twice
/// as long each time, at most 1 s; anything else (a client that reset before the accept, a
/// timeout) is retried at once.
pub fn accept_backoff(e: &io::Error, last: Option<Duration>) -> Option<Duration> {
    let scarce = matches!(
        e.raw_os_error(),
        Some(libc::EMFILE | libc::ENFILE | libc::ENOBUFS | libc::ENOMEM)
    );
    scarce.then(|| {
        last.map_or(Duration::from_millis(5), |d| {
            (d * 2).min(Duration::from_secs(1))
        })
    })
}

/// Serves on `ln` until `ctx` is done, then shuts down gracefully (see
/// [`Stats::wait_stopped`]); returns the counters.
pub fn serve(ln: TcpListener, cfg: Config, ctx: Context) -> Arc<Stats> {
    let stats = Arc::new(Stats::default());
    let st = stats.clone();
    let waiting = Arc::new(Waiting::default());
    goro::go(move || {
        let mut backoff = None;
        let mut ids = 0u64;
        loop {
            // The accept ends the moment `ctx` is done: no polling timeout.
            let conn = match ln.accept_context(&ctx) {
                Ok((c, _)) => {
                    backoff = None;
                    c
                }
                Err(_) if ctx.is_done() => break,
                Err(e) => {
                    // Out of descriptors or memory: retrying at once would spin (and the
                    // connections already open could not get a turn on this worker).
                    backoff = accept_backoff(&e, backoff);
                    if let Some(d) = backoff {
                        st.accept_errors.fetch_add(1, Ordering::SeqCst);
                        goro::time::sleep(d);
                    }
                    continue;
                }
            };
            if st.open.load(Ordering::SeqCst) >= cfg.max_conns {
                // Full: make room by closing the connection that has waited longest for a
                // head (its goroutine sees the end of the stream and leaves), so that clients
                // that never finish a request cannot lock the others out.
                if let Some(old) = waiting.oldest() {
                    let _ = old.shutdown(std::net::Shutdown::Both);
                    st.evicted.fetch_add(1, Ordering::SeqCst);
                } else {
                    st.refused.fetch_add(1, Ordering::SeqCst);
                    let _ = respond(
                        &conn,
                        503,
                        "Service Unavailable",
                        "server busy\n",
                        false,
                        false,
                    );
                    continue;
                }
            }
            st.open.fetch_add(1, Ordering::SeqCst);
            ids += 1;
            let (st, cfg, waiting, id) = (st.clone(), cfg.clone(), waiting.clone(), ids);
            let ctx = ctx.clone();
            goro::go(move || {
                let conn = Arc::new(conn);
                let _ = conn.set_nodelay(true);
                handle(&conn, id, &waiting, &cfg, &st, &ctx);
                st.open.fetch_sub(1, Ordering::SeqCst);
            });
        }
        drop(ln); // new clients are refused from here on
        drain(&waiting, &st);
        st.mark_stopped();
    });
    stats
}

/// The graceful end: closes the connections that wait for a request head (idle keep-alive
/// ones, and any that enter the wait after a last response), until none is open. Requests
/// in flight finish first; each says `Connection: close` (`handle` sees the context done).
fn drain(waiting: &Waiting, st: &Stats) {
    while st.open.load(Ordering::SeqCst) > 0 {
        while let Some(c) = waiting.oldest() {
            let _ = c.shutdown(std::net::Shutdown::Both);
        }
        goro::time::sleep(Duration::from_millis(5));
    }
}

/// Binds `addr` and serves until `ctx` is done; the bound address and the counters.
pub fn listen_and_serve(
    addr: &str,
    cfg: Config,
    ctx: Context,
) -> io::Result<(SocketAddr, Arc<Stats>)> {
    let ln = TcpListener::bind(addr)?;
    let a = ln.local_addr()?;
    Ok((a, serve(ln, cfg, ctx)))
}

/// The number `key=N` of a query string, if there is one and it is at most `max`.
fn query_number(query: &str, key: &str, max: u64) -> Option<u64> {
    query
        .split('&')
        .find_map(|kv| kv.strip_prefix(key)?.strip_prefix('='))
        .and_then(|v| v.parse::<u64>().ok())
        .filter(|&n| n <= max)
}

/// Computes for `d` (a stand-in for real CPU work: hashing, compressing, rendering) and
/// returns how many rounds it did.
fn spin_cpu(d: Duration) -> u64 {
    let t = Instant::now();
    let mut rounds = 0u64;
    while t.elapsed() < d {
        rounds = std::hint::black_box(rounds + 1);
    }
    rounds
}

/// One parsed request head.
pub(crate) struct Request {
    pub(crate) method: String,
    pub(crate) target: String,
    keep_alive: bool,
}

/// What reading a request head found.
pub(crate) enum Head {
    Request(Request),
    /// The client closed between requests.
    Closed,
    /// Answer with this status and close.
    Reject(u16, &'static str),
}

fn handle(c: &Arc<TcpStream>, id: u64, waiting: &Waiting, cfg: &Config, st: &Stats, ctx: &Context) {
    let mut buf = Vec::with_capacity(1024);
    let mut first = true;
    loop {
        // One deadline for the whole head, not a timeout per read: a client that sends a
        // byte now and then (slowloris) must not hold the connection for ever. Between
        // requests the idle timeout applies until the next head's first byte.
        let wait = if first || !buf.is_empty() {
            cfg.header_timeout
        } else {
            cfg.idle_timeout
        };
        first = false;
        c.set_read_deadline(Some(Instant::now() + wait));
        c.set_write_deadline(None);
        let key = waiting.enter(id, c);
        let head = read_head(c, &mut buf, cfg.max_header_bytes, cfg.header_timeout);
        waiting.leave(key);
        match head {
            Head::Closed => return,
            Head::Reject(code, reason) => {
                st.bad.fetch_add(1, Ordering::SeqCst);
                c.set_write_deadline(Some(Instant::now() + cfg.write_timeout));
                let _ = respond(c, code, reason, &format!("{reason}\n"), false, false);
                return;
            }
            Head::Request(r) => {
                let head_only = r.method == "HEAD";
                let (code, reason, body) = route(&r.target);
                if code == 200 {
                    st.ok.fetch_add(1, Ordering::SeqCst);
                } else {
                    st.bad.fetch_add(1, Ordering::SeqCst);
                }
                c.set_write_deadline(Some(Instant::now() + cfg.write_timeout));
                // Shutting down: this response is the connection's last.
                let keep_alive = r.keep_alive && !ctx.is_done();
                if respond(c, code, reason, &body, keep_alive, head_only).is_err() || !keep_alive {
                    return;
                }
            }
        }
    }
}

fn route(target: &str) -> (u16, &'static str, String) {
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    match path {
        "/" => (200, "OK", "hello from goro\n".to_string()),
        "/spin" => {
            // CPU work inside a request, done the way that keeps the server responsive: on
            // a blocking-pool thread. Computed on the goroutine instead, it would hold its
            // worker, and every connection that lives on that worker, for the whole time
            // (goro does not preempt a loop that makes no goro call).
            match query_number(query, "ms", 10_000) {
                Some(ms) => {
                    let n = goro::blocking(move || spin_cpu(Duration::from_millis(ms)));
                    (200, "OK", format!("computed {n} rounds in {ms} ms\n"))
                }
                _ => (
                    400,
                    "Bad Request",
                    "ms must be a number of milliseconds up to 10000\n".into(),
                ),
            }
        }
        "/bytes" => {
            // A body of n bytes (at most 64 MiB): what a slow reader meets.
            match query_number(query, "n", 64 << 20) {
                Some(n) => (200, "OK", "x".repeat(n as usize)),
                _ => (
                    400,
                    "Bad Request",
                    "n must be a number of bytes up to 67108864\n".into(),
                ),
            }
        }
        "/sleep" => match query_number(query, "ms", 10_000) {
            Some(ms) => {
                goro::time::sleep(Duration::from_millis(ms));
                (200, "OK", format!("slept {ms} ms\n"))
            }
            _ => (
                400,
                "Bad Request",
                "want /sleep?ms=N with N <= 10000\n".to_string(),
            ),
        },
        _ => (404, "Not Found", "not found\n".to_string()),
    }
}

/// Reads one request head into `buf` (keeping bytes of the next request, pipelined).
pub(crate) fn read_head(c: &TcpStream, buf: &mut Vec<u8>, max: usize, header: Duration) -> Head {
    let mut chunk = [0u8; 2048];
    let end = loop {
        if let Some(i) = find_head_end(buf) {
            break i;
        }
        if buf.len() > max {
            return Head::Reject(431, "Request Header Fields Too Large");
        }
        // A request line that cannot be one is answered at once, not after the rest of a
        // head that may never come.
        if let Some(nl) = buf.iter().position(|&b| b == b'\n') {
            let line = std::str::from_utf8(&buf[..nl]).unwrap_or("");
            if !request_line_ok(line.strip_suffix('\r').unwrap_or(line)) {
                return Head::Reject(400, "Bad Request");
            }
        }
        match (&*c).read(&mut chunk) {
            Ok(0) if buf.is_empty() => return Head::Closed,
            Ok(0) => return Head::Reject(400, "Bad Request"), // closed mid-request
            Ok(n) => {
                if buf.is_empty() {
                    // A new head has begun: it has the header timeout from now.
                    c.set_read_deadline(Some(Instant::now() + header));
                }
                buf.extend_from_slice(&chunk[..n]);
            }
            // Out of time mid-request: say so (Go's net/http answers 408 too).
            Err(e) if e.kind() == io::ErrorKind::TimedOut && !buf.is_empty() => {
                return Head::Reject(408, "Request Timeout");
            }
            Err(_) => return Head::Closed, // idle past the deadline, or reset: just close
        }
    };
    if end > max {
        return Head::Reject(431, "Request Header Fields Too Large");
    }
    let head: Vec<u8> = buf.drain(..end).collect();
    parse_head(&head)
}

/// Index just past the blank line that ends a head. Lines end in CRLF or, as Go's
/// `net/http` also accepts, a bare LF.
fn find_head_end(buf: &[u8]) -> Option<usize> {
    let mut prev = None;
    for (i, &b) in buf.iter().enumerate() {
        if b != b'\n' {
            continue;
        }
        // An empty line: just after the previous line's end, or a lone CR there.
        if let Some(p) = prev {
            let line = &buf[p + 1..i];
            if line.is_empty() || line == b"\r" {
                return Some(i + 1);
            }
        }
        prev = Some(i);
    }
    None
}

/// The lines of a head, without their line ends.
fn head_lines(text: &str) -> impl Iterator<Item = &str> {
    text.split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l))
}

/// True if `line` has the shape of a request line: `METHOD /target HTTP/x.y`.
fn request_line_ok(line: &str) -> bool {
    let mut parts = line.split(' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return false;
    };
    !method.is_empty()
        && method.bytes().all(|b| b.is_ascii_uppercase())
        && target.starts_with('/')
        && matches!(version, "HTTP/1.1" | "HTTP/1.0")
}

fn parse_head(head: &[u8]) -> Head {
    let bad = Head::Reject(400, "Bad Request");
    let Ok(text) = std::str::from_utf8(head) else {
        return bad;
    };
    let mut lines = head_lines(text);
    let first = lines.next().unwrap_or("");
    if !request_line_ok(first) {
        return bad;
    }
    let mut parts = first.split(' ');
    let (method, target) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    let mut keep_alive = first.ends_with("HTTP/1.1");
    for line in lines.filter(|l| !l.is_empty()) {
        let Some((name, value)) = line.split_once(':') else {
            return bad;
        };
        if name.is_empty()
            || name
                .bytes()
                .any(|b| b.is_ascii_whitespace() || b.is_ascii_control())
        {
            return bad;
        }
        let value = value.trim();
        if name.eq_ignore_ascii_case("connection") {
            if value.eq_ignore_ascii_case("close") {
                keep_alive = false;
            } else if value.eq_ignore_ascii_case("keep-alive") {
                keep_alive = true;
            }
        }
        if (name.eq_ignore_ascii_case("content-length") && value != "0")
            || name.eq_ignore_ascii_case("transfer-encoding")
        {
            return bad; // GET and HEAD here take no body
        }
    }
    if method != "GET" && method != "HEAD" {
        return Head::Reject(405, "Method Not Allowed");
    }
    Head::Request(Request {
        method: method.to_string(),
        target: target.to_string(),
        keep_alive,
    })
}

fn respond(
    c: &TcpStream,
    code: u16,
    reason: &str,
    body: &str,
    keep_alive: bool,
    head_only: bool,
) -> io::Result<()> {
    let conn = if keep_alive { "keep-alive" } else { "close" };
    let mut out = format!(
        "HTTP/1.1 {code} {reason}\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: {conn}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    if !head_only {
        out.extend_from_slice(body.as_bytes());
    }
    (&*c).write_all(&out)?;
    if !keep_alive {
        let _ = c.shutdown(std::net::Shutdown::Write);
    }
    Ok(())
}
