package cpu

import (
	"math/rand/v2"
	"testing"

	"github.com/goinception/googlenet/ops/opstest"
)

// TestPortableKernels runs the conformance suite on the pure-Go engine with
// the assembly turned off, so the portable micro-kernel and epilogue that
// other architectures use are checked here too.
func TestPortableKernels(t *testing.T) {
	savedFMA, savedAVX := hasFMA, hasAVX
	defer func() { hasFMA, hasAVX = savedFMA, savedAVX }()
	hasFMA, hasAVX = false, false
	opstest.TestEngine(t, New(Options{PureGo: true}))
}

// BenchmarkSgemmPortable is the pure-Go GEMM with the portable micro-kernel
// (what non-amd64 machines and CPUs without AVX2/FMA run).
func BenchmarkSgemmPortable(b *testing.B) {
	savedFMA := hasFMA
	defer func() { hasFMA = savedFMA }()
	hasFMA = false
	const size = 512
	rng := rand.New(rand.NewPCG(2, 2))
	a, bb := randSlice(rng, size*size), randSlice(rng, size*size)
	c := make([]float32, size*size)
	e := New(Options{PureGo: true})
	for b.Loop() {
		e.Gemm(false, false, size, size, size, 1, a, size, bb, size, 0, c, size)
	}
	b.ReportMetric(2*size*size*size*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}
