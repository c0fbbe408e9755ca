//! SEMANTICS.md, Select: S1-S15.

use std::cell::RefCell;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use goro::{chan, Receiver, RecvError, Select, Sender};

use crate::common::{drop_counter, drops, on_1_and_2_workers, Counted};

fn settle() {
    goro::time::sleep(Duration::from_millis(20));
}

#[test]
fn s1_operands_and_values_evaluated_once_in_order() {
    on_1_and_2_workers(|| {
        let log = RefCell::new(Vec::new());
        let (tx, rx) = chan::<u32>(1);
        let (tx2, _rx2) = chan::<u32>(0);
        let note = |what: &'static str| log.borrow_mut().push(what);
        for ready in [false, true] {
            log.borrow_mut().clear();
            if ready {
                tx.send(1).unwrap();
            }
            let took = goro::select! {
                recv({ note("recv operand"); &rx }) -> _ => "recv",
                send({ note("send operand"); &tx2 }, { note("send value"); 5 }) -> _ => "send",
                default => "default",
            };
            assert_eq!(took, if ready { "recv" } else { "default" });
            assert_eq!(
                *log.borrow(),
                ["recv operand", "send operand", "send value"]
            );
        }
    });
}

#[test]
fn s2_only_the_chosen_arm_runs() {
    let (tx, rx) = chan::<u32>(1);
    let (_tx2, rx2) = chan::<u32>(1);
    tx.send(3).unwrap();
    let mut ran = Vec::new();
    goro::select! {
        recv(rx2) -> _ => ran.push("rx2"),
        recv(rx) -> v => { assert_eq!(v, Ok(3)); ran.push("rx") },
        default => ran.push("default"),
    }
    assert_eq!(ran, ["rx"]);
}

/// Within 5 standard deviations of 50/50 over `n` rounds.
fn assert_fair(a: u32, n: u32) {
    let sd = (n as f64 * 0.25).sqrt();
    let dev = (a as f64 - n as f64 / 2.0).abs();
    assert!(dev < 5.0 * sd, "{a} of {n}: {dev:.0} from even, sd {sd:.0}");
}

#[test]
fn s3_the_choice_among_ready_cases_is_uniform() {
    on_1_and_2_workers(|| {
        const N: u32 = 10_000;
        let (tx1, rx1) = chan::<u8>(1);
        let (tx2, rx2) = chan::<u8>(1);
        let mut first = 0;
        for _ in 0..N {
            let _ = tx1.try_send(1);
            let _ = tx2.try_send(2);
            goro::select! {
                recv(rx1) -> _ => first += 1,
                recv(rx2) -> _ => {},
            }
        }
        assert_fair(first, N);

        // `send 0 / send 1` on one channel: both values go out, about equally often.
        let (tx, rx) = chan::<u32>(1);
        let mut ones = 0;
        for _ in 0..N {
            goro::select! {
                send(tx, 0) -> r => r.unwrap(),
                send(tx, 1) -> r => r.unwrap(),
            }
            ones += rx.recv().unwrap();
        }
        assert_fair(ones, N);
    });
}

#[test]
fn s4_default_runs_when_nothing_is_ready_and_without_it_select_blocks() {
    on_1_and_2_workers(|| {
        let (tx, rx) = chan::<u32>(0);
        let got = goro::select! {
            recv(rx) -> _ => "recv",
            send(tx, 1) -> _ => "send",
            default => "default",
        };
        assert_eq!(got, "default");
        assert_eq!(
            rx.try_recv(),
            Err(goro::TryRecvError::Empty),
            "nothing communicated"
        );

        let done = Arc::new(AtomicBool::new(false));
        let (d, rx2) = (done.clone(), rx.clone());
        let h = goro::go(move || {
            let v = goro::select! { recv(rx2) -> v => v };
            d.store(true, Ordering::SeqCst);
            v
        });
        settle();
        assert!(
            !done.load(Ordering::SeqCst),
            "select without default did not block"
        );
        tx.send(9).unwrap();
        assert_eq!(h.join().unwrap(), Ok(9));
    });
}

