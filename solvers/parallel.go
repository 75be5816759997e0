package solvers

import (
	"runtime"
	"sync/atomic"

	"github.com/goinception/googlenet/internal/par"
)

// parallelMin is the number of elements below which an element-wise pass
// stays on the caller's goroutine: starting a goroutine costs about a
// microsecond, a few thousand multiply-adds.
const parallelMin = 1 << 15

// forChunks calls f(lo, hi) over [0, n) split into at most GOMAXPROCS
// contiguous chunks, in parallel when n is large enough. Every element is
// handled by exactly one call, so element-wise updates give the same bits
// however the work is split.
func forChunks(n int, f func(lo, hi int)) {
	workers := min(runtime.GOMAXPROCS(0), n/parallelMin)
	if workers <= 1 {
		if n > 0 {
			f(0, n)
		}
		return
	}
	par.Do(workers, func(w int) { f(w*n/workers, (w+1)*n/workers) })
}

// forEach calls f(i) for i in [0, n) on up to GOMAXPROCS goroutines that
// take the next index as they finish (the items differ in size by orders of
// magnitude: a bias and a convolution's weights).
func forEach(n int, f func(i int)) {
	workers := min(runtime.GOMAXPROCS(0), n)
	if workers <= 1 {
		for i := 0; i < n; i++ {
			f(i)
		}
		return
	}
	var next atomic.Int64
	par.Do(workers, func(int) {
		for {
			i := int(next.Add(1) - 1)
			if i >= n {
				return
			}
			f(i)
		}
	})
}
