// The study's non-expert shape (goro's study/non_expert.rs): a goroutine for each half down
// to single rows, no join in the tree; each leaf reports on one shared unbuffered channel and
// the caller counts n reports. thresh makes four passes; winnow funnels every masked cell
// through one unbuffered channel to one collector, which sorts them sequentially.
package main

type indexed[T any] struct {
	i int
	v T
}

// fan computes leaf(i) for every row in 0..n, one goroutine per half down to single rows,
// and gathers the results by counting n of them off one channel.
func fan[T any](n int, leaf func(int) T) []T {
	done := make(chan indexed[T])
	if n > 0 {
		// The root is a goroutine too: a caller that ran a one-row leaf itself would send
		// on the unbuffered channel before anyone receives.
		count()
		go spread(0, n, leaf, done)
	}
	out := make([]T, n)
	for k := 0; k < n; k++ {
		r := <-done
		out[r.i] = r.v
	}
	return out
}

func spread[T any](lo, hi int, leaf func(int) T, done chan indexed[T]) {
	if hi-lo == 1 {
		done <- indexed[T]{lo, leaf(lo)}
		return
	}
	mid := lo + (hi-lo)/2
	count()
	go spread(lo, mid, leaf, done)
	count()
	go spread(mid, hi, leaf, done)
}

type nonExpert struct{}

func (nonExpert) randmat(nrows, ncols int, seed uint32) [][]byte {
	return fan(nrows, func(i int) []byte { return randmatRow(i, ncols, seed) })
}

func (nonExpert) thresh(m [][]byte, p int) [][]bool {
	maxes := fan(len(m), func(i int) byte {
		var mx byte
		for _, v := range m[i] {
			if v > mx {
				mx = v
			}
		}
		return mx
	})
	nmax := 0
	for _, x := range maxes {
		if int(x) > nmax {
			nmax = int(x)
		}
	}
	hists := fan(len(m), func(i int) []uint64 {
		h := make([]uint64, nmax+1)
		for _, v := range m[i] {
			h[v]++
		}
		return h
	})
	counts := fan(nmax+1, func(v int) uint64 {
		var s uint64
		for _, h := range hists {
			s += h[v]
		}
		return s
	})
	var h [100]uint64
	copy(h[:], counts)
	t := threshold(&h, cells(m), p)
	return fan(len(m), func(i int) []bool { return maskRow(m[i], t) })
}

func (nonExpert) winnow(m [][]byte, mask [][]bool, nelts int) []point {
	funnel := make(chan point)
	count()
	go func() {
		fan(len(m), func(i int) struct{} {
			for j, v := range m[i] {
				if mask[i][j] {
					funnel <- point{uint32(v), uint32(i), uint32(j)}
				}
			}
			return struct{}{}
		})
		close(funnel)
	}()
	var pts []point
	for p := range funnel {
		pts = append(pts, p)
	}
	sortPoints(pts)
	return pick(pts, nelts)
}

func (nonExpert) outer(pts []point) ([][]float64, []float64) {
	type row struct {
		a []float64
		v float64
	}
	rows := fan(len(pts), func(i int) row {
		a, v := outerRow(i, pts)
		return row{a, v}
	})
	a, v := make([][]float64, len(rows)), make([]float64, len(rows))
	for i, r := range rows {
		a[i], v[i] = r.a, r.v
	}
	return a, v
}

func (nonExpert) product(a [][]float64, v []float64) []float64 {
	return fan(len(a), func(i int) float64 { return dot(a[i], v) })
}
