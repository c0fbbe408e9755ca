//! Seeing inside: goroutine dumps (Go's `SIGQUIT` dump and `runtime.Stack(all)`), grouped for
//! leak hunting.
//!
//! This folder owns the user-facing side of dumps. A dump is gathered by the workers
//! themselves: the caller posts a request (`Shared::dump_gen`); each worker answers at its
//! next scheduling point, or at once if it sleeps, by walking its own slab of started
//! goroutines on its own thread (nothing reads another thread's goroutines), and adds one
//! [`Goroutine`] record per goroutine. Unstarted goroutines still queued are not listed. A
//! worker that runs one goroutine without yielding cannot answer; after a short wait the dump
//! says which workers are missing.
//!
//! Stacks: a stack can only be walked by code running on it, so the worker answering a dump
//! resumes each of its suspended goroutines once with a capture flag set; the goroutine,
//! still inside the park (or yield) it suspended in, records its return addresses and
//! suspends again without touching its park state (`sched::worker::capture_stack`). The
//! addresses are symbolized afterwards by the caller of the dump, off the workers, and the
//! frames of the park machinery and of the fiber's entry are cut away (`frames`). At most
//! a thousand goroutines per worker get a stack in one dump; one with less than 64 KiB of
//! stack left gets none, so that a dump can never overflow the stack it looks at.
//!
//! Names come from the binary's debug info. With line tables alone (`debug =
//! "line-tables-only"`), an inlined frame has only its bare name (`recv`, not
//! `goro::chan::Receiver::recv`); `debug = "limited"` (this workspace's release profile) adds
//! the full paths; without debug info, inlined frames are missing and the rest have no line.
//!
//! `SIGQUIT` prints the dump of every runtime (`sigquit.rs`; `GORO_SIGQUIT=0` opts out).
//!
//! The same records make the deadlock report (`RunError::Deadlock`) and the list of
//! goroutines still parked when `run` returns.
//!
//! The leak check ([`leaks`]) takes two more looks through the same machinery: one for what
//! each goroutine blocked for ever waits on, one that has every goroutine scan its own stack
//! for those channels' handles; a fixed point over the two finds the goroutines that only
//! each other can wake (see [`leaks`] and docs/DESIGN.md).

mod sigquit;

pub(crate) use sigquit::install_handler as install_sigquit;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt::Write as _;
use std::time::Duration;

use crate::sched::worker;
use crate::wait::reason::WaitReason;

/// One goroutine in a dump.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Goroutine {
    /// Its id (Go's goid).
    pub id: u64,
    /// Its name, if it was given one.
    pub name: Option<String>,
    /// What it waits for; `None` if it is runnable (queued to run again).
    pub reason: Option<WaitReason>,
    /// How long it has waited (to within the monitor's 10-50 ms tick); `None` if runnable.
    pub waited: Option<Duration>,
    /// The address of the channel or primitive it waits on, where recorded: goroutines with
    /// the same address wait on the same thing.
    pub object: Option<usize>,
    /// Where it was spawned (`file:line:column`).
    pub site: String,
    /// The worker it lives on.
    pub worker: usize,
    /// Where it is parked or yielded: the calls on its stack, innermost first, from goro's
    /// blocking operation down to the goroutine's own function. Empty where it was not
    /// recorded (a grouped dump, a goroutine beyond the first thousand of its worker, or one
    /// with too little stack left to walk it safely).
    pub stack: Vec<Frame>,
}

/// One call on a goroutine's stack.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    /// The function, demangled (`my_crate::worker`); `"?"` without symbols.
    pub function: String,
    /// The source file and line, where debug info has them.
    pub location: Option<(String, u32)>,
}

impl Frame {
    fn file_ends(&self, suffixes: &[&str]) -> bool {
        self.location
            .as_ref()
            .is_some_and(|(f, _)| suffixes.iter().any(|s| f.ends_with(s)))
    }

