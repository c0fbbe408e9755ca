//! Helpers shared by the integration tests.

use std::process::{Command, Output};

/// Runs this test binary again in a child process with only `test` selected (ignored tests
/// included) and `env` set: for what must be observed from outside, such as an abort, or the
/// CPU time of a process that runs nothing else.
#[allow(dead_code)]
pub fn rerun_in_child(test: &str, env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(std::env::current_exe().expect("test binary path"));
    cmd.args(["--exact", test, "--nocapture", "--include-ignored"]);
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("run the test binary again")
}

/// A `WaitGroup` at one that nobody brings to zero: goroutines that wait on it stay parked
/// until the runtime shuts down and unwinds them.
#[allow(dead_code)] // not every test binary that includes this module uses it
pub fn gate_never_opened() -> goro::sync::WaitGroup {
    let gate = goro::sync::WaitGroup::new();
    gate.add(1);
    gate
}

/// Starts one goroutine per value, each holding its value and waiting on a gate that is never
/// opened, and returns once all of them are parked: they stay so until shutdown unwinds them.
#[allow(dead_code)] // not every test binary that includes this module uses it
pub fn park_forever_holding<V: Send + 'static>(values: impl IntoIterator<Item = V>) {
    let gate = gate_never_opened();
    let parked = goro::sync::WaitGroup::new();
    for value in values {
        let (gate, parked) = (gate.clone(), parked.clone());
        parked.add(1);
        goro::go(move || {
            let _value = value;
            parked.done();
            gate.wait();
        });
    }
    parked.wait();
}

/// Runs `f` as the main goroutine of a runtime with 1 worker, then with 2.
#[allow(dead_code)]
pub fn on_1_and_2_workers(f: impl Fn() + Clone + 'static) {
    for w in [1, 2] {
        goro::Runtime::builder()
            .workers(w)
            .run(f.clone())
            .unwrap_or_else(|e| panic!("with {w} workers: {e}"));
    }
}

/// Starts two goroutines, each waiting for the other to send (a partial deadlock), and
/// returns their ids. In a function of its own, so that no frame still running keeps copies
/// of the handles for the leak check to find.
#[allow(dead_code)]
#[inline(never)]
pub fn start_cycle() -> [u64; 2] {
    let (tx_a, rx_a) = goro::chan::<u32>(0);
    let (tx_b, rx_b) = goro::chan::<u32>(0);
    let a = goro::go(move || {
        let v = rx_a.recv().unwrap_or(0);
        let _ = tx_b.send(v);
    });
    let b = goro::go(move || {
        let v = rx_b.recv().unwrap_or(0);
        let _ = tx_a.send(v);
    });
    [a.id(), b.id()]
}

/// A value that counts its drops in a shared counter (C24, S13).
#[allow(dead_code)]
#[derive(Debug)]
pub struct Counted(pub u64, pub std::sync::Arc<std::sync::atomic::AtomicUsize>);

impl Drop for Counted {
    fn drop(&mut self) {
        self.1.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    }
}

/// A fresh drop counter.
#[allow(dead_code)]
pub fn drop_counter() -> std::sync::Arc<std::sync::atomic::AtomicUsize> {
    std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0))
}

/// Reads a drop counter.
#[allow(dead_code)]
pub fn drops(c: &std::sync::atomic::AtomicUsize) -> usize {
    c.load(std::sync::atomic::Ordering::SeqCst)
}

/// Runs `f` on a new OS thread; its result arrives on the returned channel. Join it with
/// `recv`, which parks only the goroutine: `std::thread::JoinHandle::join` would block the
/// whole worker, and with it every goroutine that lives there, which the thread may be
/// waiting for.
#[allow(dead_code)]
pub fn thread<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> goro::Receiver<T> {
    let (tx, rx) = goro::chan(1);
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx
}

/// How a child run ended.
#[allow(dead_code)]
pub struct Ended {
    /// The exit code; `None` if a signal ended it or it was killed for running too long.
    pub code: Option<i32>,
    /// The signal that ended it, if one did (a kill for running too long included).
    pub signal: Option<i32>,
    pub timed_out: bool,
    pub out: String,
}

/// Runs the `child_*` test `name` in a child process, with `env`, for at most `limit`.
#[allow(dead_code)]
pub fn child(name: &str, env: &[(&str, &str)], limit: std::time::Duration) -> Ended {
    let mut cmd = std::process::Command::new(std::env::current_exe().expect("test binary path"));
    cmd.args(["--exact", name, "--nocapture", "--include-ignored"])
        .env("RUST_BACKTRACE", "0")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut c = cmd.spawn().expect("start the test binary again");
    let (mut so, mut se) = (c.stdout.take().unwrap(), c.stderr.take().unwrap());
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = std::io::Read::read_to_string(&mut so, &mut s);
        s
    });
    let reader2 = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = std::io::Read::read_to_string(&mut se, &mut s);
        s
    });
    let start = std::time::Instant::now();
    let mut timed_out = false;
    let status = loop {
        if let Some(s) = c.try_wait().unwrap() {
            break s;
        }
        if start.elapsed() > limit {
            timed_out = true;
            let _ = c.kill();
            break c.wait().unwrap();
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    };
    let mut out = reader.join().unwrap();
    out.push_str(&reader2.join().unwrap());
    Ended {
        code: status.code(),
        signal: std::os::unix::process::ExitStatusExt::signal(&status),
        timed_out,
        out,
    }
}

/// Asserts that the child test `name` ran to its end and passed, within `limit`.
#[allow(dead_code)]
pub fn child_passes(name: &str, limit: std::time::Duration) -> String {
    let e = child(name, &[], limit);
    assert!(
        !e.timed_out,
        "{name} still ran after {limit:?} (a hang):\n{}",
        e.out
    );
    assert_eq!(e.code, Some(0), "{name} did not pass:\n{}", e.out);
    assert!(e.out.contains("CHILD DONE"), "{name}:\n{}", e.out);
    e.out
}
