//! `goro trace view TRACE.json -o TRACE.html`: draws an execution trace (`GORO_TRACE`) as a
//! self-contained HTML page: one lane per goroutine, a bar for each time it ran (coloured by
//! the worker it ran on, and by how the run ended), a mark for each channel operation
//! (send, receive, close; hover for the channel), an arrow for each wake-up from the
//! goroutine that woke it, labelled with the channel operation that caused it. Wheel to zoom, drag to pan, hover for details. No network.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde_json::Value;

/// One run of a goroutine.
pub(crate) struct Slice {
    pub(crate) g: u64,
    tid: i64,
    pub(crate) ts: f64,
    pub(crate) dur: f64,
    pub(crate) then: String,
    pub(crate) reason: String,
}

impl Slice {
    /// How the run ended: "park (chan receive)", "yield", "exit".
    pub(crate) fn ending(&self) -> String {
        if self.reason.is_empty() {
            self.then.clone()
        } else {
            format!("{} ({})", self.then, self.reason)
        }
    }
}

/// A channel operation a goroutine completed.
pub(crate) struct ChanOp {
    pub(crate) g: u64,
    tid: i64,
    pub(crate) ts: f64,
    pub(crate) op: String,
    pub(crate) ch: String,
}

/// What a worker's track records, in its order: channel operations (by index into `ops`) and
/// the starts of wake-up arrows (by flow id).
enum Mark {
    Op(usize),
    Wake(u64),
}

/// A trace as read: each goroutine's name, its runs, the channel operations, the two ends of
/// each wake-up arrow (by flow id), and each worker's track of operations and wake-ups.
#[derive(Default)]
pub(crate) struct Trace {
    pub(crate) names: BTreeMap<u64, String>,
    pub(crate) slices: Vec<Slice>,
    pub(crate) ops: Vec<ChanOp>,
    /// Timer firings: when, and the goroutine woken (0: a channel timer, sent on).
    pub(crate) timers: Vec<(f64, u64)>,
    flow_start: BTreeMap<u64, (i64, f64)>,
    flow_end: BTreeMap<u64, (i64, f64)>,
    /// Each track's operations and wake-ups in the order the worker recorded them.
    marks: BTreeMap<i64, Vec<Mark>>,
}

impl Trace {
    pub(crate) fn parse(json: &str) -> Result<Trace, String> {
        let v: Value = serde_json::from_str(json).map_err(|e| format!("not a trace: {e}"))?;
        let evs = v["traceEvents"]
            .as_array()
            .ok_or("not a trace: no traceEvents array")?;
        let mut t = Trace::default();
        let mut chan_names: BTreeMap<String, String> = BTreeMap::new();
        for e in evs {
            if e["ph"] == "M" && e["name"] == "chan_name" {
                if let (Some(ch), Some(name)) =
                    (e["args"]["chan"].as_str(), e["args"]["name"].as_str())
                {
                    chan_names.insert(ch.to_string(), name.to_string());
                }
                continue;
            }
            t.add(e);
        }
        // Channels the program named (`goro::chan_named`) show their name.
        for o in &mut t.ops {
            if let Some(n) = chan_names.get(&o.ch) {
                o.ch = format!("{n} ({})", o.ch);
            }
        }
        Ok(t)
    }

