// Blocks (goro's study/blocks.rs): one goroutine per worker, each given a contiguous block of
// rows, each building its part alone; the parts are combined once, in block order.
package main

import "sync"

// blocks runs block on workers contiguous row ranges of 0..n in as many goroutines and
// returns their results in block order.
func blocks[T any](n, workers int, block func(lo, hi int) T) []T {
	if workers < 1 {
		workers = 1
	}
	per := (n + workers - 1) / workers
	if per < 1 {
		per = 1
	}
	parts := make([]T, (n+per-1)/per)
	var wg sync.WaitGroup
	for k := range parts {
		lo, hi := k*per, (k+1)*per
		if hi > n {
			hi = n
		}
		wg.Add(1)
		count()
		go func(k, lo, hi int) {
			defer wg.Done()
			parts[k] = block(lo, hi)
		}(k, lo, hi)
	}
	wg.Wait()
	return parts
}

type blockStyle struct{ workers int }

func (s blockStyle) randmat(nrows, ncols int, seed uint32) [][]byte {
	m := make([][]byte, nrows)
	blocks(nrows, s.workers, func(lo, hi int) struct{} {
		for i := lo; i < hi; i++ {
			m[i] = randmatRow(i, ncols, seed)
		}
		return struct{}{}
	})
	return m
}

func (s blockStyle) thresh(m [][]byte, p int) [][]bool {
	hists := blocks(len(m), s.workers, func(lo, hi int) [100]uint64 {
		var h [100]uint64
		for i := lo; i < hi; i++ {
			for _, v := range m[i] {
				h[v]++
			}
		}
		return h
	})
	var h [100]uint64
	for _, x := range hists {
		h = addHistograms(h, x)
	}
	t := threshold(&h, cells(m), p)
	mask := make([][]bool, len(m))
	blocks(len(m), s.workers, func(lo, hi int) struct{} {
		for i := lo; i < hi; i++ {
			mask[i] = maskRow(m[i], t)
		}
		return struct{}{}
	})
	return mask
}

func (s blockStyle) winnow(m [][]byte, mask [][]bool, nelts int) []point {
	runs := blocks(len(m), s.workers, func(lo, hi int) []point {
		var pts []point
		for i := lo; i < hi; i++ {
			pts = append(pts, maskedPoints(i, m[i], mask[i])...)
		}
		sortPoints(pts)
		return pts
	})
	for len(runs) > 1 {
		var next [][]point
		for k := 0; k < len(runs); k += 2 {
			if k+1 < len(runs) {
				next = append(next, mergeSorted(runs[k], runs[k+1]))
			} else {
				next = append(next, runs[k])
			}
		}
		runs = next
	}
	if len(runs) == 0 {
		return nil
	}
	return pick(runs[0], nelts)
}

func (s blockStyle) outer(pts []point) ([][]float64, []float64) {
	a, v := make([][]float64, len(pts)), make([]float64, len(pts))
	blocks(len(pts), s.workers, func(lo, hi int) struct{} {
		for i := lo; i < hi; i++ {
			a[i], v[i] = outerRow(i, pts)
		}
		return struct{}{}
	})
	return a, v
}

func (s blockStyle) product(a [][]float64, v []float64) []float64 {
	r := make([]float64, len(a))
	blocks(len(a), s.workers, func(lo, hi int) struct{} {
		for i := lo; i < hi; i++ {
			r[i] = dot(a[i], v)
		}
		return struct{}{}
	})
	return r
}
