// The Go twin of goro's parked1m workload (crates/goro-lab/src/bench/workloads/parked1m.rs), with the
// same definition and op count.

package main

import (
	"bufio"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

func rss() int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if line := s.Text(); strings.HasPrefix(line, "VmRSS:") {
			v := strings.TrimPrefix(line, "VmRSS:")
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb * 1024
		}
	}
	return 0
}

func parked(n int) measure {
	gate := make(chan struct{})
	var started, finished sync.WaitGroup
	r0 := rss()
	t := time.Now()
	started.Add(n)
	finished.Add(n)
	for i := 0; i < n; i++ {
		go func() {
			started.Done()
			<-gate
			finished.Done()
		}()
	}
	started.Wait()
	el := time.Since(t)
	time.Sleep(20 * time.Millisecond)
	r1 := rss()
	close(gate)
	finished.Wait()
	return measure{int64(n), el, (r1 - r0) / int64(n)}
}
