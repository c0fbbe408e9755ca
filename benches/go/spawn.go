// The Go twin of goro's spawn workload (crates/goro-lab/src/bench/workloads/spawn.rs), with the
// same definition and op count.

package main

import (
	"sync"
	"time"
)

func spawn(n int) measure {
	var wg sync.WaitGroup
	t := time.Now()
	wg.Add(n)
	for i := 0; i < n; i++ {
		go func() { wg.Done() }()
	}
	wg.Wait()
	return measure{int64(n), time.Since(t), -1}
}