#[test]
fn s5_a_nonblocking_select_sees_one_instant() {
    on_1_and_2_workers(|| {
        let (done_tx, done_rx) = chan::<bool>(1);
        for _ in 0..20_000 {
            let (c1_tx, c1) = chan::<u32>(1);
            let (c2_tx, c2) = chan::<u32>(1);
            c1_tx.send(1).unwrap();
            let (c1b, c2b, done) = (c1.clone(), c2.clone(), done_tx.clone());
            goro::go(move || {
                let ready = goro::select! {
                    recv(c1b) -> _ => true,
                    recv(c2b) -> _ => true,
                    default => false,
                };
                done.send(ready).unwrap();
            });
            // c2 fills before c1 can be drained: some case is ready at every instant.
            c2_tx.send(1).unwrap();
            goro::select! {
                recv(c1) -> _ => {},
                default => {},
            }
            assert!(
                done_rx.recv().unwrap(),
                "default taken while a case was ready"
            );
        }
    });
}

#[test]
fn s6_a_receive_case_on_a_closed_channel_is_ready_and_says_closed() {
    let (tx, rx) = chan::<u32>(0);
    drop(tx);
    for _ in 0..100 {
        let got = goro::select! {
            recv(rx) -> v => v,
            default => Ok(0),
        };
        assert_eq!(got, Err(RecvError));
    }
}

#[test]
fn s7_a_send_case_on_a_closed_channel_is_ready_and_returns_the_value() {
    let (tx, rx) = chan::<String>(0);
    drop(rx);
    let got = goro::select! {
        send(tx, "v".to_string()) -> r => r.unwrap_err().into_inner(),
        default => "default".into(),
    };
    assert_eq!(got, "v");
}

/// The 100,000-round 4-way send select.
#[test]
fn s8_at_most_one_case_communicates() {
    let rounds = 100_000;
    on_1_and_2_workers(move || {
        let chans: Vec<(Sender<u32>, Receiver<u32>)> = (0..4).map(|_| chan(1)).collect();
        let (a, b, c, d) = (&chans[0].0, &chans[1].0, &chans[2].0, &chans[3].0);
        let mut per_case = [0u32; 4];
        for _ in 0..rounds {
            let k = goro::select! {
                send(a, 0) -> r => { r.unwrap(); 0 },
                send(b, 1) -> r => { r.unwrap(); 1 },
                send(c, 2) -> r => { r.unwrap(); 2 },
                send(d, 3) -> r => { r.unwrap(); 3 },
            };
            per_case[k] += 1;
            let got: Vec<u32> = chans
                .iter()
                .filter_map(|(_, rx)| rx.try_recv().ok())
                .collect();
            assert_eq!(got, [k as u32], "exactly the chosen case sent");
        }
        assert!(per_case.iter().all(|&n| n > rounds / 8), "{per_case:?}");
    });
}

#[test]
fn s9_send_and_receive_on_one_channel_never_pair_with_themselves() {
    on_1_and_2_workers(|| {
        let (tx, rx) = chan::<u32>(0);
        let both = |tx: Sender<u32>, rx: Receiver<u32>| {
            goro::go(move || {
                goro::select! {
                    send(tx, 1) -> r => { r.unwrap(); "sent" },
                    recv(rx) -> v => { assert_eq!(v, Ok(1)); "received" },
                }
            })
        };
        let lone = both(tx.clone(), rx.clone());
        settle();
        assert!(!lone.is_finished(), "a lone select paired with itself");
        let other = both(tx.clone(), rx.clone());
        let mut got = [lone.join().unwrap(), other.join().unwrap()];
        got.sort_unstable();
        assert_eq!(got, ["received", "sent"]);
    });
}

#[test]
fn s10_the_same_channel_in_several_cases() {
    on_1_and_2_workers(|| {
        let (tx, rx) = chan::<u32>(0);
        let h = goro::go(move || {
            let mut seen = [0u32; 3];
            for _ in 0..3000 {
                goro::select! {
                    recv(rx) -> v => seen[0] += v.unwrap(),
                    recv(rx) -> v => seen[1] += v.unwrap(),
                    recv(rx) -> v => seen[2] += v.unwrap(),
                }
            }
            seen
        });
        for _ in 0..3000 {
            tx.send(1).unwrap();
        }
        let seen = h.join().unwrap();
        assert_eq!(seen.iter().sum::<u32>(), 3000);
        assert!(seen.iter().all(|&n| n > 0), "{seen:?}");
    });
}

