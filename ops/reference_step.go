package ops

import "github.com/pkg/errors"

// The Reference engine's kernels of a training step beyond convolution,
// GEMM, pooling and LRN (the specification; see stepkernels.go).

// BatchNormForward normalises x into y (see Engine).
func (Reference) BatchNormForward(g BNGeom, x, gamma, beta, y []float32, mean, variance []float64) error {
	n := g.N * g.C * g.H * g.W
	if err := checkBN("ops.Reference.BatchNormForward", g, n, len(x), len(y)); err != nil {
		return err
	}
	if err := checkBN("ops.Reference.BatchNormForward", g, g.C, len(gamma), len(beta), len(mean), len(variance)); err != nil {
		return err
	}
	bnForward(g, x, gamma, beta, y, mean, variance)
	return nil
}

// BatchNormBackward computes dx and dgamma (see Engine).
func (Reference) BatchNormBackward(g BNGeom, x, gamma, dy, dx, dgamma []float32, mean, variance []float64) error {
	n := g.N * g.C * g.H * g.W
	if err := checkBN("ops.Reference.BatchNormBackward", g, n, len(x), len(dy)); err != nil {
		return err
	}
	if err := checkBN("ops.Reference.BatchNormBackward", g, g.C, len(gamma)); err != nil {
		return err
	}
	if (dx != nil && len(dx) < n) || (dgamma != nil && len(dgamma) < g.C) || (!g.Training && (len(mean) < g.C || len(variance) < g.C)) {
		return errors.Errorf("ops.Reference.BatchNormBackward: slices too short for %+v", g)
	}
	bnBackward(g, x, gamma, dy, dx, dgamma, mean, variance)
	return nil
}

// SoftmaxCrossEntropyForward returns the mean loss (see Engine).
func (Reference) SoftmaxCrossEntropyForward(n, k int, logits []float32, labels []int) (float64, error) {
	const what = "ops.Reference.SoftmaxCrossEntropyForward"
	if err := checkSCE(what, n, k, len(logits), len(labels)); err != nil {
		return 0, err
	}
	if err := checkLabels(what, labels[:n], k); err != nil {
		return 0, err
	}
	return sceForward(n, k, logits, labels), nil
}

// SoftmaxCrossEntropyBackward computes dlogits (see Engine).
func (Reference) SoftmaxCrossEntropyBackward(n, k int, logits []float32, labels []int, dloss float32, dlogits []float32) error {
	const what = "ops.Reference.SoftmaxCrossEntropyBackward"
	if err := checkSCE(what, n, k, len(logits), len(labels), len(dlogits)); err != nil {
		return err
	}
	if err := checkLabels(what, labels[:n], k); err != nil {
		return err
	}
	sceBackward(n, k, logits, labels, dloss, dlogits)
	return nil
}

// DropoutForward applies the mask of m to x (see Engine).
func (Reference) DropoutForward(m DropoutMask, x, y []float32) error {
	if err := checkDropout("ops.Reference.DropoutForward", m, len(x), len(y)); err != nil {
		return err
	}
	dropoutMap(m, x, y)
	return nil
}

// DropoutBackward applies the mask of m to dy (see Engine).
func (Reference) DropoutBackward(m DropoutMask, dy, dx []float32) error {
	if err := checkDropout("ops.Reference.DropoutBackward", m, len(dy), len(dx)); err != nil {
		return err
	}
	dropoutMap(m, dy, dx)
	return nil
}

// ConcatForward concatenates xs along the channels into y (see Engine).
func (Reference) ConcatForward(n, hw int, channels []int, xs [][]float32, y []float32) error {
	const what = "ops.Reference.ConcatForward"
	if err := checkConcat(what, n, hw, channels, len(xs), len(y)); err != nil {
		return err
	}
	for i, x := range xs {
		if len(x) < n*channels[i]*hw {
			return errors.Errorf("%s: input %d has %d elements, want %d", what, i, len(x), n*channels[i]*hw)
		}
	}
	concatForward(n, hw, channels, xs, y)
	return nil
}

// ConcatBackward copies channels [from, to) of dy into dx (see Engine).
func (Reference) ConcatBackward(n, c, hw, from, to int, dy, dx []float32) error {
	if from < 0 || to <= from || to > c || hw <= 0 || n < 0 || len(dy) < n*c*hw || len(dx) < n*(to-from)*hw {
		return errors.Errorf("ops.Reference.ConcatBackward: channels [%d, %d) of [%d %d %d] with %d and %d elements", from, to, n, c, hw, len(dy), len(dx))
	}
	concatBackward(n, c, hw, from, to, dy, dx)
	return nil
}

// SGDUpdate applies s to w (see Engine).
func (Reference) SGDUpdate(s SGDStep, w, g, v []float32) error {
	if err := checkSGD("ops.Reference.SGDUpdate", s, len(w), len(g), len(v)); err != nil {
		return err
	}
	sgdUpdate(s, w, g, v)
	return nil
}
