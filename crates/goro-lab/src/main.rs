//! `goro`: the lab. A tour of Go's concurrency patterns running on goro, and the benchmarks
//! that measure goro against Go.
//!
//! ```text
//! goro tour                         walk through the patterns, with measured figures
//! goro bench [NAME...] [--workers N] [--runs K] [--json]
//! goro run http-server|echo-server|http-load [--addr A] [--conns N] [--secs S]
//! ```

use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

use goro_lab::{bench, run, tour};

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
    /// Run the headline workloads of shared/BENCH.md (all of them when none is named).
    Bench(bench::BenchArgs),
    /// Run one of the example programs: the HTTP or echo server, or the HTTP load generator.
    Run(run::RunArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let r = match cli.cmd {
        Cmd::Tour { workers, scale } => tour::run(workers, scale),
        Cmd::Bench(args) => bench::run(&args),
        Cmd::Run(args) => run::run(&args),
    };
    match r {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("goro: {e}");
            ExitCode::from(2)
        }
    }
}
