//! `goro trace view`: the page drawn from the trace of a known program has the lanes and
//! arrows it should, and loads in a headless browser without errors (when Chromium is
//! installed: Debian's `chromium`; otherwise that part is skipped with a note).

use std::path::PathBuf;
use std::process::Command;

fn artifacts() -> PathBuf {
    let d = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/test-artifacts");
    std::fs::create_dir_all(&d).expect("artifacts directory");
    d
}

/// A ping-pong of five values between main and "pong", on one worker, traced.
fn known_trace() -> String {
    let path = artifacts().join("pingpong-trace.json");
    goro::Runtime::builder()
        .workers(1)
        .exit_report(false)
        .trace(&path)
        .run(|| {
            let (ping_tx, ping_rx) = goro::chan::<u32>(0);
            let (pong_tx, pong_rx) = goro::chan::<u32>(0);
            let pong = goro::Builder::new()
                .name("pong")
                .spawn(move || {
                    for v in &ping_rx {
                        pong_tx.send(v).unwrap();
                    }
                })
                .unwrap();
            for i in 0..5 {
                ping_tx.send(i).unwrap();
                pong_rx.recv().unwrap();
            }
            drop(ping_tx);
            pong.join().unwrap();
        })
        .unwrap();
    std::fs::read_to_string(path).unwrap()
}

fn chromium() -> Option<&'static str> {
    ["chromium", "chromium-browser", "google-chrome"]
        .into_iter()
        .find(|b| {
            Command::new(b)
                .arg("--version")
                .output()
                .is_ok_and(|o| o.status.success())
        })
}

#[test]
fn the_page_draws_one_lane_per_goroutine_and_an_arrow_per_wake_up() {
    let page = goro_lab::trace_view::render(&known_trace()).unwrap();
    let html = artifacts().join("pingpong-trace.html");
    std::fs::write(&html, &page).unwrap();
    assert!(page.contains("goroutine") && page.contains("pong"));
    assert!(
        !page.contains("<script src"),
        "the page must not load anything"
    );

    let Some(browser) = chromium() else {
        eprintln!(
            "note: no chromium on PATH; the page was written to {} but not loaded",
            html.display()
        );
        return;
    };
    let url = format!("file://{}", html.canonicalize().unwrap().display());
    let out = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--dump-dom",
            &url,
        ])
        .output()
        .expect("run chromium");
    let dom = String::from_utf8_lossy(&out.stdout);
    assert!(
        dom.contains("data-drawn=\"yes\""),
        "the script did not finish: {dom}"
    );
    assert!(!dom.contains("data-error=\""), "a script error: {dom}");
    assert!(dom.contains("data-lanes=\"2\""), "main and pong: {dom}");
    let arrows = dom.matches("class=\"arrow\"").count();
    // Ten hand-offs (each send wakes the other side), and the join.
    assert!(arrows >= 10, "{arrows} arrows drawn");
    // Five sends and five receives each way, the receive that finds ping closed,
    // and the two closes when the last senders are dropped.
    assert!(
        dom.contains("data-chan-ops=\"23\""),
        "channel operations: {dom}"
    );
    // On one worker each side parks in its send until the other receives: every hand-off
    // arrow is a receive waking a parked sender, and says so.
    let by = |what: &str| dom.matches(what).count();
    assert_eq!(
        by("wake-up of goroutine 2 pong by recv on chan 0x"),
        5,
        "{dom}"
    );
    assert_eq!(
        by("wake-up of goroutine 1 main by recv on chan 0x"),
        5,
        "{dom}"
    );
    let shot = artifacts().join("pingpong-trace.png");
    let _ = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--window-size=1200,200",
        ])
        .arg(format!("--screenshot={}", shot.display()))
        .arg(&url)
        .output();
    assert!(shot.exists(), "no screenshot at {}", shot.display());
}

/// A trace of a full-size run (millions of runs) draws a sample that a browser can show,
/// and says so.
#[test]
fn a_huge_trace_is_sampled_and_says_so() {
    let mut evs = Vec::new();
    for i in 0..60_000u64 {
        let g = 1 + i % 3_000;
        evs.push(format!(
            r#"{{"ph":"X","cat":"goroutine","name":"g{g}","tid":0,"ts":{i},"dur":0.5,"args":{{"goroutine":{g},"then":"park","reason":"chan receive"}}}}"#
        ));
    }
    let json = format!(r#"{{"traceEvents":[{}]}}"#, evs.join(","));
    let page = goro_lab::trace_view::render(&json).unwrap();
    assert!(page.contains("sampled (one run in 3, the first 2000 goroutines)"));
    let runs = page.matches("\"park (chan receive)\"],").count();
    assert!(runs <= goro_lab::trace_view::MAX_RUNS, "{runs} runs drawn");
    assert!(page.len() < 2_000_000, "{} bytes", page.len());
}
