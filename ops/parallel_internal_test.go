package ops

import (
	"math"
	"runtime"
	"sync"
	"testing"
)

// TestCopyBlocks compares copyBlocks with a plain loop of copies, for
// blocks smaller and larger than one unit of work, one block and many, and
// strides that leave gaps in the destination (as concatenation does).
func TestCopyBlocks(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(3))
	for _, c := range []struct{ n, blk, gapDst, gapSrc int }{
		{0, 5, 0, 0}, {1, 1, 0, 0}, {3, 7, 2, 1}, {8, copyUnit - 1, 5, 0},
		{1, 9*copyUnit + 13, 0, 3}, {5, 3*copyUnit + 1, copyUnit, 7},
	} {
		ds, ss := c.blk+c.gapDst, c.blk+c.gapSrc
		src := make([]float64, c.n*ss)
		for i := range src {
			src[i] = float64(i) + 0.5
		}
		got, want := make([]float64, c.n*ds), make([]float64, c.n*ds)
		for i := range got {
			got[i], want[i] = -1, -1
		}
		for i := 0; i < c.n; i++ {
			copy(want[i*ds:i*ds+c.blk], src[i*ss:])
		}
		copyBlocks(c.n, c.blk, got, ds, src, ss)
		for i := range got {
			if math.Float64bits(got[i]) != math.Float64bits(want[i]) { // a copy: the same bits
				t.Fatalf("%+v: element %d is %v, want %v", c, i, got[i], want[i])
			}
		}
	}
}

// TestParallelForCoversOnce checks that parallelFor's chunks cover every
// index exactly once, whatever the sizes and the number of workers.
func TestParallelForCoversOnce(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(3))
	for _, c := range []struct{ n, work int }{{0, 1}, {1, 1 << 20}, {5, 1}, {7, parallelMinWork}, {1000, 1}, {1000, 100}, {64, parallelMinWork * 3}} {
		hits := make([]int32, c.n)
		var mu sync.Mutex
		parallelFor(c.n, c.work, func(lo, hi int) {
			mu.Lock()
			defer mu.Unlock()
			for i := lo; i < hi; i++ {
				hits[i]++
			}
		})
		for i, h := range hits {
			if h != 1 {
				t.Fatalf("n=%d work=%d: index %d covered %d times", c.n, c.work, i, h)
			}
		}
	}
}