    fn add(&mut self, e: &Value) {
        let tid = e["tid"].as_i64().unwrap_or(-1);
        let ts = e["ts"].as_f64().unwrap_or(0.0);
        match (e["ph"].as_str(), e["cat"].as_str()) {
            (Some("X"), Some("goroutine")) => {
                let g = e["args"]["goroutine"].as_u64().unwrap_or(0);
                let name = e["name"].as_str().unwrap_or("");
                self.names.entry(g).or_insert_with(|| name.to_string());
                self.slices.push(Slice {
                    g,
                    tid,
                    ts,
                    dur: e["dur"].as_f64().unwrap_or(0.0),
                    then: e["args"]["then"].as_str().unwrap_or("").to_string(),
                    reason: e["args"]["reason"].as_str().unwrap_or("").to_string(),
                });
            }
            (Some("i"), Some("chan")) => {
                self.marks
                    .entry(tid)
                    .or_default()
                    .push(Mark::Op(self.ops.len()));
                self.ops.push(ChanOp {
                    g: e["args"]["goroutine"].as_u64().unwrap_or(0),
                    tid,
                    ts,
                    op: e["name"].as_str().unwrap_or("").to_string(),
                    ch: e["args"]["chan"].as_str().unwrap_or("").to_string(),
                });
            }
            (Some("i"), Some("timer")) => {
                self.timers
                    .push((ts, e["args"]["arg"].as_u64().unwrap_or(0)));
            }
            (Some("s"), _) => {
                let id = e["id"].as_u64().unwrap_or(0);
                self.marks.entry(tid).or_default().push(Mark::Wake(id));
                self.flow_start.insert(id, (tid, ts));
            }
            (Some("f"), _) => {
                self.flow_end
                    .insert(e["id"].as_u64().unwrap_or(0), (tid, ts));
            }
            _ => {}
        }
    }

    /// The goroutine running on `tid` at `ts` (starting exactly then, if `starting`).
    fn running_at(&self, tid: i64, ts: f64, starting: bool) -> Option<u64> {
        self.slices
            .iter()
            .find(|s| {
                s.tid == tid
                    && if starting {
                        (s.ts - ts).abs() < 0.001
                    } else {
                        s.ts <= ts && ts <= s.ts + s.dur
                    }
            })
            .map(|s| s.g)
    }

    /// The channel operation that made each wake-up: the one its waker recorded just before
    /// it on the same track (a select records its case just after). By order, not by time: a
    /// worker the system paused between the two must not lose the label.
    fn causes(&self) -> BTreeMap<u64, usize> {
        let ops = &self.ops;
        let mut cause_of = BTreeMap::new();
        for track in self.marks.values() {
            for (i, m) in track.iter().enumerate() {
                let Mark::Wake(id) = m else { continue };
                let before = i.checked_sub(1).and_then(|j| match track[j] {
                    Mark::Op(o) if !ops[o].op.starts_with("select") => Some(o),
                    _ => None,
                });
                let after = track.get(i + 1).and_then(|m| match m {
                    Mark::Op(o) if ops[*o].op.starts_with("select") => Some(*o),
                    _ => None,
                });
                if let Some(o) = before.or(after) {
                    cause_of.insert(*id, o);
                }
            }
        }
        cause_of
    }

    /// The page's arrows: `[from lane, to lane, start, end, cause]` for each wake-up whose
    /// woken goroutine is known.
    fn arrows(&self, lane: &BTreeMap<u64, usize>) -> String {
        let cause_of = self.causes();
        let mut arrows = String::new();
        for (id, &(stid, sts)) in &self.flow_start {
            let Some(&(etid, ets)) = self.flow_end.get(id) else {
                continue;
            };
            let Some(to) = self.running_at(etid, ets, true) else {
                continue;
            };
            let from = self.running_at(stid, sts, false);
            let from_lane = from.and_then(|g| lane.get(&g)).map_or(-1i64, |l| *l as i64);
            let cause = cause_of
                .get(id)
                .map(|&o| &self.ops[o])
                .filter(|o| o.tid == stid && from.is_none_or(|g| o.g == g))
                .map_or(String::new(), |o| format!("{} on chan {}", o.op, o.ch));
            let _ = write!(
                arrows,
                "[{from_lane},{},{sts:.3},{ets:.3},\"{cause}\"],",
                lane.get(&to).copied().unwrap_or(0)
            );
        }
        arrows
    }

