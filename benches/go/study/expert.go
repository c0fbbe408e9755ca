// The study's expert shape (goro's study/expert.rs): a pool of one goroutine per worker takes
// rows one at a time from a work queue fed by one goroutine; each worker keeps its own
// partial result; winnow's sorted runs are merged pairwise by merger goroutines.
package main

import "sync"

// pool hands the rows 0..n one at a time over an unbuffered channel to workers goroutines;
// each starts from init(), folds every row it takes into its state with take, and returns
// its state when the queue closes. The states come back in worker order.
func pool[S any](n, workers int, init func() S, take func(*S, int)) []S {
	if workers < 1 {
		workers = 1
	}
	work := make(chan int)
	count()
	go func() {
		for i := 0; i < n; i++ {
			work <- i
		}
		close(work)
	}()
	states := make([]S, workers)
	var wg sync.WaitGroup
	for k := range states {
		wg.Add(1)
		count()
		go func(k int) {
			defer wg.Done()
			s := init()
			for i := range work {
				take(&s, i)
			}
			states[k] = s
		}(k)
	}
	wg.Wait()
	return states
}

// rows computes row(i) for every row of 0..n through pool, each written in place.
func rows[T any](n, workers int, row func(int) T) []T {
	out := make([]T, n)
	none := func() struct{} { return struct{}{} }
	pool(n, workers, none, func(_ *struct{}, i int) { out[i] = row(i) })
	return out
}

// mergeRuns merges sorted runs pairwise, each pair in its own goroutine, until one is left.
func mergeRuns(runs [][]point) []point {
	for len(runs) > 1 {
		merged := make([][]point, len(runs)/2)
		var wg sync.WaitGroup
		for k := range merged {
			wg.Add(1)
			count()
			go func(k int) {
				defer wg.Done()
				merged[k] = mergeSorted(runs[2*k], runs[2*k+1])
			}(k)
		}
		wg.Wait()
		if len(runs)%2 == 1 {
			merged = append(merged, runs[len(runs)-1])
		}
		runs = merged
	}
	if len(runs) == 0 {
		return nil
	}
	return runs[0]
}

type expert struct{ workers int }

func (s expert) randmat(nrows, ncols int, seed uint32) [][]byte {
	return rows(nrows, s.workers, func(i int) []byte { return randmatRow(i, ncols, seed) })
}

func (s expert) thresh(m [][]byte, p int) [][]bool {
	hists := pool(len(m), s.workers, func() [100]uint64 { return [100]uint64{} },
		func(h *[100]uint64, i int) {
			for _, v := range m[i] {
				h[v]++
			}
		})
	var h [100]uint64
	for _, x := range hists {
		h = addHistograms(h, x)
	}
	t := threshold(&h, cells(m), p)
	return rows(len(m), s.workers, func(i int) []bool { return maskRow(m[i], t) })
}

func (s expert) winnow(m [][]byte, mask [][]bool, nelts int) []point {
	parts := pool(len(m), s.workers, func() []point { return nil },
		func(pts *[]point, i int) { *pts = append(*pts, maskedPoints(i, m[i], mask[i])...) })
	var wg sync.WaitGroup
	for k := range parts {
		wg.Add(1)
		count()
		go func(k int) {
			defer wg.Done()
			sortPoints(parts[k])
		}(k)
	}
	wg.Wait()
	return pick(mergeRuns(parts), nelts)
}

func (s expert) outer(pts []point) ([][]float64, []float64) {
	v := make([]float64, len(pts))
	a := rows(len(pts), s.workers, func(i int) []float64 {
		row, d := outerRow(i, pts)
		v[i] = d
		return row
	})
	return a, v
}

func (s expert) product(a [][]float64, v []float64) []float64 {
	return rows(len(a), s.workers, func(i int) float64 { return dot(a[i], v) })
}
