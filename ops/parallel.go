package ops

import (
	"runtime"
	"sync"
)

// parallelMinWork is the least work (in elements touched) worth handing to
// another goroutine: below it the start-up cost (a few microseconds) would
// outweigh the gain.
const parallelMinWork = 1 << 14

// parallelFor calls f on consecutive ranges [lo, hi) covering [0, n), one
// range per worker, on up to GOMAXPROCS goroutines (the caller's included).
// work is the number of elements each unit touches, to keep small jobs on
// one goroutine. f must only write state owned by its range.
func parallelFor(n, work int, f func(lo, hi int)) {
	workers := runtime.GOMAXPROCS(0)
	if workers > n {
		workers = n
	}
	if total := n * max(work, 1); total < 2*parallelMinWork {
		workers = 1
	} else if workers > total/parallelMinWork {
		workers = total / parallelMinWork
	}
	if workers <= 1 {
		if n > 0 {
			f(0, n)
		}
		return
	}
	var wg sync.WaitGroup
	wg.Add(workers - 1)
	for w := 1; w < workers; w++ {
		lo, hi := w*n/workers, (w+1)*n/workers
		go func() {
			defer wg.Done()
			f(lo, hi)
		}()
	}
	f(0, n/workers)
	wg.Wait()
}

// copyUnit is the number of elements one unit of copyBlocks' work moves.
const copyUnit = 1 << 12

// copyBlocks copies n blocks of blk elements, block i from src[i*srcStride:]
// to dst[i*dstStride:], split into equal pieces over the workers (a whole
// block may be split, so one large block uses every core too). Copies are
// memory-bound; two cores move about 1.6x what one does.
func copyBlocks[T float](n, blk int, dst []T, dstStride int, src []T, srcStride int) {
	total := n * blk
	if total == 0 {
		return
	}
	units := (total + copyUnit - 1) / copyUnit
	parallelFor(units, copyUnit, func(lo, hi int) {
		e0, e1 := lo*copyUnit, min(hi*copyUnit, total)
		for e0 < e1 {
			i, j := e0/blk, e0%blk
			m := min(blk-j, e1-e0)
			copy(dst[i*dstStride+j:i*dstStride+j+m], src[i*srcStride+j:i*srcStride+j+m])
			e0 += m
		}
	})
}