    /// The page's runs, operations and lane names.
    fn data(&self, lane: &BTreeMap<u64, usize>) -> (String, String, String) {
        let mut data_slices = String::new();
        for s in &self.slices {
            let then = s.ending();
            let _ = write!(
                data_slices,
                "[{},{},{:.3},{:.3},\"{}\"],",
                lane.get(&s.g).copied().unwrap_or(0),
                s.tid,
                s.ts,
                s.dur,
                then
            );
        }
        let mut data_ops = String::new();
        for o in &self.ops {
            // Operations of plain threads (goroutine 0) have no lane.
            let Some(l) = lane.get(&o.g) else { continue };
            let _ = write!(data_ops, "[{l},{:.3},\"{}\",\"{}\"],", o.ts, o.op, o.ch);
        }
        let mut lanes = String::new();
        for (g, name) in &self.names {
            let name = name
                .replace('\\', "\\\\")
                .replace('"', "\\\"")
                .replace('<', "&lt;");
            let _ = write!(lanes, "[{g},\"{name}\"],");
        }
        (data_slices, data_ops, lanes)
    }
}

/// Runs drawn on the timeline at most: a full-size lab run records millions, which no
/// browser draws. Past it, an even sample is drawn (and the page says so).
pub const MAX_RUNS: usize = 20_000;

/// Goroutine lanes drawn on the timeline at most.
pub const MAX_LANES_PAGE: usize = 2_000;

impl Trace {
    /// Keeps one run, channel operation and wake-up in `k`, so that at most `max` runs
    /// remain, and at most [`MAX_LANES_PAGE`] goroutines; returns what the page should say
    /// of it (empty when nothing was left out).
    fn sample(&mut self, max: usize) -> String {
        let k = self.slices.len().max(self.ops.len()).div_ceil(max).max(1);
        if k > 1 {
            // Keeps the first of every `k` items `retain` visits.
            let every_kth = || {
                let mut i = 0usize;
                move || {
                    i += 1;
                    (i - 1) % k == 0
                }
            };
            let mut keep = every_kth();
            self.slices.retain(|_| keep());
            let mut keep = every_kth();
            self.ops.retain(|_| keep());
            // Marks index `ops`: they no longer line up, so arrows lose their causes.
            self.marks.clear();
            let mut keep = every_kth();
            self.flow_start.retain(|_, _| keep());
        }
        // Lanes: at most MAX_LANES_PAGE, the goroutines with runs drawn first.
        if self.names.len() > MAX_LANES_PAGE {
            let ran: std::collections::BTreeSet<u64> = self.slices.iter().map(|s| s.g).collect();
            let kept: std::collections::BTreeSet<u64> =
                ran.into_iter().take(MAX_LANES_PAGE).collect();
            self.names.retain(|g, _| kept.contains(g));
            self.slices.retain(|s| kept.contains(&s.g));
            self.ops.retain(|o| kept.contains(&o.g));
            self.marks.clear();
            return format!("sampled (one run in {k}, the first {MAX_LANES_PAGE} goroutines) ");
        }
        if k > 1 {
            format!("sampled (one run in {k}) ")
        } else {
            String::new()
        }
    }
}

/// Reads a trace and returns the page.
pub fn render(json: &str) -> Result<String, String> {
    let mut t = Trace::parse(json)?;
    let sampled = t.sample(MAX_RUNS);
    let lane: BTreeMap<u64, usize> = t.names.keys().enumerate().map(|(i, g)| (*g, i)).collect();
    let arrows = t.arrows(&lane);
    let (data_slices, data_ops, lanes) = t.data(&lane);
    // The replay tab: the trace's animation, driven by the page's controls. A trace with no
    // goroutine runs has none.
    let tag = crate::trace_anim::input_tag("");
    let replay = crate::trace_anim::render(json, "replay", &tag).unwrap_or_default();
    Ok(PAGE
        .replace("/*SAMPLED*/", &sampled)
        .replace("<!--REPLAY-->", &replay)
        .replace("/*LANES*/", &lanes)
        .replace("/*SLICES*/", &data_slices)
        .replace("/*ARROWS*/", &arrows)
        .replace("/*OPS*/", &data_ops))
}

