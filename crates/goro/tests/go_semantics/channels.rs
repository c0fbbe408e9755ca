//! SEMANTICS.md, Channels: C1-C25.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use goro::{chan, try_chan, RecvError, TryRecvError, TrySendError};

use crate::common::{drop_counter, drops, on_1_and_2_workers, thread, Counted};

/// Gives other goroutines time to run and block (used only to *allow* progress, never as
/// the thing checked).
fn settle() {
    goro::time::sleep(Duration::from_millis(20));
}

#[test]
fn c1_unbuffered_is_rendezvous_buffered_is_queue() {
    let (tx, _rx) = chan::<u8>(0);
    assert!(matches!(tx.try_send(1), Err(TrySendError::Full(1))));
    let (tx, rx) = chan::<u8>(2);
    tx.try_send(1).unwrap();
    tx.try_send(2).unwrap();
    assert!(tx.try_send(3).unwrap_err().is_full());
    assert_eq!((rx.recv(), rx.recv()), (Ok(1), Ok(2)));
}

#[test]
fn c2_capacity_too_large_is_an_error() {
    let e = try_chan::<u64>(usize::MAX / 4).unwrap_err();
    assert_eq!(e.cap, usize::MAX / 4);
    assert!(e.to_string().contains("out of range"), "{e}");
    assert!(try_chan::<u64>(1 << 10).is_ok());
}

#[test]
fn c3_zero_sized_types_work() {
    on_1_and_2_workers(|| {
        for cap in [0, 3] {
            let (tx, rx) = chan::<()>(cap);
            let h = goro::go(move || {
                for _ in 0..1000 {
                    tx.send(()).unwrap();
                }
            });
            assert_eq!(rx.iter().count(), 1000);
            h.join().unwrap();
        }
        let (tx, rx) = chan::<()>(usize::MAX);
        tx.send(()).unwrap();
        tx.send(()).unwrap();
        assert_eq!(rx.len(), 2);
    });
}

#[test]
fn c4_len_and_cap() {
    let (tx, rx) = chan::<u8>(4);
    assert_eq!((tx.len(), tx.cap()), (0, 4));
    tx.send(1).unwrap();
    tx.send(2).unwrap();
    assert_eq!((rx.len(), rx.cap()), (2, 4));
    let (tx0, rx0) = chan::<u8>(0);
    assert_eq!((rx0.len(), tx0.cap()), (0, 0));
    on_1_and_2_workers(move || {
        let (tx, rx) = chan::<u8>(0);
        let h = goro::go(move || tx.send(1).unwrap());
        settle(); // the sender is blocked now, holding its value
        assert_eq!(rx.len(), 0, "unbuffered len is always 0");
        assert_eq!(rx.recv(), Ok(1));
        h.join().unwrap();
    });
}

#[test]
fn c5_many_goroutines_and_threads_at_once() {
    on_1_and_2_workers(|| {
        let (tx, rx) = chan::<u64>(8);
        let sum = Arc::new(AtomicUsize::new(0));
        let mut gs = Vec::new();
        let mut ts = Vec::new();
        for p in 0..4u64 {
            let tx1 = tx.clone();
            gs.push(goro::go(move || {
                for i in 0..2000 {
                    tx1.send(p * 10_000 + i).unwrap();
                    assert!(tx1.len() <= tx1.cap());
                }
            }));
            let tx2 = tx.clone();
            ts.push(thread(move || {
                for i in 0..2000 {
                    tx2.send(100_000 + p * 10_000 + i).unwrap();
                    assert_eq!(tx2.cap(), 8);
                }
            }));
        }
        drop(tx);
        for _ in 0..3 {
            let (rx1, sum1) = (rx.clone(), sum.clone());
            gs.push(goro::go(move || {
                for v in &rx1 {
                    sum1.fetch_add(v as usize, Ordering::Relaxed);
                }
            }));
            let (rx2, sum2) = (rx.clone(), sum.clone());
            ts.push(thread(move || {
                for v in &rx2 {
                    sum2.fetch_add(v as usize, Ordering::Relaxed);
                }
            }));
        }
        drop(rx);
        gs.into_iter().for_each(|h| h.join().unwrap());
        ts.into_iter().for_each(|h| h.recv().unwrap());
        let want: u64 = (0..4u64)
            .flat_map(|p| (0..2000).map(move |i| 2 * (p * 10_000 + i) + 100_000))
            .sum();
        assert_eq!(sum.load(Ordering::Relaxed) as u64, want);
    });
}

