// The Go twin of goro's nonblock_select_race workload (crates/goro-lab/src/bench/workloads/nonblock_select_race.rs), with the
// same definition and op count.

package main

import (
	"time"
)

// Go's runtime/chan_test.go TestNonblockSelectRace, timed.
func nonblockSelectRace(rounds int) measure {
	done := make(chan bool, 1)
	t := time.Now()
	for i := 0; i < rounds; i++ {
		c1 := make(chan int, 1)
		c2 := make(chan int, 1)
		c1 <- 1
		go func() {
			select {
			case <-c1:
			case <-c2:
			default:
				done <- false
				return
			}
			done <- true
		}()
		c2 <- 1
		select {
		case <-c1:
		default:
		}
		if !<-done {
			panic("no chan is ready")
		}
	}
	return measure{int64(rounds), time.Since(t), -1}
}
