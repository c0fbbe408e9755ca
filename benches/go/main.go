// Go twins of goro's headline workloads (docs/BENCHMARKS.md, "The workloads"), same definitions and op counts.
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

func pingpong(n int) measure {
	ping, pong := make(chan int), make(chan int)
	go func() {
		for v := range ping {
			pong <- v + 1
		}
	}()
	t := time.Now()
	v := 0
	for i := 0; i < n; i++ {
		ping <- v
		v = <-pong
	}
	el := time.Since(t)
	close(ping)
	if v != n {
		panic("pingpong")
	}
	return measure{int64(n), el, -1}
}

// rangeSum receives until c is closed and returns the sum of what came.
func rangeSum(c <-chan int) int {
	sum := 0
	for v := range c {
		sum += v
	}
	return sum
}

func spsc(n, capacity int) measure {
	c := make(chan int, capacity)
	t := time.Now()
	go func() {
		for i := 0; i < n; i++ {
			c <- i
		}
		close(c)
	}()
	sum := rangeSum(c)
	el := time.Since(t)
	if sum != n*(n-1)/2 {
		panic("spsc sum")
	}
	return measure{int64(n), el, -1}
}

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

func select2(n int) measure {
	half := n / 2
	a, b := make(chan int, 64), make(chan int, 64)
	t := time.Now()
	for _, c := range []chan int{a, b} {
		go func(c chan int) {
			for i := 0; i < half; i++ {
				c <- i
			}
		}(c)
	}
	sum := 0
	for got := 0; got < 2*half; got++ {
		select {
		case v := <-a:
			sum += v
		case v := <-b:
			sum += v
		}
	}
	el := time.Since(t)
	if sum != half*(half-1) {
		panic("select2 sum")
	}
	return measure{int64(2 * half), el, -1}
}

const ring = 503

func ring503(hops int) measure {
	chans := make([]chan int, ring)
	for i := range chans {
		chans[i] = make(chan int)
	}
	done := make(chan int, 1)
	for i := 0; i < ring; i++ {
		go func(i int, in, next chan int) {
			for v := range in {
				if v == 0 {
					done <- i
					close(next)
					return
				}
				next <- v - 1
			}
			close(next)
		}(i, chans[i], chans[(i+1)%ring])
	}
	t := time.Now()
	chans[0] <- hops
	last := <-done
	el := time.Since(t)
	if last != hops%ring {
		panic("ring503")
	}
	return measure{int64(hops), el, -1}
}

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
