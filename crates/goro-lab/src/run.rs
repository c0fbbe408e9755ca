//! `goro run NAME`: start one of the example programs.

use std::time::Duration;

use clap::Args;
use goro::context::Context;
use goro::signal::Signal;

/// The servers `goro run` starts (the patterns are named by `goro_examples::PATTERNS`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Program {
    /// The HTTP/1.1 server (one goroutine per connection), until stopped.
    HttpServer,
    /// The TCP echo server, until stopped.
    EchoServer,
    /// A load generator against an HTTP server: many keep-alive connections.
    HttpLoad,
}

impl Program {
    const ALL: [(&'static str, Program, &'static str); 3] = [
        (
            "http-server",
            Program::HttpServer,
            "the HTTP/1.1 server, one goroutine per connection, until stopped",
        ),
        (
            "echo-server",
            Program::EchoServer,
            "the TCP echo server, until stopped",
        ),
        (
            "http-load",
            Program::HttpLoad,
            "a load generator against an HTTP server (--addr, --conns, --secs)",
        ),
    ];
}

/// What `goro list` prints: every program `goro run` knows, with a line on each.
pub fn list() -> String {
    let mut out = String::from("patterns (goro run NAME [--trace FILE] [--svg FILE]):\n");
    for p in goro_examples::PATTERNS {
        let aliases: Vec<&str> = goro_examples::ALIASES
            .iter()
            .filter(|(_, real)| *real == p.name)
            .map(|(alias, _)| *alias)
            .collect();
        let also = if aliases.is_empty() {
            String::new()
        } else {
            format!(" (also: {})", aliases.join(", "))
        };
        out.push_str(&format!("  {:<24} {}{also}\n", p.name, p.title));
    }
    out.push_str("servers and tools:\n");
    for (name, _, what) in Program::ALL {
        out.push_str(&format!("  {name:<24} {what}\n"));
    }
    out
}

/// `goro run` arguments.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// What to run: a pattern (worker-pool, pipeline, ...; `goro list` names them all),
    /// http-server, echo-server or http-load.
    pub program: String,
    /// Patterns: multiply the workload by this (1.0 is full size).
    #[arg(long, default_value_t = 1.0)]
    pub scale: f64,
    /// Patterns: draw the measured figure as a bar chart into this SVG file.
    #[arg(long)]
    pub svg: Option<std::path::PathBuf>,
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
    /// http-load: one request per connection (`Connection: close`), as wrk's
    /// `-H 'Connection: close'`; without it, keep-alive.
    #[arg(long)]
    pub close: bool,
    /// http-server: connections served at once [default: 10000]. Past it, a new connection
    /// takes the place of the one that has waited longest for a request head; with none
    /// waiting, it is answered 503.
    #[arg(long)]
    pub max_conns: Option<usize>,
    /// http-server: time a request head has to arrive whole, like 10s or 500ms
    /// [default: 10s].
    #[arg(long, value_parser = parse_duration)]
    pub header_timeout: Option<Duration>,
    /// http-server: time a keep-alive connection may stay idle between requests
    /// [default: 60s].
    #[arg(long, value_parser = parse_duration)]
    pub idle_timeout: Option<Duration>,
    /// http-server: time a response may take to be written [default: 10s].
    #[arg(long, value_parser = parse_duration)]
    pub write_timeout: Option<Duration>,
    /// Workers (OS threads); default GORO_WORKERS or one per core, except http-load: one
    /// (about 140,000 keep-alive requests/s on one core; idle workers spin a little before
    /// they sleep, which a load generator beside its server takes from the server).
    #[arg(long)]
    pub workers: Option<usize>,
    /// Patterns: write a self-playing animated SVG of the run, made from its trace: values
    /// travelling between goroutines (use it with a small --scale, e.g. 0.01, for a handful
    /// of goroutines and a few dozen messages).
    #[arg(long)]
    pub animate: Option<std::path::PathBuf>,
    /// Record an execution trace into this file (Chrome Trace JSON) and draw it beside it as
    /// HTML when the program ends (http-load ends; the servers end on their own only if they
    /// fail, so use it with http-load).
    #[arg(long)]
    pub trace: Option<std::path::PathBuf>,
}

/// Parses a duration written as a number and a unit: `500ms`, `2s`, `1.5s`, `1m`, `250us`.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let split = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .ok_or_else(|| format!("{s:?} has no unit: write it like 500ms, 2s or 1m"))?;
    let (num, unit) = s.split_at(split);
    let n: f64 = num
        .parse()
        .map_err(|_| format!("{s:?}: {num:?} is not a number"))?;
    let secs = match unit {
        "us" | "µs" => n / 1e6,
        "ms" => n / 1e3,
        "s" => n,
        "m" => n * 60.0,
        "h" => n * 3600.0,
        _ => return Err(format!("{s:?}: unknown unit {unit:?} (us, ms, s, m or h)")),
    };
    Duration::try_from_secs_f64(secs).map_err(|_| format!("{s:?} is out of range"))
}

