//! What the examples' test binaries share.

/// Runs `f` as the main goroutine of a runtime of `workers` workers, without the exit report
/// or hog warnings (some patterns compute for long slices on purpose); panics on a run error.
pub fn on(workers: usize, f: impl FnOnce() + 'static) {
    goro::Runtime::builder()
        .workers(workers)
        .exit_report(false)
        .hog_warnings(false)
        .run(f)
        .unwrap_or_else(|e| panic!("with {workers} workers: {e}"));
}
