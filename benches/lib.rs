//! criterion micro-benchmarks of goro's hot paths (`cargo bench -p goro-benches`), the Go
//! twins of the lab's workloads in `go/`, and the same workloads on peer libraries in
//! [`peers`] (what `goro bench --peers` runs).

/// The lab's workloads on other Rust concurrency libraries, written as their own docs write
/// them.
pub mod peers {
    #[path = "crossbeam.rs"]
    pub mod crossbeam;
    #[path = "tokio.rs"]
    pub mod tokio;
}
