// The Go twin of goro's select2_b64 workload (crates/goro-lab/src/bench/workloads/select2_b64.rs), with the
// same definition and op count.

package main

import (
	"time"
)

func select2(n int) measure {
	half := n / 2
	a, b := make(chan int, 64), make(chan int, 64)
	t := time.Now()
	for _, c := range []chan int{a, b} {
		go func(c chan int) {
			for i := 0; i < half; i++ {
				c <- i
			}
		}(c)
	}
	sum := 0
	for got := 0; got < 2*half; got++ {
		select {
		case v := <-a:
			sum += v
		case v := <-b:
			sum += v
		}
	}
	el := time.Since(t)
	if sum != half*(half-1) {
		panic("select2 sum")
	}
	return measure{int64(2 * half), el, -1}
}
