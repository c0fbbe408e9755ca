//! `goro run NAME`: start one of the example programs.

use std::time::Duration;

use clap::{Args, ValueEnum};
use goro::context::Context;

/// The programs `goro run` starts.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Program {
    /// The HTTP/1.1 server (one goroutine per connection), until stopped.
    HttpServer,
    /// The TCP echo server, until stopped.
    EchoServer,
    /// A load generator against an HTTP server: many keep-alive connections.
    HttpLoad,
}

/// `goro run` arguments.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// What to run.
    pub program: Program,
    /// Address to listen on (servers) or to load (http-load).
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub addr: String,
    /// http-load: concurrent connections.
    #[arg(long, default_value_t = 1000)]
    pub conns: usize,
    /// http-load: seconds to run.
    #[arg(long, default_value_t = 5.0)]
    pub secs: f64,
    /// http-load: the path to request.
    #[arg(long, default_value = "/")]
    pub path: String,
    /// Workers (OS threads); default GORO_WORKERS or one per core.
    #[arg(long)]
    pub workers: Option<usize>,
    /// Record an execution trace into this file (Chrome Trace JSON) and draw it beside it as
    /// HTML when the program ends (http-load ends; the servers end on their own only if they
    /// fail, so use it with http-load).
    #[arg(long)]
    pub trace: Option<std::path::PathBuf>,
}

/// Runs the program; servers run until the process is stopped.
pub fn run(a: &RunArgs) -> Result<(), String> {
    let mut b = goro::Runtime::builder().exit_report(false);
    if let Some(n) = a.workers {
        b = b.workers(n);
    }
    if let Some(t) = &a.trace {
        b = b.trace(t);
    }
    let (program, addr, conns, path) = (a.program, a.addr.clone(), a.conns, a.path.clone());
    let secs = Duration::from_secs_f64(a.secs.max(0.01));
    b.run(move || -> Result<(), String> {
        let (ctx, _cancel) = Context::background().with_cancel();
        match program {
            Program::HttpServer => {
                let (at, _) = goro_examples::http::listen_and_serve(&addr, Default::default(), ctx.clone())
                    .map_err(|e| format!("cannot listen on {addr}: {e}"))?;
                println!("serving http://{at}/ and http://{at}/sleep?ms=100 (Ctrl-C stops)");
                let _ = ctx.done().recv();
            }
            Program::EchoServer => {
                let at = goro_examples::echo::listen_and_serve(&addr, ctx.clone())
                    .map_err(|e| format!("cannot listen on {addr}: {e}"))?;
                println!("echoing on {at} (Ctrl-C stops)");
                let _ = ctx.done().recv();
            }
            Program::HttpLoad => {
                let target = addr
                    .parse()
                    .map_err(|e| format!("--addr {addr}: {e} (want IP:PORT)"))?;
                let r = goro_examples::load::run(target, &path, conns, secs);
                println!(
                    "{} requests in {:.2} s over {conns} connections: {:.0} requests/s, p50 {:.2} ms, p99 {:.2} ms, slowest {:.2} ms, slowest connect {:.2} ms, {} errors",
                    r.requests,
                    r.elapsed.as_secs_f64(),
                    r.rps(),
                    r.p50.as_secs_f64() * 1e3,
                    r.p99.as_secs_f64() * 1e3,
                    r.max.as_secs_f64() * 1e3,
                    r.max_connect.as_secs_f64() * 1e3,
                    r.errors
                );
            }
        }
        Ok(())
    })
    .map_err(|e| e.to_string())??;
    if let Some(t) = &a.trace {
        let json = std::fs::read_to_string(t).map_err(|e| format!("{}: {e}", t.display()))?;
        let page = crate::trace_view::render(&json)?;
        let html = t.with_extension("html");
        std::fs::write(&html, page).map_err(|e| format!("{}: {e}", html.display()))?;
        println!(
            "trace: {} (ui.perfetto.dev) and {} (any browser)",
            t.display(),
            html.display()
        );
    }
    Ok(())
}
