//! What every pattern example shares: its entry in the lab ([`Pattern`]), what a run reports
//! ([`Report`]), and the checks each run makes on itself (no goroutine left behind).

use std::time::{Duration, Instant};

/// One pattern: what the lab lists, runs (`goro run NAME`) and tours.
#[derive(Debug, Clone, Copy)]
pub struct Pattern {
    /// The name `goro run` takes: `worker-pool`.
    pub name: &'static str,
    /// A title for the tour.
    pub title: &'static str,
    /// Two to four sentences: what it is for and what to watch.
    pub what: &'static str,
    /// The source file it lives in (`include_str!`): [`code`](Pattern::code) shows the
    /// region of it marked `tour:begin` .. `tour:end`, so what the tour prints is code that
    /// compiles.
    pub source: &'static str,
    /// Runs it on the calling goroutine at `scale` (1.0: full size; the tour uses less).
    pub run: fn(f64) -> Result<Report, String>,
}

impl Pattern {
    /// The lines of code that matter, shown by the tour: the region of the pattern's source
    /// between a line containing `tour:begin` and one containing `tour:end`, dedented. In a
    /// doc comment (`//! ...`) the comment prefix and doc-test lines hidden with `# ` are
    /// left out. Empty if the source has no such region.
    pub fn code(&self) -> String {
        snippet(self.source)
    }
}

/// The marked region of `source` (see [`Pattern::code`]).
pub fn snippet(source: &str) -> String {
    let mut lines = Vec::new();
    let mut inside = false;
    for line in source.lines() {
        if line.contains("tour:begin") {
            inside = true;
            continue;
        }
        if line.contains("tour:end") {
            break;
        }
        if !inside {
            continue;
        }
        let line = match line.trim_start().strip_prefix("//!") {
            Some(doc) => {
                let doc = doc.strip_prefix(' ').unwrap_or(doc);
                if doc.starts_with("# ") || doc == "#" {
                    continue;
                }
                doc
            }
            None => line,
        };
        lines.push(line);
    }
    let indent = lines
        .iter()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.len() - l.trim_start().len())
        .min()
        .unwrap_or(0);
    lines
        .iter()
        .map(|l| l.get(indent..).unwrap_or("").trim_end())
        .collect::<Vec<_>>()
        .join("\n")
}

/// What a run of a pattern printed and measured.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// What it computed or observed, one line each.
    pub lines: Vec<String>,
    /// The measured figure, in one line.
    pub figure: String,
    /// The figure as labelled values for a bar chart: (label, value), in `unit`.
    pub bars: Vec<(String, f64)>,
    /// The unit of `bars`.
    pub unit: &'static str,
    /// Goroutines of this run still alive at its end (0 unless the pattern leaks).
    pub leaked: usize,
}

/// Waits up to a second for the goroutines the calling one started to finish, and returns how
/// many other goroutines are still alive: the leak check every pattern ends with. Goroutines
/// cancelled a moment ago are given time to return.
pub fn leaked_goroutines(before: usize) -> usize {
    let until = Instant::now() + Duration::from_secs(1);
    loop {
        let alive = goro::debug::goroutines_count();
        if alive <= before || Instant::now() >= until {
            return alive.saturating_sub(before);
        }
        goro::time::sleep(Duration::from_millis(2));
    }
}

/// Runs `f` on a runtime of its own with `workers` workers, on a thread of its own, and
/// waits for it without blocking the calling goroutine's worker: how a pattern compares 1
/// and 2 workers from inside the lab's runtime.
pub fn on_runtime<R: Send + 'static>(
    workers: usize,
    f: impl FnOnce() -> R + Send + 'static,
) -> Result<R, String> {
    let (tx, rx) = goro::chan(1);
    std::thread::Builder::new()
        .name(format!("goro-lab-{workers}w"))
        .spawn(move || {
            let r = goro::Runtime::builder()
                .workers(workers)
                .exit_report(false)
                .hog_warnings(false)
                .run(f)
                .map_err(|e| e.to_string());
            let _ = tx.send(r);
        })
        .map_err(|e| format!("cannot start a runtime thread: {e}"))?;
    rx.recv()
        .map_err(|_| "the runtime thread died".to_string())?
}

/// `n` scaled down, never below `min`.
pub fn scaled(n: usize, scale: f64, min: usize) -> usize {
    ((n as f64 * scale) as usize).max(min)
}

/// Milliseconds, for printing.
pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// The `p`-th percentile (0-100) of sorted durations.
pub fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() - 1) as f64 * p / 100.0).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// A horizontal bar chart of a report's bars as a self-contained SVG.
pub fn svg_bars(title: &str, bars: &[(String, f64)], unit: &str) -> String {
    let max = bars.iter().map(|b| b.1).fold(0.0f64, f64::max).max(1e-12);
    let (w, left, row) = (720.0, 260.0, 26.0);
    let h = 40.0 + row * bars.len() as f64;
    let esc = |s: &str| {
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
    };
    let mut out = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" font-family=\"sans-serif\" font-size=\"12\">\n\
         <rect width=\"100%\" height=\"100%\" fill=\"#fff\"/>\n\
         <text x=\"8\" y=\"20\" font-size=\"14\" font-weight=\"bold\">{}</text>\n",
        esc(title)
    );
    for (i, (label, v)) in bars.iter().enumerate() {
        let y = 32.0 + row * i as f64;
        let bw = (w - left - 110.0) * v / max;
        out.push_str(&format!(
            "<text x=\"8\" y=\"{:.0}\">{}</text>\n<rect x=\"{left}\" y=\"{:.0}\" width=\"{bw:.1}\" height=\"{:.0}\" fill=\"#48c\"/>\n<text x=\"{:.1}\" y=\"{:.0}\">{} {}</text>\n",
            y + 15.0,
            esc(label),
            y + 3.0,
            row - 8.0,
            left + bw + 6.0,
            y + 15.0,
            if *v >= 100.0 { format!("{v:.0}") } else { format!("{v:.2}") },
            esc(unit)
        ));
    }
    out.push_str("</svg>\n");
    out
}
