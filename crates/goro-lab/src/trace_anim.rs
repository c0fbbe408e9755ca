//! `goro trace animate TRACE.json -o OUT.svg` (and `goro run NAME --animate OUT.svg`): a
//! small, self-playing animated SVG of a run, made from its real trace.
//!
//! One lane per goroutine, time left to right. Each run of a goroutine is a bar that appears
//! as a cursor sweeps across; each value handed over a channel is a dot that leaves the
//! sending goroutine's lane when it is sent and reaches the receiving goroutine's lane when
//! it is received; a goroutine's start is a triangle, a timer firing a ring (on the lane of
//! the goroutine it wakes, or above the lanes for a channel timer), a close a cross. Parks
//! carry their wait reason in the bar's tooltip.
//!
//! **Hand-offs.** A channel delivers in FIFO order, so the k-th value sent on a channel is
//! the k-th value received from it: sends (`send`, `select send`) and receives (`recv`,
//! `select recv`) of each channel are paired in the order they were recorded.
//!
//! **Time.** Stretches where nothing happens are shortened: each gap between consecutive
//! events counts for at most four times the median gap, so a 1 s sleep does not leave the
//! picture empty. The image says so.
//!
//! **Size.** Past [`MAX_LANES`] goroutines or [`MAX_DOTS`] hand-offs, the first ones are
//! drawn and the image says how many there were. The output depends only on the trace, so
//! an animation committed beside its trace can be checked for being current.
//!
//! The animation is SMIL (`<animate>`, every element on one looping clock): it plays where
//! Markdown shows an SVG as an image, with no script.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::trace_view::Trace;

/// Goroutines drawn at most.
pub const MAX_LANES: usize = 16;
/// Hand-offs drawn at most.
pub const MAX_DOTS: usize = 80;

const LANE: f64 = 26.0;
const LEFT: f64 = 150.0;
const WIDTH: f64 = 760.0;
const TOP: f64 = 34.0;

/// Runs drawn at most; past it, an even sample, and the image says so.
pub const MAX_BARS: usize = 600;

/// This renderer's source: part of what an animation is made from.
const SOURCE: &str = include_str!("trace_anim.rs");

/// A tag for what an animation was made from besides its trace: this renderer, and the
/// program it shows (`program_source`, empty for none). An animation records it, so a test
/// can tell a committed one made by an older renderer or an older program.
pub fn input_tag(program_source: &str) -> String {
    // FNV-1a, 64 bits: stable across builds and platforms.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in SOURCE.bytes().chain(program_source.bytes()) {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{h:016x}")
}

/// A value handed from one goroutine to another: sender, receiver, the two times, the
/// channel.
struct Handoff {
    from: u64,
    to: u64,
    sent: f64,
    received: f64,
    ch: String,
}

/// Pairs each channel's sends with its receives, in order (see the module doc).
fn handoffs(t: &Trace) -> Vec<Handoff> {
    let mut ops: Vec<usize> = (0..t.ops.len()).collect();
    ops.sort_by(|&a, &b| t.ops[a].ts.total_cmp(&t.ops[b].ts));
    let mut sends: BTreeMap<&str, std::collections::VecDeque<usize>> = BTreeMap::new();
    let mut recvs: BTreeMap<&str, std::collections::VecDeque<usize>> = BTreeMap::new();
    for i in ops {
        let o = &t.ops[i];
        match o.op.as_str() {
            "send" | "select send" => sends.entry(&o.ch).or_default().push_back(i),
            "recv" | "select recv" => recvs.entry(&o.ch).or_default().push_back(i),
            _ => {}
        }
    }
    let mut out = Vec::new();
    for (ch, mut s) in sends {
        let Some(r) = recvs.get_mut(ch) else { continue };
        while let (Some(a), Some(b)) = (s.pop_front(), r.pop_front()) {
            let (a, b) = (&t.ops[a], &t.ops[b]);
            out.push(Handoff {
                from: a.g,
                to: b.g,
                sent: a.ts,
                received: b.ts.max(a.ts),
                ch: ch.to_string(),
            });
        }
    }
    out.sort_by(|a, b| a.sent.total_cmp(&b.sent));
    out
}

