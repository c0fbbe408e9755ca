//! The study's report: lines of code counted from the sources (goro's and the Go twins'),
//! the tables, and the chart of speed-up against workers with Go beside goro.

use std::fmt::Write as _;

use super::problems::PROBLEMS;
use super::{Method, Params, Row, STYLES};

/// Lines of the function `name` in `src` (Rust `fn name(` or `fn name<`, Go `func name(` or
/// a method `func (r T) name(`), from its signature to its closing brace, without blank
/// lines and comments.
pub fn function_lines(src: &str, name: &str) -> usize {
    let lines: Vec<&str> = src.lines().collect();
    let Some(start) = lines.iter().position(|l| {
        let t = l.trim_start();
        t.starts_with(&format!("fn {name}("))
            || t.starts_with(&format!("fn {name}<"))
            || t.starts_with(&format!("func {name}("))
            || t.starts_with(&format!("func {name}["))
            || (t.starts_with("func (") && t.contains(&format!(") {name}(")))
    }) else {
        return 0;
    };
    let mut depth = 0i64;
    let mut count = 0;
    for l in &lines[start..] {
        let t = l.trim();
        if !t.is_empty() && !t.starts_with("//") {
            count += 1;
        }
        depth += l.matches('{').count() as i64 - l.matches('}').count() as i64;
        if depth == 0 && l.contains('}') {
            break;
        }
    }
    count
}

/// The source of a style in a language, for counting lines.
fn source(style: &str, lang: &str) -> &'static str {
    match (lang, style) {
        ("Go", "sequential") => include_str!("../../../../benches/go/study/problems.go"),
        ("Go", "non-expert") => include_str!("../../../../benches/go/study/nonexpert.go"),
        ("Go", "expert") => include_str!("../../../../benches/go/study/expert.go"),
        ("Go", "divide-and-conquer") => include_str!("../../../../benches/go/study/divide.go"),
        ("Go", "blocks") => include_str!("../../../../benches/go/study/blocks.go"),
        (_, "sequential") => include_str!("problems.rs"),
        (_, "non-expert") => include_str!("non_expert.rs"),
        (_, "expert") => include_str!("expert.rs"),
        (_, "divide-and-conquer") => include_str!("divide.rs"),
        (_, "blocks") => include_str!("blocks.rs"),
        _ => include_str!("rayon_style.rs"),
    }
}

/// Lines of `style`'s code for `problem` in `lang` ("goro" or "Go"; the chain: the five
/// together).
pub fn lines_of(style: &str, lang: &str, problem: &str) -> usize {
    let src = source(style, lang);
    // The sequential style comes after the shared kernels in its file.
    let src = match (lang, style) {
        ("Go", "sequential") => src.split("type sequential struct").nth(1).unwrap_or(src),
        (_, "sequential") => src.split("impl Style for Sequential").nth(1).unwrap_or(src),
        _ => src,
    };
    if problem == "chain" {
        PROBLEMS[..5].iter().map(|p| function_lines(src, p)).sum()
    } else {
        function_lines(src, problem)
    }
}

/// Each style's shared helpers, which its problem functions call: (style, language, lines
/// in all).
pub fn helper_lines() -> Vec<(&'static str, &'static str, usize)> {
    let helpers: [(&str, &[&str], &[&str]); 4] = [
        ("non-expert", &["fan", "spread"], &["fan", "spread"]),
        (
            "expert",
            &["pool", "rows", "merge_runs"],
            &["pool", "rows", "mergeRuns"],
        ),
        ("divide-and-conquer", &["split", "concat"], &["split"]),
        ("blocks", &["blocks"], &["blocks"]),
    ];
    let mut out = Vec::new();
    for (style, rust, go) in helpers {
        for (lang, names) in [("goro", rust), ("Go", go)] {
            let src = source(style, lang);
            let n = names.iter().map(|f| function_lines(src, f)).sum();
            out.push((style, lang, n));
        }
    }
    out
}

/// Where `style` sorts in tables.
fn style_rank(style: &str) -> usize {
    STYLES
        .iter()
        .position(|s| *s == style)
        .unwrap_or(STYLES.len())
}

