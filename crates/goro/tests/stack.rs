//! Stacks: sizes per runtime and per goroutine, reuse, and the mprotect fallback.

use std::time::Duration;

use goro::{Builder, Runtime};

mod common;

#[inline(never)]
fn depth(n: u32) -> u32 {
    // About 1 KiB of frame per level.
    let buf = std::hint::black_box([(n % 200) as u8; 1000]);
    if n == 0 {
        return u32::from(buf[0]);
    }
    depth(n - 1) + 1 + u32::from(buf[999] / 255)
}

#[test]
fn builder_stack_size_allows_deeper_recursion_and_names_the_goroutine() {
    Runtime::builder()
        .workers(1)
        .stack_size(64 * 1024)
        .run(|| {
            // ~2 MiB of frames: far beyond the runtime's 64 KiB default, fine on 8 MiB.
            let h = Builder::new()
                .name("deep")
                .stack_size(8 << 20)
                .spawn(|| (depth(2000), goro::current_name()));
            let (d, name) = h.unwrap().join().unwrap();
            assert_eq!(d, 2000);
            assert_eq!(name.as_deref(), Some("deep"));
            assert_eq!(goro::current_name().as_deref(), Some("main"));
        })
        .unwrap();
}

#[test]
fn bad_stack_sizes_are_refused_with_the_closure() {
    goro::run(|| {
        for bad in [0, 1024, (1 << 30) + 1] {
            let e = Builder::new().stack_size(bad).spawn(|| 9).unwrap_err();
            assert_eq!(e.kind(), goro::SpawnErrorKind::BadStackSize(bad));
            assert_eq!(e.into_inner()(), 9);
        }
    })
    .unwrap();
}

#[test]
fn stacks_are_reused_across_many_short_goroutines() {
    Runtime::builder()
        .workers(2)
        .run(|| {
            for round in 0..50u64 {
                let hs: Vec<_> = (0..1000u64)
                    .map(|i| goro::go(move || depth(20) as u64 + i + round))
                    .collect();
                let s: u64 = hs.into_iter().map(|h| h.join().unwrap()).sum();
                assert_eq!(s, 1000 * 20 + 499_500 + 1000 * round);
            }
        })
        .unwrap();
}

#[test]
fn mprotect_fallback_runs_goroutines() {
    if std::env::var("GORO_STACK_CHILD").is_ok() {
        let sum = Runtime::builder()
            .workers(2)
            .run(|| {
                let hs: Vec<_> = (0..2000u64)
                    .map(|i| {
                        goro::go(move || {
                            goro::time::sleep(Duration::from_millis(1));
                            i
                        })
                    })
                    .collect();
                hs.into_iter().map(|h| h.join().unwrap()).sum::<u64>()
            })
            .unwrap();
        assert_eq!(sum, 1_999_000);
        assert_eq!(goro::stack::guard_mode(), goro::stack::GuardMode::Mprotect);
        return;
    }
    let out = common::rerun_in_child(
        "mprotect_fallback_runs_goroutines",
        &[("GORO_STACK_CHILD", "1"), ("GORO_GUARD", "mprotect")],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn guard_pages_use_madvise_where_the_kernel_has_it() {
    goro::run(|| goro::go(|| ()).join().unwrap()).unwrap();
    let release = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    let mut it = release
        .split(['.', '-'])
        .map(|p| p.parse::<u32>().unwrap_or(0));
    let (major, minor) = (it.next().unwrap_or(0), it.next().unwrap_or(0));
    if std::env::var("GORO_GUARD").is_err() && (major, minor) >= (6, 13) {
        assert_eq!(goro::stack::guard_mode(), goro::stack::GuardMode::Madvise);
    }
}

#[test]
fn mprotect_fallback_reports_the_mapping_limit_clearly() {
    // Without MADV_GUARD_INSTALL each stack costs two mappings, so about 32,000 goroutines
    // holding stacks exhaust the default vm.max_map_count (65,530). The runtime must say so.
    let max: usize = std::fs::read_to_string("/proc/sys/vm/max_map_count")
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(65_530);
    if max > 200_000 {
        return; // a raised limit would make this test slow; nothing to show
    }
    if std::env::var("GORO_STACK_CHILD").is_ok() {
        let n = max / 2 + 5_000;
        let _ = Runtime::builder().workers(1).run(move || {
            let gate = goro::sync::WaitGroup::new();
            gate.add(1);
            let started = goro::sync::WaitGroup::new();
            started.add(n);
            for _ in 0..n {
                let (gate, started) = (gate.clone(), started.clone());
                goro::go(move || {
                    started.done();
                    gate.wait();
                });
            }
            started.wait();
        });
        return;
    }
    let out = common::rerun_in_child(
        "mprotect_fallback_reports_the_mapping_limit_clearly",
        &[("GORO_STACK_CHILD", "1"), ("GORO_GUARD", "mprotect")],
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success(),
        "expected an abort at the mapping limit"
    );
    assert!(err.contains("vm.max_map_count"), "{err}");
    assert!(err.contains("MADV_GUARD_INSTALL"), "{err}");
}
