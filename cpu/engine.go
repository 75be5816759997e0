package cpu

import (
	"fmt"
	"math"
	"sync"
	"sync/atomic"

	"github.com/goinception/googlenet/internal/par"
	"github.com/goinception/googlenet/ops"
)

// Options configure an Engine. The zero value is the documented default:
// the system BLAS library when one is found (see SystemLibrary), work split
// over GOMAXPROCS goroutines.
type Options struct {
	// PureGo forces the pure-Go GEMM even when a BLAS library is available.
	PureGo bool
	// Library, when non-nil, is used instead of SystemLibrary. New sets its
	// thread count to one (see the package documentation).
	Library *Library
	// Workers is the number of goroutines a call splits its work over;
	// 0 or less means runtime.GOMAXPROCS(0) at the time of each call.
	Workers int
	// NoWinograd turns off the Winograd convolution (the forward passes
	// and data gradients of 3x3, stride-1, pad-1 convolutions then take
	// im2col+GEMM, as every other geometry), for comparisons. The
	// environment variable GOOGLENET_WINOGRAD=0 (EnvWinograd) does the same
	// for every engine.
	NoWinograd bool
}

// Engine is the fast CPU implementation of ops.Engine. It is safe for
// concurrent use; its scratch buffers are reused across calls.
type Engine struct {
	lib      *Library // nil: pure-Go GEMM
	workers  int
	winograd bool // 3x3 stride-1 pad-1 forward convolutions by Winograd
	pool     bufPool
}

var _ ops.Engine = (*Engine)(nil)

// New returns an engine configured by o. It never fails: without a BLAS
// library it uses the pure-Go GEMM (and SystemLibrary logs Hint once).
//
//	cfg.Engine = cpu.New(cpu.Options{}) // an inception.Config
func New(o Options) *Engine {
	e := &Engine{workers: o.Workers, winograd: winogradEnabled(o)}
	switch {
	case o.PureGo:
	case o.Library != nil:
		e.lib = o.Library
		e.lib.SetThreads(1)
	default:
		e.lib, _ = SystemLibrary()
	}
	return e
}

// Name returns "cpu/openblas" style names: "cpu/" followed by the BLAS
// library in use ("go" for the pure-Go GEMM).
func (e *Engine) Name() string { return "cpu/" + e.BLAS() }

// BLAS names the GEMM backend: the library's name, or "go".
func (e *Engine) BLAS() string {
	if e.lib == nil {
		return "go"
	}
	return e.lib.Name
}

func (e *Engine) nworkers() int {
	if e.workers > 0 {
		return e.workers
	}
	return defaultWorkers()
}

// sgemm is the serial GEMM of the engine's backend (arguments checked).
func (e *Engine) sgemm(ta, tb bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	if e.lib != nil && fitsInt32(m, n, k, lda, ldb, ldc) {
		if m == 0 || n == 0 {
			return
		}
		e.lib.Sgemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		return
	}
	goSgemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// fitsInt32 reports whether every size fits CBLAS's 32-bit integers (larger
// products fall back to the pure-Go GEMM).
func fitsInt32(v ...int) bool {
	for _, x := range v {
		if x > math.MaxInt32 {
			return false
		}
	}
	return true
}

// Gemm computes C = alpha*op(A)*op(B) + beta*C in row-major storage, split
// over the engine's workers. It panics when the matrices do not fit their
// slices (a programmer error); it has no failure of its own to return.
func (e *Engine) Gemm(ta, tb bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) error {
	checkGemm(ta, tb, m, n, k, a, lda, b, ldb, c, ldc)
	splitGemm(e.nworkers(), ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, e.sgemm)
	return nil
}

// bufPool is a free list of float32 buffers (best fit by capacity).
type bufPool struct {
	mu   sync.Mutex
	free [][]float32
}

// get returns a buffer of length n with undefined contents.
func (p *bufPool) get(n int) []float32 {
	p.mu.Lock()
	defer p.mu.Unlock()
	best := -1
	for i, b := range p.free {
		if cap(b) >= n && (best < 0 || cap(b) < cap(p.free[best])) {
			best = i
		}
	}
	if best < 0 {
		return make([]float32, n)
	}
	b := p.free[best]
	p.free = append(p.free[:best], p.free[best+1:]...)
	return b[:n]
}

func (p *bufPool) put(b []float32) {
	p.mu.Lock()
	p.free = append(p.free, b)
	p.mu.Unlock()
}

// parallelRanges splits [0, n) into at most workers contiguous ranges and
// calls f(w, lo, hi) for each on its own goroutine (par.Do: the first on
// the caller's).
func parallelRanges(n, workers int, f func(w, lo, hi int)) {
	workers = max(1, min(workers, n))
	if workers == 1 {
		if n > 0 {
			f(0, 0, n)
		}
		return
	}
	par.Do(workers, func(w int) { f(w, w*n/workers, (w+1)*n/workers) })
}

// eachUnit runs f on up to workers goroutines (the caller's is worker 0).
// Each f(w, next) takes units [0, n) one at a time from next until it
// returns -1, so a worker slowed by another process takes fewer of them
// instead of holding the others up at the end (images of a convolution:
// with a static split of 8 images the faster core would idle while the
// slower one finishes its fourth). A worker may get no unit at all.
func eachUnit(n, workers int, f func(w int, next func() int)) {
	workers = max(1, min(workers, n))
	var ctr atomic.Int64
	next := func() int {
		if i := int(ctr.Add(1) - 1); i < n {
			return i
		}
		return -1
	}
	par.Do(workers, func(w int) { f(w, next) })
}

// checkConv panics (a programmer error) when g is inconsistent or a slice
// is too short for it.
func checkConv(g ops.ConvGeom, sizes ...struct {
	name string
	got  int
	want int
}) {
	if g.N < 0 || g.C <= 0 || g.H <= 0 || g.W <= 0 || g.K <= 0 || g.R <= 0 || g.S <= 0 ||
		g.OutH <= 0 || g.OutW <= 0 || g.PadTop < 0 || g.PadLeft < 0 || g.StrideH < 0 || g.StrideW < 0 {
		panic(fmt.Sprintf("cpu: invalid convolution geometry %+v", g))
	}
	for _, s := range sizes {
		if s.got < s.want {
			panic(fmt.Sprintf("cpu: convolution %s has %d elements, need %d (geometry %+v)", s.name, s.got, s.want, g))
		}
	}
}

type size = struct {
	name string
	got  int
	want int
}
