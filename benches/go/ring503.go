// The Go twin of goro's ring503 workload (crates/goro-lab/src/bench/workloads/ring503.rs), with the
// same definition and op count.

package main

import (
	"time"
)

const ring = 503

func ring503(hops int) measure {
	chans := make([]chan int, ring)
	for i := range chans {
		chans[i] = make(chan int)
	}
	done := make(chan int, 1)
	for i := 0; i < ring; i++ {
		go func(i int, in, next chan int) {
			for v := range in {
				if v == 0 {
					done <- i
					close(next)
					return
				}
				next <- v - 1
			}
			close(next)
		}(i, chans[i], chans[(i+1)%ring])
	}
	t := time.Now()
	chans[0] <- hops
	last := <-done
	el := time.Since(t)
	if last != hops%ring {
		panic("ring503")
	}
	return measure{int64(hops), el, -1}
}