    /// True if the frame's file lies in one of the folders `dirs` (each ending in `/`).
    fn file_in(&self, dirs: &[&str]) -> bool {
        self.location.as_ref().is_some_and(|(f, _)| {
            dirs.iter()
                .any(|d| f.rfind('/').is_some_and(|slash| f[..=slash].ends_with(d)))
        })
    }

    fn named(&self, prefixes: &[&str]) -> bool {
        prefixes.iter().any(|p| self.function.starts_with(p))
    }

    /// The park itself: the frames from the stack walk up to `park_current` or
    /// `yield_current`. (Inlined frames carry short names, so look for the word.)
    fn is_park(&self) -> bool {
        self.function.contains("park_current") || self.function.contains("yield_current")
    }

    /// The fiber's entry: the first frame below the goroutine that is not the goroutine's
    /// (the unwinder goes on into the worker that resumed it).
    fn is_fiber(&self) -> bool {
        self.named(&["goro::stack::", "corosensei::"])
            || self.file_ends(&["src/stack/switch.rs"])
            || self
                .location
                .as_ref()
                .is_some_and(|(f, _)| f.contains("/corosensei-"))
    }

    /// What runs a goroutine's function, just above the fiber: the task wrapper, and for the
    /// main goroutine the runtime's start.
    fn is_task(&self) -> bool {
        self.named(&[
            "<goro::sched::goroutine::",
            "goro::sched::runtime::",
            "goro::sched::worker::",
        ]) || self.file_in(&[
            "src/sched/goroutine/",
            "src/sched/runtime/",
            "src/sched/worker/",
        ])
    }

    /// Frames every parked goroutine has and which say nothing about where it waits: the
    /// park protocol and the panic catcher around the goroutine's function.
    fn is_machinery(&self) -> bool {
        self.named(&[
            "goro::wait::park::",
            "std::panicking::",
            "std::panic::",
            "<core::panic::unwind_safe::",
            "core::ops::function::",
            "<alloc::boxed::Box<",
            "__rust_try",
        ]) || self.file_ends(&[
            "src/wait/park.rs",
            "std/src/panicking.rs",
            "std/src/panic.rs",
            "core/src/panic/unwind_safe.rs",
            "core/src/ops/function.rs",
            "alloc/src/boxed.rs",
        ])
    }
}

/// A function's name without generic arguments: `join<u64>` and `Receiver<T>::recv` become
/// `join` and `Receiver::recv`, as Go prints `runtime.chanrecv`. The arguments would mislead
/// anyway: identical instances are folded into one by the linker, which then answers for all
/// of them with whichever name it kept. A leading `<` (a qualified path, `<X as Trait>::f`)
/// is kept.
fn without_generics(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut depth = 0usize;
    let mut prev: Option<char> = None;
    for c in name.chars() {
        if depth > 0 {
            match c {
                '<' => depth += 1,
                '>' => depth -= 1,
                _ => {}
            }
            continue;
        }
        if c == '<' && prev.is_some_and(|p| p.is_alphanumeric() || p == '_') {
            depth = 1;
            continue;
        }
        out.push(c);
        prev = Some(c);
    }
    out
}

/// The frames of a goroutine's recorded stack, symbolized, without the park machinery above
/// the blocking operation and without the fiber's entry below the goroutine's function.
pub(crate) fn frames(ips: &[usize]) -> Vec<Frame> {
    let mut all = Vec::new();
    for &ip in ips {
        // A frame's address is where its call returns to; the call is the byte before.
        let mut found = false;
        backtrace::resolve(ip.saturating_sub(1) as *mut std::ffi::c_void, |sym| {
            found = true;
            let function = sym
                .name()
                .map_or_else(|| "?".to_string(), |n| without_generics(&format!("{n:#}")));
            let location = sym
                .filename()
                .zip(sym.lineno())
                .map(|(f, l)| (f.display().to_string(), l));
            all.push(Frame { function, location });
        });
        if !found {
            all.push(Frame {
                function: "?".to_string(),
                location: None,
            });
        }
    }
    // Innermost first: the walk, the park (`park_current` or `yield_current`), goro's
    // blocking operation, the goroutine's own calls, its entry, then (the unwinder follows
    // the switch) the worker that resumed it. Keep from the park to the entry.
    let Some(park) = all.iter().rposition(Frame::is_park) else {
        return Vec::new();
    };
    let start = park + 1;
    let mut out: Vec<Frame> = all
        .into_iter()
        .skip(start)
        .take_while(|f| !f.is_fiber())
        .filter(|f| !f.is_machinery())
        .collect();
    while out.last().is_some_and(Frame::is_task) {
        out.pop();
    }
    out
}

