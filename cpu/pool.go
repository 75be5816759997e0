package cpu

import "github.com/goinception/googlenet/ops"

// Pooling and LRN run the kernels of package ops (ops.Reference), which
// are already the fast ones on this CPU: the float32 elementwise loops
// (window maxima, the 3x3 pool gradients, LRN's sums, products and powers)
// are AVX assembly on amd64, split over GOMAXPROCS goroutines.

// PoolForward pools x into y (see ops.Engine).
func (e *Engine) PoolForward(g ops.PoolGeom, x, y []float32) error {
	return ops.Reference{}.PoolForward(g, x, y)
}

// PoolBackward computes dx from dy, and x and y for max pools (see
// ops.Engine).
func (e *Engine) PoolBackward(g ops.PoolGeom, x, y, dy, dx []float32) error {
	return ops.Reference{}.PoolBackward(g, x, y, dy, dx)
}

// LRNForward computes y = LRN(x) (see ops.Engine).
func (e *Engine) LRNForward(g ops.LRNGeom, x, y []float32) error {
	return ops.Reference{}.LRNForward(g, x, y)
}

// LRNBackward computes dx from x, y and dy (see ops.Engine).
func (e *Engine) LRNBackward(g ops.LRNGeom, x, y, dy, dx []float32) error {
	return ops.Reference{}.LRNBackward(g, x, y, dy, dx)
}
