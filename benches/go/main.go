// Go twins of goro's headline workloads (docs/BENCHMARKS.md, "The workloads"), one file per
// workload, named as goro's (crates/goro-lab/src/bench/workloads/), with the same
// definitions and op counts. CPU work in the real-program shapes spins on the wall clock
// (spinFor), so one job costs the same in both languages.
// Usage: go build -o goro-bench-go . && ./goro-bench-go [-runs K] [NAME...]
// GOMAXPROCS is taken from the environment, as goro takes GORO_WORKERS.
package main

import (
	"flag"
	"fmt"
	"runtime"
	"sort"
	"strings"
	"time"
)

type measure struct {
	ops     int64
	elapsed time.Duration
	bytes   int64 // resident bytes per goroutine, parked1M only; -1 otherwise
}

var workloads = []struct {
	name string
	size int
	run  func(n int) measure
}{
	{"pingpong", 1_000_000, pingpong},
	{"spsc_unbuf", 10_000_000, func(n int) measure { return spsc(n, 0) }},
	{"spsc_b100", 10_000_000, func(n int) measure { return spsc(n, 100) }},
	{"mpmc4x4_b128", 8_000_000, mpmc},
	{"spawn", 1_000_000, spawn},
	{"skynet1M", 1_000_000, func(n int) measure { return skynet(int64(n)) }},
	{"select2_b64", 4_000_000, select2},
	{"ring503", 10_000_000, ring503},
	{"sieve5000", 5_000, sieve},
	{"parked1M", 1_000_000, parked},
	{"pool_unbuf", 2_000, poolUnbuf},
	{"longlived8", 200, longlived8},
	{"hog_latency", 1_000, hogLatency},
	{"nonblock_select_race", 100_000, nonblockSelectRace},
}

// scaled is goro's size rule for -scale: size*scale, at least 2; skynet's tree stays a power
// of ten (at least 10).
func scaled(name string, size int, scale float64) int {
	n := int(float64(size) * scale)
	if name == "skynet1M" {
		if n < 10 {
			n = 10
		}
		p := 1
		for p*10 <= n {
			p *= 10
		}
		return p
	}
	if n < 2 {
		n = 2
	}
	return n
}

func main() {
	runs := flag.Int("runs", 3, "runs per workload; the median is printed")
	scale := flag.Float64("scale", 1, "multiply every workload's size by this (as goro bench --scale)")
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
			ms = append(ms, w.run(scaled(w.name, w.size, *scale)))
			runtime.GC()
		}
		sort.Slice(ms, func(i, j int) bool { return ms[i].elapsed < ms[j].elapsed })
		m := ms[len(ms)/2]
		ns := float64(m.elapsed.Nanoseconds()) / float64(m.ops)
		ms1 := float64(m.elapsed.Nanoseconds()) / 1e6
		if m.bytes >= 0 {
			fmt.Printf("%-13s%10.0f ns/op %10.1f ms %8d B/goroutine\n", w.name, ns, ms1, m.bytes)
		} else {
			fmt.Printf("%-13s%10.0f ns/op %10.1f ms\n", w.name, ns, ms1)
		}
	}
}

func spinFor(d time.Duration) {
	t := time.Now()
	for time.Since(t) < d {
	}
}
