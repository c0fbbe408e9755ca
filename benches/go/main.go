// Go twins of goro's headline workloads (shared/BENCH.md), same definitions and op counts.
// Usage: go build -o goro-bench-go . && ./goro-bench-go [-runs K] [NAME...]
// GOMAXPROCS is taken from the environment, as goro takes GORO_WORKERS.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

type measure struct {
	ops     int64
	elapsed time.Duration
	bytes   int64 // resident bytes per goroutine, parked1M only; -1 otherwise
}

func spawn(n int) measure {
	var wg sync.WaitGroup
	t := time.Now()
	wg.Add(n)
	for i := 0; i < n; i++ {
		go func() { wg.Done() }()
	}
	wg.Wait()
	return measure{int64(n), time.Since(t), -1}
}

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

var workloads = []struct {
	name string
	run  func() measure
}{
	{"spawn", func() measure { return spawn(1_000_000) }},
	{"skynet1M", func() measure { return skynet(1_000_000) }},
	{"parked1M", func() measure { return parked(1_000_000) }},
}

func main() {
	runs := flag.Int("runs", 3, "runs per workload; the median is printed")
	flag.Parse()
	want := map[string]bool{}
	for _, a := range flag.Args() {
		want[strings.ToLower(a)] = true
	}
	for _, w := range workloads {
		if len(want) > 0 && !want[strings.ToLower(w.name)] {
			continue
		}
		ms := make([]measure, 0, *runs)
		for i := 0; i < *runs; i++ {
			ms = append(ms, w.run())
			runtime.GC()
		}
		sort.Slice(ms, func(i, j int) bool { return ms[i].elapsed < ms[j].elapsed })
		m := ms[len(ms)/2]
		ns := float64(m.elapsed.Nanoseconds()) / float64(m.ops)
		ms1 := float64(m.elapsed.Nanoseconds()) / 1e6
		if m.bytes >= 0 {
			fmt.Printf("%-10s%10.0f ns/op %10.1f ms %8d B/goroutine\n", w.name, ns, ms1, m.bytes)
		} else {
			fmt.Printf("%-10s%10.0f ns/op %10.1f ms\n", w.name, ns, ms1)
		}
	}
}
