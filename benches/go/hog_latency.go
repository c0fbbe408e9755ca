// The Go twin of goro's hog_latency workload (crates/goro-lab/src/bench/workloads/hog_latency.rs), with the
// same definition and op count.

package main

import (
	"context"
	"sort"
	"time"
)

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
