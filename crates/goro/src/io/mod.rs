//! Standard input and files without blocking a worker.
//!
//! This folder owns [`stdin`] and the file helpers. Files go through
//! [`blocking`](fn@crate::blocking):
//! the read or write runs on the blocking pool while the goroutine parks. Standard input is
//! different: a read can wait for ever, and a goroutine waiting in `blocking` cannot be
//! unwound until its call returns, so a program whose main goroutine returns while another
//! waits for a line would hang at exit. So one `goro-stdin` thread owns standard input and
//! reads a line only when asked; the asking goroutine waits on a channel, which shutdown can
//! unwind. (A line asked for by a goroutine that was unwound meanwhile is lost.)

use std::io::{self, BufRead};
use std::path::Path;
use std::sync::OnceLock;

use crate::chan::{chan, Receiver, Sender};

type Reply = Sender<io::Result<Option<String>>>;

fn reader() -> &'static Sender<Reply> {
    static READER: OnceLock<Sender<Reply>> = OnceLock::new();
    READER.get_or_init(|| {
        let (tx, rx): (Sender<Reply>, Receiver<Reply>) = chan(0);
        let started = std::thread::Builder::new()
            .name("goro-stdin".into())
            .spawn(move || {
                let stdin = io::stdin();
                for reply in &rx {
                    let mut line = String::new();
                    let r = match stdin.lock().read_line(&mut line) {
                        Ok(0) => Ok(None),
                        Ok(_) => {
                            if line.ends_with('\n') {
                                line.pop();
                                if line.ends_with('\r') {
                                    line.pop();
                                }
                            }
                            Ok(Some(line))
                        }
                        Err(e) => Err(e),
                    };
                    let _ = reply.send(r);
                }
            });
        if started.is_err() {
            // Without the thread every request fails at once (its channel is closed).
            let (dead_tx, _) = chan(0);
            return dead_tx;
        }
        tx
    })
}

/// The process's standard input, read a line at a time without blocking a worker.
#[derive(Debug, Clone, Copy)]
pub struct Stdin(());

/// Standard input (Go's `os.Stdin` wrapped in a `bufio.Scanner`).
///
/// # Examples
///
/// ```no_run
/// goro::run(|| {
///     for line in goro::io::stdin().lines() {
///         println!("{}", line.unwrap());
///     }
/// })
/// .unwrap();
/// ```
pub fn stdin() -> Stdin {
    Stdin(())
}

impl Stdin {
    /// The next line without its line ending; `Ok(None)` at end of input. The goroutine parks
    /// while it waits.
    pub fn read_line(&self) -> io::Result<Option<String>> {
        let (reply_tx, reply_rx) = chan(1);
        let _waiting = crate::net::poller::io_waiting_token();
        if reader().send(reply_tx).is_err() {
            return Err(io::Error::other("goro: cannot start the stdin thread"));
        }
        reply_rx
            .recv()
            .unwrap_or_else(|_| Err(io::Error::other("goro: the stdin thread stopped")))
    }

    /// The lines until end of input.
    pub fn lines(self) -> Lines {
        Lines { done: false }
    }
}

/// Lines of standard input; see [`Stdin::lines`].
#[derive(Debug)]
pub struct Lines {
    done: bool,
}

impl Iterator for Lines {
    type Item = io::Result<String>;
    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        match stdin().read_line() {
            Ok(Some(l)) => Some(Ok(l)),
            Ok(None) => {
                self.done = true;
                None
            }
            Err(e) => {
                self.done = true;
                Some(Err(e))
            }
        }
    }
}

/// Reads a whole file on the blocking pool.
pub fn read_file(path: impl AsRef<Path> + Send) -> io::Result<Vec<u8>> {
    crate::blocking(|| std::fs::read(path))
}

/// Reads a whole file as UTF-8 on the blocking pool.
pub fn read_to_string(path: impl AsRef<Path> + Send) -> io::Result<String> {
    crate::blocking(|| std::fs::read_to_string(path))
}

/// Writes a whole file on the blocking pool.
///
/// # Examples
///
/// ```
/// goro::run(|| {
///     let p = std::env::temp_dir().join(format!("goro-doc-{}", std::process::id()));
///     goro::io::write_file(&p, b"hi").unwrap();
///     assert_eq!(goro::io::read_file(&p).unwrap(), b"hi");
///     std::fs::remove_file(&p).unwrap();
/// })
/// .unwrap();
/// ```
pub fn write_file(path: impl AsRef<Path> + Send, data: impl AsRef<[u8]> + Send) -> io::Result<()> {
    crate::blocking(|| std::fs::write(path, data))
}
