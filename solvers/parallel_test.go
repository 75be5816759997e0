package solvers

import (
	"math"
	"math/rand/v2"
	"runtime"
	"sync/atomic"
	"testing"
)

// TestForChunksCoversOnce checks that every index is visited exactly once,
// for sizes around the parallel threshold and with several workers.
func TestForChunksCoversOnce(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(4))
	for _, n := range []int{0, 1, parallelMin - 1, 2 * parallelMin, 5*parallelMin + 3} {
		hits := make([]atomic.Int32, n)
		forChunks(n, func(lo, hi int) {
			for i := lo; i < hi; i++ {
				hits[i].Add(1)
			}
		})
		for i := range hits {
			if h := hits[i].Load(); h != 1 {
				t.Fatalf("n=%d: index %d visited %d times", n, i, h)
			}
		}
	}
	for _, n := range []int{0, 1, 3, 100} {
		hits := make([]atomic.Int32, n)
		forEach(n, func(i int) { hits[i].Add(1) })
		for i := range hits {
			if h := hits[i].Load(); h != 1 {
				t.Fatalf("forEach n=%d: index %d visited %d times", n, i, h)
			}
		}
	}
}

// TestApplyParallelSameBits compares the chunked update with one serial
// pass over a parameter large enough to be split, in every update mode.
func TestApplyParallelSameBits(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(3))
	n := 4*parallelMin + 17
	rng := rand.New(rand.NewPCG(5, 6))
	fill := func() []float32 {
		s := make([]float32, n)
		for i := range s {
			s[i] = float32(rng.NormFloat64())
		}
		return s
	}
	w0, g, v0 := fill(), fill(), fill()
	for _, u := range []update{
		{lr: 0.01, scale: 1, wd: 2e-4, mu: 0.9},
		{lr: 0.01, scale: 1, wd: 2e-4, mu: 0.9, first: true},
		{lr: 0.1, scale: 0.5, clip: true, mu: 0.9, nesterov: true},
		{lr: 0.1, scale: 1},
	} {
		w1, v1 := append([]float32(nil), w0...), append([]float32(nil), v0...)
		w2, v2 := append([]float32(nil), w0...), append([]float32(nil), v0...)
		apply(u, w1, g, v1)
		applyParallel(u, w2, g, v2)
		for i := range w1 {
			if math.Float32bits(w1[i]) != math.Float32bits(w2[i]) || math.Float32bits(v1[i]) != math.Float32bits(v2[i]) {
				t.Fatalf("%+v: element %d: serial (%v, %v), chunked (%v, %v)", u, i, w1[i], v1[i], w2[i], v2[i])
			}
		}
	}
}
