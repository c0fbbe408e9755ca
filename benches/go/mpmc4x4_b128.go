// The Go twin of goro's mpmc4x4_b128 workload (crates/goro-lab/src/bench/workloads/mpmc4x4_b128.rs), with the
// same definition and op count.

package main

import (
	"sync"
	"time"
)

func mpmc(n int) measure {
	c := make(chan int, 128)
	per := n / 4
	t := time.Now()
	var producers sync.WaitGroup
	producers.Add(4)
	for p := 0; p < 4; p++ {
		go func(p int) {
			for i := 0; i < per; i++ {
				c <- p*per + i
			}
			producers.Done()
		}(p)
	}
	go func() { producers.Wait(); close(c) }()
	type part struct{ count, sum int }
	parts := make(chan part)
	for k := 0; k < 4; k++ {
		go func() {
			var p part
			for v := range c {
				p.count++
				p.sum += v
			}
			parts <- p
		}()
	}
	var count, sum int
	for k := 0; k < 4; k++ {
		p := <-parts
		count += p.count
		sum += p.sum
	}
	el := time.Since(t)
	m := per * 4
	if count != m || sum != m*(m-1)/2 {
		panic("mpmc")
	}
	return measure{int64(m), el, -1}
}