impl Goroutine {
    /// The state without the time: what groups share.
    fn state(&self) -> String {
        self.reason
            .map_or_else(|| "runnable".to_string(), |r| r.to_string())
    }

    /// The state with the time waited, as Go prints it once it matters: `chan receive, 2.1s`.
    fn state_and_time(&self) -> String {
        match self.waited {
            Some(w) if w >= Duration::from_millis(100) => {
                format!("{}, {:.1}s", self.state(), w.as_secs_f64())
            }
            _ => self.state(),
        }
    }
}

/// Formats records as Go does: `goroutine 7 "name" [chan receive]:` then where it was created.
pub(crate) fn format(gs: &[Goroutine]) -> String {
    let mut out = String::new();
    for g in gs {
        let name = g
            .name
            .as_ref()
            .map_or(String::new(), |n| format!(" \"{n}\""));
        let on = match (g.object, g.reason) {
            (Some(o), Some(WaitReason::ChanReceive | WaitReason::ChanSend)) => {
                format!("\twaiting on chan {o:#x}\n")
            }
            (Some(o), _) => format!("\twaiting on {o:#x}\n"),
            _ => String::new(),
        };
        let _ = write!(
            out,
            "goroutine {}{name} [{}]:\n{on}",
            g.id,
            g.state_and_time()
        );
        for f in &g.stack {
            let _ = writeln!(out, "{}", f.function);
            if let Some((file, line)) = &f.location {
                let _ = writeln!(out, "\t{file}:{line}");
            }
        }
        let _ = writeln!(out, "\tcreated at {} (worker {})\n", g.site, g.worker);
    }
    out
}

/// Groups records with the same spawn site and state, largest group first: what a leak looks
/// like is many goroutines from one line waiting for the same thing.
pub(crate) fn format_grouped(gs: &[Goroutine]) -> String {
    format_grouped_marking(gs, |_| false)
}

/// [`format_grouped`], with ` (leaked)` after the state of the goroutines `leaked` picks
/// (which group apart from the others).
pub(crate) fn format_grouped_marking(
    gs: &[Goroutine],
    leaked: impl Fn(&Goroutine) -> bool,
) -> String {
    let mut groups: BTreeMap<(String, String), Vec<u64>> = BTreeMap::new();
    for g in gs {
        let mark = if leaked(g) { " (leaked)" } else { "" };
        groups
            .entry((g.site.clone(), format!("{}{mark}", g.state())))
            .or_default()
            .push(g.id);
    }
    let mut groups: Vec<_> = groups.into_iter().collect();
    groups.sort_by(|a, b| b.1.len().cmp(&a.1.len()).then(a.0.cmp(&b.0)));
    let mut out = String::new();
    for ((site, state), ids) in groups {
        let shown: Vec<String> = ids.iter().take(5).map(u64::to_string).collect();
        let more = if ids.len() > 5 { ", ..." } else { "" };
        let _ = writeln!(
            out,
            "{} goroutine(s) [{state}] created at {site} (ids {}{more})",
            ids.len(),
            shown.join(", ")
        );
    }
    out
}

