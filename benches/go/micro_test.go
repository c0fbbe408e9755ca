// Go twins of goro's criterion micro-benchmarks of mutexes and timers (benches/benches/core.rs).
// Run: cd benches/go && go test -bench . -cpu 2
package main

import (
	"sync"
	"testing"
	"time"
)

// BenchmarkMutexUncontended: lock and unlock a mutex nobody else wants.
func BenchmarkMutexUncontended(b *testing.B) {
	var m sync.Mutex
	n := 0
	for i := 0; i < b.N; i++ {
		m.Lock()
		n++
		m.Unlock()
	}
	if n != b.N {
		b.Fatal("lost an increment")
	}
}

// BenchmarkMutexContended: two goroutines each lock, increment and unlock b.N/2 times.
func BenchmarkMutexContended(b *testing.B) {
	var m sync.Mutex
	n := 0
	half := (b.N + 1) / 2
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; i < half; i++ {
			m.Lock()
			n++
			m.Unlock()
		}
	}()
	for i := 0; i < half; i++ {
		m.Lock()
		n++
		m.Unlock()
	}
	wg.Wait()
	if n != 2*half {
		b.Fatal("lost an increment")
	}
}

// BenchmarkTimerArmStop: arm a timer an hour out and stop it.
func BenchmarkTimerArmStop(b *testing.B) {
	for i := 0; i < b.N; i++ {
		t := time.NewTimer(time.Hour)
		t.Stop()
	}
}

// BenchmarkAfterInSelect: the timeout idiom when the work wins.
func BenchmarkAfterInSelect(b *testing.B) {
	ch := make(chan int, 1)
	for i := 0; i < b.N; i++ {
		ch <- i
		select {
		case <-ch:
		case <-time.After(time.Hour):
			b.Fatal("timed out")
		}
	}
}
