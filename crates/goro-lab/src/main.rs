//! `goro`: the lab. A tour of Go's concurrency patterns running on goro, and the benchmarks
//! that measure goro against Go.
//!
//! ```text
//! goro tour                         walk through the patterns, with measured figures
//! goro bench [NAME...] [--workers N] [--runs K] [--json]
//! goro study [--size small|paper] [--method warm|paper] [--vs-go] [--workers 1,2] [--json]
//! goro list                         name the patterns and servers `goro run` knows
//! goro run NAME [--trace F] [--svg F] [--animate F]   run a pattern, measured (traced, drawn)
//! goro trace view|animate TRACE.json    a trace as a page with its replay, or an animated SVG
//! goro run http-server|echo-server|http-load [--addr A] [--conns N] [--secs S]
//! ```

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// mimalloc, counting allocations when the free-list pattern asks.
#[global_allocator]
static ALLOC: goro_examples::alloc::Counting<goro_lab::alloc::Mimalloc> =
    goro_examples::alloc::Counting(goro_lab::alloc::Mimalloc);

use goro_lab::{bench, run, study, tour, trace_view};

#[derive(Parser, Debug)]
#[command(
    name = "goro",
    version,
    about = "The goro lab: Go's concurrency patterns on goro, run and measured"
)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand, Debug)]
enum Cmd {
    /// Walk through goro's patterns, each with a sentence on what it shows and its measured time.
    Tour {
        /// Workers (OS threads) to run goroutines on; default GORO_WORKERS or one per core.
        #[arg(long)]
        workers: Option<usize>,
        /// Multiply every workload's size by this (for quick checks).
        #[arg(long, default_value_t = 1.0, hide = true)]
        scale: f64,
    },
    /// Run the headline workloads of docs/BENCHMARKS.md (all of them when none is named).
    Bench(bench::BenchArgs),
    /// Run one of the example programs: a pattern (`goro list`), the HTTP or echo server, or
    /// the HTTP load generator.
    Run(run::RunArgs),
    /// Name every program `goro run` knows.
    List,
    /// The Cowichan problems in the study's non-expert and expert Go shapes and three others,
    /// checked, timed and compared with their Go twins.
    Study(study::StudyArgs),
    /// Work with execution traces (`GORO_TRACE=out.json`).
    Trace {
        #[command(subcommand)]
        cmd: TraceCmd,
    },
}

#[derive(Subcommand, Debug)]
enum TraceCmd {
    /// Animate a trace as a self-playing SVG: values travelling between goroutine lanes.
    Animate {
        /// The trace (Chrome Trace Event JSON written by goro).
        trace: std::path::PathBuf,
        /// Where to write the SVG (default: the trace's name with .svg).
        #[arg(short = 'o', long)]
        out: Option<std::path::PathBuf>,
        /// The title drawn at the top.
        #[arg(long, default_value = "goro trace")]
        title: String,
    },
    /// Draw a trace as a self-contained HTML page (lanes per goroutine, arrows per wake-up).
    View {
        /// The trace (Chrome Trace Event JSON written by goro).
        trace: std::path::PathBuf,
        /// Where to write the page (default: the trace's name with .html).
        #[arg(short = 'o', long)]
        out: Option<std::path::PathBuf>,
    },
}

fn trace_view(trace: &std::path::Path, out: Option<std::path::PathBuf>) -> Result<(), String> {
    let json = std::fs::read_to_string(trace)
        .map_err(|e| format!("cannot read {}: {e}", trace.display()))?;
    let page = trace_view::render(&json).map_err(|e| format!("{}: {e}", trace.display()))?;
    let out = out.unwrap_or_else(|| trace.with_extension("html"));
    std::fs::write(&out, page).map_err(|e| format!("cannot write {}: {e}", out.display()))?;
    println!("wrote {}: open it in a browser", out.display());
    Ok(())
}

fn trace_animate(
    trace: &std::path::Path,
    out: Option<std::path::PathBuf>,
    title: &str,
) -> Result<(), String> {
    let json = std::fs::read_to_string(trace)
        .map_err(|e| format!("cannot read {}: {e}", trace.display()))?;
    let tag = goro_lab::trace_anim::input_tag("");
    let svg = goro_lab::trace_anim::render(&json, title, &tag)
        .map_err(|e| format!("{}: {e}", trace.display()))?;
    let out = out.unwrap_or_else(|| trace.with_extension("svg"));
    std::fs::write(&out, svg).map_err(|e| format!("cannot write {}: {e}", out.display()))?;
    println!(
        "wrote {}: open it in a browser, or show it as an image",
        out.display()
    );
    Ok(())
}

fn main() -> ExitCode {
    goro_lab::alloc::configure();
    let cli = Cli::parse();
    let r = match cli.cmd {
        Cmd::Tour { workers, scale } => tour::run(workers, scale),
        Cmd::Bench(args) => bench::run(&args),
        Cmd::Run(args) => run::run(&args),
        Cmd::Study(args) => study::run(&args),
        Cmd::List => {
            print!("{}", run::list());
            Ok(())
        }
        Cmd::Trace {
            cmd: TraceCmd::View { trace, out },
        } => trace_view(&trace, out),
        Cmd::Trace {
            cmd: TraceCmd::Animate { trace, out, title },
        } => trace_animate(&trace, out, &title),
    };
    match r {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("goro: {e}");
            ExitCode::from(2)
        }
    }
}
