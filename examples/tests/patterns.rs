//! Every pattern example at small sizes: its outputs are checked, not just that it ran, and
//! none leaves a goroutine behind.

use std::time::Duration;

use goro_examples::*;

mod common;

use common::on;

#[test]
fn every_pattern_runs_small_and_leaves_no_goroutine() {
    on(2, || {
        for p in PATTERNS.iter().filter(|p| p.name != "readword") {
            let r = (p.run)(0.02).unwrap_or_else(|e| panic!("{}: {e}", p.name));
            assert_eq!(r.leaked, 0, "{}: goroutines left behind", p.name);
            assert!(!r.figure.is_empty(), "{}: no figure", p.name);
            assert!(!r.bars.is_empty(), "{}: nothing to draw", p.name);
            let svg = pattern::svg_bars(p.title, &r.bars, r.unit);
            assert_eq!(svg.matches("<rect x=").count(), r.bars.len(), "{}", p.name);
        }
    });
}

#[test]
fn the_tour_shows_lines_of_each_patterns_own_source() {
    // What the tour prints is cut from the file that `goro run` runs: every shown line is a
    // line of that file (less its indent, or its doc-comment prefix), so the code compiles.
    for p in PATTERNS {
        let code = p.code();
        assert!(code.lines().count() >= 2, "{}: no marked region", p.name);
        assert!(!code.contains("tour:"), "{}: {code}", p.name);
        for line in code.lines().filter(|l| !l.trim().is_empty()) {
            assert!(
                p.source
                    .lines()
                    .any(|s| s.trim_end().ends_with(line.trim_start())
                        && s.trim_start().trim_start_matches("//!").trim() == line.trim()),
                "{}: {line:?} is not a line of its source",
                p.name
            );
        }
    }
}

#[test]
fn a_snippet_is_dedented_and_leaves_doc_prefixes_and_hidden_lines_out() {
    let src = "fn f() {\n    // tour:begin\n    let a = 1;\n        a + 1\n    // tour:end\n}\n";
    assert_eq!(pattern::snippet(src), "let a = 1;\n    a + 1");
    let doc =
        "//! ```\n//! # // tour:begin\n//! # let hidden = 0;\n//! shown();\n//! # // tour:end\n";
    assert_eq!(pattern::snippet(doc), "shown();");
}

#[test]
fn the_names_are_unique_and_found() {
    for p in PATTERNS {
        assert!(std::ptr::eq(pattern(p.name).unwrap(), p));
        assert!(p.what.len() > 40);
    }
    assert!(pattern("no-such").is_none());
    assert_eq!(pattern("iterator").unwrap().name, "generator");
}

#[test]
fn readword_takes_the_word_the_end_or_the_timeout_and_leaves_nothing() {
    on(2, || {
        let before = goro::debug::goroutines_count();
        let pipe = || {
            let mut fds = [0; 2];
            // SAFETY: pipe writes two descriptors into the array.
            assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
            (fds[0], fds[1])
        };
        let write = |fd: i32, s: &str| {
            // SAFETY: writes `s` from valid memory to a descriptor we own.
            unsafe { libc::write(fd, s.as_ptr().cast(), s.len()) };
        };
        let close = |fd: i32| {
            // SAFETY: closes a descriptor we own, once.
            unsafe { libc::close(fd) };
        };

        let (r, w) = pipe();
        write(w, "  hello world\n");
        let (o, _) = readword::readword(r, Duration::from_secs(5));
        assert_eq!(o, readword::Outcome::Word("hello".into()));
        close(w);
        close(r);

        let (r, w) = pipe();
        close(w);
        let (o, _) = readword::readword(r, Duration::from_secs(5));
        assert_eq!(o, readword::Outcome::NoWord);
        close(r);

        // Nothing typed: the timer wins, and the reader returns once cancelled.
        let (r, w) = pipe();
        let (o, took) = readword::readword(r, Duration::from_millis(50));
        assert_eq!(o, readword::Outcome::Timeout);
        assert!(took >= Duration::from_millis(50));
        assert_eq!(pattern::leaked_goroutines(before), 0);
        close(w);
        close(r);
    });
}

#[test]
fn a_worker_pool_runs_every_job_once_with_any_number_of_workers() {
    on(2, || {
        for job in [
            worker_pool::Job::Cpu { iters: 100 },
            worker_pool::Job::Sleep(Duration::from_micros(100)),
        ] {
            let want = worker_pool::expected(300, job);
            for workers in [1, 3, 8] {
                let (sum, _) = worker_pool::pool(300, workers, job);
                assert_eq!(sum, want, "{job:?}, {workers} workers");
            }
        }
    });
}

#[test]
fn the_pipeline_computes_what_the_sequential_steps_do_and_stops_on_cancel() {
    on(2, || {
        let before = goro::debug::goroutines_count();
        let path = goro::blocking(|| pipeline::data_file(3000, 9)).unwrap();
        let bytes = std::fs::read(path).unwrap();
        let (ctx, stop) = goro::context::Context::background().with_cancel();
        let addr = pipeline::serve_file(bytes, 20e6, &ctx).unwrap();
        let seq = pipeline::sequential(addr);
        let pipe = pipeline::pipelined(addr, None);
        assert_eq!(seq.totals.records, 3000);
        assert_eq!(seq.totals, pipe.totals);
        assert!(pipe.first <= pipe.total);
        let part = pipeline::pipelined(addr, Some(100));
        assert!(part.totals.records >= 100 && part.totals.records < 3000);
        stop.cancel();
        assert_eq!(pattern::leaked_goroutines(before), 0);
    });
}

