//! # readword: read a word from standard input, or give up after a timeout
//!
//! What it is for: waiting for something that may never come (a user, a device) without
//! waiting for ever. One goroutine reads a word; the main goroutine selects on the word and
//! on a timer, and takes whichever comes first. Reading a terminal blocks its thread, so the
//! read runs through `goro::blocking`, which parks the goroutine while a pool thread waits.
//!
//! ```go
//! func readword(ch chan string) {
//!     fmt.Println("Type a word, then hit Enter.")
//!     var word string
//!     fmt.Scanf("%s", &word)
//!     ch <- word
//! }
//!
//! func main() {
//!     t := make(chan bool)
//!     go func() { time.Sleep(5 * time.Second); t <- false }()
//!     ch := make(chan string)
//!     go readword(ch)
//!     select {
//!     case word := <-ch:
//!         fmt.Println("Received", word)
//!     case <-t:
//!         fmt.Println("Timeout.")
//!     }
//! }
//! ```
//!
//! What to watch: Go's program leaves the reader blocked in `Scanf` after a timeout (and the
//! timer goroutine blocked on its unbuffered send after a word). Here the reader waits for
//! input in short `poll(2)` slices and checks a context between them, so cancelling the
//! context at the end of `main` ends it too, and nothing is left running either way.

use std::os::fd::RawFd;
use std::time::{Duration, Instant};

use goro::context::Context;

use crate::pattern::{leaked_goroutines, ms, Report};

/// Reads one line from `fd` on a blocking-pool thread, giving up when `ctx` ends; returns its
/// first word (`None` at end of input, on an error, or when cancelled).
pub fn read_word(fd: RawFd, ctx: &Context) -> Option<String> {
    let mut line = Vec::new();
    loop {
        let mut pfd = libc::pollfd {
            fd,
            events: libc::POLLIN,
            revents: 0,
        };
        // Wait at most 20 ms at a time, then look at the context.
        // SAFETY: one valid pollfd, count 1.
        let n = goro::blocking(|| unsafe { libc::poll(&mut pfd, 1, 20) });
        if ctx.err().is_some() || n < 0 {
            return None;
        }
        if n == 0 {
            continue;
        }
        let mut byte = [0u8; 1];
        // SAFETY: reads at most one byte into `byte`; poll said it will not block.
        let r = unsafe { libc::read(fd, byte.as_mut_ptr().cast(), 1) };
        if r <= 0 || byte[0] == b'\n' {
            if r <= 0 && line.is_empty() {
                return None;
            }
            let s = String::from_utf8_lossy(&line);
            return s.split_whitespace().next().map(str::to_owned);
        }
        line.push(byte[0]);
    }
}

/// What became of one readword.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// A word came first.
    Word(String),
    /// Input ended without a word.
    NoWord,
    /// The timer came first.
    Timeout,
}

/// Go's program on `fd`, with `wait` as the timeout; also returns how long it took.
pub fn readword(fd: RawFd, wait: Duration) -> (Outcome, Duration) {
    let start = Instant::now();
    let (ctx, cancel) = Context::background().with_cancel();
    // One slot: a reader that finishes after the timeout never blocks on its send.
    let (word_tx, word_rx) = goro::chan::<Option<String>>(1);
    goro::Builder::new()
        .name("readword".to_string())
        .spawn(move || {
            let _ = word_tx.send(read_word(fd, &ctx));
        })
        .expect("spawn the reader");
    // tour:begin: the lines `goro tour` shows
    let outcome = goro::select! {
        recv(word_rx) -> w => match w {
            Ok(Some(word)) => Outcome::Word(word),
            _ => Outcome::NoWord,
        },
        recv(goro::time::after(wait)) -> _ => Outcome::Timeout,
    };
    cancel.cancel();
    // tour:end
    (outcome, start.elapsed())
}

/// The pattern's run on standard input.
pub fn run(scale: f64) -> Result<Report, String> {
    let before = goro::debug::goroutines_count();
    let wait = Duration::from_secs_f64((5.0 * scale).max(0.2));
    println!(
        "    Type a word, then hit Enter ({:.1} s):",
        wait.as_secs_f64()
    );
    let (outcome, took) = readword(libc::STDIN_FILENO, wait);
    let line = match &outcome {
        Outcome::Word(w) => format!("received {w:?}"),
        Outcome::NoWord => "standard input ended without a word".to_string(),
        Outcome::Timeout => "timeout".to_string(),
    };
    let leaked = leaked_goroutines(before);
    Ok(Report {
        lines: vec![line.clone()],
        figure: format!(
            "{line} after {:.1} ms; {leaked} goroutines left behind",
            ms(took)
        ),
        bars: vec![("waited".to_string(), ms(took))],
        unit: "ms",
        leaked,
    })
}