/// Maps trace time to picture time, shortening idle gaps (see the module doc).
struct Clock {
    times: Vec<f64>,
    acc: Vec<f64>,
    total: f64,
}

impl Clock {
    fn new(mut times: Vec<f64>) -> Clock {
        times.sort_by(f64::total_cmp);
        times.dedup();
        if times.is_empty() {
            times.push(0.0);
        }
        let mut gaps: Vec<f64> = times.windows(2).map(|w| w[1] - w[0]).collect();
        gaps.sort_by(f64::total_cmp);
        let cap = gaps.get(gaps.len() / 2).copied().unwrap_or(1.0).max(1e-3) * 4.0;
        let mut acc = vec![0.0];
        for w in times.windows(2) {
            let last = *acc.last().unwrap_or(&0.0);
            acc.push(last + (w[1] - w[0]).min(cap));
        }
        let total = acc.last().copied().unwrap_or(0.0).max(1e-3);
        Clock { times, acc, total }
    }

    /// Where `t` falls, from 0 to 1.
    fn at(&self, t: f64) -> f64 {
        let i = self.times.partition_point(|&x| x <= t);
        if i == 0 {
            return 0.0;
        }
        let (t0, a0) = (self.times[i - 1], self.acc[i - 1]);
        let extra = match self.times.get(i) {
            Some(&t1) => (t - t0).min(self.acc[i] - a0).min(t1 - t0),
            None => 0.0,
        };
        ((a0 + extra) / self.total).clamp(0.0, 1.0)
    }
}

/// The animation that shows an element from `at` (a fraction of the loop of `secs`) to the
/// end of the loop, at `opacity`.
fn appear(secs: f64, at: f64, opacity: &str) -> String {
    format!(
        r#"<animate attributeName="opacity" dur="{secs}s" repeatCount="indefinite" calcMode="discrete" keyTimes="0;{at:.4};1" values="0;{opacity};{opacity}"/>"#
    )
}

