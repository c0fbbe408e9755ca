// Go twins of goro's real-program shapes (crates/goro-lab/src/bench/shapes.rs), same
// definitions: CPU work spins on the wall clock so one job costs the same in both languages.
package main

import (
	"context"
	"sort"
	"time"
)

func spinFor(d time.Duration) {
	t := time.Now()
	for time.Since(t) < d {
	}
}

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

func hogLatency(ms int) measure {
	const nap = time.Millisecond
	ctx, cancel := context.WithTimeout(context.Background(), time.Duration(ms+5)*time.Millisecond)
	defer cancel()
	lates := make(chan []time.Duration, 10)
	for s := 0; s < 10; s++ {
		go func() {
			late := make([]time.Duration, 0, ms*2)
			for ctx.Err() == nil {
				t := time.Now()
				time.Sleep(nap)
				d := time.Since(t) - nap
				if d < 0 {
					d = 0
				}
				late = append(late, d)
			}
			lates <- late
		}()
	}
	time.Sleep(5 * time.Millisecond)
	hog := make(chan uint64)
	go func() {
		x := uint64(1)
		for ctx.Err() == nil {
			for i := 0; i < 1000; i++ {
				x ^= x << 13
				x ^= x >> 7
				x ^= x << 17
			}
		}
		hog <- x
	}()
	<-hog
	var all []time.Duration
	for s := 0; s < 10; s++ {
		all = append(all, <-lates...)
	}
	sort.Slice(all, func(i, j int) bool { return all[i] < all[j] })
	return measure{1, all[len(all)*99/100], -1}
}

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
