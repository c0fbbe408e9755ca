// The Go twin of goro's spsc workload (crates/goro-lab/src/bench/workloads/spsc.rs), with the
// same definition and op count.

package main

import (
	"time"
)

// rangeSum receives until c is closed and returns the sum of what came.
func rangeSum(c <-chan int) int {
	sum := 0
	for v := range c {
		sum += v
	}
	return sum
}

func spsc(n, capacity int) measure {
	c := make(chan int, capacity)
	t := time.Now()
	go func() {
		for i := 0; i < n; i++ {
			c <- i
		}
		close(c)
	}()
	sum := rangeSum(c)
	el := time.Since(t)
	if sum != n*(n-1)/2 {
		panic("spsc sum")
	}
	return measure{int64(n), el, -1}
}
