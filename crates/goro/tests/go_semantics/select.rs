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
        send(tx, "v".to_string()) -> r => r.unwrap_err(),
        default => unreachable!("the send case is ready"),
    };
    assert_eq!(got.1, goro::SendFailure::ReceiversGone);
    assert_eq!(got.into_inner(), "v");
    // Closed while the select waits.
    on_1_and_2_workers(|| {
        let (tx, _rx) = chan::<u8>(0);
        let t2 = tx.clone();
        let h = goro::go(move || {
            goro::select! {
                send(t2, 1) -> r => r.map_err(|e| (e.0, e.1)),
            }
        });
        settle();
        tx.close().unwrap();
        assert_eq!(h.join().unwrap(), Err((1, goro::SendFailure::Closed)));
    });
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

/// Counts, over `n` blocked selects, which of several cases on one channel completed. The
/// selecting goroutine always blocks before its counterpart arrives (one worker; the
/// counterpart yields until the select has parked), so the choice is made by the order in
/// which the select's waiters sit in the channel's queue, not by its poll of ready cases.
/// Go picks uniformly here too (52 of 100 for `select { case c <- 1: case c <- 0: }`).
fn blocked_duplicate_counts(cap: usize, send_side: bool, cases: usize, n: usize) -> Vec<usize> {
    goro::Runtime::builder()
        .workers(1)
        .run(move || {
            let (tx, rx) = chan::<usize>(cap);
            let parked = Arc::new(AtomicBool::new(false));
            let p2 = parked.clone();
            let mut counts = vec![0usize; cases];
            if send_side {
                // Fill the buffer, so that the select's sends block.
                for _ in 0..cap {
                    tx.send(usize::MAX).unwrap();
                }
                let tx2 = tx.clone();
                let h = goro::go(move || {
                    for _ in 0..n {
                        p2.store(true, Ordering::SeqCst);
                        match cases {
                            2 => goro::select! {
                                send(tx2, 0) -> r => r.unwrap(),
                                send(tx2, 1) -> r => r.unwrap(),
                            },
                            _ => goro::select! {
                                send(tx2, 0) -> r => r.unwrap(),
                                send(tx2, 1) -> r => r.unwrap(),
                                send(tx2, 2) -> r => r.unwrap(),
                            },
                        }
                    }
                });
                for _ in 0..n {
                    while !parked.swap(false, Ordering::SeqCst) {
                        goro::yield_now();
                    }
                    goro::yield_now(); // the select runs on to its park
                    let v = rx.recv().unwrap();
                    if v != usize::MAX {
                        counts[v] += 1;
                    }
                }
                h.join().unwrap();
                // What the buffer still held came from the last selects.
                drop(tx);
                for v in rx.try_iter() {
                    if v != usize::MAX {
                        counts[v] += 1;
                    }
                }
            } else {
                let rx2 = rx.clone();
                let h = goro::go(move || {
                    let mut counts = vec![0usize; cases];
                    for _ in 0..n {
                        p2.store(true, Ordering::SeqCst);
                        let i = match cases {
                            2 => goro::select! {
                                recv(rx2) -> _ => 0,
                                recv(rx2) -> _ => 1,
                            },
                            _ => goro::select! {
                                recv(rx2) -> _ => 0,
                                recv(rx2) -> _ => 1,
                                recv(rx2) -> _ => 2,
                            },
                        };
                        counts[i] += 1;
                    }
                    counts
                });
                for k in 0..n {
                    while !parked.swap(false, Ordering::SeqCst) {
                        goro::yield_now();
                    }
                    goro::yield_now();
                    tx.send(k).unwrap();
                }
                counts = h.join().unwrap();
            }
            counts
        })
        .unwrap()
}

/// Each of `counts` is within a wide margin of an equal share (Go: uniform).
fn assert_uniform(counts: &[usize], what: &str) {
    let total: usize = counts.iter().sum();
    let share = total / counts.len();
    for (i, &c) in counts.iter().enumerate() {
        assert!(
            c * 4 >= share * 3 && c * 4 <= share * 5,
            "{what}: case {i} won {c} of {total} ({counts:?}); Go picks uniformly"
        );
    }
}

#[test]
fn s10_a_blocked_select_picks_uniformly_among_cases_on_one_channel() {
    assert_uniform(
        &blocked_duplicate_counts(0, true, 2, 2000),
        "unbuffered, two sends",
    );
    assert_uniform(
        &blocked_duplicate_counts(0, false, 3, 3000),
        "unbuffered, three receives",
    );
    assert_uniform(
        &blocked_duplicate_counts(1, true, 2, 2000),
        "buffered, two sends",
    );
    assert_uniform(
        &blocked_duplicate_counts(4, false, 3, 3000),
        "buffered, three receives",
    );
}