/// Runs a pattern on a runtime of its own (traced if asked), prints what it found and
/// measured, and fails if it left goroutines behind.
fn run_pattern(p: &'static goro_examples::Pattern, a: &RunArgs) -> Result<(), String> {
    if !(a.scale > 0.0 && a.scale <= 1.0) {
        return Err("--scale must be in (0, 1]".into());
    }
    // Some patterns run long CPU-bound slices on purpose (one sorting goroutine per worker):
    // no hog warnings for those.
    let b = builder(
        a,
        goro::Runtime::builder()
            .exit_report(true)
            .hog_warnings(false),
    );
    // An animation needs a trace: a temporary one unless --trace names one.
    let temp_trace = (a.animate.is_some() && a.trace.is_none())
        .then(|| std::env::temp_dir().join(format!("goro-animate-{}.json", std::process::id())));
    let b = match &temp_trace {
        Some(t) => b.trace(t),
        None => b,
    };
    let scale = a.scale;
    let report = b.run(move || (p.run)(scale)).map_err(|e| e.to_string())??;
    println!("{}", p.title);
    for l in &report.lines {
        println!("  {l}");
    }
    println!("  -> {}", report.figure);
    if let Some(svg) = &a.svg {
        let page = goro_examples::pattern::svg_bars(p.title, &report.bars, report.unit);
        std::fs::write(svg, page).map_err(|e| format!("{}: {e}", svg.display()))?;
        println!("chart: {}", svg.display());
    }
    write_trace_page(a)?;
    if let Some(out) = &a.animate {
        let t = temp_trace.as_ref().or(a.trace.as_ref()).expect("traced");
        let json = std::fs::read_to_string(t).map_err(|e| format!("{}: {e}", t.display()))?;
        if temp_trace.is_some() {
            let _ = std::fs::remove_file(t);
        }
        let tag = crate::trace_anim::input_tag(p.source);
        let svg = crate::trace_anim::render(&json, p.title, &tag)?;
        std::fs::write(out, &svg).map_err(|e| format!("{}: {e}", out.display()))?;
        println!("animation: {} ({} KiB)", out.display(), svg.len() / 1024);
    }
    if report.leaked > 0 {
        return Err(format!("{} goroutines were left running", report.leaked));
    }
    Ok(())
}

/// `b` with the workers and the trace file the arguments ask for.
fn builder(a: &RunArgs, mut b: goro::RuntimeBuilder) -> goro::RuntimeBuilder {
    if let Some(n) = a.workers {
        b = b.workers(n);
    }
    if let Some(t) = &a.trace {
        b = b.trace(t);
    }
    b
}

/// What `goro run http-load` prints of a load run.
fn print_load(r: &goro_examples::load::Report, load: &goro_examples::load::Load) {
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    println!(
        "{} requests in {:.2} s over {} connections{}: {:.0} requests/s, latency p50 {:.2} ms, p99 {:.2} ms, slowest {:.2} ms (connects included)",
        r.requests,
        r.elapsed.as_secs_f64(),
        load.conns,
        if load.close { ", one request each" } else { "" },
        r.rps(),
        ms(r.p50),
        ms(r.p99),
        ms(r.max),
    );
    println!(
        "{} connects: p99 {:.2} ms, slowest {:.2} ms; {} responses not 200; {} failed connections, each replaced",
        r.connects,
        ms(r.connect_p99),
        ms(r.max_connect),
        r.not_ok,
        r.errors
    );
}

/// Draws the trace written by the run, if any, beside it as HTML.
fn write_trace_page(a: &RunArgs) -> Result<(), String> {
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

/// Runs the program; servers run until the process is stopped.
pub fn run(a: &RunArgs) -> Result<(), String> {
    if let Some(p) = goro_examples::pattern(&a.program) {
        return run_pattern(p, a);
    }
    let Some(program) = Program::ALL
        .iter()
        .find(|(name, _, _)| *name == a.program)
        .map(|(_, p, _)| *p)
    else {
        return Err(format!(
            "no program called {:?}; these are:\n{}",
            a.program,
            list()
        ));
    };
    let mut b = builder(a, goro::Runtime::builder().exit_report(false));
    if matches!(program, Program::HttpLoad)
        && a.workers.is_none()
        && std::env::var_os("GORO_WORKERS").is_none()
    {
        // A load generator usually shares the machine with the server it measures: on one
        // worker it costs the server the least CPU (see `--workers`).
        b = b.workers(1);
    }
    let (addr, conns, path, close) = (a.addr.clone(), a.conns, a.path.clone(), a.close);
    let mut cfg = goro_examples::http::Config::default();
    cfg.max_conns = a.max_conns.unwrap_or(cfg.max_conns);
    cfg.header_timeout = a.header_timeout.unwrap_or(cfg.header_timeout);
    cfg.idle_timeout = a.idle_timeout.unwrap_or(cfg.idle_timeout);
    cfg.write_timeout = a.write_timeout.unwrap_or(cfg.write_timeout);
    let secs = Duration::from_secs_f64(a.secs.max(0.01));
    b.run(move || -> Result<(), String> {
        let (ctx, cancel) = Context::background().with_cancel();
        match program {
            Program::HttpServer => {
                // Ctrl-C or SIGTERM: stop accepting, finish the requests in flight, exit 0.
                let sigs = goro::signal::notify(&[Signal::Interrupt, Signal::Terminate])
                    .map_err(|e| format!("cannot watch for signals: {e}"))?;
                let (at, stats) = goro_examples::http::listen_and_serve(&addr, cfg, ctx.clone())
                    .map_err(|e| format!("cannot listen on {addr}: {e}"))?;
                println!("serving http://{at}/ and http://{at}/sleep?ms=100 (Ctrl-C stops)");
                let sig = sigs.recv().map_err(|_| "the signal channel closed")?;
                println!("{sig}: shutting down");
                cancel.cancel();
                if !stats.wait_stopped(Duration::from_secs(30)) {
                    return Err("requests still in flight after 30 s; leaving them".into());
                }
                println!(
                    "stopped: {} requests answered",
                    stats.ok.load(std::sync::atomic::Ordering::SeqCst)
                );
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
                let load = goro_examples::load::Load {
                    close,
                    ..goro_examples::load::Load::new(conns, secs)
                };
                print_load(&goro_examples::load::run_with(target, &path, &load), &load);
            }
        }
        Ok(())
    })
    .map_err(|e| e.to_string())??;
    write_trace_page(a)
}
