// Package opstest is the conformance suite for ops.Engine implementations.
//
// Every engine (the pure-Go reference, a BLAS-backed CPU engine, a CUDA
// engine) runs the same checks from its own test file:
//
//	func TestEngine(t *testing.T) { opstest.TestEngine(t, myEngine{}) }
//
// # What is checked
//
// ConvForward (with and without bias, with and without fused ReLU),
// ConvBackwardData, ConvBackwardFilter (with and without db) and Gemm (all
// four transpose combinations, alpha and beta, leading dimensions larger
// than the matrix) are compared with plain float64 loops that follow the
// definitions, over a table of geometries: 1x1, 3x3 pad 1, 5x5 pad 2,
// 7x7 stride 2 pad 3, asymmetric strides, odd sizes, batch > 1.
// The kernels of the rest of a training step (BatchNormForward and
// BatchNormBackward in training and inference, the softmax cross-entropy's
// loss and gradient, DropoutForward and DropoutBackward, ConcatForward and
// ConcatBackward, SGDUpdate with and without momentum, Nesterov, weight
// decay and clipping) are compared with float64 loops too (StepTol); an
// engine that does not implement one (ops.ErrNotSupported) skips it by
// name. TestOps runs every op of a training step, forward and gradient,
// through an engine (OpTable).
//
// # Tolerance
//
// A float32 result r for a float64 reference value v, which is a sum of
// terms t_i, passes when |r - v| <= RelTol * (sum |t_i|) + AbsTol. Scaling
// by the sum of magnitudes (not by |v|) keeps the check meaningful when
// terms cancel.
//
// Outputs are pre-filled with a sentinel so an engine that accumulates into
// its output instead of overwriting it fails.
package opstest