/// Every started goroutine of the calling goroutine's runtime, sorted by id; empty outside a
/// runtime. A goroutine calling this parks briefly so that its own worker can answer.
pub fn goroutines() -> Vec<Goroutine> {
    match worker::current_runtime() {
        Some(rt) => rt.dump(Duration::from_millis(200), true).0,
        None => Vec::new(),
    }
}

/// How many goroutines of the calling goroutine's runtime are alive (spawned and not yet
/// returned, the main one and unstarted ones included): Go's `runtime.NumGoroutine`. Cheap:
/// it sums two counters per worker. 0 outside a runtime. A goroutine is counted until its
/// worker has seen it return, a moment after a `join` on it has already returned.
///
/// # Examples
///
/// ```
/// goro::run(|| {
///     assert_eq!(goro::debug::goroutines_count(), 1);
///     let (tx, rx) = goro::chan::<()>(0);
///     let h = goro::go(move || rx.recv());
///     assert_eq!(goro::debug::goroutines_count(), 2);
///     drop(tx);
///     h.join().unwrap().unwrap_err();
///     while goro::debug::goroutines_count() > 1 {
///         goro::yield_now();
///     }
/// })
/// .unwrap();
/// ```
#[doc(alias = "NumGoroutine")]
pub fn goroutines_count() -> usize {
    worker::with_runtime(|rt| rt.map_or(0, |rt| rt.live()))
}

/// A dump of every goroutine of the calling goroutine's runtime, in Go's shape:
///
/// ```text
/// goroutine 7 "fetcher" [chan receive]:
///     created at src/main.rs:42:5 (worker 1)
/// ```
///
/// # Examples
///
/// ```
/// goro::run(|| {
///     let (_tx, rx) = goro::chan::<u32>(0);
///     let _h = goro::Builder::new().name("waiter").spawn(move || rx.recv()).unwrap();
///     goro::time::sleep(std::time::Duration::from_millis(5));
///     let d = goro::debug::dump();
///     assert!(d.contains("\"waiter\" [chan receive]"), "{d}");
///     assert!(d.contains("\"main\" [runnable]") || d.contains("\"main\" [sleep]"), "{d}");
/// })
/// .unwrap();
/// ```
pub fn dump() -> String {
    format(&goroutines())
}

/// The goroutines grouped by spawn site and state, with counts: for leak hunting.
///
/// # Examples
///
/// ```
/// goro::run(|| {
///     let (_tx, rx) = goro::chan::<u32>(0);
///     for _ in 0..10 {
///         let rx = rx.clone();
///         goro::go(move || rx.recv());
///     }
///     goro::time::sleep(std::time::Duration::from_millis(5));
///     assert!(goro::debug::dump_grouped().starts_with("10 goroutine(s) [chan receive]"));
/// })
/// .unwrap();
/// ```
pub fn dump_grouped() -> String {
    match worker::current_runtime() {
        Some(rt) => format_grouped(&rt.dump(Duration::from_millis(200), false).0),
        None => String::new(),
    }
}

