//! A WebSocket echo server and its clients with `tungstenite`, a sync crate, on goro
//! sockets: one goroutine per connection, plain blocking calls that park the goroutine.
//!
//! tungstenite speaks WebSocket over anything that is `Read + Write`; a goro `TcpStream` is,
//! and its reads and writes park the goroutine instead of the thread. So the crate's
//! blocking API, written for one OS thread per connection, serves thousands of connections
//! on a few workers, as Go's `golang.org/x/net/websocket` handlers do.
//!
//! ```go
//! http.Handle("/", websocket.Handler(func(ws *websocket.Conn) { io.Copy(ws, ws) }))
//! ```
//!
//! Watch: every client gets back exactly what it sent, in order.

use std::net::SocketAddr;
use std::time::Instant;

use goro::net::{TcpListener, TcpStream};
use tungstenite::Message;

use crate::pattern::{leaked_goroutines, scaled, Report};

/// Serves WebSocket echo on `ln`, one goroutine per connection, for `conns` connections.
fn serve(ln: TcpListener, conns: usize) {
    goro::go(move || {
        for c in ln.incoming().take(conns) {
            let Ok(c) = c else { continue };
            // tour:begin: the lines `goro tour` shows
            goro::go(move || {
                let Ok(mut ws) = tungstenite::accept(c) else {
                    return;
                };
                while let Ok(msg) = ws.read() {
                    if msg.is_close() || ws.send(msg).is_err() {
                        return;
                    }
                }
            });
            // tour:end
        }
    });
}

/// One client: `n` text messages, each read back before the next is sent.
fn client(addr: SocketAddr, id: usize, n: usize) -> Result<usize, String> {
    let stream = TcpStream::connect(addr).map_err(|e| format!("connect: {e}"))?;
    let (mut ws, _) = tungstenite::client(format!("ws://{addr}/echo"), stream)
        .map_err(|e| format!("handshake: {e}"))?;
    for i in 0..n {
        let text = format!("client {id} message {i}");
        ws.send(Message::text(text.clone()))
            .map_err(|e| e.to_string())?;
        match ws.read().map_err(|e| e.to_string())? {
            Message::Text(t) if t.as_str() == text => {}
            other => return Err(format!("client {id}: sent {text:?}, got {other:?}")),
        }
    }
    let _ = ws.close(None);
    Ok(n)
}

/// Runs the example (`scale` shrinks the number of clients and messages).
pub fn run(scale: f64) -> Result<Report, String> {
    let before = goro::debug::goroutines_count();
    let ln = TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    let addr = ln.local_addr().map_err(|e| e.to_string())?;
    let (clients, per) = (scaled(200, scale, 10), scaled(100, scale, 10));
    serve(ln, clients);
    let t = Instant::now();
    let hs: Vec<_> = (0..clients)
        .map(|id| goro::go(move || client(addr, id, per)))
        .collect();
    let mut echoed = 0;
    for h in hs {
        echoed += h.join().map_err(|e| e.to_string())??;
    }
    let secs = t.elapsed().as_secs_f64();
    let rate = echoed as f64 / secs;
    Ok(Report {
        lines: vec![
            format!("{clients} tungstenite clients, {per} messages each, all echoed in order"),
            "server and clients: one goroutine per connection, blocking calls".into(),
        ],
        figure: format!("{rate:.0} messages echoed per second ({echoed} in {secs:.2} s)"),
        bars: vec![("messages/s".into(), rate)],
        unit: "messages/s",
        leaked: leaked_goroutines(before),
    })
}
