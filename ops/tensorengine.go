package ops

import (
	"sync/atomic"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// TensorEngine is a Gorgonia tensor engine for tape machines:
// gorgonia.StandardEngine with one method replaced, Add of two same-shaped
// contiguous float32 tensors runs on all cores. Gorgonia sums the
// gradients that reach a node from several consumers (an Inception
// module's input feeds four branches) with tensor.Add into a preallocated
// tensor; tensor.Add hands the work to its first operand's engine, which
// the tape machine sets to its own on every value (so the machine must be
// built with it). StandardEngine adds on one goroutine: 1.3% of a
// training step's CPU time, all of it serial. The sum is element-wise, so
// the result is the same bits.
//
//	vm := gorgonia.NewTapeMachine(g, gorgonia.WithEngine(ops.TensorEngine{}))
type TensorEngine struct{ G.StandardEngine }

// Add computes a + b like gorgonia.StandardEngine, in parallel for the case above:
// into the reuse tensor, or into a when the call is unsafe. Every other
// case (increments, views, other dtypes, a safe call without reuse, which
// must allocate) is StandardEngine's.
func (e TensorEngine) Add(a, b tensor.Tensor, opts ...tensor.FuncOpt) (tensor.Tensor, error) {
	fo := tensor.ParseFuncOpts(opts...)
	ad, aok := a.(*tensor.Dense)
	bd, bok := b.(*tensor.Dense)
	if !aok || !bok || fo.Incr() != nil || ad.Dtype() != tensor.Float32 || bd.Dtype() != tensor.Float32 ||
		!ad.Shape().Eq(bd.Shape()) || ad.IsMaterializable() || bd.IsMaterializable() {
		return e.StandardEngine.Add(a, b, opts...)
	}
	dst := ad
	if r := fo.Reuse(); r != nil {
		rd, ok := r.(*tensor.Dense)
		if !ok || rd.Dtype() != tensor.Float32 || rd.Size() != ad.Size() || rd.IsMaterializable() {
			return e.StandardEngine.Add(a, b, opts...)
		}
		dst = rd
	} else if fo.Safe() {
		return e.StandardEngine.Add(a, b, opts...)
	}
	parallelAdds.Add(1)
	x, y, z := ad.Data().([]float32), bd.Data().([]float32), dst.Data().([]float32)
	parallelFor(len(z), 1, func(lo, hi int) {
		addInto(z[lo:hi], x[lo:hi], y[lo:hi])
	})
	return dst, nil
}

// parallelAdds counts the additions TensorEngine did itself (for tests).
var parallelAdds atomic.Int64

// addInto sets z[i] = x[i] + y[i]; z may alias x or y.
func addInto(z, x, y []float32) {
	x, y = x[:len(z)], y[:len(z)]
	for i := range z {
		z[i] = x[i] + y[i]
	}
}
