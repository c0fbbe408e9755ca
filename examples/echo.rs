//! A TCP echo server, one goroutine per connection.
//!
//! ```go
//! ln, _ := net.Listen("tcp", addr)
//! for {
//!     c, _ := ln.Accept()
//!     go func(c net.Conn) { io.Copy(c, c); c.Close() }(c)
//! }
//! ```

use std::io::{self, Read, Write};
use std::net::SocketAddr;
use std::time::Duration;

use goro::context::Context;
use goro::net::TcpListener;

/// Binds `addr` and echoes every connection until `ctx` is done.
pub fn listen_and_serve(addr: &str, ctx: Context) -> io::Result<SocketAddr> {
    let ln = TcpListener::bind(addr)?;
    let a = ln.local_addr()?;
    ln.set_read_timeout(Some(Duration::from_millis(100)))?;
    goro::go(move || {
        while !ctx.is_done() {
            let Ok((c, _)) = ln.accept() else { continue };
            goro::go(move || {
                let mut buf = [0u8; 16 * 1024];
                loop {
                    match (&c).read(&mut buf) {
                        Ok(0) | Err(_) => return,
                        Ok(n) => {
                            if (&c).write_all(&buf[..n]).is_err() {
                                return;
                            }
                        }
                    }
                }
            });
        }
    });
    Ok(a)
}
