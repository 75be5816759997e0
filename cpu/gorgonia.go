package cpu

import (
	"sync/atomic"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
	G "gorgonia.org/gorgonia"
)

// BLAS is a gonum-compatible BLAS (gorgonia.BLAS) whose Sgemm runs on an
// Engine (OpenBLAS or the pure-Go packed GEMM, split over goroutines) and
// whose Dgemm runs on the engine's BLAS library when it has one. Every other
// routine is gonum's pure-Go implementation.
type BLAS struct {
	gonum.Implementation
	e     *Engine
	calls atomic.Int64
}

var _ G.BLAS = (*BLAS)(nil)

// NewBLAS returns the gonum-compatible BLAS backed by e.
func NewBLAS(e *Engine) *BLAS { return &BLAS{e: e} }

// UseWithGorgonia makes Gorgonia (and package tensor) run their matrix
// multiplications on a new engine with default Options, and returns the
// BLAS installed. It replaces any BLAS set before with gorgonia.Use.
func UseWithGorgonia() *BLAS {
	b := NewBLAS(New(Options{}))
	G.Use(b)
	return b
}

// Name is the engine's name ("cpu/libopenblas.so.0", "cpu/go").
func (b *BLAS) Name() string { return b.e.Name() }

// Calls returns how many Sgemm and Dgemm calls b has served (a check that
// Gorgonia really uses it).
func (b *BLAS) Calls() int64 { return b.calls.Load() }

// transposed maps a BLAS transpose flag to a bool; ok is false for an
// invalid flag.
func transposed(t blas.Transpose) (tr, ok bool) {
	switch t {
	case blas.NoTrans:
		return false, true
	case blas.Trans, blas.ConjTrans:
		return true, true
	}
	return false, false
}

// Sgemm computes C = alpha*op(A)*op(B) + beta*C (row-major, as gonum). On
// invalid arguments it defers to gonum, which panics with its own message.
func (b *BLAS) Sgemm(tA, tB blas.Transpose, m, n, k int, alpha float32, a []float32, lda int, bm []float32, ldb int, beta float32, c []float32, ldc int) {
	b.calls.Add(1)
	ta, okA := transposed(tA)
	tb, okB := transposed(tB)
	if !okA || !okB || gemmArgsErr(ta, tb, m, n, k, a, lda, bm, ldb, c, ldc) != "" {
		b.Implementation.Sgemm(tA, tB, m, n, k, alpha, a, lda, bm, ldb, beta, c, ldc)
		return
	}
	splitGemm(b.e.nworkers(), ta, tb, m, n, k, alpha, a, lda, bm, ldb, beta, c, ldc, b.e.sgemm)
}

// Dgemm is Sgemm for float64: the BLAS library's cblas_dgemm when the engine
// has one, gonum's Dgemm otherwise.
func (b *BLAS) Dgemm(tA, tB blas.Transpose, m, n, k int, alpha float64, a []float64, lda int, bm []float64, ldb int, beta float64, c []float64, ldc int) {
	b.calls.Add(1)
	ta, okA := transposed(tA)
	tb, okB := transposed(tB)
	lib := b.e.lib
	if lib == nil || !okA || !okB || !fitsInt32(m, n, k, lda, ldb, ldc) || gemmArgsErr(ta, tb, m, n, k, a, lda, bm, ldb, c, ldc) != "" {
		b.Implementation.Dgemm(tA, tB, m, n, k, alpha, a, lda, bm, ldb, beta, c, ldc)
		return
	}
	splitGemm(b.e.nworkers(), ta, tb, m, n, k, alpha, a, lda, bm, ldb, beta, c, ldc,
		func(ta, tb bool, m, n, k int, alpha float64, a []float64, lda int, bm []float64, ldb int, beta float64, c []float64, ldc int) {
			if m > 0 && n > 0 {
				lib.Dgemm(ta, tb, m, n, k, alpha, a, lda, bm, ldb, beta, c, ldc)
			}
		})
}
