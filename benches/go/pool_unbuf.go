// The Go twin of goro's pool_unbuf workload (crates/goro-lab/src/bench/workloads/pool_unbuf.rs), with the
// same definition and op count.

package main

import (
	"time"
)

const pool = 8

func poolUnbuf(jobs int) measure {
	t := time.Now()
	jobsc := make(chan int)
	res := make(chan int, 64)
	done := make(chan struct{})
	for w := 0; w < pool; w++ {
		go func() {
			for j := range jobsc {
				spinFor(200 * time.Microsecond)
				res <- j
			}
			done <- struct{}{}
		}()
	}
	go func() {
		for j := 0; j < jobs; j++ {
			jobsc <- j
		}
		close(jobsc)
	}()
	go func() {
		for w := 0; w < pool; w++ {
			<-done
		}
		close(res)
	}()
	sum := rangeSum(res)
	el := time.Since(t)
	if sum != jobs*(jobs-1)/2 {
		panic("pool_unbuf sum")
	}
	return measure{int64(jobs), el, -1}
}
