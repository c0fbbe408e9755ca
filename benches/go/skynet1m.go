// The Go twin of goro's skynet1m workload (crates/goro-lab/src/bench/workloads/skynet1m.rs), with the
// same definition and op count.

package main

import (
	"time"
)

func skynetNode(c chan<- int64, num, size int64) {
	if size == 1 {
		c <- num
		return
	}
	child := size / 10
	rc := make(chan int64)
	for i := int64(0); i < 10; i++ {
		go skynetNode(rc, num+i*child, child)
	}
	var sum int64
	for i := 0; i < 10; i++ {
		sum += <-rc
	}
	c <- sum
}

func skynet(leaves int64) measure {
	t := time.Now()
	c := make(chan int64)
	go skynetNode(c, 0, leaves)
	sum := <-c
	el := time.Since(t)
	if sum != leaves*(leaves-1)/2 {
		panic("skynet sum")
	}
	var nodes int64
	for l := leaves; l >= 1; l /= 10 {
		nodes += l
	}
	return measure{nodes, el, -1}
}
