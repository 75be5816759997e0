package ops

import (
	"math"
	"math/rand/v2"
	"runtime"
	"testing"
)

// TestSGDUpdateParallelSameBits compares the chunked update with one serial
// pass over a parameter large enough to be split, in every update mode.
func TestSGDUpdateParallelSameBits(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(3))
	n := 4*sgdMinParallel + 17
	rng := rand.New(rand.NewPCG(5, 6))
	fill := func() []float32 {
		s := make([]float32, n)
		for i := range s {
			s[i] = float32(rng.NormFloat64())
		}
		return s
	}
	w0, g, v0 := fill(), fill(), fill()
	for _, u := range []SGDStep{
		{LR: 0.01, Scale: 1, WeightDecay: 2e-4, Momentum: 0.9},
		{LR: 0.01, Scale: 1, WeightDecay: 2e-4, Momentum: 0.9, First: true},
		{LR: 0.1, Scale: 0.5, Clip: true, Momentum: 0.9, Nesterov: true},
		{LR: 0.1, Scale: 1},
	} {
		w1, v1 := append([]float32(nil), w0...), append([]float32(nil), v0...)
		w2, v2 := append([]float32(nil), w0...), append([]float32(nil), v0...)
		sgdApply(u, w1, g, v1)
		sgdUpdate(u, w2, g, v2)
		for i := range w1 {
			if math.Float32bits(w1[i]) != math.Float32bits(w2[i]) || math.Float32bits(v1[i]) != math.Float32bits(v2[i]) {
				t.Fatalf("%+v: element %d: serial (%v, %v), chunked (%v, %v)", u, i, w1[i], v1[i], w2[i], v2[i])
			}
		}
	}
}
