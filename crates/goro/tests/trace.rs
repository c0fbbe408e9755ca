//! The execution tracer: a known program gives the slices and arrows it should.

use std::time::Duration;

use serde_json::Value;

fn traced(workers: usize, f: impl FnOnce() + 'static) -> Vec<Value> {
    let path = std::env::temp_dir().join(format!(
        "goro-trace-test-{}-{workers}.json",
        std::process::id()
    ));
    goro::Runtime::builder()
        .workers(workers)
        .exit_report(false)
        .trace(&path)
        .run(f)
        .unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::remove_file(&path).unwrap();
    let v: Value = serde_json::from_str(&text).expect("the trace is valid JSON");
    v["traceEvents"].as_array().expect("traceEvents").clone()
}

fn count(evs: &[Value], ph: &str, name_has: &str) -> usize {
    evs.iter()
        .filter(|e| e["ph"] == ph && e["name"].as_str().is_some_and(|n| n.contains(name_has)))
        .count()
}

#[test]
fn a_ping_pong_shows_each_run_and_each_wake_up() {
    for workers in [1, 2] {
        let evs = traced(workers, || {
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
            for i in 0..10 {
                ping_tx.send(i).unwrap();
                assert_eq!(pong_rx.recv(), Ok(i));
            }
            drop(ping_tx);
            pong.join().unwrap();
            goro::time::sleep(Duration::from_millis(2)); // an idle spell
        });
        assert_eq!(
            count(&evs, "M", "thread_name"),
            workers,
            "one track per worker"
        );
        // pong runs at least once per value it forwards, main too.
        assert!(
            count(&evs, "X", "pong") >= 10,
            "{workers} workers: too few pong slices"
        );
        assert!(
            count(&evs, "X", "main") >= 10,
            "{workers} workers: too few main slices"
        );
        assert!(
            count(&evs, "X", "idle") >= 1,
            "{workers} workers: no idle spell"
        );
        assert!(
            count(&evs, "i", "timer") >= 1,
            "{workers} workers: the sleep's timer"
        );
        assert!(
            count(&evs, "C", "runnable") >= 20,
            "{workers} workers: runnable counters"
        );
        let starts = count(&evs, "s", "wake");
        let ends = count(&evs, "f", "wake");
        assert!(
            starts >= 20,
            "{workers} workers: {starts} wake-ups for 20 hand-offs"
        );
        assert_eq!(starts, ends, "every arrow that leaves arrives");
        // Every slice has a positive duration and a worker track.
        for e in evs.iter().filter(|e| e["ph"] == "X") {
            assert!(e["dur"].as_f64().unwrap() >= 0.0);
            assert!(e["tid"].as_i64().unwrap() < workers as i64);
        }
    }
}

#[test]
fn channel_operations_are_recorded_with_the_channel_and_the_goroutine() {
    let evs = traced(1, || {
        let (tx, rx) = goro::chan::<u32>(1);
        let (stop_tx, stop_rx) = goro::chan::<()>(0);
        let h = goro::go(move || {
            let mut got = 0;
            loop {
                goro::select! {
                    recv(rx) -> v => match v {
                        Ok(_) => got += 1,
                        Err(_) => return got,
                    },
                    recv(stop_rx) -> _ => return got,
                }
            }
        });
        for i in 0..3 {
            tx.send(i).unwrap();
        }
        tx.close().unwrap();
        assert_eq!(h.join().unwrap(), 3);
        drop(stop_tx);
    });
    let chan_ops: Vec<&Value> = evs
        .iter()
        .filter(|e| e["ph"] == "i" && e["cat"] == "chan")
        .collect();
    let named = |name: &str| chan_ops.iter().filter(|e| e["name"] == name).count();
    assert_eq!(named("send"), 3, "{chan_ops:?}");
    assert_eq!(named("close"), 1, "{chan_ops:?}");
    // Three values and the close, each taken by a select.
    assert_eq!(named("select recv"), 4, "{chan_ops:?}");
    // The sends and the close are on one channel; main (goroutine 1) made them.
    let sends: Vec<&&Value> = chan_ops
        .iter()
        .filter(|e| e["name"] == "send" || e["name"] == "close")
        .collect();
    let ch = sends[0]["args"]["chan"].as_str().unwrap();
    assert!(ch.starts_with("0x"));
    assert!(sends.iter().all(|e| e["args"]["chan"] == ch));
    let main = &sends[0]["args"]["goroutine"];
    assert!(sends.iter().all(|e| &e["args"]["goroutine"] == main));
    assert!(chan_ops
        .iter()
        .filter(|e| e["name"] == "select recv")
        .all(|e| &e["args"]["goroutine"] != main));
    // The select's goroutine dropped the last receiver of the stop channel.
    assert_eq!(named("close (last handle dropped)"), 1, "{chan_ops:?}");
    // Parks say why.
    assert!(evs
        .iter()
        .any(|e| e["ph"] == "X" && e["args"]["reason"] == "select"));
}