/// Go allows 65,536 cases; `select!` of 256 arms compiles without raising the crate's
/// recursion limit, and each case can win.
#[test]
fn a_select_of_256_cases_compiles_and_each_case_can_win() {
    goro::run(|| {
        let (txs, rxs): (Vec<Sender<u32>>, Vec<Receiver<u32>>) = (0..256).map(|_| chan(1)).unzip();
        for k in [0usize, 7, 8, 100, 255] {
            txs[k].send(k as u32).unwrap();
            let got = goro::select! {
                recv(rxs[0]) -> v => (0usize, v.unwrap()),
                recv(rxs[1]) -> v => (1usize, v.unwrap()),
                recv(rxs[2]) -> v => (2usize, v.unwrap()),
                recv(rxs[3]) -> v => (3usize, v.unwrap()),
                recv(rxs[4]) -> v => (4usize, v.unwrap()),
                recv(rxs[5]) -> v => (5usize, v.unwrap()),
                recv(rxs[6]) -> v => (6usize, v.unwrap()),
                recv(rxs[7]) -> v => (7usize, v.unwrap()),
                recv(rxs[8]) -> v => (8usize, v.unwrap()),
                recv(rxs[9]) -> v => (9usize, v.unwrap()),
                recv(rxs[10]) -> v => (10usize, v.unwrap()),
                recv(rxs[11]) -> v => (11usize, v.unwrap()),
                recv(rxs[12]) -> v => (12usize, v.unwrap()),
                recv(rxs[13]) -> v => (13usize, v.unwrap()),
                recv(rxs[14]) -> v => (14usize, v.unwrap()),
                recv(rxs[15]) -> v => (15usize, v.unwrap()),
                recv(rxs[16]) -> v => (16usize, v.unwrap()),
                recv(rxs[17]) -> v => (17usize, v.unwrap()),
                recv(rxs[18]) -> v => (18usize, v.unwrap()),
                recv(rxs[19]) -> v => (19usize, v.unwrap()),
                recv(rxs[20]) -> v => (20usize, v.unwrap()),
                recv(rxs[21]) -> v => (21usize, v.unwrap()),
                recv(rxs[22]) -> v => (22usize, v.unwrap()),
                recv(rxs[23]) -> v => (23usize, v.unwrap()),
                recv(rxs[24]) -> v => (24usize, v.unwrap()),
                recv(rxs[25]) -> v => (25usize, v.unwrap()),
                recv(rxs[26]) -> v => (26usize, v.unwrap()),
                recv(rxs[27]) -> v => (27usize, v.unwrap()),
                recv(rxs[28]) -> v => (28usize, v.unwrap()),
                recv(rxs[29]) -> v => (29usize, v.unwrap()),
                recv(rxs[30]) -> v => (30usize, v.unwrap()),
                recv(rxs[31]) -> v => (31usize, v.unwrap()),
                recv(rxs[32]) -> v => (32usize, v.unwrap()),
                recv(rxs[33]) -> v => (33usize, v.unwrap()),
                recv(rxs[34]) -> v => (34usize, v.unwrap()),
                recv(rxs[35]) -> v => (35usize, v.unwrap()),
                recv(rxs[36]) -> v => (36usize, v.unwrap()),
                recv(rxs[37]) -> v => (37usize, v.unwrap()),
                recv(rxs[38]) -> v => (38usize, v.unwrap()),
                recv(rxs[39]) -> v => (39usize, v.unwrap()),
                recv(rxs[40]) -> v => (40usize, v.unwrap()),
                recv(rxs[41]) -> v => (41usize, v.unwrap()),
                recv(rxs[42]) -> v => (42usize, v.unwrap()),
                recv(rxs[43]) -> v => (43usize, v.unwrap()),
                recv(rxs[44]) -> v => (44usize, v.unwrap()),
                recv(rxs[45]) -> v => (45usize, v.unwrap()),
                recv(rxs[46]) -> v => (46usize, v.unwrap()),
                recv(rxs[47]) -> v => (47usize, v.unwrap()),
                recv(rxs[48]) -> v => (48usize, v.unwrap()),
                recv(rxs[49]) -> v => (49usize, v.unwrap()),
                recv(rxs[50]) -> v => (50usize, v.unwrap()),
                recv(rxs[51]) -> v => (51usize, v.unwrap()),
                recv(rxs[52]) -> v => (52usize, v.unwrap()),
                recv(rxs[53]) -> v => (53usize, v.unwrap()),
                recv(rxs[54]) -> v => (54usize, v.unwrap()),
                recv(rxs[55]) -> v => (55usize, v.unwrap()),
                recv(rxs[56]) -> v => (56usize, v.unwrap()),
                recv(rxs[57]) -> v => (57usize, v.unwrap()),
                recv(rxs[58]) -> v => (58usize, v.unwrap()),
                recv(rxs[59]) -> v => (59usize, v.unwrap()),
                recv(rxs[60]) -> v => (60usize, v.unwrap()),
                recv(rxs[61]) -> v => (61usize, v.unwrap()),
                recv(rxs[62]) -> v => (62usize, v.unwrap()),
                recv(rxs[63]) -> v => (63usize, v.unwrap()),
                recv(rxs[64]) -> v => (64usize, v.unwrap()),
                recv(rxs[65]) -> v => (65usize, v.unwrap()),
                recv(rxs[66]) -> v => (66usize, v.unwrap()),
                recv(rxs[67]) -> v => (67usize, v.unwrap()),
                recv(rxs[68]) -> v => (68usize, v.unwrap()),
                recv(rxs[69]) -> v => (69usize, v.unwrap()),
                recv(rxs[70]) -> v => (70usize, v.unwrap()),
                recv(rxs[71]) -> v => (71usize, v.unwrap()),
                recv(rxs[72]) -> v => (72usize, v.unwrap()),
                recv(rxs[73]) -> v => (73usize, v.unwrap()),
                recv(rxs[74]) -> v => (74usize, v.unwrap()),
                recv(rxs[75]) -> v => (75usize, v.unwrap()),
                recv(rxs[76]) -> v => (76usize, v.unwrap()),
                recv(rxs[77]) -> v => (77usize, v.unwrap()),
                recv(rxs[78]) -> v => (78usize, v.unwrap()),
                recv(rxs[79]) -> v => (79usize, v.unwrap()),
                recv(rxs[80]) -> v => (80usize, v.unwrap()),
                recv(rxs[81]) -> v => (81usize, v.unwrap()),
                recv(rxs[82]) -> v => (82usize, v.unwrap()),
                recv(rxs[83]) -> v => (83usize, v.unwrap()),
                recv(rxs[84]) -> v => (84usize, v.unwrap()),
                recv(rxs[85]) -> v => (85usize, v.unwrap()),
                recv(rxs[86]) -> v => (86usize, v.unwrap()),
                recv(rxs[87]) -> v => (87usize, v.unwrap()),
                recv(rxs[88]) -> v => (88usize, v.unwrap()),
                recv(rxs[89]) -> v => (89usize, v.unwrap()),
                recv(rxs[90]) -> v => (90usize, v.unwrap()),
                recv(rxs[91]) -> v => (91usize, v.unwrap()),
                recv(rxs[92]) -> v => (92usize, v.unwrap()),
                recv(rxs[93]) -> v => (93usize, v.unwrap()),
                recv(rxs[94]) -> v => (94usize, v.unwrap()),
                recv(rxs[95]) -> v => (95usize, v.unwrap()),
                recv(rxs[96]) -> v => (96usize, v.unwrap()),
                recv(rxs[97]) -> v => (97usize, v.unwrap()),
                recv(rxs[98]) -> v => (98usize, v.unwrap()),
                recv(rxs[99]) -> v => (99usize, v.unwrap()),
                recv(rxs[100]) -> v => (100usize, v.unwrap()),
                recv(rxs[101]) -> v => (101usize, v.unwrap()),
                recv(rxs[102]) -> v => (102usize, v.unwrap()),
                recv(rxs[103]) -> v => (103usize, v.unwrap()),
                recv(rxs[104]) -> v => (104usize, v.unwrap()),
                recv(rxs[105]) -> v => (105usize, v.unwrap()),
                recv(rxs[106]) -> v => (106usize, v.unwrap()),
                recv(rxs[107]) -> v => (107usize, v.unwrap()),
                recv(rxs[108]) -> v => (108usize, v.unwrap()),
                recv(rxs[109]) -> v => (109usize, v.unwrap()),
                recv(rxs[110]) -> v => (110usize, v.unwrap()),
                recv(rxs[111]) -> v => (111usize, v.unwrap()),
                recv(rxs[112]) -> v => (112usize, v.unwrap()),
                recv(rxs[113]) -> v => (113usize, v.unwrap()),
                recv(rxs[114]) -> v => (114usize, v.unwrap()),
                recv(rxs[115]) -> v => (115usize, v.unwrap()),
                recv(rxs[116]) -> v => (116usize, v.unwrap()),
                recv(rxs[117]) -> v => (117usize, v.unwrap()),
                recv(rxs[118]) -> v => (118usize, v.unwrap()),
                recv(rxs[119]) -> v => (119usize, v.unwrap()),
                recv(rxs[120]) -> v => (120usize, v.unwrap()),
                recv(rxs[121]) -> v => (121usize, v.unwrap()),
                recv(rxs[122]) -> v => (122usize, v.unwrap()),
                recv(rxs[123]) -> v => (123usize, v.unwrap()),
                recv(rxs[124]) -> v => (124usize, v.unwrap()),
                recv(rxs[125]) -> v => (125usize, v.unwrap()),
                recv(rxs[126]) -> v => (126usize, v.unwrap()),
                recv(rxs[127]) -> v => (127usize, v.unwrap()),
                recv(rxs[128]) -> v => (128usize, v.unwrap()),
                recv(rxs[129]) -> v => (129usize, v.unwrap()),
                recv(rxs[130]) -> v => (130usize, v.unwrap()),
                recv(rxs[131]) -> v => (131usize, v.unwrap()),
                recv(rxs[132]) -> v => (132usize, v.unwrap()),
                recv(rxs[133]) -> v => (133usize, v.unwrap()),
                recv(rxs[134]) -> v => (134usize, v.unwrap()),
                recv(rxs[135]) -> v => (135usize, v.unwrap()),
                recv(rxs[136]) -> v => (136usize, v.unwrap()),
                recv(rxs[137]) -> v => (137usize, v.unwrap()),
                recv(rxs[138]) -> v => (138usize, v.unwrap()),
                recv(rxs[139]) -> v => (139usize, v.unwrap()),
                recv(rxs[140]) -> v => (140usize, v.unwrap()),
                recv(rxs[141]) -> v => (141usize, v.unwrap()),
                recv(rxs[142]) -> v => (142usize, v.unwrap()),
                recv(rxs[143]) -> v => (143usize, v.unwrap()),
                recv(rxs[144]) -> v => (144usize, v.unwrap()),
                recv(rxs[145]) -> v => (145usize, v.unwrap()),
                recv(rxs[146]) -> v => (146usize, v.unwrap()),
                recv(rxs[147]) -> v => (147usize, v.unwrap()),
                recv(rxs[148]) -> v => (148usize, v.unwrap()),
                recv(rxs[149]) -> v => (149usize, v.unwrap()),
                recv(rxs[150]) -> v => (150usize, v.unwrap()),
                recv(rxs[151]) -> v => (151usize, v.unwrap()),
                recv(rxs[152]) -> v => (152usize, v.unwrap()),
                recv(rxs[153]) -> v => (153usize, v.unwrap()),
                recv(rxs[154]) -> v => (154usize, v.unwrap()),
                recv(rxs[155]) -> v => (155usize, v.unwrap()),
                recv(rxs[156]) -> v => (156usize, v.unwrap()),
                recv(rxs[157]) -> v => (157usize, v.unwrap()),
                recv(rxs[158]) -> v => (158usize, v.unwrap()),
                recv(rxs[159]) -> v => (159usize, v.unwrap()),
                recv(rxs[160]) -> v => (160usize, v.unwrap()),
                recv(rxs[161]) -> v => (161usize, v.unwrap()),
                recv(rxs[162]) -> v => (162usize, v.unwrap()),
                recv(rxs[163]) -> v => (163usize, v.unwrap()),
                recv(rxs[164]) -> v => (164usize, v.unwrap()),
                recv(rxs[165]) -> v => (165usize, v.unwrap()),
                recv(rxs[166]) -> v => (166usize, v.unwrap()),
                recv(rxs[167]) -> v => (167usize, v.unwrap()),
                recv(rxs[168]) -> v => (168usize, v.unwrap()),
                recv(rxs[169]) -> v => (169usize, v.unwrap()),
                recv(rxs[170]) -> v => (170usize, v.unwrap()),
                recv(rxs[171]) -> v => (171usize, v.unwrap()),
                recv(rxs[172]) -> v => (172usize, v.unwrap()),
                recv(rxs[173]) -> v => (173usize, v.unwrap()),
                recv(rxs[174]) -> v => (174usize, v.unwrap()),
                recv(rxs[175]) -> v => (175usize, v.unwrap()),
                recv(rxs[176]) -> v => (176usize, v.unwrap()),
                recv(rxs[177]) -> v => (177usize, v.unwrap()),
                recv(rxs[178]) -> v => (178usize, v.unwrap()),
                recv(rxs[179]) -> v => (179usize, v.unwrap()),
                recv(rxs[180]) -> v => (180usize, v.unwrap()),
                recv(rxs[181]) -> v => (181usize, v.unwrap()),
                recv(rxs[182]) -> v => (182usize, v.unwrap()),
                recv(rxs[183]) -> v => (183usize, v.unwrap()),
                recv(rxs[184]) -> v => (184usize, v.unwrap()),
                recv(rxs[185]) -> v => (185usize, v.unwrap()),
                recv(rxs[186]) -> v => (186usize, v.unwrap()),
                recv(rxs[187]) -> v => (187usize, v.unwrap()),
                recv(rxs[188]) -> v => (188usize, v.unwrap()),
                recv(rxs[189]) -> v => (189usize, v.unwrap()),
                recv(rxs[190]) -> v => (190usize, v.unwrap()),
                recv(rxs[191]) -> v => (191usize, v.unwrap()),
                recv(rxs[192]) -> v => (192usize, v.unwrap()),
                recv(rxs[193]) -> v => (193usize, v.unwrap()),
                recv(rxs[194]) -> v => (194usize, v.unwrap()),
                recv(rxs[195]) -> v => (195usize, v.unwrap()),
                recv(rxs[196]) -> v => (196usize, v.unwrap()),
                recv(rxs[197]) -> v => (197usize, v.unwrap()),
                recv(rxs[198]) -> v => (198usize, v.unwrap()),
                recv(rxs[199]) -> v => (199usize, v.unwrap()),
                recv(rxs[200]) -> v => (200usize, v.unwrap()),
                recv(rxs[201]) -> v => (201usize, v.unwrap()),
                recv(rxs[202]) -> v => (202usize, v.unwrap()),
                recv(rxs[203]) -> v => (203usize, v.unwrap()),
                recv(rxs[204]) -> v => (204usize, v.unwrap()),
                recv(rxs[205]) -> v => (205usize, v.unwrap()),
                recv(rxs[206]) -> v => (206usize, v.unwrap()),
                recv(rxs[207]) -> v => (207usize, v.unwrap()),
                recv(rxs[208]) -> v => (208usize, v.unwrap()),
                recv(rxs[209]) -> v => (209usize, v.unwrap()),
                recv(rxs[210]) -> v => (210usize, v.unwrap()),
                recv(rxs[211]) -> v => (211usize, v.unwrap()),
                recv(rxs[212]) -> v => (212usize, v.unwrap()),
                recv(rxs[213]) -> v => (213usize, v.unwrap()),
                recv(rxs[214]) -> v => (214usize, v.unwrap()),
                recv(rxs[215]) -> v => (215usize, v.unwrap()),
                recv(rxs[216]) -> v => (216usize, v.unwrap()),
                recv(rxs[217]) -> v => (217usize, v.unwrap()),
                recv(rxs[218]) -> v => (218usize, v.unwrap()),
                recv(rxs[219]) -> v => (219usize, v.unwrap()),
                recv(rxs[220]) -> v => (220usize, v.unwrap()),
                recv(rxs[221]) -> v => (221usize, v.unwrap()),
                recv(rxs[222]) -> v => (222usize, v.unwrap()),
                recv(rxs[223]) -> v => (223usize, v.unwrap()),
                recv(rxs[224]) -> v => (224usize, v.unwrap()),
                recv(rxs[225]) -> v => (225usize, v.unwrap()),
                recv(rxs[226]) -> v => (226usize, v.unwrap()),
                recv(rxs[227]) -> v => (227usize, v.unwrap()),
                recv(rxs[228]) -> v => (228usize, v.unwrap()),
                recv(rxs[229]) -> v => (229usize, v.unwrap()),
                recv(rxs[230]) -> v => (230usize, v.unwrap()),
                recv(rxs[231]) -> v => (231usize, v.unwrap()),
                recv(rxs[232]) -> v => (232usize, v.unwrap()),
                recv(rxs[233]) -> v => (233usize, v.unwrap()),
                recv(rxs[234]) -> v => (234usize, v.unwrap()),
                recv(rxs[235]) -> v => (235usize, v.unwrap()),
                recv(rxs[236]) -> v => (236usize, v.unwrap()),
                recv(rxs[237]) -> v => (237usize, v.unwrap()),
                recv(rxs[238]) -> v => (238usize, v.unwrap()),
                recv(rxs[239]) -> v => (239usize, v.unwrap()),
                recv(rxs[240]) -> v => (240usize, v.unwrap()),
                recv(rxs[241]) -> v => (241usize, v.unwrap()),
                recv(rxs[242]) -> v => (242usize, v.unwrap()),
                recv(rxs[243]) -> v => (243usize, v.unwrap()),
                recv(rxs[244]) -> v => (244usize, v.unwrap()),
                recv(rxs[245]) -> v => (245usize, v.unwrap()),
                recv(rxs[246]) -> v => (246usize, v.unwrap()),
                recv(rxs[247]) -> v => (247usize, v.unwrap()),
                recv(rxs[248]) -> v => (248usize, v.unwrap()),
                recv(rxs[249]) -> v => (249usize, v.unwrap()),
                recv(rxs[250]) -> v => (250usize, v.unwrap()),
                recv(rxs[251]) -> v => (251usize, v.unwrap()),
                recv(rxs[252]) -> v => (252usize, v.unwrap()),
                recv(rxs[253]) -> v => (253usize, v.unwrap()),
                recv(rxs[254]) -> v => (254usize, v.unwrap()),
                recv(rxs[255]) -> v => (255usize, v.unwrap()),
            };
            assert_eq!(got, (k, k as u32));
        }
    })
    .unwrap();
}

