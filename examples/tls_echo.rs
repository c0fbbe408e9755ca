//! A TLS echo server and its clients with `rustls`, a sync crate, on goro sockets, with a
//! certificate made at run time with `rcgen`.
//!
//! rustls's `StreamOwned` wraps any `Read + Write` transport; over a goro `TcpStream` its
//! handshake and its records are read and written by a goroutine that parks while the
//! network is slow. One goroutine per connection, as Go's `tls.Listen` servers are written.
//!
//! ```go
//! ln, _ := tls.Listen("tcp", addr, config)
//! for { c, _ := ln.Accept(); go io.Copy(c, c) }
//! ```
//!
//! Watch: each handshake and each echoed line.

use std::io::{BufRead, BufReader, Write};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use goro::net::{TcpListener, TcpStream};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName};

use crate::pattern::{leaked_goroutines, scaled, Report};

/// A self-signed certificate for `localhost`, and the client and server configurations
/// that use it.
fn configs() -> Result<(Arc<rustls::ServerConfig>, Arc<rustls::ClientConfig>), String> {
    let ck = rcgen::generate_simple_self_signed(vec!["localhost".into()])
        .map_err(|e| format!("certificate: {e}"))?;
    let cert: CertificateDer<'static> = ck.cert.der().clone();
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(ck.key_pair.serialize_der()));
    // ring builds with a C compiler alone (aws-lc-rs, rustls's default, needs cmake); its
    // want of post-quantum key exchange, for which rustls marks it deprecated, does not
    // matter to a loopback example.
    #[allow(deprecated)]
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let server = rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_no_client_auth()
        .with_single_cert(vec![cert.clone()], key)
        .map_err(|e| e.to_string())?;
    let mut roots = rustls::RootCertStore::empty();
    roots.add(cert).map_err(|e| e.to_string())?;
    let client = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok((Arc::new(server), Arc::new(client)))
}

/// Serves TLS line echo on `ln`, one goroutine per connection, for `conns` connections.
fn serve(ln: TcpListener, cfg: Arc<rustls::ServerConfig>, conns: usize) {
    goro::go(move || {
        for c in ln.incoming().take(conns) {
            let (Ok(c), cfg) = (c, cfg.clone()) else {
                continue;
            };
            // tour:begin: the lines `goro tour` shows
            goro::go(move || {
                let Ok(conn) = rustls::ServerConnection::new(cfg) else {
                    return;
                };
                let tls = rustls::StreamOwned::new(conn, c);
                let mut r = BufReader::new(tls);
                let mut line = String::new();
                while matches!(r.read_line(&mut line), Ok(n) if n > 0) {
                    let tls = r.get_mut();
                    if tls
                        .write_all(line.as_bytes())
                        .and_then(|()| tls.flush())
                        .is_err()
                    {
                        return;
                    }
                    line.clear();
                }
            });
            // tour:end
        }
    });
}

/// One client: a handshake, then `n` lines echoed.
fn client(addr: SocketAddr, cfg: Arc<rustls::ClientConfig>, n: usize) -> Result<usize, String> {
    let tcp = TcpStream::connect(addr).map_err(|e| format!("connect: {e}"))?;
    let name = ServerName::try_from("localhost").map_err(|e| e.to_string())?;
    let conn = rustls::ClientConnection::new(cfg, name).map_err(|e| e.to_string())?;
    let mut r = BufReader::new(rustls::StreamOwned::new(conn, tcp));
    let mut line = String::new();
    for i in 0..n {
        let sent = format!("line {i}\n");
        let tls = r.get_mut();
        tls.write_all(sent.as_bytes())
            .and_then(|()| tls.flush())
            .map_err(|e| format!("write: {e}"))?;
        line.clear();
        r.read_line(&mut line).map_err(|e| format!("read: {e}"))?;
        if line != sent {
            return Err(format!("sent {sent:?}, got {line:?}"));
        }
    }
    Ok(n)
}

/// Runs the example (`scale` shrinks the number of clients and lines).
pub fn run(scale: f64) -> Result<Report, String> {
    let before = goro::debug::goroutines_count();
    let (server_cfg, client_cfg) = configs()?;
    let ln = TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    let addr = ln.local_addr().map_err(|e| e.to_string())?;
    let (clients, per) = (scaled(100, scale, 5), scaled(100, scale, 10));
    serve(ln, server_cfg, clients);
    let t = Instant::now();
    let hs: Vec<_> = (0..clients)
        .map(|_| {
            let cfg = client_cfg.clone();
            goro::go(move || client(addr, cfg, per))
        })
        .collect();
    let mut echoed = 0;
    for h in hs {
        echoed += h.join().map_err(|e| e.to_string())??;
    }
    let secs = t.elapsed().as_secs_f64();
    Ok(Report {
        lines: vec![
            format!("{clients} rustls clients, a handshake each, then {per} lines echoed"),
            "certificate for localhost made at start with rcgen; ring as the crypto".into(),
        ],
        figure: format!(
            "{clients} handshakes and {echoed} lines in {secs:.2} s ({:.0} handshakes/s with their lines)",
            clients as f64 / secs
        ),
        bars: vec![("handshakes/s".into(), clients as f64 / secs)],
        unit: "handshakes/s",
        leaked: leaked_goroutines(before),
    })
}
