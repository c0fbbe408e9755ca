// Divide and conquer, written cleanly (goro's study/divide.rs): halve the rows, start a
// goroutine for one half, recurse on the other, wait for the half's result on a done
// channel and combine the two at every node, down to single rows.
package main

// split computes leaf(i) for each row in lo..hi and combines the results pairwise with
// merge, one goroutine per split.
func split[T any](lo, hi int, leaf func(int) T, merge func(T, T) T) T {
	if hi-lo <= 1 {
		return leaf(lo)
	}
	mid := lo + (hi-lo)/2
	done := make(chan T, 1)
	count()
	go func() { done <- split(lo, mid, leaf, merge) }()
	right := split(mid, hi, leaf, merge)
	return merge(<-done, right)
}

func concat[T any](a, b []T) []T { return append(a, b...) }

type divide struct{}

func (divide) randmat(nrows, ncols int, seed uint32) [][]byte {
	leaf := func(i int) [][]byte { return [][]byte{randmatRow(i, ncols, seed)} }
	return split(0, nrows, leaf, concat[[]byte])
}

func (divide) thresh(m [][]byte, p int) [][]bool {
	hist := func(i int) [100]uint64 { return rowHistogram(m[i]) }
	h := split(0, len(m), hist, addHistograms)
	t := threshold(&h, cells(m), p)
	mask := func(i int) [][]bool { return [][]bool{maskRow(m[i], t)} }
	return split(0, len(m), mask, concat[[]bool])
}

func (divide) winnow(m [][]byte, mask [][]bool, nelts int) []point {
	leaf := func(i int) []point {
		pts := maskedPoints(i, m[i], mask[i])
		sortPoints(pts)
		return pts
	}
	return pick(split(0, len(m), leaf, mergeSorted), nelts)
}

func (divide) outer(pts []point) ([][]float64, []float64) {
	type row struct {
		a []float64
		v float64
	}
	leaf := func(i int) []row {
		a, v := outerRow(i, pts)
		return []row{{a, v}}
	}
	rows := split(0, len(pts), leaf, concat[row])
	a, v := make([][]float64, len(rows)), make([]float64, len(rows))
	for i, r := range rows {
		a[i], v[i] = r.a, r.v
	}
	return a, v
}

func (divide) product(a [][]float64, v []float64) []float64 {
	leaf := func(i int) []float64 { return []float64{dot(a[i], v)} }
	return split(0, len(a), leaf, concat[float64])
}
