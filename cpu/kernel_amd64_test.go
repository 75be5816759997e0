package cpu

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/goinception/googlenet/ops/opstest"
)

// TestPortableKernels runs the conformance suite on the pure-Go engine with
// the assembly turned off, so the portable micro-kernel and epilogue that
// other architectures use are checked here too.
func TestPortableKernels(t *testing.T) {
	savedFMA, savedAVX, saved512 := hasFMA, hasAVX, hasAVX512
	defer func() { hasFMA, hasAVX, hasAVX512 = savedFMA, savedAVX, saved512 }()
	hasFMA, hasAVX, hasAVX512 = false, false, false
	opstest.TestEngine(t, New(Options{PureGo: true}))
}

// TestAVX2Kernel runs the conformance suite on the pure-Go engine with the
// AVX2 micro-kernel (CPUs without AVX-512).
func TestAVX2Kernel(t *testing.T) {
	if !hasFMA {
		t.Skip("no AVX2/FMA")
	}
	saved512 := hasAVX512
	defer func() { hasAVX512 = saved512 }()
	hasAVX512 = false
	opstest.TestEngine(t, New(Options{PureGo: true}))
}

// TestAssemblyKernels compares each assembly micro-kernel with kernelGo.
func TestAssemblyKernels(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, k := range []int{1, 2, 7, kc} {
		a := randSlice(rng, k*mr)
		b := randSlice(rng, k*nr)
		var want [mr * nr]float32
		kernelGo(k, a, b, &want)
		for _, kern := range []struct {
			name string
			ok   bool
			f    func(t *[mr * nr]float32)
		}{
			{"avx2", hasFMA, func(t *[mr * nr]float32) {
				kernel6x16(k, &a[0], &b[0], &t[0])
				kernel6x16(k, &a[6], &b[0], &t[6*nr])
			}},
			{"avx512", hasAVX512, func(t *[mr * nr]float32) { kernel12x16AVX512(k, &a[0], &b[0], t) }},
			{"avx512/C", hasAVX512, func(t *[mr * nr]float32) {
				// Into a wider C (ldc = nr+5), then added to ones.
				const ldc = nr + 5
				c := make([]float32, mr*ldc)
				if !kernelToC(k, a, b, c, ldc, false) {
					panic("kernelToC refused")
				}
				for i := range c {
					c[i]--
				}
				kernelToC(k, a, b, c, ldc, true) // c = 2*tile - 1
				for i := 0; i < mr; i++ {
					for j := 0; j < nr; j++ {
						t[i*nr+j] = (c[i*ldc+j] + 1) / 2
					}
				}
			}},
		} {
			if !kern.ok {
				continue
			}
			var got [mr * nr]float32
			kern.f(&got)
			for i := range want {
				// Different summation order (FMA): compare with a tolerance.
				if tol := 1e-5 * float64(k); math.Abs(float64(got[i]-want[i])) > tol {
					t.Fatalf("%s kc=%d: t[%d] = %v, want %v", kern.name, k, i, got[i], want[i])
				}
			}
		}
	}
}

// BenchmarkSgemmPortable is the pure-Go GEMM with the portable micro-kernel
// (what non-amd64 machines and CPUs without AVX2/FMA run).
func BenchmarkSgemmPortable(b *testing.B) {
	savedFMA, saved512 := hasFMA, hasAVX512
	defer func() { hasFMA, hasAVX512 = savedFMA, saved512 }()
	hasFMA, hasAVX512 = false, false
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

// BenchmarkSgemmAVX2 is the pure-Go GEMM with the AVX2 micro-kernel.
func BenchmarkSgemmAVX2(b *testing.B) {
	saved512 := hasAVX512
	defer func() { hasAVX512 = saved512 }()
	hasAVX512 = false
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
