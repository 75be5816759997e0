package cpu

import "github.com/goinception/googlenet/ops"

// Batch norm, softmax cross-entropy, dropout, channel concatenation and the
// SGD update run the kernels of package ops (ops.Reference), which are the
// fast ones on this CPU already: memory-bound loops over the activations
// (the copies of a concatenation split over GOMAXPROCS goroutines, as is
// the update of a large parameter). They are methods of the engine so that
// a model on this engine runs every kernel of its step through it.

// BatchNormForward normalises x into y (see ops.Engine).
func (e *Engine) BatchNormForward(g ops.BNGeom, x, gamma, beta, y []float32, mean, variance []float64) error {
	return ops.Reference{}.BatchNormForward(g, x, gamma, beta, y, mean, variance)
}

// BatchNormBackward computes dx and dgamma (see ops.Engine).
func (e *Engine) BatchNormBackward(g ops.BNGeom, x, gamma, dy, dx, dgamma []float32, mean, variance []float64) error {
	return ops.Reference{}.BatchNormBackward(g, x, gamma, dy, dx, dgamma, mean, variance)
}

// SoftmaxCrossEntropyForward returns the mean loss (see ops.Engine).
func (e *Engine) SoftmaxCrossEntropyForward(n, k int, logits []float32, labels []int) (float64, error) {
	return ops.Reference{}.SoftmaxCrossEntropyForward(n, k, logits, labels)
}

// SoftmaxCrossEntropyBackward computes dlogits (see ops.Engine).
func (e *Engine) SoftmaxCrossEntropyBackward(n, k int, logits []float32, labels []int, dloss float32, dlogits []float32) error {
	return ops.Reference{}.SoftmaxCrossEntropyBackward(n, k, logits, labels, dloss, dlogits)
}

// DropoutForward applies the mask of m to x (see ops.Engine).
func (e *Engine) DropoutForward(m ops.DropoutMask, x, y []float32) error {
	return ops.Reference{}.DropoutForward(m, x, y)
}

// DropoutBackward applies the mask of m to dy (see ops.Engine).
func (e *Engine) DropoutBackward(m ops.DropoutMask, dy, dx []float32) error {
	return ops.Reference{}.DropoutBackward(m, dy, dx)
}

// ConcatForward concatenates xs along the channels (see ops.Engine).
func (e *Engine) ConcatForward(n, hw int, channels []int, xs [][]float32, y []float32) error {
	return ops.Reference{}.ConcatForward(n, hw, channels, xs, y)
}

// ConcatBackward copies channels [from, to) of dy into dx (see ops.Engine).
func (e *Engine) ConcatBackward(n, c, hw, from, to int, dy, dx []float32) error {
	return ops.Reference{}.ConcatBackward(n, c, hw, from, to, dy, dx)
}

// SGDUpdate applies s to w (see ops.Engine).
func (e *Engine) SGDUpdate(s ops.SGDStep, w, g, v []float32) error {
	return ops.Reference{}.SGDUpdate(s, w, g, v)
}
