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
        want.push((s % 100) as u8);
    }
    assert_eq!(problems::randmat_row(0, 12, 666), want);
    // Row 3 starts from seed + 3.
    let s3 = (1_664_525 * (seed + 3) + 1_013_904_223) % (1 << 32);
    assert_eq!(problems::randmat_row(3, 1, 666), vec![(s3 % 100) as u8]);
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
    // 6 problems x (sequential + 5 styles x 2 worker counts).
    assert_eq!(rows.len(), 6 * 11);
    for r in &rows {
        let want = match (r.style.as_str(), r.problem.as_str()) {
            ("divide-and-conquer", "randmat") => Some(60), // one per split of 61 rows
            ("non-expert", "randmat") => Some(2 * 60 + 1), // the root and both halves of each split
            ("expert", "randmat") => Some(r.workers as u64 + 1), // the pool and its feeder
            ("blocks", "randmat") => Some(r.workers as u64),
            ("sequential" | "rayon", _) => Some(0),
            _ => None,
        };
        if let Some(g) = want {
            assert_eq!(r.goroutines, g, "{r:?}");
        }
        assert!(r.lines > 0, "{r:?}");
        assert!(r.speedup > 0.0, "{r:?}");
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
    for style in study::STYLES {
        for p in &problems::PROBLEMS[..5] {
            assert!(study::lines_of(style, "goro", p) >= 3, "{style} {p}");
            if study::GO_STYLES.contains(&style) {
                assert!(study::lines_of(style, "Go", p) >= 3, "{style} in Go, {p}");
            }
        }
    }
    // Go methods are found by name.
    let go = "func (s expert) thresh(m [][]byte) {\n\treturn\n}\n";
    assert_eq!(study::function_lines(go, "thresh"), 3);
    assert!(
        study::helper_lines().iter().all(|h| h.2 > 5),
        "{:?}",
        study::helper_lines()
    );
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
    // A line per parallel style in each of the six panels (goro's alone: no --vs-go).
    assert_eq!(chart.matches("class=\"style\"").count(), 30, "{chart}");
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
    assert_eq!(v["rows"].as_array().unwrap().len(), 6 * 6);
    let _ = std::fs::remove_file(&svg);

    // A saved run is printed and drawn again without measuring.
    let saved = std::env::temp_dir().join(format!("goro-study-{}.json", std::process::id()));
    std::fs::write(&saved, &json.stdout).unwrap();
    let again = Command::new(env!("CARGO_BIN_EXE_goro"))
        .args(["study", "--from"])
        .arg(&saved)
        .arg("--svg")
        .arg(&svg)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&again.stdout);
    assert!(again.status.success(), "{text}");
    assert!(
        text.contains("\nchain\nstyle") && text.contains("non-expert"),
        "{text}"
    );
    assert_eq!(
        std::fs::read_to_string(&svg)
            .unwrap()
            .matches("class=\"style\"")
            .count(),
        30
    );
    std::fs::write(&saved, "{}").unwrap();
    let bad = Command::new(env!("CARGO_BIN_EXE_goro"))
        .args(["study", "--from"])
        .arg(&saved)
        .output()
        .unwrap();
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("not the output of goro study --json"));
    let _ = std::fs::remove_file(&saved);
    let _ = std::fs::remove_file(&svg);

    let bad = Command::new(env!("CARGO_BIN_EXE_goro"))
        .args(["study", "--problems", "nope"])
        .output()
        .unwrap();
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("randmat"));
    let bad = Command::new(env!("CARGO_BIN_EXE_goro"))
        .args(["study", "--styles", "expert,nope"])
        .output()
        .unwrap();
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("non-expert, expert"));
}

/// `goro study` with `--scale`, `--runs 1`, and `args`; its stdout and stderr.
fn study_cmd(args: &[&str], path: Option<&str>) -> (String, String) {
    let svg = std::env::temp_dir().join(format!(
        "goro-study-{}-{}.svg",
        std::process::id(),
        args.len()
    ));
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_goro"));
    cmd.args([
        "study",
        "--scale",
        "0.01",
        "--runs",
        "1",
        "--workers",
        "1,2",
    ])
    .args(args)
    .arg("--svg")
    .arg(&svg);
    if let Some(p) = path {
        cmd.env("PATH", p);
    }
    let out = cmd.output().unwrap();
    let (o, e) = (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    );
    assert!(out.status.success(), "{o}{e}");
    let _ = std::fs::remove_file(&svg);
    (o, e)
}

