package cuda

import (
	"github.com/pkg/errors"

	"github.com/goinception/googlenet/ops"
)

// The drop-in engine runs dropout and channel concatenation on the device
// (the kernels of Net). It does not put batch norm, softmax cross-entropy
// or the SGD update there: those methods return ops.ErrNotSupported
// (wrapped, naming the kernel), and the ops of package ops then run the
// reference kernel on the CPU, as they did before these kernels were
// engine methods. All of them are memory-bound: a call spends most of its
// time copying operands up and results down. The device-resident step
// (Net), whose activations stay on the device, has device kernels for all
// of them.

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

// DropoutForward computes y = x·mask/(1-Rate) on the device (the mask of
// ops.DropoutKeep).
func (e *Engine) DropoutForward(m ops.DropoutMask, x, y []float32) error {
	return e.dropout("DropoutForward", m, x, y)
}

// DropoutBackward computes dx = dy·mask/(1-Rate) on the device, the mask of
// the forward pass.
func (e *Engine) DropoutBackward(m ops.DropoutMask, dy, dx []float32) error {
	return e.dropout("DropoutBackward", m, dy, dx)
}

func (e *Engine) dropout(kernel string, m ops.DropoutMask, x, y []float32) error {
	n := len(x)
	if !(m.Rate >= 0 && m.Rate < 1) || len(y) < n {
		return errors.Errorf("cuda: %s: rate %v, %d inputs, %d outputs", kernel, m.Rate, n, len(y))
	}
	if n == 0 {
		return nil
	}
	h := hostCall{d: e.dev}
	px, py := h.in(x), h.out(n)
	h.do(func() error { return e.dev.Dropout(px, py, n, m.Seed, m.Step, m.Index, m.Rate) })
	h.get(y[:n], py)
	return h.finish(kernel)
}

// ConcatForward concatenates xs along the channels into y on the device.
func (e *Engine) ConcatForward(n, hw int, channels []int, xs [][]float32, y []float32) error {
	ct := 0
	for i, c := range channels {
		if c <= 0 || i >= len(xs) || len(xs[i]) < n*c*hw {
			return errors.Errorf("cuda: ConcatForward: input %d of channel counts %v, [%d _ %d]", i, channels, n, hw)
		}
		ct += c
	}
	if len(xs) != len(channels) || n <= 0 || hw <= 0 || len(y) < n*ct*hw {
		return errors.Errorf("cuda: ConcatForward: %d inputs, channels %v, n %d, hw %d, %d outputs", len(xs), channels, n, hw, len(y))
	}
	h := hostCall{d: e.dev}
	srcs := make([]Ptr, len(xs))
	for i, x := range xs {
		srcs[i] = h.in(x[:n*channels[i]*hw])
	}
	py := h.out(n * ct * hw)
	h.do(func() error { return e.dev.ConcatChannels(py, n, hw, srcs, channels) })
	h.get(y[:n*ct*hw], py)
	return h.finish("ConcatForward")
}

// ConcatBackward copies channels [from, to) of dy into dx on the device.
func (e *Engine) ConcatBackward(n, c, hw, from, to int, dy, dx []float32) error {
	k := to - from
	if from < 0 || k <= 0 || to > c || n <= 0 || hw <= 0 || len(dy) < n*c*hw || len(dx) < n*k*hw {
		return errors.Errorf("cuda: ConcatBackward: channels [%d, %d) of [%d %d %d] with %d and %d elements", from, to, n, c, hw, len(dy), len(dx))
	}
	h := hostCall{d: e.dev}
	pdy, pdx := h.in(dy[:n*c*hw]), h.out(n*k*hw)
	h.do(func() error { return e.dev.ChannelCopy(pdy, c, from, pdx, k, 0, k, n, hw) })
	h.get(dx[:n*k*hw], pdx)
	return h.finish("ConcatBackward")
}

// SGDUpdate returns ops.ErrNotSupported.
func (e *Engine) SGDUpdate(ops.SGDStep, []float32, []float32, []float32) error {
	return notSupported("SGDUpdate")
}
