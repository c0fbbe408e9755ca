//! `goro::tokio`: tokio's futures on goroutines, and tokio tasks joined by goroutines.
#![cfg(feature = "tokio")]

mod common;

use std::io::{Read, Write};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[test]
fn tokio_sockets_and_timers_work_from_goroutines() {
    common::on_1_and_2_workers(|| {
        // A goro server; tokio clients on 20 goroutines at once.
        let ln = goro::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = ln.local_addr().unwrap();
        goro::go(move || {
            for c in ln.incoming().take(20) {
                let mut c = c.unwrap();
                goro::go(move || {
                    let mut buf = [0u8; 5];
                    c.read_exact(&mut buf).unwrap();
                    c.write_all(&buf).unwrap();
                });
            }
        });
        let hs: Vec<_> = (0..20)
            .map(|_| {
                goro::go(move || {
                    goro::tokio::block_on(async move {
                        tokio::time::sleep(Duration::from_millis(5)).await;
                        let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
                        s.write_all(b"hello").await.unwrap();
                        let mut buf = [0u8; 5];
                        s.read_exact(&mut buf).await.unwrap();
                        buf
                    })
                })
            })
            .collect();
        for h in hs {
            assert_eq!(&h.join().unwrap(), b"hello");
        }
    });
}

#[test]
fn tokio_tasks_are_joined_or_selected_on() {
    common::on_1_and_2_workers(|| {
        let t = goro::tokio::spawn(async {
            tokio::time::sleep(Duration::from_millis(5)).await;
            "from tokio"
        });
        assert_eq!(t.join().unwrap(), "from tokio");
        // In a select beside a goro channel.
        let slow = goro::tokio::spawn(async {
            tokio::time::sleep(Duration::from_secs(30)).await;
        });
        let (tx, rx) = goro::chan::<u8>(0);
        goro::go(move || tx.send(1).unwrap());
        goro::select! {
            recv(slow.receiver()) -> _ => unreachable!("it sleeps for 30 s"),
            recv(rx) -> v => assert_eq!(v, Ok(1)),
        }
        slow.abort();
        assert!(matches!(
            slow.join(),
            Err(goro::tokio::TaskError::Cancelled)
        ));
        // A panicking task gives its panic as a value.
        let p = goro::tokio::spawn(async { panic!("in a task") });
        match p.join() {
            Err(goro::tokio::TaskError::Panicked(p)) => {
                assert_eq!(p.downcast_ref::<&str>(), Some(&"in a task"))
            }
            other => panic!("{other:?}"),
        }
    });
}

#[test]
fn a_tokio_task_and_goroutines_share_one_channel() {
    common::on_1_and_2_workers(|| {
        // A tokio task serves requests that goroutines send on a goro channel, and answers
        // each on the goro channel that came with it.
        let (req_tx, req_rx) = goro::chan::<(u64, goro::Sender<u64>)>(0);
        let server = goro::tokio::spawn(async move {
            let mut served = 0;
            while let Ok((n, reply)) = req_rx.recv_async().await {
                tokio::task::yield_now().await;
                let _ = reply.send_async(n * n).await;
                served += 1;
            }
            served
        });
        let hs: Vec<_> = (0..50u64)
            .map(|i| {
                let req_tx = req_tx.clone();
                goro::go(move || {
                    let (tx, rx) = goro::chan(0);
                    req_tx.send((i, tx)).unwrap();
                    rx.recv().unwrap()
                })
            })
            .collect();
        let sum: u64 = hs.into_iter().map(|h| h.join().unwrap()).sum();
        assert_eq!(sum, (0..50u64).map(|i| i * i).sum());
        drop(req_tx); // the task's recv_async sees the channel closed
        assert_eq!(server.join().unwrap(), 50);
    });
}