#[test]
fn each_timeout_returns_at_the_limit_and_the_call_ends() {
    on(2, || {
        let before = goro::debug::goroutines_count();
        let (limit, work) = (Duration::from_millis(20), Duration::from_millis(60));
        let out = timeout::three_ways(limit, work);
        assert_eq!(out.len(), 3);
        for o in &out {
            assert!(o.returned >= limit && o.returned < work, "{o:?}");
        }
        // The context's call stopped at the deadline; the others ran to the end.
        assert!(out[1].ended < work, "{:?}", out[1]);
        assert!(out[0].ended >= work && out[2].ended >= work, "{out:?}");
        assert!(out[2].late.contains("handed back"), "{:?}", out[2]);
        assert_eq!(pattern::leaked_goroutines(before), 0);
        // A limit longer than the call: the answer comes through.
        let out = timeout::three_ways(work, limit);
        assert!(out.iter().all(|o| o.got.contains("42")), "{out:?}");
    });
}

#[test]
fn fan_out_strategies_take_the_answers_they_should() {
    on(2, || {
        let before = goro::debug::goroutines_count();
        let (ctx, stop) = goro::context::Context::background().with_cancel();
        let (replicas, hits) = fan_out::start_services(3, &ctx, 0.2).unwrap();
        assert_eq!(
            fan_out::fan_out(fan_out::Strategy::GatherAll, &replicas).len(),
            3
        );
        assert_eq!(
            fan_out::fan_out(fan_out::Strategy::FirstWins, &replicas).len(),
            1
        );
        // FirstWins returned with the first answer; its other two requests may still reach
        // their services (or not, once cancelled). Count from when the total settles.
        let h = {
            let mut last = hits.load(std::sync::atomic::Ordering::Relaxed);
            loop {
                goro::time::sleep(Duration::from_millis(300));
                let now = hits.load(std::sync::atomic::Ordering::Relaxed);
                if now == last {
                    break now;
                }
                last = now;
            }
        };
        let a = fan_out::fan_out(fan_out::Strategy::Hedged(Duration::from_secs(5)), &replicas);
        assert_eq!(a, vec!["answer from service 0".to_string()]);
        assert_eq!(
            hits.load(std::sync::atomic::Ordering::Relaxed) - h,
            1,
            "no hedge within 5 s"
        );
        // A hedge at once: two requests, one answer.
        let a = fan_out::fan_out(fan_out::Strategy::Hedged(Duration::ZERO), &replicas);
        assert_eq!(a.len(), 1);
        stop.cancel();
        assert_eq!(pattern::leaked_goroutines(before), 0);
    });
}

#[test]
fn same_fringe_both_ways_and_walkers_end_early() {
    on(2, || {
        let before = goro::debug::goroutines_count();
        let v: Vec<u32> = (0..500).collect();
        let a = std::sync::Arc::new(generator::random_tree(&v, 1));
        let b = std::sync::Arc::new(generator::random_tree(&v, 2));
        let mut w = v.clone();
        w[3] = 1000;
        let c = std::sync::Arc::new(generator::random_tree(&w, 3));
        assert!(generator::same_fringe_goroutines(&a, &b));
        assert!(generator::same_fringe_iterators(&a, &b));
        assert!(!generator::same_fringe_goroutines(&a, &c));
        assert!(!generator::same_fringe_iterators(&a, &c));
        let fib: Vec<u64> = generator::fibonacci().skip(10).take(3).collect();
        assert_eq!(fib, vec![55, 89, 144]);
        assert_eq!(pattern::leaked_goroutines(before), 0);
    });
}

#[test]
fn every_bank_keeps_its_total_on_one_and_two_workers() {
    for workers in [1, 2] {
        on(workers, || {
            for way in share::Way::ALL {
                let (total, ok, _) = share::bank(way, 6, 2000);
                assert_eq!(total, share::TOTAL, "{way:?}");
                assert!(ok > 0, "{way:?}");
            }
        });
    }
}

#[test]
fn a_sent_vec_is_moved_not_copied() {
    on(2, || {
        let (before, after, _) = ownership::ping_buffer(1 << 20, 50);
        assert_eq!(before, after);
    });
}

#[test]
fn both_sorts_sort_and_divide_and_conquer_starts_a_goroutine_per_split() {
    on(2, || {
        let input = divide::data(5000, 3);
        let mut want = input.clone();
        want.sort_unstable();
        let (fine, g) = divide::sort_divide(input.clone(), 1);
        assert_eq!(fine, want);
        assert_eq!(g, 4999, "one goroutine per inner node of the recursion");
        let (coarse, g) = divide::sort_divide(input.clone(), 1250);
        assert_eq!(coarse, want);
        assert_eq!(g, 3, "5000 -> 2 x 2500 -> 4 x 1250");
        for workers in [1, 2, 3, 7] {
            assert_eq!(divide::sort_per_core(input.clone(), workers), want);
        }
    });
}
