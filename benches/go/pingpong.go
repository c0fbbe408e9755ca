// The Go twin of goro's pingpong workload (crates/goro-lab/src/bench/workloads/pingpong.rs), with the
// same definition and op count.

package main

import (
	"time"
)

func pingpong(n int) measure {
	ping, pong := make(chan int), make(chan int)
	go func() {
		for v := range ping {
			pong <- v + 1
		}
	}()
	t := time.Now()
	v := 0
	for i := 0; i < n; i++ {
		ping <- v
		v = <-pong
	}
	el := time.Since(t)
	close(ping)
	if v != n {
		panic("pingpong")
	}
	return measure{int64(n), el, -1}
}
