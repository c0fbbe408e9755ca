//! Runnable examples of goro, one file per pattern (`cargo run -p goro-examples --example NAME`,
//! or `goro run NAME` from the lab). The servers live here as a library so the lab and the
//! tests can start them too.

pub mod echo;
pub mod http;
pub mod load;

/// Raises the soft limit on open files to the hard one: a thousand connections with both ends
/// in one process need two thousand descriptors, more than the 1,024 some systems default to.
pub fn raise_fd_limit() {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit/setrlimit only read and write the struct we pass.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) == 0 && lim.rlim_cur < lim.rlim_max {
            lim.rlim_cur = lim.rlim_max;
            libc::setrlimit(libc::RLIMIT_NOFILE, &lim);
        }
    }
}
