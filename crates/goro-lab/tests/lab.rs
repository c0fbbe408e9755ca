//! The lab's workloads give the right answers at small sizes, and its commands keep their
//! output format.

use std::process::Command;

use goro_lab::bench::{parked, scaled, skynet, spawn_wait};

fn on_runtime<T: 'static>(f: impl FnOnce() -> T + 'static) -> T {
    goro::Runtime::builder()
        .workers(2)
        .exit_report(false)
        .run(f)
        .unwrap()
}

#[test]
fn workloads_compute_their_answers() {
    let m = on_runtime(|| spawn_wait(10_000));
    assert_eq!((m.ops, m.result), (10_000, 10_000));
    let m = on_runtime(|| skynet(10_000));
    assert_eq!(m.result, 10_000 * 9_999 / 2);
    assert_eq!(m.ops, 11_111);
    let m = on_runtime(|| parked(10_000));
    assert_eq!(m.result, 10_000);
    assert!(m.bytes_per_op.is_some());
}

#[test]
fn scaled_sizes_stay_powers_of_ten() {
    assert_eq!(scaled(1_000_000, 1.0), 1_000_000);
    assert_eq!(scaled(1_000_000, 0.01), 10_000);
    assert_eq!(scaled(1_000_000, 0.05), 10_000);
    assert_eq!(scaled(1_000_000, 1e-9), 10);
}

