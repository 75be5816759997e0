package cuda

import (
	"github.com/pkg/errors"

	"github.com/goinception/googlenet/ops"
)

// The drop-in engine does not put batch norm, softmax cross-entropy,
// dropout, channel concatenation or the SGD update on the device: each
// method returns ops.ErrNotSupported (wrapped, naming the kernel), and the
// ops of package ops then run the reference kernel on the CPU, as they did
// before these kernels were engine methods. These kernels are memory-bound;
// a call would spend its time copying operands up and results down. The
// device-resident step (Net), whose activations stay on the device, has
// device kernels for all of them.

func notSupported(kernel string) error {
	return errors.Wrapf(ops.ErrNotSupported, "cuda: %s", kernel)
}

// BatchNormForward returns ops.ErrNotSupported.
func (e *Engine) BatchNormForward(ops.BNGeom, []float32, []float32, []float32, []float32, []float64, []float64) error {
	return notSupported("BatchNormForward")
}

// BatchNormBackward returns ops.ErrNotSupported.
func (e *Engine) BatchNormBackward(ops.BNGeom, []float32, []float32, []float32, []float32, []float32, []float64, []float64) error {
	return notSupported("BatchNormBackward")
}

// SoftmaxCrossEntropyForward returns ops.ErrNotSupported.
func (e *Engine) SoftmaxCrossEntropyForward(int, int, []float32, []int) (float64, error) {
	return 0, notSupported("SoftmaxCrossEntropyForward")
}

// SoftmaxCrossEntropyBackward returns ops.ErrNotSupported.
func (e *Engine) SoftmaxCrossEntropyBackward(int, int, []float32, []int, float32, []float32) error {
	return notSupported("SoftmaxCrossEntropyBackward")
}

// DropoutForward returns ops.ErrNotSupported.
func (e *Engine) DropoutForward(ops.DropoutMask, []float32, []float32) error {
	return notSupported("DropoutForward")
}

// DropoutBackward returns ops.ErrNotSupported.
func (e *Engine) DropoutBackward(ops.DropoutMask, []float32, []float32) error {
	return notSupported("DropoutBackward")
}

// ConcatForward returns ops.ErrNotSupported.
func (e *Engine) ConcatForward(int, int, []int, [][]float32, []float32) error {
	return notSupported("ConcatForward")
}

// ConcatBackward returns ops.ErrNotSupported.
func (e *Engine) ConcatBackward(int, int, int, int, int, []float32, []float32) error {
	return notSupported("ConcatBackward")
}

// SGDUpdate returns ops.ErrNotSupported.
func (e *Engine) SGDUpdate(ops.SGDStep, []float32, []float32, []float32) error {
	return notSupported("SGDUpdate")
}