/// Goroutines blocked for ever on channels that no other goroutine can reach: a partial
/// deadlock, found while the rest of the program runs on (the spirit of Go's goroutineleak
/// profile). Empty outside a runtime, when a worker did not answer (one goroutine ran
/// throughout without yielding, so its stack could not be looked at), when a goroutine's
/// stack could not be scanned safely (under 16 KiB of it left), and when every thread of
/// the blocking pool is busy (the check runs on one).
///
/// A goroutine counts as leaked when it waits, without a deadline, in a receive, a send or
/// a `select!` whose every channel can only be completed by goroutines that are leaked too:
/// the handles of the other side (the senders of a receive, the receivers of a send) are on
/// no other goroutine's stack, and the stacks of the other leaked goroutines hold at least
/// as many copies of them as there are such handles. Rust keeps no record of who owns a
/// value, so this is found by looking: two looks at every goroutine, the second scanning
/// each stack for the channels' handles, and only goroutines parked in the same place both
/// times count. With 100,000 goroutines parked it takes about a quarter of a second.
///
/// It is a lead, not a proof, and leans towards missing leaks:
///
/// * a goroutine's own copies never count for its own wait (a stale copy of a sender it gave
///   to a plain thread looks the same as one it holds), so a goroutine waiting on a channel
///   whose sender it holds itself is not named;
/// * handles in heap memory (a `Vec` of senders) are not seen;
/// * a copy that a move left behind on a goroutine that is not blocked (the function that
///   made the channels, while it runs) keeps the channel reachable.
///
/// It can name a goroutine wrongly only when the real holder is out of sight (a plain
/// thread, the heap, another runtime) and another leaked goroutine has a stale copy of the
/// handle. A goroutine blocked on a channel whose other side a goroutine that is not itself
/// blocked on channels holds on its stack is never named.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
///
/// // Two goroutines each waiting for the other: the rest of the program goes on.
/// fn start_cycle() {
///     let (tx_a, rx_a) = goro::chan::<u32>(0);
///     let (tx_b, rx_b) = goro::chan::<u32>(0);
///     goro::go(move || tx_b.send(rx_a.recv().unwrap_or(0)));
///     goro::go(move || tx_a.send(rx_b.recv().unwrap_or(0)));
/// }
///
/// goro::run(|| {
///     start_cycle();
///     // Once both have started and blocked, the check names them.
///     let mut leaked = goro::debug::leaks();
///     for _ in 0..1000 {
///         if leaked.len() == 2 {
///             break;
///         }
///         goro::time::sleep(Duration::from_millis(5));
///         leaked = goro::debug::leaks();
///     }
///     assert_eq!(leaked.len(), 2);
///     assert_eq!(leaked[0].reason, Some(goro::WaitReason::ChanReceive));
/// })
/// .unwrap();
/// ```
pub fn leaks() -> Vec<Goroutine> {
    // Zero the stack below this frame before the check's calls push their frames there:
    // those frames leave some slots unwritten, and what earlier calls left in them (the
    // handles of channels the caller made in a function that has since returned) would
    // count as handles the caller still holds. Only with room to spare: the guard page
    // below must never be touched.
    if worker::stack_left().is_some_and(|left| left > SCRUB + 64 * 1024) {
        crate::stack::zero_below::<SCRUB>();
    }
    // Everything else in a frame of its own, pushed onto the zeroed stack: this one, made
    // before the zeroing, must stay small.
    check_on_pool()
}

#[inline(never)]
fn check_on_pool() -> Vec<Goroutine> {
    let Some(rt) = worker::current_runtime() else {
        return Vec::new();
    };
    // The check runs on a thread of the blocking pool, so that the handles it reads and
    // sorts never pass through the caller's stack, which it scans. With every pool thread
    // busy (calls that may never return) it names nothing rather than wait.
    crate::blocking::try_blocking(move || find_leaks(&rt)).unwrap_or_default()
}

/// How much stack [`leaks`] zeroes below itself.
const SCRUB: usize = 16 * 1024;

fn find_leaks(rt: &crate::sched::runtime::Shared) -> Vec<Goroutine> {
    use crate::sched::runtime::Want;
    let patience = Duration::from_millis(200);
    let (first, missing) = rt.gather(patience, Want::Holdings);
    let mut words: Vec<usize> = first
        .iter()
        .flat_map(|l| l.holds.iter().map(|h| h.word))
        .collect();
    if !missing.is_empty() || words.is_empty() {
        return Vec::new();
    }
    words.sort_unstable();
    words.dedup();
    let (second, missing) = rt.gather(patience, Want::Scan(words.into()));
    if !missing.is_empty() || second.iter().any(|l| l.found.is_none()) {
        return Vec::new();
    }
    let parks: HashMap<u64, u32> = first
        .iter()
        .filter(|l| !l.holds.is_empty())
        .map(|l| (l.g.id, l.parks))
        .collect();
    let looks: Vec<Look> = second
        .into_iter()
        .map(|l| {
            let same = parks.get(&l.g.id) == Some(&l.parks);
            Look {
                blocked: if same { l.holds } else { Vec::new() },
                found: l.found.unwrap_or_default(),
                g: l.g,
            }
        })
        .collect();
    let mut gs = leaked(looks);
    gs.sort_by_key(|g| g.id);
    gs
}