fn goro(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_goro"))
        .args(args)
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Every workload of docs/BENCHMARKS.md, in its order.
const WORKLOADS: [&str; 14] = [
    "pingpong",
    "spsc_unbuf",
    "spsc_b100",
    "mpmc4x4_b128",
    "spawn",
    "skynet1M",
    "select2_b64",
    "ring503",
    "sieve5000",
    "parked1M",
    "pool_unbuf",
    "longlived8",
    "hog_latency",
    "nonblock_select_race",
];

#[test]
fn bench_prints_one_line_per_workload_in_the_documented_format() {
    let (ok, out, err) = goro(&["bench", "--runs", "1", "--scale", "0.001"]);
    assert!(ok, "{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), WORKLOADS.len(), "{out}");
    for (line, name) in lines.iter().zip(WORKLOADS) {
        let f: Vec<&str> = line.split_whitespace().collect();
        assert_eq!(f[0], name);
        assert!(
            f[1].parse::<f64>().is_ok() && f[2] == "ns/op" && f[4] == "ms",
            "{line}"
        );
    }
    assert_eq!(
        lines[9].split_whitespace().nth(6),
        Some("B/goroutine"),
        "{}",
        lines[9]
    );
    // The CPU-bound shapes say how far they are from their ideal wall time.
    for line in &lines[10..12] {
        let f: Vec<&str> = line.split_whitespace().collect();
        assert!(
            f[5].ends_with('x')
                && f[5].trim_end_matches('x').parse::<f64>().is_ok()
                && f[6] == "ideal",
            "{line}"
        );
    }
}

#[test]
fn bench_json_and_bad_names() {
    let (ok, out, _) = goro(&[
        "bench", "spawn", "--runs", "1", "--scale", "0.001", "--json",
    ]);
    assert!(ok);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v[0]["name"], "spawn");
    assert!(v[0]["ns_per_op"].as_f64().unwrap() > 0.0);
    let (ok, _, err) = goro(&["bench", "nosuch"]);
    assert!(!ok);
    assert!(
        err.contains("unknown workload") && err.contains("skynet1M"),
        "{err}"
    );
}

#[test]
fn tour_runs_every_stop() {
    let (ok, out, err) = goro(&["tour", "--scale", "0.001"]);
    assert!(ok, "{err}");
    assert!(
        out.contains("[1/26] spawn and join")
            && out.contains("[3/26] skynet")
            && out.contains("[8/26] cancelling a tree of goroutines")
            && out.contains("[10/26] a partial deadlock, found")
            && out.contains("[12/26] one goroutine per connection")
            && out.contains("[13/26] readword: a word from stdin, or a timeout")
            && out.contains("[22/26] divide and conquer versus one worker per core")
            && out.contains("[26/26] SQLite from goroutines"),
        "{out}"
    );
    // Every pattern printed its figure and left nothing running.
    assert_eq!(out.matches("(goro run ").count(), 14, "{out}");
    assert!(!out.contains("!! ") && !out.contains("-> failed"), "{out}");
    assert!(
        out.contains("got \"context deadline exceeded\"") && out.contains("at most 4 ran at once"),
        "{out}"
    );
    assert!(out.contains("armed timers: 0 before, 0 after"), "{out}");
    assert!(
        out.contains("goro-tour-pipeline.json (open it in ui.perfetto.dev"),
        "{out}"
    );
    assert!(
        out.contains("all goroutines are asleep - deadlock!")
            && out.contains("\"alice\" [chan receive"),
        "{out}"
    );
    assert_eq!(
        out.matches("1 goroutine(s) [chan receive (leaked)] created at")
            .count(),
        2,
        "{out}"
    );
    assert!(out.contains("goroutine panicked: on purpose"), "{out}");
    assert!(
        !err.contains("panicked at"),
        "the tour's deliberate panic should not be printed: {err}"
    );
}

/// The tour's readword pattern with stdin given: a word typed in time wins; with stdin open and
/// silent, the timeout wins.
#[test]
fn tour_readword_takes_the_word_or_times_out() {
    use std::io::Write;
    use std::process::Stdio;
    let spawn = || {
        Command::new(env!("CARGO_BIN_EXE_goro"))
            .args(["tour", "--scale", "0.01"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let mut child = spawn();
    child.stdin.take().unwrap().write_all(b"gopher\n").unwrap();
    let out = child.wait_with_output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("received \"gopher\""), "{text}");

    let mut child = spawn();
    let stdin = child.stdin.take(); // open, silent
    let out = child.wait_with_output().unwrap();
    drop(stdin);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("-> timeout after"), "{text}");
}

/// Without Go on PATH, `--vs-go` says how to get it and prints goro's figures alone.
#[test]
fn bench_vs_go_without_go_prints_goro_alone() {
    let empty = std::env::temp_dir().join("goro-lab-test-empty-path");
    std::fs::create_dir_all(&empty).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_goro"))
        .args([
            "bench", "spawn", "--vs-go", "--runs", "1", "--scale", "0.001",
        ])
        .env("PATH", &empty)
        .output()
        .unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("Go is not on PATH")
            && stderr.contains("Install it (on Debian: apt-get install golang-go) and run again."),
        "{stderr}"
    );
    assert!(stdout.starts_with("spawn"), "{stdout}");
}

/// With Go on PATH (skipped without it), `--vs-go` builds the twin and prints one row per
/// workload, with the memory row for parked1M.
#[test]
fn bench_vs_go_prints_the_table() {
    if !Command::new("go")
        .arg("version")
        .output()
        .is_ok_and(|o| o.status.success())
    {
        eprintln!("skipped: no Go toolchain on PATH");
        return;
    }
    let (ok, out, err) = goro(&[
        "bench", "spawn", "parked1M", "--vs-go", "--runs", "1", "--scale", "0.001",
    ]);
    assert!(ok, "{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert!(
        lines[0].starts_with("workload") && lines[0].contains("goro/Go"),
        "{out}"
    );
    assert!(
        lines[1].starts_with("spawn") && lines[2].starts_with("parked1M"),
        "{out}"
    );
    assert!(
        lines[3].contains("resident bytes per parked goroutine"),
        "{out}"
    );
    let ratio: f64 = lines[1].split_whitespace().nth(3).unwrap().parse().unwrap();
    assert!(ratio > 0.0, "{out}");
    // The real-program shapes run in Go too; the CPU-bound ones say how far each side is
    // from the ideal wall time.
    let (ok, out, err) = goro(&[
        "bench",
        "pool_unbuf",
        "nonblock_select_race",
        "--vs-go",
        "--runs",
        "1",
        "--scale",
        "0.01",
    ]);
    assert!(ok, "{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert!(
        lines[1].starts_with("pool_unbuf") && lines[1].contains("of the ideal: goro"),
        "{out}"
    );
    assert!(lines[2].starts_with("nonblock_select_race"), "{out}");
    let (ok, out, err) = goro(&[
        "bench", "spawn", "--vs-go", "--runs", "1", "--scale", "0.001", "--json",
    ]);
    assert!(ok, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v[0]["name"], "spawn");
    assert!(v[0]["go_ns_per_op"].as_f64().unwrap() > 0.0, "{out}");
    assert!(v[0]["ratio"].as_f64().unwrap() > 0.0, "{out}");
    // With --peers, the peers are more columns of the same table.
    let (ok, out, err) = goro(&[
        "bench", "spawn", "--vs-go", "--peers", "--runs", "1", "--scale", "0.001",
    ]);
    assert!(ok, "{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert!(
        lines[0].contains("Go ns/op") && lines[0].contains("tokio ns"),
        "{out}"
    );
    let cols: Vec<&str> = lines[1].split_whitespace().collect();
    assert!(cols[4].parse::<f64>().unwrap() > 0.0 && cols[6].parse::<f64>().unwrap() > 0.0);
}

/// `--peers` prints goro against crossbeam-channel on OS threads and tokio, "-" where a
/// workload has no version for a peer.
#[test]
fn bench_peers_prints_the_table() {
    let (ok, out, err) = goro(&[
        "bench",
        "pingpong",
        "skynet1M",
        "select2_b64",
        "parked1M",
        "--peers",
        "--runs",
        "1",
        "--scale",
        "0.001",
    ]);
    assert!(ok, "{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert!(
        lines[0].contains("crossbeam ns") && lines[0].contains("tokio ns"),
        "{out}"
    );
    let cols = |l: &str| l.split_whitespace().map(str::to_owned).collect::<Vec<_>>();
    let num = |s: &str| {
        s.parse::<f64>()
            .unwrap_or_else(|_| panic!("{s:?} in {out}"))
    };
    // workload, goro, crossbeam, ratio, tokio, ratio
    let pp = cols(lines[1]);
    assert_eq!(pp[0], "pingpong");
    assert!(num(&pp[2]) > 0.0 && num(&pp[4]) > 0.0, "{out}");
    let sk = cols(lines[2]);
    assert_eq!((sk[2].as_str(), sk[3].as_str()), ("-", "-"), "{out}");
    assert!(num(&sk[5]) > 0.0, "{out}");
    let sel = cols(lines[3]);
    assert!(num(&sel[3]) > 0.0 && sel[4] == "-", "{out}");
    assert!(
        lines[4].starts_with("parked1M") && lines[5].contains("resident bytes"),
        "{out}"
    );
}

/// `goro list` names every pattern; `goro run NAME --trace F --svg G` runs one small, writes
/// a trace that parses and its page, and a chart; an unknown name is an error that lists
/// the known ones.
#[test]
fn run_a_pattern_traced_and_drawn() {
    let (ok, out, err) = goro(&["list"]);
    assert!(ok, "{err}");
    for name in [
        "worker-pool",
        "pipeline",
        "fan-out",
        "divide-and-conquer",
        "http-load",
    ] {
        assert!(out.contains(name), "{out}");
    }
    let dir = std::env::temp_dir().join(format!("goro-lab-run-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (trace, svg) = (dir.join("pipeline.json"), dir.join("pipeline.svg"));
    let (ok, out, err) = goro(&[
        "run",
        "pipeline",
        "--scale",
        "0.01",
        "--trace",
        trace.to_str().unwrap(),
        "--svg",
        svg.to_str().unwrap(),
    ]);
    assert!(ok, "{err}");
    assert!(out.contains("pipelined: first record after"), "{out}");
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&trace).unwrap()).unwrap();
    let evs = json["traceEvents"].as_array().unwrap();
    for stage in ["download", "decompress", "split", "parse"] {
        assert!(
            evs.iter()
                .any(|e| e["name"].as_str().is_some_and(|n| n.ends_with(stage))),
            "no slice of {stage}"
        );
    }
    assert!(
        evs.iter().any(|e| e["cat"] == "chan"),
        "no channel operations"
    );
    let page = std::fs::read_to_string(trace.with_extension("html")).unwrap();
    assert!(page.contains("decompress"));
    let chart = std::fs::read_to_string(&svg).unwrap();
    assert_eq!(chart.matches("<rect x=").count(), 4, "{chart}");
    std::fs::remove_dir_all(&dir).unwrap();

    let (ok, _, err) = goro(&["run", "no-such-pattern"]);
    assert!(!ok && err.contains("worker-pool"), "{err}");
}

#[test]
fn server_durations_are_written_with_units() {
    use goro_lab::run::parse_duration;
    use std::time::Duration;
    assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
    assert_eq!(parse_duration("2s"), Ok(Duration::from_secs(2)));
    assert_eq!(parse_duration("1.5s"), Ok(Duration::from_millis(1500)));
    assert_eq!(parse_duration("1m"), Ok(Duration::from_secs(60)));
    assert_eq!(parse_duration("250us"), Ok(Duration::from_micros(250)));
    for bad in ["10", "s", "2 parsecs", "-1s", ""] {
        assert!(parse_duration(bad).is_err(), "{bad:?}");
    }
    // On the command line, a bad one is a clear error before anything starts.
    let (ok, _, err) = goro(&["run", "http-server", "--header-timeout", "10"]);
    assert!(!ok);
    assert!(err.contains("no unit"), "{err}");
}

/// `goro run http-server` shuts down gracefully on SIGTERM: it stops accepting, closes an
/// idle keep-alive connection, lets a request in flight finish (its response says
/// `Connection: close`), and exits 0.
#[test]
fn the_http_server_shuts_down_gracefully_on_sigterm() {
    use std::io::{BufRead, BufReader, Read, Write};
    use std::net::TcpStream;
    use std::process::Stdio;
    use std::time::Duration;

    let mut child = Command::new(env!("CARGO_BIN_EXE_goro"))
        .args(["run", "http-server", "--addr", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    out.read_line(&mut line).unwrap();
    let addr = line
        .strip_prefix("serving http://")
        .and_then(|l| l.split('/').next())
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .to_string();
    let timeout = Some(Duration::from_secs(20));
    // An idle keep-alive connection: one request answered, then nothing.
    let mut idle = TcpStream::connect(&addr).unwrap();
    idle.set_read_timeout(timeout).unwrap();
    idle.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let mut first = [0u8; 12];
    idle.read_exact(&mut first).unwrap();
    assert_eq!(&first, b"HTTP/1.1 200");
    // A request in flight when the signal comes.
    let slow = std::thread::spawn({
        let addr = addr.clone();
        move || {
            let mut c = TcpStream::connect(addr).unwrap();
            c.set_read_timeout(timeout).unwrap();
            c.write_all(b"GET /sleep?ms=500 HTTP/1.1\r\nHost: x\r\n\r\n")
                .unwrap();
            let mut resp = String::new();
            c.read_to_string(&mut resp).unwrap(); // the server closes after it
            resp
        }
    });
    std::thread::sleep(Duration::from_millis(150));
    let pid = i32::try_from(child.id()).unwrap();
    // SAFETY: kill(2) on our own child's pid.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGTERM) }, 0);
    let resp = slow.join().unwrap();
    assert!(resp.starts_with("HTTP/1.1 200"), "{resp}");
    assert!(resp.contains("Connection: close"), "{resp}");
    assert!(resp.ends_with("slept 500 ms\n"), "{resp}");
    // The idle connection was closed rather than left waiting.
    let mut rest = Vec::new();
    let _ = idle.read_to_end(&mut rest);
    let status = child.wait().unwrap();
    let mut text = String::new();
    out.read_to_string(&mut text).unwrap();
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    assert!(status.success(), "{status}: {text}{err}");
    assert!(text.contains("terminated: shutting down"), "{text}");
    assert!(text.contains("stopped: "), "{text}");
    assert!(TcpStream::connect(&addr).is_err(), "still accepting");
}

/// docs/PATTERNS.md shows an animation of each of the ten original patterns; each was made
/// by the current renderer from the current source of its pattern (docs/patterns/animate.sh
/// makes them again).
#[test]
fn the_committed_pattern_animations_are_current() {
    let docs = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs");
    let page = std::fs::read_to_string(docs.join("PATTERNS.md")).unwrap();
    let names = [
        "readword",
        "worker-pool",
        "pipeline",
        "timeout",
        "fan-out",
        "free-list",
        "generator",
        "share-by-communicating",
        "ownership",
        "divide-and-conquer",
    ];
    for name in names {
        let p = goro_examples::pattern(name).unwrap();
        let file = format!("patterns/{name}.anim.svg");
        assert!(
            page.contains(&format!("]({file})")),
            "PATTERNS.md does not show {file}"
        );
        let svg =
            std::fs::read_to_string(docs.join(&file)).unwrap_or_else(|e| panic!("{file}: {e}"));
        let want = format!(
            "data-input=\"{}\"",
            goro_lab::trace_anim::input_tag(p.source)
        );
        assert!(
            svg.contains(&want),
            "{file} is stale: run docs/patterns/animate.sh (its renderer or its pattern changed)"
        );
        assert!(svg.contains("<animate "), "{file} does not move");
        assert!(svg.len() < 200_000, "{file}: {} bytes", svg.len());
    }
}