fn go_available() -> bool {
    Command::new("go")
        .arg("version")
        .output()
        .is_ok_and(|o| o.status.success())
}

#[test]
fn without_go_the_comparison_says_how_to_get_it_and_runs_goro_alone() {
    let (out, err) = study_cmd(&["--vs-go", "--problems", "product"], Some("/nonexistent"));
    assert!(err.contains("apt-get install golang-go"), "{err}");
    assert!(
        out.contains("\nproduct\nstyle") && !out.contains(" Go "),
        "{out}"
    );
}

#[test]
fn the_go_twins_compute_what_goro_computes_by_both_methods() {
    if !go_available() {
        eprintln!("skipped: Go is not on PATH (apt-get install golang-go)");
        return;
    }
    for method in ["warm", "paper"] {
        // The command fails if any Go style's output hash differs from goro's sequential one.
        let (out, _) = study_cmd(&["--vs-go", "--method", method, "--json"], None);
        let v: serde_json::Value = serde_json::from_str(&out).expect("JSON");
        let rows = v["rows"].as_array().unwrap();
        let go: Vec<_> = rows.iter().filter(|r| r["lang"] == "Go").collect();
        // 6 problems x (sequential + 4 styles x 2 worker counts).
        assert_eq!(go.len(), 6 * 9, "{method}");
        for r in &go {
            assert_ne!(r["style"], "rayon");
            assert!(r["ms"].as_f64().unwrap() > 0.0, "{r}");
            assert!(r["lines"].as_u64().unwrap() > 0, "{r}");
        }
        let g = |style: &str| {
            go.iter()
                .find(|r| r["style"] == style && r["problem"] == "randmat" && r["workers"] == 2)
                .map(|r| r["goroutines"].as_u64().unwrap())
        };
        // The twins have the same shapes: 30 rows at this scale.
        assert_eq!(g("non-expert"), Some(2 * 29 + 1), "{method}");
        assert_eq!(g("divide-and-conquer"), Some(29), "{method}");
        assert_eq!(g("expert"), Some(3), "{method}");
    }
}

#[test]
fn the_paper_method_times_whole_processes_and_reports_resident_memory() {
    let (out, _) = study_cmd(&["--method", "paper", "--json"], None);
    let v: serde_json::Value = serde_json::from_str(&out).expect("JSON");
    assert_eq!(v["method"], "paper");
    let rows = v["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 6 * 11);
    for r in rows {
        // A process's peak resident memory: at least the runtime's own pages.
        assert!(r["mem_mb"].as_f64().unwrap() > 1.0, "{r}");
    }
    let (text, _) = study_cmd(&["--method", "paper", "--problems", "winnow"], None);
    assert!(
        text.contains("RSS MB") && text.contains("whole process"),
        "{text}"
    );
}

#[test]
fn the_synthetic_mask_is_the_rule() {
    let m = problems::synthetic::mask(30, 20);
    for (i, row) in m.iter().enumerate() {
        for (j, &on) in row.iter().enumerate() {
            assert_eq!(on, (i * j) % 21 == 1, "({i}, {j})");
        }
    }
    // Every set cell of a row: one per invertible i modulo ncols + 1.
    let set: usize = m.iter().flatten().filter(|&&b| b).count();
    assert!(set > 0 && set < 30, "{set}");
}

#[test]
fn the_output_hash_is_fnv1a_over_the_canonical_bytes() {
    // FNV-1a of the empty input and of one zero byte, the published constants.
    assert_eq!(problems::hash_cells(&[]), 0xcbf2_9ce4_8422_2325);
    assert_eq!(problems::hash_cells(&[vec![0]]), 0xaf63_bd4c_8601_b7df);
    // A mask hashes as the bytes 0 and 1; points as three little-endian u32.
    assert_eq!(
        problems::hash_mask(&[vec![false, true]]),
        problems::hash_cells(&[vec![0, 1]])
    );
    let p = problems::Point {
        value: 1,
        i: 2,
        j: 3,
    };
    assert_eq!(
        problems::hash_points(&[p]),
        problems::hash_cells(&[vec![1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0]])
    );
}