/// XML-escapes `s`.
fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Reads a trace and returns the animated SVG, titled `title`, recording `tag` (see
/// [`input_tag`]).
pub fn render(json: &str, title: &str, tag: &str) -> Result<String, String> {
    let t = Trace::parse(json)?;
    if t.names.is_empty() {
        return Err("the trace has no goroutine runs to animate".into());
    }
    let all = handoffs(&t);
    // The goroutines drawn: the busiest hand-off partners first, in id order.
    let lanes: Vec<u64> = t.names.keys().copied().take(MAX_LANES).collect();
    let lane_of: BTreeMap<u64, usize> = lanes.iter().enumerate().map(|(i, g)| (*g, i)).collect();
    let dots: Vec<&Handoff> = all
        .iter()
        .filter(|h| lane_of.contains_key(&h.from) && lane_of.contains_key(&h.to))
        .take(MAX_DOTS)
        .collect();
    // The stretch of the run shown: all of it, or, when only the first hand-offs are drawn,
    // up to the last of them.
    let end = if all.len() > dots.len() {
        dots.last().map_or(f64::INFINITY, |h| h.received)
    } else {
        f64::INFINITY
    };
    let shown: Vec<&crate::trace_view::Slice> = t
        .slices
        .iter()
        .filter(|s| lane_of.contains_key(&s.g) && s.ts <= end)
        .collect();
    let step = shown.len().div_ceil(MAX_BARS).max(1);
    let bars: Vec<&crate::trace_view::Slice> = shown.iter().step_by(step).copied().collect();
    let mut times: Vec<f64> = Vec::new();
    for s in &bars {
        times.push(s.ts);
        times.push((s.ts + s.dur).min(end));
    }
    for h in &dots {
        times.push(h.sent);
        times.push(h.received);
    }
    let clock = Clock::new(times);
    let secs = (dots.len() as f64 * 0.25).clamp(6.0, 20.0);
    let height = TOP + LANE * lanes.len() as f64 + 30.0;
    let x = |f: f64| LEFT + f * (WIDTH - LEFT - 12.0);
    let y = |lane: usize| TOP + LANE * (lane as f64 + 0.5);

    // The moments something happens, as fractions of the loop: where "step" stops.
    let mut events: Vec<f64> = dots
        .iter()
        .flat_map(|h| [clock.at(h.sent), clock.at(h.received)])
        .collect();
    events.sort_by(f64::total_cmp);
    events.dedup_by(|a, b| (*a - *b).abs() < 1e-4);
    let events: Vec<String> = events.iter().map(|f| format!("{f:.4}")).collect();
    let mut svg = String::new();
    let _ = write!(
        svg,
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" viewBox="0 0 {WIDTH} {height}" font-family="sans-serif" font-size="11" data-lanes="{}" data-dots="{}" data-secs="{secs}" data-events="{}" data-input="{tag}">
<rect width="100%" height="100%" fill="#fcfcfc"/>
<text x="8" y="16" font-size="13" font-weight="bold">{}</text>
<text x="8" y="29" fill="#666">{} goroutines{}, {} values handed over channels{}{}; idle stretches shortened; loops every {secs:.0} s</text>
"##,
        lanes.len(),
        dots.len(),
        events.join(","),
        esc(title),
        t.names.len(),
        if t.names.len() > lanes.len() {
            format!(" (first {} drawn)", lanes.len())
        } else {
            String::new()
        },
        all.len(),
        if all.len() > dots.len() {
            format!(" (first {} drawn)", dots.len())
        } else {
            String::new()
        },
        if step > 1 {
            format!("; one run in {step} drawn")
        } else {
            String::new()
        },
    );
    // Lanes.
    for (i, g) in lanes.iter().enumerate() {
        let name = t.names.get(g).map_or("", String::as_str);
        let label = if name.chars().count() > 22 {
            format!("{}…", name.chars().take(21).collect::<String>())
        } else {
            name.to_string()
        };
        let _ = writeln!(
            svg,
            r##"<line x1="{LEFT}" x2="{}" y1="{y:.1}" y2="{y:.1}" stroke="#ddd"/><text x="6" y="{:.1}" fill="#333">{}</text>"##,
            WIDTH - 8.0,
            y(i) + 4.0,
            esc(&label),
            y = y(i)
        );
    }
    // Runs: bars that appear as the cursor reaches them.
    for s in &bars {
        let l = lane_of[&s.g];
        let (a, b) = (clock.at(s.ts), clock.at((s.ts + s.dur).min(end)));
        let how = s.ending();
        let _ = writeln!(
            svg,
            r##"<rect x="{:.1}" y="{:.1}" width="{:.1}" height="10" fill="#6a9" opacity="0"><title>ran, then {}</title>{}</rect>"##,
            x(a),
            y(l) - 5.0,
            (x(b) - x(a)).max(1.5),
            esc(&how),
            appear(secs, a, "0.85")
        );
    }
    // Starts: a goroutine's first run.
    let mut started = std::collections::BTreeSet::new();
    for s in &shown {
        if started.insert(s.g) {
            let a = clock.at(s.ts);
            let _ = writeln!(
                svg,
                r##"<path d="M{:.1},{:.1} l6,5 l-6,5 z" fill="#284" opacity="0"><title>goroutine {} starts</title>{}</path>"##,
                x(a) - 7.0,
                y(lane_of[&s.g]) - 5.0,
                s.g,
                appear(secs, a, "1")
            );
        }
    }
    // Timers firing: on the lane of the goroutine they wake, or above the lanes for a
    // channel timer (time::after, a Ticker), which sends instead.
    for &(at, g) in t.timers.iter().filter(|(at, _)| *at <= end) {
        let row = match lane_of.get(&g) {
            Some(&l) => y(l) - 9.0,
            None if g == 0 => TOP - 2.0,
            None => continue,
        };
        let a = clock.at(at);
        let _ = writeln!(
            svg,
            r##"<circle cx="{:.1}" cy="{row:.1}" r="3" fill="none" stroke="#36c" opacity="0"><title>a timer fires{}</title>{}</circle>"##,
            x(a),
            if g == 0 {
                String::new()
            } else {
                format!(", waking goroutine {g}")
            },
            appear(secs, a, "1")
        );
    }
    // Closes.
    for o in t
        .ops
        .iter()
        .filter(|o| o.op.starts_with("close") && o.ts <= end)
    {
        let Some(&l) = lane_of.get(&o.g) else {
            continue;
        };
        let a = clock.at(o.ts);
        let _ = writeln!(
            svg,
            r##"<text x="{:.1}" y="{:.1}" fill="#000" font-size="13" opacity="0" text-anchor="middle">×<title>close of chan {}</title>{}</text>"##,
            x(a),
            y(l) + 4.0,
            esc(&o.ch),
            appear(secs, a, "1")
        );
    }
    // Values in flight: a dot from the sender's lane at the send to the receiver's lane at
    // the receive.
    for h in &dots {
        let (a, b) = (
            clock.at(h.sent),
            clock.at(h.received).max(clock.at(h.sent) + 0.004),
        );
        let (fy, ty) = (y(lane_of[&h.from]), y(lane_of[&h.to]));
        let (fx, tx) = (x(a), x(b.min(1.0)));
        let fade = (b + 0.02).min(1.0);
        let b = b.min(0.999);
        // The path it took stays, faint, once it has arrived.
        let _ = writeln!(
            svg,
            r##"<line x1="{fx:.1}" y1="{fy:.1}" x2="{tx:.1}" y2="{ty:.1}" stroke="#d62" stroke-width="1" opacity="0">{}</line>"##,
            appear(secs, b, "0.35")
        );
        let _ = writeln!(
            svg,
            r##"<circle r="4" fill="#d62" opacity="0"><title>a value on chan {}</title><animate attributeName="cx" dur="{secs}s" repeatCount="indefinite" keyTimes="0;{a:.4};{b:.4};1" values="{fx:.1};{fx:.1};{tx:.1};{tx:.1}"/><animate attributeName="cy" dur="{secs}s" repeatCount="indefinite" keyTimes="0;{a:.4};{b:.4};1" values="{fy:.1};{fy:.1};{ty:.1};{ty:.1}"/><animate attributeName="opacity" dur="{secs}s" repeatCount="indefinite" calcMode="discrete" keyTimes="0;{a:.4};{fade:.4};1" values="0;1;{};0"/></circle>"##,
            esc(&h.ch),
            if fade >= 1.0 { "1" } else { "0" },
        );
    }
    // The cursor.
    let _ = writeln!(
        svg,
        r##"<line y1="{TOP}" y2="{:.1}" stroke="#c33" stroke-width="1.5"><animate attributeName="x1" dur="{secs}s" repeatCount="indefinite" values="{l:.1};{r:.1}"/><animate attributeName="x2" dur="{secs}s" repeatCount="indefinite" values="{l:.1};{r:.1}"/></line>
<text x="8" y="{:.1}" fill="#666">bars: runs of each goroutine; ▸: start; dots: values sent, travelling to their receiver; ○: a timer fires; ×: close</text>
</svg>"##,
        height - 26.0,
        height - 8.0,
        l = x(0.0),
        r = x(1.0),
    );
    Ok(svg)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A trace of two goroutines: goroutine 2 sends twice on one channel, goroutine 3
    /// receives both, then the channel is closed.
    fn trace() -> String {
        let ev = |ph: &str, cat: &str, name: &str, ts: f64, args: &str| {
            format!(
                r#"{{"ph":"{ph}","cat":"{cat}","name":"{name}","tid":0,"ts":{ts},"dur":5,"args":{args}}}"#
            )
        };
        let evs = [
            ev(
                "X",
                "goroutine",
                "producer",
                0.0,
                r#"{"goroutine":2,"then":"park","reason":"chan send"}"#,
            ),
            ev(
                "X",
                "goroutine",
                "consumer",
                10.0,
                r#"{"goroutine":3,"then":"park","reason":"chan receive"}"#,
            ),
            ev("i", "chan", "send", 3.0, r#"{"goroutine":2,"chan":"0x10"}"#),
            ev(
                "i",
                "chan",
                "recv",
                12.0,
                r#"{"goroutine":3,"chan":"0x10"}"#,
            ),
            ev(
                "i",
                "chan",
                "send",
                1000003.0,
                r#"{"goroutine":2,"chan":"0x10"}"#,
            ),
            ev(
                "i",
                "chan",
                "recv",
                1000012.0,
                r#"{"goroutine":3,"chan":"0x10"}"#,
            ),
            ev(
                "i",
                "chan",
                "close",
                1000020.0,
                r#"{"goroutine":2,"chan":"0x10"}"#,
            ),
            r#"{"ph":"M","cat":"chan","name":"chan_name","args":{"chan":"0x10","name":"jobs"}}"#
                .to_string(),
            r#"{"ph":"i","cat":"timer","name":"timer","tid":0,"ts":500,"args":{"arg":3}}"#
                .to_string(),
        ];
        format!(r#"{{"traceEvents":[{}]}}"#, evs.join(","))
    }

    #[test]
    fn values_travel_from_their_sender_to_their_receiver() {
        let svg = render(&trace(), "two goroutines", "t").unwrap();
        assert!(svg.contains(r#"data-lanes="2""#) && svg.contains(r#"data-dots="2""#));
        assert_eq!(svg.matches("<circle r=\"4\"").count(), 2);
        // The channel shows the name the program gave it (`goro::chan_named`).
        assert_eq!(svg.matches("a value on chan jobs (0x10)").count(), 2);
        assert!(svg.contains("close of chan jobs (0x10)"));
        assert!(svg.contains(">producer<") && svg.contains(">consumer<"));
        assert!(svg.contains("goroutine 2 starts") && svg.contains("goroutine 3 starts"));
        assert!(svg.contains("a timer fires, waking goroutine 3"));
        // Each dot starts on the producer's lane and ends on the consumer's.
        let (y0, y1) = (TOP + LANE * 0.5, TOP + LANE * 1.5);
        assert!(svg.contains(&format!("values=\"{y0:.1};{y0:.1};{y1:.1};{y1:.1}\"")));
        // The same trace gives the same picture.
        assert_eq!(svg, render(&trace(), "two goroutines", "t").unwrap());
    }

    #[test]
    fn a_long_idle_stretch_is_shortened() {
        let svg = render(&trace(), "t", "t").unwrap();
        // The second hand-off, a second later, still lands well inside the picture.
        let t = Trace::parse(&trace()).unwrap();
        let hs = handoffs(&t);
        let mut times: Vec<f64> = t.slices.iter().flat_map(|s| [s.ts, s.ts + s.dur]).collect();
        times.extend(hs.iter().flat_map(|h| [h.sent, h.received]));
        let c = Clock::new(times);
        assert!(c.at(1000003.0) < 0.9, "{}", c.at(1000003.0));
        assert!(c.at(12.0) > 0.05);
        assert!(svg.contains("idle stretches shortened"));
    }

    #[test]
    fn a_trace_without_runs_is_an_error() {
        assert!(render(r#"{"traceEvents":[]}"#, "t", "t").is_err());
        assert!(render("nope", "t", "t").is_err());
    }
}