/// The same with arms written as blocks, without commas.
#[test]
fn a_select_of_256_block_arms_compiles() {
    goro::run(|| {
        let (txs, rxs): (Vec<Sender<u32>>, Vec<Receiver<u32>>) = (0..256).map(|_| chan(1)).unzip();
        for k in [3usize, 200] {
            txs[k].send(k as u32).unwrap();
            let got = goro::select! {
                recv(rxs[0]) -> v => { (0usize, v.unwrap()) }
                recv(rxs[1]) -> v => { (1usize, v.unwrap()) }
                recv(rxs[2]) -> v => { (2usize, v.unwrap()) }
                recv(rxs[3]) -> v => { (3usize, v.unwrap()) }
                recv(rxs[4]) -> v => { (4usize, v.unwrap()) }
                recv(rxs[5]) -> v => { (5usize, v.unwrap()) }
                recv(rxs[6]) -> v => { (6usize, v.unwrap()) }
                recv(rxs[7]) -> v => { (7usize, v.unwrap()) }
                recv(rxs[8]) -> v => { (8usize, v.unwrap()) }
                recv(rxs[9]) -> v => { (9usize, v.unwrap()) }
                recv(rxs[10]) -> v => { (10usize, v.unwrap()) }
                recv(rxs[11]) -> v => { (11usize, v.unwrap()) }
                recv(rxs[12]) -> v => { (12usize, v.unwrap()) }
                recv(rxs[13]) -> v => { (13usize, v.unwrap()) }
                recv(rxs[14]) -> v => { (14usize, v.unwrap()) }
                recv(rxs[15]) -> v => { (15usize, v.unwrap()) }
                recv(rxs[16]) -> v => { (16usize, v.unwrap()) }
                recv(rxs[17]) -> v => { (17usize, v.unwrap()) }
                recv(rxs[18]) -> v => { (18usize, v.unwrap()) }
                recv(rxs[19]) -> v => { (19usize, v.unwrap()) }
                recv(rxs[20]) -> v => { (20usize, v.unwrap()) }
                recv(rxs[21]) -> v => { (21usize, v.unwrap()) }
                recv(rxs[22]) -> v => { (22usize, v.unwrap()) }
                recv(rxs[23]) -> v => { (23usize, v.unwrap()) }
                recv(rxs[24]) -> v => { (24usize, v.unwrap()) }
                recv(rxs[25]) -> v => { (25usize, v.unwrap()) }
                recv(rxs[26]) -> v => { (26usize, v.unwrap()) }
                recv(rxs[27]) -> v => { (27usize, v.unwrap()) }
                recv(rxs[28]) -> v => { (28usize, v.unwrap()) }
                recv(rxs[29]) -> v => { (29usize, v.unwrap()) }
                recv(rxs[30]) -> v => { (30usize, v.unwrap()) }
                recv(rxs[31]) -> v => { (31usize, v.unwrap()) }
                recv(rxs[32]) -> v => { (32usize, v.unwrap()) }
                recv(rxs[33]) -> v => { (33usize, v.unwrap()) }
                recv(rxs[34]) -> v => { (34usize, v.unwrap()) }
                recv(rxs[35]) -> v => { (35usize, v.unwrap()) }
                recv(rxs[36]) -> v => { (36usize, v.unwrap()) }
                recv(rxs[37]) -> v => { (37usize, v.unwrap()) }
                recv(rxs[38]) -> v => { (38usize, v.unwrap()) }
                recv(rxs[39]) -> v => { (39usize, v.unwrap()) }
                recv(rxs[40]) -> v => { (40usize, v.unwrap()) }
                recv(rxs[41]) -> v => { (41usize, v.unwrap()) }
                recv(rxs[42]) -> v => { (42usize, v.unwrap()) }
                recv(rxs[43]) -> v => { (43usize, v.unwrap()) }
                recv(rxs[44]) -> v => { (44usize, v.unwrap()) }
                recv(rxs[45]) -> v => { (45usize, v.unwrap()) }
                recv(rxs[46]) -> v => { (46usize, v.unwrap()) }
                recv(rxs[47]) -> v => { (47usize, v.unwrap()) }
                recv(rxs[48]) -> v => { (48usize, v.unwrap()) }
                recv(rxs[49]) -> v => { (49usize, v.unwrap()) }
                recv(rxs[50]) -> v => { (50usize, v.unwrap()) }
                recv(rxs[51]) -> v => { (51usize, v.unwrap()) }
                recv(rxs[52]) -> v => { (52usize, v.unwrap()) }
                recv(rxs[53]) -> v => { (53usize, v.unwrap()) }
                recv(rxs[54]) -> v => { (54usize, v.unwrap()) }
                recv(rxs[55]) -> v => { (55usize, v.unwrap()) }
                recv(rxs[56]) -> v => { (56usize, v.unwrap()) }
                recv(rxs[57]) -> v => { (57usize, v.unwrap()) }
                recv(rxs[58]) -> v => { (58usize, v.unwrap()) }
                recv(rxs[59]) -> v => { (59usize, v.unwrap()) }
                recv(rxs[60]) -> v => { (60usize, v.unwrap()) }
                recv(rxs[61]) -> v => { (61usize, v.unwrap()) }
                recv(rxs[62]) -> v => { (62usize, v.unwrap()) }
                recv(rxs[63]) -> v => { (63usize, v.unwrap()) }
                recv(rxs[64]) -> v => { (64usize, v.unwrap()) }
                recv(rxs[65]) -> v => { (65usize, v.unwrap()) }
                recv(rxs[66]) -> v => { (66usize, v.unwrap()) }
                recv(rxs[67]) -> v => { (67usize, v.unwrap()) }
                recv(rxs[68]) -> v => { (68usize, v.unwrap()) }
                recv(rxs[69]) -> v => { (69usize, v.unwrap()) }
                recv(rxs[70]) -> v => { (70usize, v.unwrap()) }
                recv(rxs[71]) -> v => { (71usize, v.unwrap()) }
                recv(rxs[72]) -> v => { (72usize, v.unwrap()) }
                recv(rxs[73]) -> v => { (73usize, v.unwrap()) }
                recv(rxs[74]) -> v => { (74usize, v.unwrap()) }
                recv(rxs[75]) -> v => { (75usize, v.unwrap()) }
                recv(rxs[76]) -> v => { (76usize, v.unwrap()) }
                recv(rxs[77]) -> v => { (77usize, v.unwrap()) }
                recv(rxs[78]) -> v => { (78usize, v.unwrap()) }
                recv(rxs[79]) -> v => { (79usize, v.unwrap()) }
                recv(rxs[80]) -> v => { (80usize, v.unwrap()) }
                recv(rxs[81]) -> v => { (81usize, v.unwrap()) }
                recv(rxs[82]) -> v => { (82usize, v.unwrap()) }
                recv(rxs[83]) -> v => { (83usize, v.unwrap()) }
                recv(rxs[84]) -> v => { (84usize, v.unwrap()) }
                recv(rxs[85]) -> v => { (85usize, v.unwrap()) }
                recv(rxs[86]) -> v => { (86usize, v.unwrap()) }
                recv(rxs[87]) -> v => { (87usize, v.unwrap()) }
                recv(rxs[88]) -> v => { (88usize, v.unwrap()) }
                recv(rxs[89]) -> v => { (89usize, v.unwrap()) }
                recv(rxs[90]) -> v => { (90usize, v.unwrap()) }
                recv(rxs[91]) -> v => { (91usize, v.unwrap()) }
                recv(rxs[92]) -> v => { (92usize, v.unwrap()) }
                recv(rxs[93]) -> v => { (93usize, v.unwrap()) }
                recv(rxs[94]) -> v => { (94usize, v.unwrap()) }
                recv(rxs[95]) -> v => { (95usize, v.unwrap()) }
                recv(rxs[96]) -> v => { (96usize, v.unwrap()) }
                recv(rxs[97]) -> v => { (97usize, v.unwrap()) }
                recv(rxs[98]) -> v => { (98usize, v.unwrap()) }
                recv(rxs[99]) -> v => { (99usize, v.unwrap()) }
                recv(rxs[100]) -> v => { (100usize, v.unwrap()) }
                recv(rxs[101]) -> v => { (101usize, v.unwrap()) }
                recv(rxs[102]) -> v => { (102usize, v.unwrap()) }
                recv(rxs[103]) -> v => { (103usize, v.unwrap()) }
                recv(rxs[104]) -> v => { (104usize, v.unwrap()) }
                recv(rxs[105]) -> v => { (105usize, v.unwrap()) }
                recv(rxs[106]) -> v => { (106usize, v.unwrap()) }
                recv(rxs[107]) -> v => { (107usize, v.unwrap()) }
                recv(rxs[108]) -> v => { (108usize, v.unwrap()) }
                recv(rxs[109]) -> v => { (109usize, v.unwrap()) }
                recv(rxs[110]) -> v => { (110usize, v.unwrap()) }
                recv(rxs[111]) -> v => { (111usize, v.unwrap()) }
                recv(rxs[112]) -> v => { (112usize, v.unwrap()) }
                recv(rxs[113]) -> v => { (113usize, v.unwrap()) }
                recv(rxs[114]) -> v => { (114usize, v.unwrap()) }
                recv(rxs[115]) -> v => { (115usize, v.unwrap()) }
                recv(rxs[116]) -> v => { (116usize, v.unwrap()) }
                recv(rxs[117]) -> v => { (117usize, v.unwrap()) }
                recv(rxs[118]) -> v => { (118usize, v.unwrap()) }
                recv(rxs[119]) -> v => { (119usize, v.unwrap()) }
                recv(rxs[120]) -> v => { (120usize, v.unwrap()) }
                recv(rxs[121]) -> v => { (121usize, v.unwrap()) }
                recv(rxs[122]) -> v => { (122usize, v.unwrap()) }
                recv(rxs[123]) -> v => { (123usize, v.unwrap()) }
                recv(rxs[124]) -> v => { (124usize, v.unwrap()) }
                recv(rxs[125]) -> v => { (125usize, v.unwrap()) }
                recv(rxs[126]) -> v => { (126usize, v.unwrap()) }
                recv(rxs[127]) -> v => { (127usize, v.unwrap()) }
                recv(rxs[128]) -> v => { (128usize, v.unwrap()) }
                recv(rxs[129]) -> v => { (129usize, v.unwrap()) }
                recv(rxs[130]) -> v => { (130usize, v.unwrap()) }
                recv(rxs[131]) -> v => { (131usize, v.unwrap()) }
                recv(rxs[132]) -> v => { (132usize, v.unwrap()) }
                recv(rxs[133]) -> v => { (133usize, v.unwrap()) }
                recv(rxs[134]) -> v => { (134usize, v.unwrap()) }
                recv(rxs[135]) -> v => { (135usize, v.unwrap()) }
                recv(rxs[136]) -> v => { (136usize, v.unwrap()) }
                recv(rxs[137]) -> v => { (137usize, v.unwrap()) }
                recv(rxs[138]) -> v => { (138usize, v.unwrap()) }
                recv(rxs[139]) -> v => { (139usize, v.unwrap()) }
                recv(rxs[140]) -> v => { (140usize, v.unwrap()) }
                recv(rxs[141]) -> v => { (141usize, v.unwrap()) }
                recv(rxs[142]) -> v => { (142usize, v.unwrap()) }
                recv(rxs[143]) -> v => { (143usize, v.unwrap()) }
                recv(rxs[144]) -> v => { (144usize, v.unwrap()) }
                recv(rxs[145]) -> v => { (145usize, v.unwrap()) }
                recv(rxs[146]) -> v => { (146usize, v.unwrap()) }
                recv(rxs[147]) -> v => { (147usize, v.unwrap()) }
                recv(rxs[148]) -> v => { (148usize, v.unwrap()) }
                recv(rxs[149]) -> v => { (149usize, v.unwrap()) }
                recv(rxs[150]) -> v => { (150usize, v.unwrap()) }
                recv(rxs[151]) -> v => { (151usize, v.unwrap()) }
                recv(rxs[152]) -> v => { (152usize, v.unwrap()) }
                recv(rxs[153]) -> v => { (153usize, v.unwrap()) }
                recv(rxs[154]) -> v => { (154usize, v.unwrap()) }
                recv(rxs[155]) -> v => { (155usize, v.unwrap()) }
                recv(rxs[156]) -> v => { (156usize, v.unwrap()) }
                recv(rxs[157]) -> v => { (157usize, v.unwrap()) }
                recv(rxs[158]) -> v => { (158usize, v.unwrap()) }
                recv(rxs[159]) -> v => { (159usize, v.unwrap()) }
                recv(rxs[160]) -> v => { (160usize, v.unwrap()) }
                recv(rxs[161]) -> v => { (161usize, v.unwrap()) }
                recv(rxs[162]) -> v => { (162usize, v.unwrap()) }
                recv(rxs[163]) -> v => { (163usize, v.unwrap()) }
                recv(rxs[164]) -> v => { (164usize, v.unwrap()) }
                recv(rxs[165]) -> v => { (165usize, v.unwrap()) }
                recv(rxs[166]) -> v => { (166usize, v.unwrap()) }
                recv(rxs[167]) -> v => { (167usize, v.unwrap()) }
                recv(rxs[168]) -> v => { (168usize, v.unwrap()) }
                recv(rxs[169]) -> v => { (169usize, v.unwrap()) }
                recv(rxs[170]) -> v => { (170usize, v.unwrap()) }
                recv(rxs[171]) -> v => { (171usize, v.unwrap()) }
                recv(rxs[172]) -> v => { (172usize, v.unwrap()) }
                recv(rxs[173]) -> v => { (173usize, v.unwrap()) }
                recv(rxs[174]) -> v => { (174usize, v.unwrap()) }
                recv(rxs[175]) -> v => { (175usize, v.unwrap()) }
                recv(rxs[176]) -> v => { (176usize, v.unwrap()) }
                recv(rxs[177]) -> v => { (177usize, v.unwrap()) }
                recv(rxs[178]) -> v => { (178usize, v.unwrap()) }
                recv(rxs[179]) -> v => { (179usize, v.unwrap()) }
                recv(rxs[180]) -> v => { (180usize, v.unwrap()) }
                recv(rxs[181]) -> v => { (181usize, v.unwrap()) }
                recv(rxs[182]) -> v => { (182usize, v.unwrap()) }
                recv(rxs[183]) -> v => { (183usize, v.unwrap()) }
                recv(rxs[184]) -> v => { (184usize, v.unwrap()) }
                recv(rxs[185]) -> v => { (185usize, v.unwrap()) }
                recv(rxs[186]) -> v => { (186usize, v.unwrap()) }
                recv(rxs[187]) -> v => { (187usize, v.unwrap()) }
                recv(rxs[188]) -> v => { (188usize, v.unwrap()) }
                recv(rxs[189]) -> v => { (189usize, v.unwrap()) }
                recv(rxs[190]) -> v => { (190usize, v.unwrap()) }
                recv(rxs[191]) -> v => { (191usize, v.unwrap()) }
                recv(rxs[192]) -> v => { (192usize, v.unwrap()) }
                recv(rxs[193]) -> v => { (193usize, v.unwrap()) }
                recv(rxs[194]) -> v => { (194usize, v.unwrap()) }
                recv(rxs[195]) -> v => { (195usize, v.unwrap()) }
                recv(rxs[196]) -> v => { (196usize, v.unwrap()) }
                recv(rxs[197]) -> v => { (197usize, v.unwrap()) }
                recv(rxs[198]) -> v => { (198usize, v.unwrap()) }
                recv(rxs[199]) -> v => { (199usize, v.unwrap()) }
                recv(rxs[200]) -> v => { (200usize, v.unwrap()) }
                recv(rxs[201]) -> v => { (201usize, v.unwrap()) }
                recv(rxs[202]) -> v => { (202usize, v.unwrap()) }
                recv(rxs[203]) -> v => { (203usize, v.unwrap()) }
                recv(rxs[204]) -> v => { (204usize, v.unwrap()) }
                recv(rxs[205]) -> v => { (205usize, v.unwrap()) }
                recv(rxs[206]) -> v => { (206usize, v.unwrap()) }
                recv(rxs[207]) -> v => { (207usize, v.unwrap()) }
                recv(rxs[208]) -> v => { (208usize, v.unwrap()) }
                recv(rxs[209]) -> v => { (209usize, v.unwrap()) }
                recv(rxs[210]) -> v => { (210usize, v.unwrap()) }
                recv(rxs[211]) -> v => { (211usize, v.unwrap()) }
                recv(rxs[212]) -> v => { (212usize, v.unwrap()) }
                recv(rxs[213]) -> v => { (213usize, v.unwrap()) }
                recv(rxs[214]) -> v => { (214usize, v.unwrap()) }
                recv(rxs[215]) -> v => { (215usize, v.unwrap()) }
                recv(rxs[216]) -> v => { (216usize, v.unwrap()) }
                recv(rxs[217]) -> v => { (217usize, v.unwrap()) }
                recv(rxs[218]) -> v => { (218usize, v.unwrap()) }
                recv(rxs[219]) -> v => { (219usize, v.unwrap()) }
                recv(rxs[220]) -> v => { (220usize, v.unwrap()) }
                recv(rxs[221]) -> v => { (221usize, v.unwrap()) }
                recv(rxs[222]) -> v => { (222usize, v.unwrap()) }
                recv(rxs[223]) -> v => { (223usize, v.unwrap()) }
                recv(rxs[224]) -> v => { (224usize, v.unwrap()) }
                recv(rxs[225]) -> v => { (225usize, v.unwrap()) }
                recv(rxs[226]) -> v => { (226usize, v.unwrap()) }
                recv(rxs[227]) -> v => { (227usize, v.unwrap()) }
                recv(rxs[228]) -> v => { (228usize, v.unwrap()) }
                recv(rxs[229]) -> v => { (229usize, v.unwrap()) }
                recv(rxs[230]) -> v => { (230usize, v.unwrap()) }
                recv(rxs[231]) -> v => { (231usize, v.unwrap()) }
                recv(rxs[232]) -> v => { (232usize, v.unwrap()) }
                recv(rxs[233]) -> v => { (233usize, v.unwrap()) }
                recv(rxs[234]) -> v => { (234usize, v.unwrap()) }
                recv(rxs[235]) -> v => { (235usize, v.unwrap()) }
                recv(rxs[236]) -> v => { (236usize, v.unwrap()) }
                recv(rxs[237]) -> v => { (237usize, v.unwrap()) }
                recv(rxs[238]) -> v => { (238usize, v.unwrap()) }
                recv(rxs[239]) -> v => { (239usize, v.unwrap()) }
                recv(rxs[240]) -> v => { (240usize, v.unwrap()) }
                recv(rxs[241]) -> v => { (241usize, v.unwrap()) }
                recv(rxs[242]) -> v => { (242usize, v.unwrap()) }
                recv(rxs[243]) -> v => { (243usize, v.unwrap()) }
                recv(rxs[244]) -> v => { (244usize, v.unwrap()) }
                recv(rxs[245]) -> v => { (245usize, v.unwrap()) }
                recv(rxs[246]) -> v => { (246usize, v.unwrap()) }
                recv(rxs[247]) -> v => { (247usize, v.unwrap()) }
                recv(rxs[248]) -> v => { (248usize, v.unwrap()) }
                recv(rxs[249]) -> v => { (249usize, v.unwrap()) }
                recv(rxs[250]) -> v => { (250usize, v.unwrap()) }
                recv(rxs[251]) -> v => { (251usize, v.unwrap()) }
                recv(rxs[252]) -> v => { (252usize, v.unwrap()) }
                recv(rxs[253]) -> v => { (253usize, v.unwrap()) }
                recv(rxs[254]) -> v => { (254usize, v.unwrap()) }
                recv(rxs[255]) -> v => { (255usize, v.unwrap()) }
            };
            assert_eq!(got, (k, k as u32));
        }
    })
    .unwrap();
}
