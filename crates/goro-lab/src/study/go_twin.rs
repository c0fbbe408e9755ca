//! The Go twins of the study's styles: benches/go/study, this project's own Go program with
//! the same definitions, the same styles (sequential, non-expert, expert,
//! divide-and-conquer, blocks) and the same output hash. It is built with `go build` into
//! the workspace's `target/` directory and run with `GOMAXPROCS` set to goro's worker count.
//!
//! `-method warm` builds the real inputs of one problem sequentially, then times each asked
//! style as the warm method does (an untimed run, then the median of `-runs`) and prints a
//! line per style: `STYLE MS HASH GOROUTINES`. `-method process` runs one style once on the
//! paper method's inputs and prints `HASH GOROUTINES`.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::Params;

/// One style's line from the Go twin.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct GoRun {
    pub style: String,
    pub ms: f64,
    pub hash: u64,
    pub goroutines: u64,
}

/// Builds the Go twin; `Ok(None)` when there is no Go toolchain.
pub(super) fn build() -> Result<Option<PathBuf>, String> {
    crate::bench::go_build("./study", "goro-study-go")
}

/// The command line for one problem at `workers`.
fn command(bin: &Path, p: &Params, problem: &str, workers: usize) -> Command {
    let mut cmd = Command::new(bin);
    cmd.env("GOMAXPROCS", workers.to_string())
        .args(["-rows", &p.nrows.to_string(), "-cols", &p.ncols.to_string()])
        .args([
            "-seed",
            &p.seed.to_string(),
            "-percent",
            &p.percent.to_string(),
        ])
        .args(["-nelts", &p.nelts.to_string(), "-problem", problem])
        .args(["-workers", &workers.to_string()]);
    cmd
}

/// The process method's command for one run of `style`.
pub(super) fn process(
    bin: &Path,
    p: &Params,
    problem: &str,
    style: &str,
    workers: usize,
) -> Command {
    let mut cmd = command(bin, p, problem, workers);
    cmd.args(["-method", "process", "-styles", style]);
    cmd
}

/// Parses a `-method warm` line.
fn parse_line(line: &str) -> Option<GoRun> {
    let f: Vec<&str> = line.split_whitespace().collect();
    if f.len() != 4 {
        return None;
    }
    Some(GoRun {
        style: f[0].to_string(),
        ms: f[1].parse().ok()?,
        hash: u64::from_str_radix(f[2], 16).ok()?,
        goroutines: f[3].parse().ok()?,
    })
}

/// Times `styles` on `problem` by the warm method in one Go process.
pub(super) fn warm(
    bin: &Path,
    p: &Params,
    problem: &str,
    styles: &[&str],
    workers: usize,
    runs: usize,
) -> Result<Vec<GoRun>, String> {
    let out = command(bin, p, problem, workers)
        .args(["-method", "warm", "-styles", &styles.join(",")])
        .args(["-runs", &runs.to_string()])
        .output()
        .map_err(|e| format!("cannot run {}: {e}", bin.display()))?;
    let text = String::from_utf8_lossy(&out.stdout);
    let rows: Vec<GoRun> = text.lines().filter_map(parse_line).collect();
    if !out.status.success() || rows.len() != styles.len() {
        return Err(format!(
            "the Go twin failed on {problem}: {text}{}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_go_twin_lines() {
        let r = parse_line("non-expert 12.5 00000000000000ff 2998").unwrap();
        assert_eq!(r.style, "non-expert");
        assert_eq!((r.ms, r.hash, r.goroutines), (12.5, 255, 2998));
        assert!(parse_line("garbage").is_none());
        assert!(parse_line("a b c").is_none());
    }
}
