package solvers

import (
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