#[test]
fn c6_closed_channel_reports_buffered_len() {
    let (tx, rx) = chan::<u8>(3);
    tx.send(1).unwrap();
    tx.send(2).unwrap();
    tx.close().unwrap();
    assert_eq!(rx.len(), 2);
    assert!(rx.is_closed());
    rx.recv().unwrap();
    assert_eq!(rx.len(), 1);
}

#[test]
fn c7_c8_disabled_cases_never_ready_and_only_disabled_blocks_forever() {
    on_1_and_2_workers(|| {
        let (tx, rx) = chan::<u8>(1);
        tx.send(1).unwrap();
        let off: Option<&goro::Receiver<u8>> = None;
        for _ in 0..100 {
            let got = goro::select! {
                recv(off) -> _ => "disabled",
                default => "default",
            };
            assert_eq!(got, "default");
        }
        // Only disabled cases, no default: blocks forever (until shutdown unwinds it).
        let passed = Arc::new(AtomicBool::new(false));
        let p = passed.clone();
        goro::go(move || {
            let none_rx: Option<goro::Receiver<u8>> = None;
            let none_tx: Option<goro::Sender<u8>> = None;
            goro::select! {
                recv(none_rx) -> _ => {},
                send(none_tx, 1) -> _ => {},
            }
            p.store(true, Ordering::SeqCst);
        });
        settle();
        assert!(!passed.load(Ordering::SeqCst));
        // An `Option` of an end, held in a variable, is passed by reference (Go programmers
        // write `recv(&opt)`): `Some` takes part, `None` is disabled.
        let (on, off) = (Some(rx), None::<goro::Receiver<u8>>);
        let got = goro::select! {
            recv(&off) -> _ => 0,
            recv(&on) -> v => v.unwrap(),
        };
        assert_eq!(got, 1);
        let (stx, srx) = chan::<u8>(1);
        let (on, off) = (Some(stx), None::<goro::Sender<u8>>);
        goro::select! {
            send(&off, 1) -> _ => unreachable!("a disabled case is never ready"),
            send(&on, 2) -> r => r.unwrap(),
        }
        assert_eq!(srx.recv(), Ok(2));
    });
}

#[test]
fn c9_close_twice_is_an_error_and_changes_nothing() {
    let (tx, rx) = chan::<u8>(2);
    tx.send(7).unwrap();
    assert_eq!(tx.close(), Ok(()));
    assert_eq!(tx.close(), Err(goro::CloseError));
    assert_eq!(
        tx.close().unwrap_err().to_string(),
        "close of closed channel"
    );
    assert_eq!(rx.recv(), Ok(7));
    assert_eq!(rx.recv(), Err(RecvError));
}

#[test]
fn c10_send_on_closed_returns_the_value() {
    let (tx, _rx) = chan::<String>(4);
    tx.close().unwrap();
    let e = tx.send("kept".to_string()).unwrap_err();
    assert_eq!(e.to_string(), "send on closed channel");
    assert_eq!(e.1, goro::SendFailure::Closed);
    assert_eq!(e.into_inner(), "kept");
}

#[test]
fn c11_closed_drains_fifo_then_reports_closed_forever() {
    on_1_and_2_workers(|| {
        let (tx, rx) = chan::<u32>(5);
        for i in 0..5 {
            tx.send(i).unwrap();
        }
        tx.close().unwrap();
        for i in 0..5 {
            assert_eq!(rx.recv(), Ok(i));
        }
        for _ in 0..1000 {
            assert_eq!(rx.recv(), Err(RecvError));
            assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
        }
    });
}

