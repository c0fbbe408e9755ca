//! The study: every style computes what the sequential one does, on every problem, with 1 and
//! 2 workers; randmat follows its rule; the lines of code are counted; the command prints its
//! tables and writes its chart.

use std::process::Command;

use goro_lab::study::{self, problems};

#[test]
fn randmat_first_row_follows_the_rule() {
    // The rule, computed here independently: s = seed + i, s = 1664525 s + 1013904223 mod 2^32.
    let seed: u64 = 666;
    let mut s = seed; // row 0
    let mut want = Vec::new();
    for _ in 0..12 {
        s = (1_664_525 * s + 1_013_904_223) % (1 << 32);
        want.push((s % 100) as u32);
    }
    assert_eq!(problems::randmat_row(0, 12, 666), want);
    // Row 3 starts from seed + 3.
    let s3 = (1_664_525 * (seed + 3) + 1_013_904_223) % (1 << 32);
    assert_eq!(problems::randmat_row(3, 1, 666), vec![(s3 % 100) as u32]);
}

#[test]
fn every_style_agrees_on_every_problem_with_one_and_two_workers() {
    let p = study::Params {
        nrows: 61,
        ncols: 47,
        seed: 666,
        percent: 10,
        nelts: 20,
    };
    let all: Vec<String> = problems::PROBLEMS.iter().map(|s| s.to_string()).collect();
    // `study` checks each output against the sequential one and fails on a difference.
    let rows = study::study(p, &all, &[1, 2], 1).expect("all styles agree");
    // 6 problems x (sequential + 3 styles x 2 worker counts).
    assert_eq!(rows.len(), 6 * 7);
    for r in &rows {
        match r.style.as_str() {
            "divide-and-conquer" if r.problem == "randmat" => {
                assert_eq!(r.goroutines, 60, "one per split of 61 rows")
            }
            "distribute-work" if r.problem == "randmat" => {
                assert_eq!(r.goroutines as usize, r.workers)
            }
            "sequential" | "rayon" => assert_eq!(r.goroutines, 0),
            _ => {}
        }
        assert!(r.lines > 0, "{r:?}");
    }
}

#[test]
fn the_threshold_and_winnow_follow_their_definitions() {
    // 10 cells 0..9 (as values), 20%: count = 2; from 9 down the sum exceeds 2 at 7.
    let mut h = [0u64; 100];
    h[..10].fill(1);
    assert_eq!(problems::threshold(&h, 10, 20), 7);
    let pts: Vec<problems::Point> = (0..10)
        .map(|k| problems::Point {
            value: k,
            i: 0,
            j: k,
        })
        .collect();
    // chunk = 10 / 3 = 3: points 0, 3, 6.
    let picked: Vec<u32> = problems::pick(&pts, 3).iter().map(|p| p.value).collect();
    assert_eq!(picked, vec![0, 3, 6]);
}

#[test]
fn lines_of_code_are_counted_from_the_sources() {
    let src = "fn a() {\n    // a comment\n\n    let x = 1;\n    x\n}\nfn b() {}\n";
    assert_eq!(study::function_lines(src, "a"), 4);
    assert_eq!(study::function_lines(src, "b"), 1);
    assert_eq!(study::function_lines(src, "missing"), 0);
    for style in [
        "sequential",
        "divide-and-conquer",
        "distribute-work",
        "rayon",
    ] {
        for p in &problems::PROBLEMS[..5] {
            assert!(study::lines_of(style, p) >= 3, "{style} {p}");
        }
    }
    // The expert's code is the longer one, as in the paper.
    assert!(
        study::lines_of("distribute-work", "chain")
            > study::lines_of("divide-and-conquer", "chain")
    );
    assert!(study::helper_lines().iter().all(|h| h.2 > 5));
}

#[test]
fn the_command_prints_tables_and_writes_the_chart() {
    let svg = std::env::temp_dir().join(format!("goro-study-{}.svg", std::process::id()));
    let out = Command::new(env!("CARGO_BIN_EXE_goro"))
        .args([
            "study",
            "--size",
            "small",
            "--scale",
            "0.02",
            "--workers",
            "1,2",
            "--runs",
            "1",
            "--svg",
        ])
        .arg(&svg)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for p in problems::PROBLEMS {
        assert!(text.contains(&format!("\n{p}\nstyle")), "{text}");
    }
    assert!(
        text.contains("divide-and-conquer") && text.contains("rayon"),
        "{text}"
    );
    let chart = std::fs::read_to_string(&svg).unwrap();
    // A line per style in each of the six panels.
    assert_eq!(chart.matches("class=\"style\"").count(), 18, "{chart}");
    std::fs::remove_file(&svg).unwrap();

    let json = Command::new(env!("CARGO_BIN_EXE_goro"))
        .args([
            "study",
            "--scale",
            "0.01",
            "--workers",
            "1",
            "--runs",
            "1",
            "--json",
        ])
        .arg("--svg")
        .arg(&svg)
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&json.stdout).expect("JSON");
    assert_eq!(v["rows"].as_array().unwrap().len(), 6 * 4);
    let _ = std::fs::remove_file(&svg);

    let bad = Command::new(env!("CARGO_BIN_EXE_goro"))
        .args(["study", "--problems", "nope"])
        .output()
        .unwrap();
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("randmat"));
}
