//! `SIGQUIT` (Ctrl-\ in a terminal) prints a dump of every goroutine of every live runtime to
//! stderr, as Go's runtime does. Unlike Go, the program then goes on running (a server being
//! looked at should not die of it). `GORO_SIGQUIT=0` leaves the signal alone.
//!
//! The handler only writes a byte to a pipe (all a signal handler may safely do); a
//! `goro-sigquit` thread reads it and asks each runtime's workers for their goroutines.

use std::io::Read;
use std::os::fd::FromRawFd;
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::Once;
use std::time::Duration;

static WRITE_FD: AtomicI32 = AtomicI32::new(-1);

extern "C" fn on_sigquit(_: libc::c_int) {
    let fd = WRITE_FD.load(Ordering::Relaxed);
    if fd >= 0 {
        let b = 1u8;
        // SAFETY: write(2) is async-signal-safe; one byte from a live local; the pipe's write
        // end is non-blocking, so a full pipe drops the byte (a dump is pending anyway).
        unsafe { libc::write(fd, (&raw const b).cast(), 1) };
    }
}

/// Installs the handler, the first time a runtime starts (the runtimes it dumps are the
/// process's live ones, `monitor::live_runtimes`).
pub(crate) fn install_handler() {
    if std::env::var("GORO_SIGQUIT").is_ok_and(|v| v == "0") {
        return;
    }
    static INSTALL: Once = Once::new();
    INSTALL.call_once(install);
}

fn install() {
    let mut fds = [0i32; 2];
    // SAFETY: pipe2 writes two descriptors into the array we pass.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return;
    }
    let (rd, wr) = (fds[0], fds[1]);
    // SAFETY: fcntl on a descriptor we own.
    unsafe { libc::fcntl(wr, libc::F_SETFL, libc::O_NONBLOCK) };
    WRITE_FD.store(wr, Ordering::Relaxed);
    // SAFETY: `rd` is ours alone from here on; the File closes it if the thread ends.
    let mut pipe = unsafe { std::fs::File::from_raw_fd(rd) };
    let started = std::thread::Builder::new()
        .name("goro-sigquit".into())
        .spawn(move || {
            let mut b = [0u8; 64];
            while matches!(pipe.read(&mut b), Ok(n) if n > 0) {
                print_dumps();
            }
        });
    if started.is_err() {
        return;
    }
    // SAFETY: a zeroed sigaction with our handler, no flags but SA_RESTART; the handler only
    // calls write(2).
    unsafe {
        let mut sa: libc::sigaction = std::mem::zeroed();
        sa.sa_sigaction = on_sigquit as *const () as usize;
        sa.sa_flags = libc::SA_RESTART;
        libc::sigemptyset(&mut sa.sa_mask);
        libc::sigaction(libc::SIGQUIT, &sa, std::ptr::null_mut());
    }
}

fn print_dumps() {
    let rts = crate::sched::monitor::live_runtimes();
    for (i, rt) in rts.iter().enumerate() {
        let (gs, missing) = rt.dump(Duration::from_millis(200), true);
        let mut out = format!("SIGQUIT: goro runtime {} of {}\n\n", i + 1, rts.len());
        out.push_str(&super::format(&gs));
        if !missing.is_empty() {
            out.push_str(&format!(
                "(workers {missing:?} are running one goroutine without yielding and could not answer)\n"
            ));
        }
        eprint!("{out}");
    }
}
