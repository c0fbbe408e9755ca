//! criterion micro-benchmarks of goro's hot paths (`cargo bench -p goro-benches`), and the Go
//! twins of the lab's workloads in `go/`.
