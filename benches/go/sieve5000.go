// The Go twin of goro's sieve5000 workload (crates/goro-lab/src/bench/workloads/sieve5000.rs), with the
// same definition and op count.

package main

import (
	"time"
)

// The sieve as Go's own test/chan/sieve1.go writes it: the stages are never stopped.
func generate(ch chan<- int) {
	for i := 2; ; i++ {
		ch <- i
	}
}

func filter(in <-chan int, out chan<- int, prime int) {
	for {
		if v := <-in; v%prime != 0 {
			out <- v
		}
	}
}

func sieve(n int) measure {
	t := time.Now()
	ch := make(chan int)
	go generate(ch)
	last := 0
	for i := 0; i < n; i++ {
		p := <-ch
		last = p
		next := make(chan int)
		go filter(ch, next, p)
		ch = next
	}
	el := time.Since(t)
	if n == 5000 && last != 48611 {
		panic("sieve")
	}
	return measure{int64(n), el, -1}
}
