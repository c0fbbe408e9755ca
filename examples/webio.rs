//! A minimal HTTP/1.1 server and client for the pattern examples that talk to local
//! services (fan-out, pipeline): one request per connection (`Connection: close`), the
//! handler writing the whole response. Request heads are read by the full server's parser
//! (`http.rs`, which adds keep-alive and limits).

use std::io::{self, Read, Write};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use goro::context::Context;
use goro::net::{TcpListener, TcpStream};

use crate::http::{read_head, Head};

/// Serves on a fresh local port until `ctx` is done: a goroutine per connection reads the
/// request head and calls `handler(path, stream)`, which writes the response.
pub fn serve(
    name: &str,
    ctx: Context,
    handler: impl Fn(&str, &TcpStream) + Send + Sync + 'static,
) -> io::Result<SocketAddr> {
    let ln = TcpListener::bind("127.0.0.1:0")?;
    let addr = ln.local_addr()?;
    // Wake up now and then to notice `ctx`.
    ln.set_read_timeout(Some(Duration::from_millis(20)))?;
    let handler = Arc::new(handler);
    goro::Builder::new()
        .name(format!("{name} accept"))
        .spawn(move || {
            while !ctx.is_done() {
                let Ok((conn, _)) = ln.accept() else { continue };
                let handler = handler.clone();
                goro::go(move || {
                    let head_time = Duration::from_secs(5);
                    conn.set_read_deadline(Some(std::time::Instant::now() + head_time));
                    let mut buf = Vec::with_capacity(512);
                    // Anything but a well-formed GET is answered by closing.
                    if let Head::Request(r) = read_head(&conn, &mut buf, 8192, head_time) {
                        if r.method == "GET" {
                            handler(&r.target, &conn);
                        }
                    }
                });
            }
        })
        .map_err(|e| io::Error::other(e.to_string()))?;
    Ok(addr)
}

/// Writes a response head for a body of `len` bytes (unknown: `None`, the body then ends
/// when the connection closes).
pub fn write_head(c: &TcpStream, status: &str, len: Option<usize>) -> io::Result<()> {
    let len = len.map_or(String::new(), |n| format!("Content-Length: {n}\r\n"));
    (&*c).write_all(format!("HTTP/1.1 {status}\r\n{len}Connection: close\r\n\r\n").as_bytes())
}

/// Sends `GET path` to `addr` and calls `on_body` with each piece of the response body as
/// it arrives; stops early (an error of kind `Interrupted`) when `ctx` ends. Returns the
/// status code.
pub fn get(
    addr: SocketAddr,
    path: &str,
    ctx: &Context,
    mut on_body: impl FnMut(&[u8]) -> bool,
) -> io::Result<u16> {
    let c = TcpStream::connect(addr)?;
    (&c).write_all(
        format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").as_bytes(),
    )?;
    // Short reads, so that a cancelled context is noticed within a few milliseconds.
    c.set_read_timeout(Some(Duration::from_millis(5)))?;
    let mut buf = vec![0u8; 64 * 1024];
    let mut head = Vec::new();
    let mut status = None;
    loop {
        if ctx.is_done() {
            return Err(io::Error::new(io::ErrorKind::Interrupted, "cancelled"));
        }
        let n = match (&c).read(&mut buf) {
            Ok(0) => return status.ok_or_else(|| io::Error::other("no response")),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::TimedOut => continue,
            Err(e) => return Err(e),
        };
        match status {
            Some(_) => {
                if !on_body(&buf[..n]) {
                    return Err(io::Error::new(io::ErrorKind::Interrupted, "stopped"));
                }
            }
            None => {
                head.extend_from_slice(&buf[..n]);
                if let Some(i) = head.windows(4).position(|w| w == b"\r\n\r\n") {
                    let line = String::from_utf8_lossy(&head[..i]).into_owned();
                    let code = line
                        .split(' ')
                        .nth(1)
                        .and_then(|c| c.parse().ok())
                        .ok_or_else(|| io::Error::other(format!("bad status line {line:?}")))?;
                    status = Some(code);
                    if !on_body(&head[i + 4..]) {
                        return Err(io::Error::new(io::ErrorKind::Interrupted, "stopped"));
                    }
                }
            }
        }
    }
}
