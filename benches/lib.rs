//! criterion micro-benchmarks of goro's hot paths (`cargo bench -p goro-benches`), and in
//! `go/` the Go twins of the lab's workloads (one file per workload, named as the lab's
//! `crates/goro-lab/src/bench/workloads/`) and of the micro-benchmarks (`micro_test.go`).
