//! `cargo run --release -p goro-examples --example http_server -- [ADDR]`: the HTTP server of
//! `goro_examples::http` (see its doc). Ctrl-C or SIGTERM shuts it down gracefully: it stops
//! accepting, lets the requests in flight finish, and exits 0 (Go's `signal.Notify` and
//! `Server.Shutdown`).

use std::time::Duration;

use goro::signal::{self, Signal};

fn main() {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:8080".into());
    let r = goro::run(move || -> Result<(), String> {
        let sigs = signal::notify(&[Signal::Interrupt, Signal::Terminate])
            .map_err(|e| format!("cannot watch for signals: {e}"))?;
        let (ctx, cancel) = goro::context::Context::background().with_cancel();
        let (a, stats) = goro_examples::http::listen_and_serve(&addr, Default::default(), ctx)
            .map_err(|e| format!("cannot listen on {addr}: {e}"))?;
        println!("serving http://{a}/ and http://{a}/sleep?ms=100");
        if let Ok(sig) = sigs.recv() {
            println!("{sig}: shutting down");
        }
        cancel.cancel();
        if !stats.wait_stopped(Duration::from_secs(30)) {
            return Err("requests still in flight after 30 s".into());
        }
        Ok(())
    });
    match r {
        Ok(Ok(())) => {}
        Ok(Err(e)) => {
            eprintln!("{e}");
            std::process::exit(1);
        }
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(2);
        }
    }
}
