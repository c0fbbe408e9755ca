// The Cowichan problems as goro's study defines them (crates/goro-lab/src/study/problems.rs):
// the per-row kernels, the output hash, the synthetic inputs of the whole-process method, and
// the sequential style every other style must match.
package main

import (
	"math"
	"sort"
	"sync/atomic"
)

// point is a masked cell: its value and position, ordered by value, then row, then column.
type point struct{ value, i, j uint32 }

func less(a, b point) bool {
	if a.value != b.value {
		return a.value < b.value
	}
	if a.i != b.i {
		return a.i < b.i
	}
	return a.j < b.j
}

// style is one way of writing the five problems.
type style interface {
	randmat(nrows, ncols int, seed uint32) [][]byte
	thresh(m [][]byte, p int) [][]bool
	winnow(m [][]byte, mask [][]bool, nelts int) []point
	outer(pts []point) ([][]float64, []float64)
	product(a [][]float64, v []float64) []float64
}

// spawned counts the goroutines the styles start.
var spawned int64

func count() { atomic.AddInt64(&spawned, 1) }

// randmatRow: s = seed + i, then for each column s = 1664525 s + 1013904223 (mod 2^32) and
// the cell is s % 100.
func randmatRow(i, ncols int, seed uint32) []byte {
	row := make([]byte, ncols)
	s := seed + uint32(i)
	for j := range row {
		s = 1664525*s + 1013904223
		row[j] = byte(s % 100)
	}
	return row
}

func rowHistogram(row []byte) [100]uint64 {
	var h [100]uint64
	for _, v := range row {
		h[v]++
	}
	return h
}

func addHistograms(a, b [100]uint64) [100]uint64 {
	for k := range a {
		a[k] += b[k]
	}
	return a
}

// threshold for p percent: scanning values from 99 down, the first at which the running
// count exceeds cells * p / 100.
func threshold(h *[100]uint64, cells uint64, p int) int {
	limit := cells * uint64(p) / 100
	var sum uint64
	for v := 99; v >= 0; v-- {
		sum += h[v]
		if sum > limit {
			return v
		}
	}
	return 0
}

func cells(m [][]byte) uint64 {
	var n uint64
	for _, r := range m {
		n += uint64(len(r))
	}
	return n
}

func maskRow(row []byte, t int) []bool {
	out := make([]bool, len(row))
	for j, v := range row {
		out[j] = int(v) >= t
	}
	return out
}

func maskedPoints(i int, row []byte, mask []bool) []point {
	var pts []point
	for j, v := range row {
		if mask[j] {
			pts = append(pts, point{uint32(v), uint32(i), uint32(j)})
		}
	}
	return pts
}

func sortPoints(pts []point) {
	sort.Slice(pts, func(a, b int) bool { return less(pts[a], pts[b]) })
}

func mergeSorted(a, b []point) []point {
	out := make([]point, 0, len(a)+len(b))
	x, y := 0, 0
	for x < len(a) && y < len(b) {
		if !less(b[y], a[x]) {
			out = append(out, a[x])
			x++
		} else {
			out = append(out, b[y])
			y++
		}
	}
	out = append(out, a[x:]...)
	return append(out, b[y:]...)
}

// pick takes every len/nelts-th of the sorted points.
func pick(sorted []point, nelts int) []point {
	if len(sorted) == 0 {
		return nil
	}
	n := nelts
	if n < 1 {
		n = 1
	}
	chunk := len(sorted) / n
	out := make([]point, nelts)
	for k := range out {
		idx := k * chunk
		if idx > len(sorted)-1 {
			idx = len(sorted) - 1
		}
		out[k] = sorted[idx]
	}
	return out
}

// dist keeps each product rounded on its own (float64(...)), so no multiply-add is fused
// and the results match goro's bit for bit.
func dist(a, b point) float64 {
	dx, dy := float64(a.i)-float64(b.i), float64(a.j)-float64(b.j)
	return math.Sqrt(float64(dx*dx) + float64(dy*dy))
}