#[test]
fn c12_recv_tells_a_zero_value_from_closed() {
    let (tx, rx) = chan::<u32>(1);
    tx.send(0).unwrap();
    drop(tx);
    assert_eq!(rx.recv(), Ok(0));
    assert_eq!(rx.recv(), Err(RecvError));
}

#[test]
fn c13_close_wakes_every_blocked_receiver() {
    on_1_and_2_workers(|| {
        for cap in [0, 4] {
            let (tx, rx) = chan::<u8>(cap);
            let hs: Vec<_> = (0..50)
                .map(|_| {
                    let rx = rx.clone();
                    goro::go(move || rx.recv())
                })
                .collect();
            settle();
            tx.close().unwrap();
            for h in hs {
                assert_eq!(h.join().unwrap(), Err(RecvError));
            }
        }
    });
}

#[test]
fn c14_close_wakes_every_blocked_sender_with_its_value() {
    on_1_and_2_workers(|| {
        let (tx, rx) = chan::<u32>(0);
        let hs: Vec<_> = (0..50u32)
            .map(|i| {
                let tx = tx.clone();
                goro::go(move || tx.send(i).map_err(|e| e.into_inner()))
            })
            .collect();
        settle();
        tx.close().unwrap();
        for (i, h) in hs.into_iter().enumerate() {
            assert_eq!(h.join().unwrap(), Err(i as u32));
        }
        drop(rx);
    });
}

#[test]
fn c15_try_send_on_closed_returns_the_value() {
    let (tx, rx) = chan::<u8>(0);
    drop(rx);
    assert!(matches!(tx.try_send(9), Err(TrySendError::Closed(9))));
    let (tx, _rx) = chan::<u8>(3);
    tx.close().unwrap();
    assert!(tx.try_send(9).unwrap_err().is_closed());
}

#[test]
fn c16_last_sender_closes_and_last_receiver_fails_sends() {
    let (tx, rx) = chan::<u8>(1);
    let tx2 = tx.clone();
    drop(tx);
    assert!(!rx.is_closed(), "a sender is still alive");
    drop(tx2);
    assert_eq!(rx.recv(), Err(RecvError));

    let (tx, rx) = chan::<u8>(1);
    drop(rx);
    let e = tx.send(5).unwrap_err();
    // The error says why: not a close, but nobody left to receive.
    assert_eq!(e.1, goro::SendFailure::ReceiversGone);
    assert!(e.receivers_gone());
    assert_eq!(
        e.to_string(),
        "sending on a channel whose receivers are all gone"
    );
    assert_eq!(format!("{e:?}"), "SendError(.., ReceiversGone)");
    assert_eq!(e.into_inner(), 5);
    on_1_and_2_workers(|| {
        // A sender blocked when the last receiver goes gets its value back, and why.
        let (tx, rx) = chan::<u8>(0);
        let h = goro::go(move || tx.send(3).map_err(|e| (e.0, e.1)));
        settle();
        drop(rx);
        assert_eq!(
            h.join().unwrap(),
            Err((3, goro::SendFailure::ReceiversGone))
        );
    });
}

#[test]
fn c17_unbuffered_send_and_recv_complete_together() {
    on_1_and_2_workers(|| {
        let (tx, rx) = chan::<u8>(0);
        let sent = Arc::new(AtomicBool::new(false));
        let s = sent.clone();
        let h = goro::go(move || {
            tx.send(1).unwrap();
            s.store(true, Ordering::SeqCst);
        });
        settle();
        assert!(
            !sent.load(Ordering::SeqCst),
            "send completed with no receiver"
        );
        assert_eq!(rx.recv(), Ok(1));
        h.join().unwrap();
        assert!(sent.load(Ordering::SeqCst));

        let (tx, rx) = chan::<u8>(0);
        let got = Arc::new(AtomicBool::new(false));
        let g = got.clone();
        let h = goro::go(move || {
            rx.recv().unwrap();
            g.store(true, Ordering::SeqCst);
        });
        settle();
        assert!(
            !got.load(Ordering::SeqCst),
            "receive completed with no sender"
        );
        tx.send(1).unwrap();
        h.join().unwrap();
    });
}