#[test]
fn s11_s12_a_losing_select_leaves_no_trace_and_no_growth() {
    let rounds = 100_000;
    on_1_and_2_workers(move || {
        let (tx1, rx1) = chan::<u32>(0);
        let (tx2, rx2) = chan::<u32>(0);
        let h = goro::go(move || {
            for i in 0..rounds {
                let v = goro::select! {
                    recv(rx1) -> v => v.unwrap(),
                    recv(rx2) -> v => v.unwrap() + 1_000_000_000,
                };
                assert_eq!(v, i);
            }
            rx2
        });
        for i in 0..rounds {
            tx1.send(i).unwrap();
        }
        let rx2 = h.join().unwrap();
        assert_eq!(
            rx2.__waiting(),
            (0, 0),
            "the losing case's waiter is still linked"
        );
        // The channel still works, and no stale waiter swallows a value.
        assert!(tx2.try_send(5).unwrap_err().is_full());
        let h = goro::go(move || rx2.recv());
        tx2.send(6).unwrap();
        assert_eq!(h.join().unwrap(), Ok(6));
    });
}

#[test]
fn s13_a_losing_send_keeps_its_value() {
    let counter = drop_counter();
    let (tx, rx) = chan::<Counted>(1);
    let (tx_full, _rx_full) = chan::<Counted>(0);
    for _ in 0..100 {
        goro::select! {
            send(tx, Counted(1, counter.clone())) -> r => r.unwrap(),
            send(tx_full, Counted(2, counter.clone())) -> _ => unreachable!(),
        }
        // The loser was dropped exactly once, with the select; the winner is in the channel.
        let before = drops(&counter);
        drop(rx.recv().unwrap());
        assert_eq!(drops(&counter), before + 1);
    }
    assert_eq!(drops(&counter), 200);

    // The dynamic builder hands the losing value back.
    let mut sel = Select::new();
    let won = sel.send(&tx, Counted(3, counter.clone()));
    let lost = sel.send(&tx_full, Counted(4, counter.clone()));
    assert_eq!(sel.select(), won.index());
    assert_eq!(sel.take_unsent(&lost).map(|c| c.0), Some(4));
    assert!(sel.send_result(&won).unwrap().is_ok());
    drop(sel);
    assert_eq!(drops(&counter), 201);
}

#[test]
fn s14_an_empty_select_blocks_forever() {
    goro::Runtime::builder()
        .workers(2)
        .run(|| {
            let h = goro::go(|| {
                goro::select! {}
            });
            let mut sel = Select::new();
            let h2 = goro::go(move || {
                sel.select();
            });
            settle();
            assert!(!h.is_finished() && !h2.is_finished());
            // `run` returns anyway: shutdown unwinds them.
        })
        .unwrap();
}

#[test]
fn s15_the_dynamic_select_has_the_same_semantics() {
    on_1_and_2_workers(|| {
        let chans: Vec<(Sender<usize>, Receiver<usize>)> = (0..8).map(|_| chan(1)).collect();
        // Uniform among ready cases.
        let mut counts = [0u32; 8];
        for _ in 0..8000 {
            for (i, (tx, _)) in chans.iter().enumerate() {
                let _ = tx.try_send(i);
            }
            let mut sel = Select::new();
            let tokens: Vec<_> = chans.iter().map(|(_, rx)| sel.recv(rx)).collect();
            let i = sel.select();
            assert_eq!(sel.recv_result(&tokens[i]), Some(Ok(i)));
            counts[i] += 1;
        }
        assert!(
            counts.iter().all(|&n| (800..1200).contains(&n)),
            "{counts:?}"
        );
        for (_, rx) in &chans {
            while rx.try_recv().is_ok() {}
        }
        // Default, disabled cases, and blocking until a sender comes.
        let mut sel = Select::new();
        sel.recv(None::<&Receiver<usize>>);
        let t = sel.recv(&chans[3].1);
        assert_eq!(sel.try_select(), None);
        assert_eq!(sel.select_timeout(Duration::from_millis(5)), None);
        let tx = chans[3].0.clone();
        goro::go(move || {
            goro::time::sleep(Duration::from_millis(5));
            tx.send(33).unwrap();
        });
        assert_eq!(sel.select(), t.index());
        assert_eq!(sel.recv_result(&t), Some(Ok(33)));
        // Closed: ready, and says so.
        let (tx, rx) = chan::<u8>(0);
        drop(tx);
        let mut sel = Select::new();
        let t = sel.recv(&rx);
        assert_eq!(sel.try_select(), Some(t.index()));
        assert_eq!(sel.recv_result(&t), Some(Err(RecvError)));
        // A token of another select is refused.
        let mut other = Select::new();
        assert_eq!(other.recv_result(&t), None);
    });
}