/// The tables, one per problem.
pub fn tables(p: &Params, method: Method, rows: &[Row]) -> String {
    let mut out = format!(
        "Cowichan problems, {}x{} matrix (seed {}), {}%, {} points; ",
        p.nrows, p.ncols, p.seed, p.percent, p.nelts
    );
    out.push_str(match method {
        Method::Warm => {
            "warm runs in one process on the chain's data (median after an untimed run); \
             heap MB: the most heap a run held beyond what existed before it (goro only)\n"
        }
        Method::Paper => {
            "each run a whole process, the middle problems on synthetic inputs (the paper's \
             method); RSS MB: peak resident memory of the process\n"
        }
    });
    let helpers: Vec<String> = helper_lines()
        .iter()
        .map(|(style, lang, n)| format!("{style} ({lang}) {n}"))
        .collect();
    let _ = writeln!(
        out,
        "lines: the style's function for the problem; the styles' shared helpers add: {}",
        helpers.join(", ")
    );
    let mem = match method {
        Method::Warm => "heap MB",
        Method::Paper => "RSS MB",
    };
    let mut problems: Vec<&str> = Vec::new();
    for r in rows {
        if !problems.contains(&r.problem.as_str()) {
            problems.push(&r.problem);
        }
    }
    for problem in problems {
        let _ = writeln!(
            out,
            "\n{problem}\n{:<19} {:<5} {:>7} {:>9} {:>8} {:>8} {:>9} {:>10} {:>6}",
            "style", "lang", "workers", "ms", "speedup", "goro/Go", mem, "goroutines", "lines"
        );
        let mut rs: Vec<&Row> = rows.iter().filter(|r| r.problem == problem).collect();
        rs.sort_by_key(|r| (r.workers, style_rank(&r.style), r.lang != "goro"));
        for r in &rs {
            let ratio = if r.lang == "goro" {
                rs.iter()
                    .find(|g| g.lang == "Go" && g.style == r.style && g.workers == r.workers)
                    .map_or(String::new(), |g| format!("{:.2}", r.ms / g.ms))
            } else {
                String::new()
            };
            let mem = if r.mem_mb > 0.0 {
                format!("{:.1}", r.mem_mb)
            } else {
                "-".into()
            };
            let _ = writeln!(
                out,
                "{:<19} {:<5} {:>7} {:>9.1} {:>8.2} {:>8} {:>9} {:>10} {:>6}",
                r.style, r.lang, r.workers, r.ms, r.speedup, ratio, mem, r.goroutines, r.lines
            );
        }
    }
    out
}

/// The styles [`chart`] draws, and their colours.
const DRAWN: [&str; 5] = [
    "non-expert",
    "expert",
    "divide-and-conquer",
    "blocks",
    "rayon",
];
const COLORS: [&str; 5] = ["#c84", "#48c", "#a5a", "#4a8", "#777"];

/// A chart of speed-up against workers: a panel per problem, a line per style and language
/// (goro solid, Go dashed), all over goro's sequential time for the problem, so that the
/// lines compare absolute speed across languages, not only each language's scaling.
pub fn chart(rows: &[Row]) -> String {
    let mut problems: Vec<&str> = Vec::new();
    for r in rows {
        if !problems.contains(&r.problem.as_str()) {
            problems.push(&r.problem);
        }
    }
    let rows: Vec<Row> = rows
        .iter()
        .map(|r| {
            let base = rows
                .iter()
                .find(|b| b.problem == r.problem && b.lang == "goro" && b.style == "sequential");
            Row {
                speedup: base.map_or(r.speedup, |b| b.ms / r.ms.max(1e-6)),
                ..r.clone()
            }
        })
        .collect();
    let rows = &rows[..];
    let max_w = rows.iter().map(|r| r.workers).max().unwrap_or(1).max(2) as f64;
    let max_s = rows.iter().map(|r| r.speedup).fold(max_w, f64::max).ceil();
    let (pw, ph, cols) = (300.0, 220.0, 3usize);
    let rows_n = problems.len().div_ceil(cols);
    let (w, h) = (pw * cols as f64, ph * rows_n as f64 + 58.0);
    let mut out = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" font-family=\"sans-serif\" font-size=\"11\">\n<rect width=\"100%\" height=\"100%\" fill=\"#fff\"/>\n"
    );
    for (k, (s, c)) in DRAWN.iter().zip(COLORS).enumerate() {
        let _ = writeln!(
            out,
            "<rect x=\"{}\" y=\"8\" width=\"12\" height=\"12\" fill=\"{c}\"/><text x=\"{}\" y=\"18\">{s}</text>",
            10.0 + 150.0 * k as f64,
            26.0 + 150.0 * k as f64
        );
    }
    let _ = writeln!(
        out,
        "<text x=\"10\" y=\"38\">speed-up over goro's sequential time against workers (Go's lines too, so height is absolute speed); solid: goro, dashed: Go; grey dashed: ideal</text>"
    );
    for (i, problem) in problems.iter().enumerate() {
        let origin = (pw * (i % cols) as f64, 58.0 + ph * (i / cols) as f64);
        panel(&mut out, rows, problem, origin, (pw, ph), (max_w, max_s));
    }
    out.push_str("</svg>\n");
    out
}