// outerRow is row i of outer's matrix and V[i]: distances to every point, the diagonal nelts
// times the row's largest, and the distance from the origin.
func outerRow(i int, pts []point) ([]float64, float64) {
	row := make([]float64, len(pts))
	max := 0.0
	for j := range pts {
		d := dist(pts[i], pts[j])
		row[j] = d
		if d > max {
			max = d
		}
	}
	row[i] = float64(len(pts)) * max
	return row, dist(pts[i], point{})
}

func dot(row, v []float64) float64 {
	sum := 0.0
	for k := range row {
		sum += float64(row[k] * v[k])
	}
	return sum
}

// hash is FNV-1a over the output's canonical bytes, as goro's Output::hash.
type hash uint64

func newHash() hash { return 0xcbf29ce484222325 }

func (h *hash) byte1(b byte) { *h = (*h ^ hash(b)) * 0x100000001b3 }

func (h *hash) u32(v uint32) {
	for k := 0; k < 4; k++ {
		h.byte1(byte(v >> (8 * k)))
	}
}

func (h *hash) f64(v float64) {
	bits := math.Float64bits(v)
	for k := 0; k < 8; k++ {
		h.byte1(byte(bits >> (8 * k)))
	}
}

func hashMatrix(m [][]byte) hash {
	h := newHash()
	for _, r := range m {
		for _, b := range r {
			h.byte1(b)
		}
	}
	return h
}

func hashMask(m [][]bool) hash {
	h := newHash()
	for _, r := range m {
		for _, b := range r {
			if b {
				h.byte1(1)
			} else {
				h.byte1(0)
			}
		}
	}
	return h
}

func hashPoints(pts []point) hash {
	h := newHash()
	for _, p := range pts {
		h.u32(p.value)
		h.u32(p.i)
		h.u32(p.j)
	}
	return h
}

func hashFloats(rows [][]float64, v []float64) hash {
	h := newHash()
	for _, r := range rows {
		for _, x := range r {
			h.f64(x)
		}
	}
	for _, x := range v {
		h.f64(x)
	}
	return h
}

// The synthetic inputs of the whole-process method: a zero matrix, the mask
// i*j mod (ncols+1) == 1, the points (0, k, k), a zero matrix and vector.
func syntheticMatrix(nrows, ncols int) [][]byte {
	m := make([][]byte, nrows)
	for i := range m {
		m[i] = make([]byte, ncols)
	}
	return m
}

func syntheticMask(nrows, ncols int) [][]bool {
	m := make([][]bool, nrows)
	for i := range m {
		m[i] = make([]bool, ncols)
		for j := range m[i] {
			m[i][j] = uint64(i)*uint64(j)%uint64(ncols+1) == 1
		}
	}
	return m
}

func syntheticPoints(nelts int) []point {
	pts := make([]point, nelts)
	for k := range pts {
		pts[k] = point{0, uint32(k), uint32(k)}
	}
	return pts
}

func syntheticProduct(nelts int) ([][]float64, []float64) {
	a := make([][]float64, nelts)
	for i := range a {
		a[i] = make([]float64, nelts)
	}
	return a, make([]float64, nelts)
}

type sequential struct{}

func (sequential) randmat(nrows, ncols int, seed uint32) [][]byte {
	m := make([][]byte, nrows)
	for i := range m {
		m[i] = randmatRow(i, ncols, seed)
	}
	return m
}

func (sequential) thresh(m [][]byte, p int) [][]bool {
	var h [100]uint64
	for _, row := range m {
		h = addHistograms(h, rowHistogram(row))
	}
	t := threshold(&h, cells(m), p)
	mask := make([][]bool, len(m))
	for i, row := range m {
		mask[i] = maskRow(row, t)
	}
	return mask
}

func (sequential) winnow(m [][]byte, mask [][]bool, nelts int) []point {
	var pts []point
	for i := range m {
		pts = append(pts, maskedPoints(i, m[i], mask[i])...)
	}
	sortPoints(pts)
	return pick(pts, nelts)
}

func (sequential) outer(pts []point) ([][]float64, []float64) {
	a, v := make([][]float64, len(pts)), make([]float64, len(pts))
	for i := range pts {
		a[i], v[i] = outerRow(i, pts)
	}
	return a, v
}

func (sequential) product(a [][]float64, v []float64) []float64 {
	r := make([]float64, len(a))
	for i := range a {
		r[i] = dot(a[i], v)
	}
	return r
}
