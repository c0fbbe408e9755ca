// The Go twins of goro's study (crates/goro-lab/src/study): the Cowichan problems in the same
// styles, with the same definitions and output hash, run by `goro study --vs-go`.
//
// Usage: goro-study-go -problem P -styles a,b -workers W [-method warm|process] [-runs R]
//
//	[-rows N -cols N -seed S -percent P -nelts N]
//
// -method warm builds the problem's real inputs sequentially, then times each style: an
// untimed run, then the median of -runs, one line per style: STYLE MS HASH GOROUTINES.
// -method process runs the first style once on the whole-process method's inputs (synthetic
// for thresh, winnow, outer and product) and prints HASH GOROUTINES.
// GOMAXPROCS is taken from the environment, as goro takes its worker count.
package main

import (
	"flag"
	"fmt"
	"os"
	"sort"
	"strings"
	"sync/atomic"
	"time"
)

type params struct {
	nrows, ncols, percent, nelts int
	seed                         uint32
}

func styleNamed(name string, workers int) style {
	switch name {
	case "sequential":
		return sequential{}
	case "non-expert":
		return nonExpert{}
	case "expert":
		return expert{workers}
	case "divide-and-conquer":
		return divide{}
	case "blocks":
		return blockStyle{workers}
	}
	return nil
}

// inputs are the chain's data, computed sequentially.
type inputs struct {
	m    [][]byte
	mask [][]bool
	pts  []point
	a    [][]float64
	v    []float64
}

func realInputs(p params, problem string) inputs {
	var in inputs
	s := sequential{}
	if problem == "randmat" || problem == "chain" {
		return in
	}
	in.m = s.randmat(p.nrows, p.ncols, p.seed)
	if problem == "thresh" {
		return in
	}
	in.mask = s.thresh(in.m, p.percent)
	if problem == "winnow" {
		return in
	}
	in.pts = s.winnow(in.m, in.mask, p.nelts)
	if problem == "outer" {
		return in
	}
	in.a, in.v = s.outer(in.pts)
	return in
}

func syntheticInputs(p params, problem string) inputs {
	var in inputs
	switch problem {
	case "thresh":
		in.m = syntheticMatrix(p.nrows, p.ncols)
	case "winnow":
		in.m, in.mask = syntheticMatrix(p.nrows, p.ncols), syntheticMask(p.nrows, p.ncols)
	case "outer":
		in.pts = syntheticPoints(p.nelts)
	case "product":
		in.a, in.v = syntheticProduct(p.nelts)
	}
	return in
}

// compute runs problem once in s and returns a function that hashes its output, so the
// hashing stays outside the timed part.
func compute(s style, problem string, p params, in inputs) func() hash {
	switch problem {
	case "randmat":
		m := s.randmat(p.nrows, p.ncols, p.seed)
		return func() hash { return hashMatrix(m) }
	case "thresh":
		mask := s.thresh(in.m, p.percent)
		return func() hash { return hashMask(mask) }
	case "winnow":
		pts := s.winnow(in.m, in.mask, p.nelts)
		return func() hash { return hashPoints(pts) }
	case "outer":
		a, v := s.outer(in.pts)
		return func() hash { return hashFloats(a, v) }
	case "product":
		r := s.product(in.a, in.v)
		return func() hash { return hashFloats(nil, r) }
	case "chain":
		m := s.randmat(p.nrows, p.ncols, p.seed)
		mask := s.thresh(m, p.percent)
		pts := s.winnow(m, mask, p.nelts)
		a, v := s.outer(pts)
		r := s.product(a, v)
		return func() hash { return hashFloats(nil, r) }
	}
	fmt.Fprintf(os.Stderr, "unknown problem %q\n", problem)
	os.Exit(2)
	return nil
}

func main() {
	var p params
	var seed uint
	flag.IntVar(&p.nrows, "rows", 3000, "matrix rows")
	flag.IntVar(&p.ncols, "cols", 3000, "matrix columns")
	flag.UintVar(&seed, "seed", 666, "randmat's seed")
	flag.IntVar(&p.percent, "percent", 1, "thresh's percentage")
	flag.IntVar(&p.nelts, "nelts", 1000, "winnow's points")
	problem := flag.String("problem", "chain", "the problem")
	styles := flag.String("styles", "sequential", "styles, comma-separated")
	workers := flag.Int("workers", 1, "goroutines of the expert and block styles")
	method := flag.String("method", "warm", "warm or process")
	runs := flag.Int("runs", 3, "timed runs per style (warm)")
	flag.Parse()
	p.seed = uint32(seed)
	names := strings.Split(*styles, ",")
	for _, n := range names {
		if styleNamed(n, *workers) == nil {
			fmt.Fprintf(os.Stderr, "unknown style %q\n", n)
			os.Exit(2)
		}
	}
	if *method == "process" {
		h := compute(styleNamed(names[0], *workers), *problem, p, syntheticInputs(p, *problem))()
		fmt.Printf("%016x %d\n", uint64(h), atomic.LoadInt64(&spawned))
		return
	}
	in := realInputs(p, *problem)
	for _, n := range names {
		s := styleNamed(n, *workers)
		want := compute(s, *problem, p, in)()
		times := make([]time.Duration, 0, *runs)
		g0 := atomic.LoadInt64(&spawned)
		for r := 0; r < *runs; r++ {
			t := time.Now()
			h := compute(s, *problem, p, in)
			times = append(times, time.Since(t))
			if h() != want {
				fmt.Fprintf(os.Stderr, "%s changed its %s between runs\n", n, *problem)
				os.Exit(1)
			}
		}
		sort.Slice(times, func(a, b int) bool { return times[a] < times[b] })
		g := (atomic.LoadInt64(&spawned) - g0) / int64(*runs)
		ms := float64(times[len(times)/2].Nanoseconds()) / 1e6
		fmt.Printf("%s %.6f %016x %d\n", n, ms, uint64(want), g)
	}
}