/// One problem's panel of [`chart`] at `origin`, `size` big: axes, the ideal, and a line per
/// style and language; `scale` is the largest worker count and speed-up, shared by every
/// panel.
fn panel(
    out: &mut String,
    rows: &[Row],
    problem: &str,
    (ox, oy): (f64, f64),
    (pw, ph): (f64, f64),
    (max_w, max_s): (f64, f64),
) {
    let (x0, y0, x1, y1) = (ox + 40.0, oy + ph - 30.0, ox + pw - 15.0, oy + 20.0);
    let x = |wk: f64| x0 + (wk - 1.0) / (max_w - 1.0).max(1.0) * (x1 - x0);
    let y = |s: f64| y0 - s / max_s * (y0 - y1);
    let _ = writeln!(
        out,
        "<text x=\"{}\" y=\"{}\" font-weight=\"bold\">{problem}</text>\n<line x1=\"{x0}\" y1=\"{y0}\" x2=\"{x1}\" y2=\"{y0}\" stroke=\"#999\"/>\n<line x1=\"{x0}\" y1=\"{y0}\" x2=\"{x0}\" y2=\"{y1}\" stroke=\"#999\"/>\n<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"#bbb\" stroke-dasharray=\"4 3\"/>",
        ox + 40.0,
        oy + 14.0,
        x(1.0),
        y(1.0),
        x(max_w),
        y(max_w)
    );
    for t in 0..=max_s as usize {
        let _ = writeln!(
            out,
            "<text x=\"{}\" y=\"{:.1}\" text-anchor=\"end\">{t}</text>",
            x0 - 4.0,
            y(t as f64) + 4.0
        );
    }
    let mut ws: Vec<usize> = rows.iter().map(|r| r.workers).collect();
    ws.sort_unstable();
    ws.dedup();
    for wk in &ws {
        let _ = writeln!(
            out,
            "<text x=\"{:.1}\" y=\"{}\" text-anchor=\"middle\">{wk}</text>",
            x(*wk as f64),
            y0 + 14.0
        );
    }
    for (s, c) in DRAWN.iter().zip(COLORS) {
        for (lang, dash) in [("goro", ""), ("Go", " stroke-dasharray=\"5 3\"")] {
            let mut pts: Vec<(f64, f64)> = rows
                .iter()
                .filter(|r| r.problem == *problem && r.style == *s && r.lang == lang)
                .map(|r| (x(r.workers as f64), y(r.speedup)))
                .collect();
            if pts.is_empty() {
                continue;
            }
            pts.sort_by(|a, b| a.0.total_cmp(&b.0));
            let path: Vec<String> = pts.iter().map(|(a, b)| format!("{a:.1},{b:.1}")).collect();
            let _ = writeln!(
                out,
                "<polyline class=\"style\" data-lang=\"{lang}\" points=\"{}\" fill=\"none\" stroke=\"{c}\" stroke-width=\"2\"{dash}/>",
                path.join(" ")
            );
            for (a, b) in pts {
                let _ = writeln!(
                    out,
                    "<circle cx=\"{a:.1}\" cy=\"{b:.1}\" r=\"3\" fill=\"{c}\"/>"
                );
            }
        }
    }
}