const PAGE: &str = r##"<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>goro trace</title>
<style>
body { font: 13px sans-serif; margin: 0; background: #fafafa; }
header { padding: 6px 10px; background: #223; color: #eee; }
svg { display: block; cursor: grab; }
.lane-label { font: 11px monospace; fill: #333; }
.slice { stroke: #0003; }
.arrow { stroke: #c33; stroke-width: 1; marker-end: url(#head); opacity: .7; }
.help { padding: 4px 10px; color: #555; }
header button { margin-left: 8px; }
</style></head>
<body>
<header>goro trace: <span id="summary"></span>
<button id="tab-timeline">timeline</button> <button id="tab-replay">replay</button></header>
<div id="timeline"><div class="help">wheel: zoom, drag: pan, hover: details</div>
<svg id="view" xmlns="http://www.w3.org/2000/svg"></svg></div>
<div id="replay" hidden><div class="help">
<button id="play">play</button> <button id="step">next event</button>
<input id="scrub" type="range" min="0" max="1000" value="0" style="width:300px">
speed <select id="speed"><option>0.25</option><option>0.5</option><option selected>1</option><option>2</option><option>4</option></select>
<span id="clock"></span> &mdash; dots: values sent, moving to their receiver; hover: details</div>
<!--REPLAY--></div>
<script>
"use strict";
window.onerror = (m) => { document.body.setAttribute("data-error", String(m)); };
const lanes = [/*LANES*/];
const slices = [/*SLICES*/];
const arrows = [/*ARROWS*/];
const ops = [/*OPS*/];
const opColors = {"send": "#d62", "recv": "#26d", "recv (closed)": "#555", "close": "#000",
  "close (last handle dropped)": "#000",
  "select send": "#d62", "select recv": "#26d"};
const LANE = 22, LEFT = 190, W = Math.max(800, window.innerWidth || 1200);
const colors = ["#4a8", "#48c", "#c84", "#a4c", "#8a4", "#4aa", "#c48", "#888"];
let t0 = Infinity, t1 = -Infinity;
for (const s of slices) { t0 = Math.min(t0, s[2]); t1 = Math.max(t1, s[2] + s[3]); }
if (!isFinite(t0)) { t0 = 0; t1 = 1; }
let lo = t0, hi = t1;
const svg = document.getElementById("view");
svg.setAttribute("width", W);
svg.setAttribute("height", LANE * (lanes.length + 1));
svg.setAttribute("data-lanes", lanes.length);
svg.setAttribute("data-arrows", arrows.length);
svg.setAttribute("data-chan-ops", ops.length);
document.getElementById("summary").textContent = "/*SAMPLED*/" +
  lanes.length + " goroutines, " + slices.length + " runs, " + arrows.length + " wake-ups, " +
  ops.length + " channel operations, " +
  ((t1 - t0) / 1000).toFixed(2) + " ms";
const NS = "http://www.w3.org/2000/svg";
function el(name, attrs, parent) {
  const e = document.createElementNS(NS, name);
  for (const k in attrs) e.setAttribute(k, attrs[k]);
  parent.appendChild(e);
  return e;
}
function x(t) { return LEFT + (t - lo) / (hi - lo) * (W - LEFT - 10); }
function draw() {
  while (svg.firstChild) svg.removeChild(svg.firstChild);
  const defs = el("defs", {}, svg);
  const m = el("marker", {id: "head", markerWidth: 6, markerHeight: 6, refX: 5, refY: 3, orient: "auto"}, defs);
  el("path", {d: "M0,0 L6,3 L0,6 z", fill: "#c33"}, m);
  lanes.forEach((l, i) => {
    const y = LANE * (i + 0.5);
    el("line", {x1: LEFT, x2: W, y1: y + LANE / 2, y2: y + LANE / 2, stroke: "#ddd"}, svg);
    const t = el("text", {x: 4, y: y + 15, class: "lane-label"}, svg);
    t.textContent = l[1].length > 26 ? l[1].slice(0, 25) + "…" : l[1];
  });
  for (const s of slices) {
    const xa = x(s[2]), xb = x(s[2] + s[3]);
    if (xb < LEFT || xa > W) continue;
    const r = el("rect", {class: "slice", x: Math.max(LEFT, xa), y: LANE * (s[0] + 0.5) + 3,
      width: Math.max(1, xb - Math.max(LEFT, xa)), height: LANE - 6,
      fill: colors[(s[1] + 8) % colors.length], "fill-opacity": s[4] === "park" ? 1 : 0.55}, svg);
    const tt = el("title", {}, r);
    tt.textContent = lanes[s[0]][1] + " on worker " + s[1] + ": " + s[3].toFixed(1) +
      " us from " + ((s[2] - t0) / 1000).toFixed(3) + " ms, then " + s[4];
  }
  for (const o of ops) {
    const xo = x(o[1]);
    if (xo < LEFT || xo > W) continue;
    const y = LANE * (o[0] + 0.5);
    const p = el("path", {d: "M" + xo + "," + (y + 1) + " l3,4 l-3,4 l-3,-4 z",
      fill: opColors[o[2]] || "#777"}, svg);
    el("title", {}, p).textContent = lanes[o[0]][1] + ": " + o[2] + " on chan " + o[3] +
      " at " + ((o[1] - t0) / 1000).toFixed(3) + " ms";
  }
  for (const a of arrows) {
    if (a[0] < 0) continue;
    const l = el("line", {class: "arrow", x1: x(a[2]), x2: x(a[3]), y1: LANE * (a[0] + 1), y2: LANE * (a[1] + 1)}, svg);
    el("title", {}, l).textContent = "wake-up of " + lanes[a[1]][1] + (a[4] ? " by " + a[4] : "");
  }
}
svg.addEventListener("wheel", (e) => {
  e.preventDefault();
  const t = lo + (e.offsetX - LEFT) / (W - LEFT - 10) * (hi - lo);
  const f = e.deltaY < 0 ? 0.8 : 1.25;
  lo = t - (t - lo) * f; hi = t + (hi - t) * f; draw();
});
let drag = null;
svg.addEventListener("mousedown", (e) => { drag = {x: e.clientX, lo, hi}; });
window.addEventListener("mouseup", () => { drag = null; });
window.addEventListener("mousemove", (e) => {
  if (!drag) return;
  const dt = (e.clientX - drag.x) / (W - LEFT - 10) * (drag.hi - drag.lo);
  lo = drag.lo - dt; hi = drag.hi - dt; draw();
});
draw();
// The replay: the animation paused, its clock set by the controls.
const rs = document.querySelector("#replay svg");
let T = 0, playing = false, speed = 1, last = null;
const D = rs ? Number(rs.dataset.secs) : 1;
const stops = rs && rs.dataset.events ? rs.dataset.events.split(",").map(Number) : [];
function setT(t) {
  T = Math.max(0, Math.min(D * 0.9999, t));
  if (rs) rs.setCurrentTime(T);
  document.getElementById("scrub").value = Math.round(T / D * 1000);
  document.getElementById("clock").textContent = (T / D * 100).toFixed(0) + "% of the run";
  document.body.setAttribute("data-replay-time", T.toFixed(3));
}
function frame(ts) {
  if (!playing) return;
  if (last !== null) setT((T + (ts - last) / 1000 * speed) % D);
  last = ts;
  requestAnimationFrame(frame);
}
if (rs) { rs.pauseAnimations(); setT(0); }
document.getElementById("play").onclick = () => {
  playing = !playing; last = null;
  document.getElementById("play").textContent = playing ? "pause" : "play";
  if (playing) requestAnimationFrame(frame);
};
document.getElementById("step").onclick = () => {
  const next = stops.find((f) => f * D > T + 1e-3);
  setT(next === undefined ? 0 : next * D + 1e-3);
};
document.getElementById("scrub").oninput = (e) => setT(e.target.value / 1000 * D);
document.getElementById("speed").onchange = (e) => { speed = Number(e.target.value); };
function show(tab) {
  document.getElementById("timeline").hidden = tab !== "timeline";
  document.getElementById("replay").hidden = tab !== "replay";
}
document.getElementById("tab-timeline").onclick = () => show("timeline");
document.getElementById("tab-replay").onclick = () => show("replay");
// `#replay` opens the replay; `#replay@2.5` opens it 2.5 s into the loop (for screenshots).
if (location.hash.startsWith("#replay")) {
  show("replay");
  const at = location.hash.match(/@([0-9.]+)/);
  if (at) setT(Number(at[1]));
}
document.body.setAttribute("data-drawn", "yes");
</script>
</body></html>
"##;
