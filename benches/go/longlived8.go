// The Go twin of goro's longlived8 workload (crates/goro-lab/src/bench/workloads/longlived8.rs), with the
// same definition and op count.

package main

import (
	"time"
)

func longlived8(rounds int) measure {
	t := time.Now()
	c := make(chan int)
	for w := 0; w < pool; w++ {
		go func() {
			for r := 0; r < rounds; r++ {
				spinFor(500 * time.Microsecond)
				c <- r
			}
		}()
	}
	for i := 0; i < rounds*pool; i++ {
		<-c
	}
	return measure{int64(rounds), time.Since(t), -1}
}
