package ops

import "github.com/pkg/errors"

// The output-size arithmetic of convolutions and pools, said once: the ops,
// the graph builder (graph.Builder, shape-only builds included) and the
// device network of package cuda all compute sizes with these.

// ConvOutSize is the output length of one axis of a convolution with
// kernel k and stride s (0 means 1) over in inputs with before and after
// zero padding: (in + before + after - k)/s + 1. It is an error when the
// padded input is shorter than the kernel.
func ConvOutSize(in, k, s, before, after int) (int, error) {
	if s == 0 {
		s = 1
	}
	if in <= 0 || k <= 0 || s < 0 || before < 0 || after < 0 {
		return 0, errors.Errorf("ops: convolution axis of %d with kernel %d, stride %d, padding %d/%d", in, k, s, before, after)
	}
	span := in + before + after - k
	if span < 0 {
		return 0, errors.Errorf("padded input %d smaller than kernel %d", in+before+after, k)
	}
	return span/s + 1, nil
}

// PoolOutSize is the output length of one axis of a pooling window k with
// stride s (0 means 1) and padding before/after, in floor or ceil mode
// (PoolOpts.CeilMode): in ceil mode a last window that would start in the
// after-padding is dropped (PyTorch's rule).
func PoolOutSize(in, k, s, before, after int, ceil bool) (int, error) {
	if s == 0 {
		s = 1
	}
	if in <= 0 || k <= 0 || s < 0 || before < 0 || after < 0 {
		return 0, errors.Errorf("ops: pooling axis of %d with window %d, stride %d, padding %d/%d", in, k, s, before, after)
	}
	return poolOutSize(in, k, s, before, after, ceil)
}
