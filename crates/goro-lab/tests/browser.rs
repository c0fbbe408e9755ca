//! The trace pages and animations in a real browser: headless Chromium opens the replay page
//! of a real run and an animated SVG, and the test checks that frames taken at two times
//! differ, that the page has one lane per goroutine of the trace, and that no script error
//! was raised. Screenshots are kept in target/test-artifacts/. Skipped, saying so, where no
//! Chromium is installed (`apt-get install -y chromium`).

use std::path::{Path, PathBuf};
use std::process::Command;

fn chromium() -> Option<&'static str> {
    ["chromium", "chromium-browser", "google-chrome"]
        .into_iter()
        .find(|c| {
            Command::new(c)
                .arg("--version")
                .output()
                .is_ok_and(|o| o.status.success())
        })
}

fn artifacts() -> PathBuf {
    let d = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/test-artifacts");
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn headless(browser: &str, args: &[&str]) -> std::process::Output {
    Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            "--window-size=800,520",
        ])
        .args(args)
        .output()
        .expect("run chromium")
}

/// A screenshot of `url` into `png`; its bytes.
fn screenshot(browser: &str, url: &str, png: &Path) -> Vec<u8> {
    let arg = format!("--screenshot={}", png.display());
    let out = headless(browser, &[&arg, url]);
    assert!(
        png.exists(),
        "no screenshot of {url}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::read(png).unwrap()
}

/// The page's DOM after its scripts ran.
fn dom(browser: &str, url: &str) -> String {
    let out = headless(browser, &["--dump-dom", url]);
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn attr<'a>(html: &'a str, after: &str, name: &str) -> Option<&'a str> {
    let at = html.find(after)?;
    let rest = &html[at..];
    let k = rest.find(&format!("{name}=\""))? + name.len() + 2;
    rest[k..].split('"').next()
}

#[test]
fn the_replay_page_and_an_animation_move_in_a_browser() {
    let Some(browser) = chromium() else {
        eprintln!("SKIPPED: no Chromium on this machine (apt-get install -y chromium)");
        return;
    };
    let dir = artifacts();
    let goro = env!("CARGO_BIN_EXE_goro");
    let trace = dir.join("pipeline.json");
    let anim = dir.join("pipeline.svg");
    let run = Command::new(goro)
        .args(["run", "pipeline", "--scale", "0.01", "--trace"])
        .arg(&trace)
        .arg("--animate")
        .arg(&anim)
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let page = trace.with_extension("html");
    assert!(page.exists());

    // The trace's goroutines, as the page should draw them.
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&trace).unwrap()).unwrap();
    let mut gs: Vec<u64> = json["traceEvents"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["cat"] == "goroutine")
        .filter_map(|e| e["args"]["goroutine"].as_u64())
        .collect();
    gs.sort();
    gs.dedup();

    let url = format!("file://{}", page.display());
    let html = dom(browser, &format!("{url}#replay@1"));
    let body = html
        .split("<body")
        .nth(1)
        .and_then(|b| b.split('>').next())
        .unwrap_or("");
    assert!(
        body.contains("data-drawn=\"yes\""),
        "the script did not finish: {body}"
    );
    assert!(!body.contains("data-error"), "a script error: {body}");
    assert_eq!(
        attr(&html, "id=\"view\"", "data-lanes"),
        Some(gs.len().to_string().as_str())
    );
    let replay_lanes = attr(&html, "id=\"replay\"", "data-lanes").unwrap();
    assert_eq!(replay_lanes, gs.len().min(16).to_string());
    assert!(
        body.contains("data-replay-time=\"1.000\""),
        "the replay clock was not set: {body}"
    );

    let a = screenshot(
        browser,
        &format!("{url}#replay@1"),
        &dir.join("replay-1s.png"),
    );
    let b = screenshot(
        browser,
        &format!("{url}#replay@4.5"),
        &dir.join("replay-4.5s.png"),
    );
    assert_ne!(a, b, "the replay shows the same frame at 1 s and at 4.5 s");

    // The animated SVG alone: inline in a page that sets its clock.
    let svg = std::fs::read_to_string(&anim).unwrap();
    let mut frames = Vec::new();
    for t in ["1", "4.5"] {
        let wrapper = dir.join(format!("animation-{t}.html"));
        std::fs::write(
            &wrapper,
            format!(
                "<!DOCTYPE html><html><body style=\"margin:0\">{svg}<script>\
                 const s = document.querySelector('svg'); s.pauseAnimations(); s.setCurrentTime({t});\
                 </script></body></html>"
            ),
        )
        .unwrap();
        let png = dir.join(format!("animation-{t}s.png"));
        frames.push(screenshot(
            browser,
            &format!("file://{}", wrapper.display()),
            &png,
        ));
    }
    assert_ne!(
        frames[0], frames[1],
        "the animation shows the same frame at 1 s and 4.5 s"
    );
}