#[test]
fn c18_buffered_send_blocks_iff_full_recv_iff_empty() {
    on_1_and_2_workers(|| {
        let (tx, rx) = chan::<u32>(3);
        for i in 0..3 {
            tx.try_send(i).unwrap(); // len < cap: never blocks
        }
        let done = Arc::new(AtomicBool::new(false));
        let d = done.clone();
        let tx2 = tx.clone();
        let h = goro::go(move || {
            tx2.send(3).unwrap(); // full: blocks
            d.store(true, Ordering::SeqCst);
        });
        settle();
        assert!(!done.load(Ordering::SeqCst));
        assert_eq!(rx.recv(), Ok(0));
        h.join().unwrap();
        for i in 1..4 {
            assert_eq!(rx.try_recv(), Ok(i)); // len > 0: never blocks
        }
        assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    });
}

#[test]
fn c19_fifo_for_every_capacity() {
    on_1_and_2_workers(|| {
        for cap in [0, 1, 7, 100] {
            let (tx, rx) = chan::<u32>(cap);
            let h = goro::go(move || {
                for i in 0..20_000 {
                    tx.send(i).unwrap();
                }
            });
            let mut want = 0;
            for v in &rx {
                assert_eq!(v, want, "capacity {cap}");
                want += 1;
            }
            assert_eq!(want, 20_000);
            h.join().unwrap();
        }
    });
}

/// Also the multi-consumer checksum: 250,000 items, 8 producers, 8 consumers.
#[test]
fn c20_mpmc_delivers_every_value_exactly_once() {
    on_1_and_2_workers(|| {
        for cap in [0, 16] {
            const PER: u64 = 31_250;
            let (tx, rx) = chan::<u64>(cap);
            let (out_tx, out_rx) = chan::<Vec<u64>>(8);
            for p in 0..8u64 {
                let tx = tx.clone();
                goro::go(move || {
                    for i in 0..PER {
                        tx.send(p * PER + i).unwrap();
                    }
                });
            }
            drop(tx);
            for _ in 0..8 {
                let (rx, out_tx) = (rx.clone(), out_tx.clone());
                goro::go(move || out_tx.send(rx.iter().collect()).unwrap());
            }
            drop((rx, out_tx));
            let mut seen = vec![false; (8 * PER) as usize];
            let mut sum = 0u64;
            for part in &out_rx {
                for v in part {
                    assert!(!seen[v as usize], "{v} delivered twice");
                    seen[v as usize] = true;
                    sum += v;
                }
            }
            let n = 8 * PER;
            assert_eq!(sum, n * (n - 1) / 2, "capacity {cap}");
        }
    });
}

#[test]
fn c21_iter_yields_until_closed_and_drained() {
    on_1_and_2_workers(|| {
        let (tx, rx) = chan::<u32>(2);
        goro::go(move || {
            for i in 0..10 {
                tx.send(i).unwrap();
            }
        });
        let mut got = Vec::new();
        for v in &rx {
            got.push(v);
        }
        assert_eq!(got, (0..10).collect::<Vec<_>>());
        assert_eq!(rx.iter().next(), None);
        assert_eq!(rx.into_iter().next(), None);
    });
}