/// Formats what [`leaks`] finds, grouped as in [`dump_grouped`] and marked as Go's
/// goroutineleak profile marks it: `2 goroutine(s) [chan receive (leaked)] created at ...`.
/// Empty when nothing is found.
pub fn leak_report() -> String {
    format_grouped_marking(&leaks(), |_| true)
}

/// One goroutine as the leak check saw it.
struct Look {
    g: Goroutine,
    /// The channels it waits on for ever, in the same park in both looks (else empty).
    blocked: Vec<crate::wait::reason::Holding>,
    /// Handle words on its stack, with how many copies.
    found: Vec<(usize, u32)>,
}

/// The leak check's fixed point (see [`leaks`]). Start from every goroutine blocked for ever
/// and take out, until nothing changes, each one waiting on a channel whose other side (the
/// senders of a receive, the receivers of a send) a goroutine outside the set has a copy of
/// on its stack, or of which the other goroutines of the set hold fewer copies than there
/// are handles (a holder the scan cannot see). What is left is leaked. A goroutine's own
/// copies do not count for its own wait: they may be stale, left by a handle it gave away.
///
/// A worklist, linear in what the looks found: a goroutine taken out puts every word on its
/// stack out of the set's reach for good, so the copies the set holds need not be recounted
/// (a word whose count would drop is reached anyway); only the goroutines waiting on a word
/// newly reached are looked at again.
fn leaked(looks: Vec<Look>) -> Vec<Goroutine> {
    let mut inside: Vec<bool> = looks.iter().map(|l| !l.blocked.is_empty()).collect();
    let mut held: HashMap<usize, u64> = HashMap::new();
    let mut reached: HashSet<usize> = HashSet::new();
    let mut waiting_on: HashMap<usize, Vec<usize>> = HashMap::new();
    for (i, l) in looks.iter().enumerate() {
        for &(w, n) in &l.found {
            if inside[i] {
                *held.entry(w).or_default() += u64::from(n);
            } else {
                reached.insert(w);
            }
        }
        if inside[i] {
            for h in &l.blocked {
                waiting_on.entry(h.word).or_default().push(i);
            }
        }
    }
    let free = |l: &Look, reached: &HashSet<usize>| {
        l.blocked.iter().any(|h| {
            let own = l
                .found
                .iter()
                .find(|f| f.0 == h.word)
                .map_or(0, |f| u64::from(f.1));
            let by_others = held.get(&h.word).copied().unwrap_or(0) - own;
            reached.contains(&h.word) || by_others < h.handles as u64
        })
    };
    let mut check: Vec<usize> = (0..looks.len()).filter(|&i| inside[i]).collect();
    while let Some(i) = check.pop() {
        if !inside[i] || !free(&looks[i], &reached) {
            continue;
        }
        inside[i] = false;
        for &(w, _) in &looks[i].found {
            if reached.insert(w) {
                if let Some(ws) = waiting_on.get(&w) {
                    check.extend(ws.iter().copied().filter(|&j| inside[j]));
                }
            }
        }
    }
    looks
        .into_iter()
        .zip(inside)
        .filter_map(|(l, ins)| ins.then_some(l.g))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::{leaked, without_generics, Goroutine, Look};
    use crate::wait::reason::{Holding, WaitReason};

    /// A goroutine as the leak check sees it: what it waits on (`(word, handles)`) and the
    /// words on its stack (`(word, copies)`).
    fn look(id: u64, blocked: &[(usize, usize)], found: &[(usize, u32)]) -> Look {
        Look {
            g: Goroutine {
                id,
                name: None,
                reason: Some(WaitReason::ChanReceive),
                waited: None,
                object: None,
                site: String::new(),
                worker: 0,
                stack: Vec::new(),
            },
            blocked: blocked
                .iter()
                .map(|&(word, handles)| Holding { word, handles })
                .collect(),
            found: found.to_vec(),
        }
    }

    fn ids(looks: Vec<Look>) -> Vec<u64> {
        leaked(looks).iter().map(|g| g.id).collect()
    }

    #[test]
    fn a_cycle_is_leaked_and_a_holder_outside_frees_it() {
        // 1 waits on A, held by 2; 2 waits on B, held by 1.
        let cycle = || {
            vec![
                look(1, &[(0xA0, 1)], &[(0xB0, 1)]),
                look(2, &[(0xB0, 1)], &[(0xA0, 1)]),
            ]
        };
        assert_eq!(ids(cycle()), [1, 2]);
        // A goroutine that is not blocked has a copy of B: 2 can be woken, so 1 can too.
        let mut freed = cycle();
        freed.push(look(3, &[], &[(0xB0, 1)]));
        assert!(ids(freed).is_empty());
    }

    #[test]
    fn every_handle_must_be_accounted_for_and_own_copies_do_not_count() {
        // A has two senders and the set holds one copy: a holder is out of sight, so 1 is
        // not leaked, and then neither is 2, whose sender 1 holds.
        let short = vec![
            look(1, &[(0xA0, 2)], &[(0xB0, 1)]),
            look(2, &[(0xB0, 1)], &[(0xA0, 1)]),
        ];
        assert!(ids(short).is_empty());
        // A goroutine's own copy of the sender it waits on is not counted.
        assert!(ids(vec![look(1, &[(0xA0, 1)], &[(0xA0, 3)])]).is_empty());
        // A select is leaked only if every one of its channels is.
        let select = |b_held_by_3: bool| {
            let mut v = vec![
                look(1, &[(0xA0, 1), (0xB0, 1)], &[(0xC0, 1)]),
                look(2, &[(0xC0, 1)], &[(0xA0, 1), (0xB0, 1)]),
            ];
            if b_held_by_3 {
                v.push(look(3, &[], &[(0xB0, 1)]));
            }
            v
        };
        assert_eq!(ids(select(false)), [1, 2]);
        assert!(ids(select(true)).is_empty());
    }

    #[test]
    fn a_long_chain_to_a_live_holder_is_freed_to_its_end_and_a_cycle_beside_it_is_not() {
        // Goroutine k waits on word 16k, whose sender goroutine k - 1 holds (it holds word
        // 16(k + 1)); goroutine 0, not blocked, holds word 16. Beside them, 5000 and 5001 wait
        // on each other.
        let mut v: Vec<Look> = (1..=2000)
            .map(|k| look(k, &[(16 * k as usize, 1)], &[(16 * (k as usize + 1), 1)]))
            .collect();
        v.push(look(0, &[], &[(16, 1)]));
        v.push(look(5000, &[(0xA1, 1)], &[(0xB1, 1)]));
        v.push(look(5001, &[(0xB1, 1)], &[(0xA1, 1)]));
        assert_eq!(ids(v), [5000, 5001]);
    }

    #[test]
    fn generic_arguments_are_dropped_and_qualified_paths_kept() {
        assert_eq!(without_generics("join<u64>"), "join");
        assert_eq!(
            without_generics("goro::chan::Receiver<T>::recv"),
            "goro::chan::Receiver::recv"
        );
        assert_eq!(
            without_generics("wait_until<a::{impl#3}::block::{closure_env#0}<Vec<P, G>>>"),
            "wait_until"
        );
        assert_eq!(
            without_generics("<goro::Spawned<F,T> as goro::Task>::run"),
            "<goro::Spawned as goro::Task>::run"
        );
        assert_eq!(without_generics("{closure#0}"), "{closure#0}");
    }
}