#[test]
fn c22_waiting_receivers_get_values_directly_in_arrival_order() {
    // One worker makes arrival order deterministic: each receiver runs and blocks on
    // `yield_now` before the next is spawned.
    goro::Runtime::builder()
        .workers(1)
        .run(|| {
            let (tx, rx) = chan::<u32>(4);
            let (log_tx, log_rx) = chan::<(u32, u32)>(16);
            for id in 0..5 {
                let (rx, log_tx) = (rx.clone(), log_tx.clone());
                goro::go(move || log_tx.send((id, rx.recv().unwrap())).unwrap());
                goro::yield_now();
            }
            assert_eq!(rx.__waiting().0, 5);
            tx.send(100).unwrap();
            // Handed to the first receiver's stack, not buffered.
            assert_eq!(tx.len(), 0);
            for v in 101..105 {
                tx.send(v).unwrap();
            }
            drop(log_tx);
            let mut got: Vec<_> = log_rx.iter().collect();
            got.sort_unstable();
            assert_eq!(got, [(0, 100), (1, 101), (2, 102), (3, 103), (4, 104)]);

            // Blocked senders are served in arrival order too.
            let (tx, rx) = chan::<u32>(1);
            tx.send(0).unwrap();
            for id in 1..5 {
                let tx = tx.clone();
                goro::go(move || tx.send(id).unwrap());
                goro::yield_now();
            }
            drop(tx);
            assert_eq!(rx.iter().collect::<Vec<_>>(), [0, 1, 2, 3, 4]);
        })
        .unwrap();
}

#[test]
fn c23_nonblocking_recv_racing_close_never_reports_empty() {
    on_1_and_2_workers(|| {
        for _ in 0..20_000 {
            let (tx, rx) = chan::<u32>(1);
            tx.send(1).unwrap();
            goro::go(move || tx.close().unwrap());
            match rx.try_recv() {
                Ok(1) => {}
                other => panic!("a buffered value was reported as {other:?}"),
            }
        }
    });
}

#[test]
fn c24_values_are_dropped_exactly_once() {
    let counter = drop_counter();
    {
        let (tx, rx) = chan::<Counted>(10);
        for i in 0..10 {
            tx.send(Counted(i, counter.clone())).unwrap();
        }
        let v = rx.recv().unwrap();
        assert_eq!(drops(&counter), 0);
        drop(v);
        assert_eq!(drops(&counter), 1);
        tx.send(Counted(10, counter.clone())).unwrap(); // full again
                                                        // A refused send hands the value back: not dropped, not kept.
        let back = tx.try_send(Counted(99, counter.clone())).unwrap_err();
        assert_eq!(drops(&counter), 1);
        drop(back);
        assert_eq!(drops(&counter), 2);
        drop(tx);
        assert_eq!(drops(&counter), 2, "closing drops nothing buffered");
    }
    assert_eq!(
        drops(&counter),
        12,
        "the 10 buffered values died with the channel"
    );

    // Through goroutines, blocked senders, close and shutdown.
    let counter = drop_counter();
    let c = counter.clone();
    on_1_and_2_workers(move || {
        let (tx, rx) = chan::<Counted>(2);
        let hs: Vec<_> = (0..20)
            .map(|i| {
                let (tx, c) = (tx.clone(), c.clone());
                goro::go(move || {
                    let _ = tx.send(Counted(i, c));
                })
            })
            .collect();
        for _ in 0..5 {
            rx.recv().unwrap();
        }
        tx.close().unwrap();
        hs.into_iter().for_each(|h| h.join().unwrap());
    });
    assert_eq!(drops(&counter), 40);
}

#[test]
fn c25_goroutines_and_threads_talk_both_ways() {
    // Between OS threads, with no runtime at all.
    let (tx, rx) = chan::<u32>(0);
    let t = std::thread::spawn(move || (0..1000).for_each(|i| tx.send(i).unwrap()));
    assert_eq!(rx.iter().sum::<u32>(), 499_500);
    t.join().unwrap();
    on_1_and_2_workers(|| {
        // Goroutine -> thread and thread -> goroutine.
        let (to_thread, from_goro) = chan::<u32>(0);
        let (to_goro, from_thread) = chan::<u32>(0);
        let t = thread(move || {
            for v in &from_goro {
                to_goro.send(v * 2).unwrap();
            }
        });
        for i in 0..1000 {
            to_thread.send(i).unwrap();
            assert_eq!(from_thread.recv(), Ok(i * 2));
        }
        drop(to_thread);
        t.recv().unwrap();
    });
}
