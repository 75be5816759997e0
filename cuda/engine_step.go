package cuda

import (
	"github.com/pkg/errors"

	"github.com/goinception/googlenet/ops"
)

// The drop-in engine runs batch norm, dropout, channel concatenation, the
// softmax cross-entropy and the SGD update on the device (the kernels of
// Net). It does not run the backward pass of a batch norm with given
// (running) statistics, nor Nesterov momentum: those return
// ops.ErrNotSupported (wrapped, naming the kernel), and the ops of package
// ops then run the reference kernel on the CPU. All of them are
// memory-bound: a call spends most of its time copying operands up and
// results down. The device-resident step (Net), whose activations stay on
// the device, keeps them there.

func notSupported(kernel string) error {
	return errors.Wrapf(ops.ErrNotSupported, "cuda: %s", kernel)
}

// bnGeom is g as the device's batch norm geometry.
func bnGeom(what string, g ops.BNGeom, x, gamma int, others ...int) (BNGeom, error) {
	dg := BNGeom{N: g.N, C: g.C, HW: g.H * g.W, Eps: g.Eps}
	if g.N <= 0 || g.C <= 0 || g.H <= 0 || g.W <= 0 || !(g.Eps > 0) || x < g.N*g.C*g.H*g.W || gamma < g.C {
		return dg, errors.Errorf("cuda: %s: invalid geometry %+v for %d inputs and %d scales", what, g, x, gamma)
	}
	for _, l := range others {
		if l < g.N*g.C*g.H*g.W {
			return dg, errors.Errorf("cuda: %s: a slice of %d elements for %+v", what, l, g)
		}
	}
	return dg, nil
}

// BatchNormForward runs batch normalisation on the device (the kernels of
// Net): in training with the batch's statistics, which it writes to mean
// and variance (the biased variance), otherwise with those it reads there.
func (e *Engine) BatchNormForward(g ops.BNGeom, x, gamma, beta, y []float32, mean, variance []float64) error {
	const what = "BatchNormForward"
	dg, err := bnGeom(what, g, len(x), len(gamma), len(y))
	if err != nil {
		return err
	}
	if len(beta) < g.C || len(mean) < g.C || len(variance) < g.C {
		return errors.Errorf("cuda: %s: %d shifts, %d means, %d variances for %d channels", what, len(beta), len(mean), len(variance), g.C)
	}
	size := g.N * g.C * g.H * g.W
	h := hostCall{d: e.dev}
	px, pgamma, pbeta, py := h.in(x[:size]), h.in(gamma[:g.C]), h.in(beta[:g.C]), h.out(size)
	pinv := h.out(g.C)
	var pmean, pvar Ptr
	if g.Training {
		pmean, pvar = h.out(g.C), h.out(g.C)
		h.do(func() error { return e.dev.BNStats(dg, px, pmean, pinv, pvar) })
	} else {
		pmean, pvar = h.in(float32sOf(mean[:g.C])), h.in(float32sOf(variance[:g.C]))
		h.do(func() error { return e.dev.BNInvStd(dg, pvar, pinv) })
	}
	h.do(func() error { return e.dev.BNApply(dg, px, py, pgamma, pbeta, pmean, pinv, false) })
	h.get(y[:size], py)
	if g.Training {
		m, v := make([]float32, g.C), make([]float32, g.C)
		h.get(m, pmean)
		h.get(v, pvar)
		for c := range m {
			mean[c], variance[c] = float64(m[c]), float64(v[c])
		}
	}
	return h.finish(what)
}

// BatchNormBackward computes dx and dgamma (either may be nil) of a
// training batch norm on the device, with the batch's statistics computed
// again from x. The backward pass with given (running) statistics returns
// ops.ErrNotSupported: Net has no kernel for it.
func (e *Engine) BatchNormBackward(g ops.BNGeom, x, gamma, dy, dx, dgamma []float32, mean, variance []float64) error {
	const what = "BatchNormBackward"
	if !g.Training {
		return notSupported(what + " with running statistics")
	}
	dg, err := bnGeom(what, g, len(x), len(gamma), len(dy))
	if err != nil {
		return err
	}
	size := g.N * g.C * g.H * g.W
	if (dx != nil && len(dx) < size) || (dgamma != nil && len(dgamma) < g.C) {
		return errors.Errorf("cuda: %s: %d input gradients, %d scale gradients for %+v", what, len(dx), len(dgamma), g)
	}
	h := hostCall{d: e.dev}
	px, pgamma, pdy := h.in(x[:size]), h.in(gamma[:g.C]), h.in(dy[:size])
	pmean, pinv, pvar, pdg, pdb, pdx := h.out(g.C), h.out(g.C), h.out(g.C), h.out(g.C), h.out(g.C), h.out(size)
	h.do(func() error { return e.dev.BNStats(dg, px, pmean, pinv, pvar) })
	h.do(func() error { return e.dev.BNBackward(dg, px, pdy, pgamma, pmean, pinv, pdg, pdb, pdx) })
	if dx != nil {
		h.get(dx[:size], pdx)
	}
	if dgamma != nil {
		h.get(dgamma[:g.C], pdg)
	}
	return h.finish(what)
}

func float32sOf(v []float64) []float32 {
	r := make([]float32, len(v))
	for i, x := range v {
		r[i] = float32(x)
	}
	return r
}

// SoftmaxCrossEntropyForward returns the mean over the n rows of logits
// [n,k] of -log softmax(row)[labels[row]], each row's loss computed on the
// device (the softmax_xent kernel of Net) and the mean accumulated in
// float64. A label outside [0, k) is an error, as for ops.Reference.
func (e *Engine) SoftmaxCrossEntropyForward(n, k int, logits []float32, labels []int) (float64, error) {
	const what = "SoftmaxCrossEntropyForward"
	lab, err := sceArgs(what, n, k, len(logits), labels)
	if err != nil {
		return 0, err
	}
	h := hostCall{d: e.dev}
	pz, pl, ploss, pg := h.in(logits[:n*k]), h.out(n), h.out(n), h.out(n*k)
	h.do(func() error { return e.dev.ex.UploadInt32(pl, lab) })
	h.do(func() error { return e.dev.SoftmaxCrossEntropy(pz, pl, ploss, pg, n, k, 1) })
	rows := make([]float32, n)
	h.get(rows, ploss)
	if err := h.finish(what); err != nil {
		return 0, err
	}
	var sum float64
	for _, l := range rows {
		sum += float64(l)
	}
	return sum / float64(n), nil
}

// SoftmaxCrossEntropyBackward computes dlogits [n,k] = (softmax(logits) -
// onehot(labels))·dloss/n on the device.
func (e *Engine) SoftmaxCrossEntropyBackward(n, k int, logits []float32, labels []int, dloss float32, dlogits []float32) error {
	const what = "SoftmaxCrossEntropyBackward"
	lab, err := sceArgs(what, n, k, len(logits), labels)
	if err != nil {
		return err
	}
	if len(dlogits) < n*k {
		return errors.Errorf("cuda: %s: a slice of %d elements for [%d %d]", what, len(dlogits), n, k)
	}
	h := hostCall{d: e.dev}
	pz, pl, ploss, pg := h.in(logits[:n*k]), h.out(n), h.out(n), h.out(n*k)
	h.do(func() error { return e.dev.ex.UploadInt32(pl, lab) })
	h.do(func() error { return e.dev.SoftmaxCrossEntropy(pz, pl, ploss, pg, n, k, dloss/float32(n)) })
	h.get(dlogits[:n*k], pg)
	return h.finish(what)
}

// sceArgs checks the softmax cross-entropy's sizes and labels and returns
// the labels as int32.
func sceArgs(what string, n, k, logits int, labels []int) ([]int32, error) {
	if n <= 0 || k <= 0 || logits < n*k || len(labels) < n {
		return nil, errors.Errorf("cuda: %s: %d logits and %d labels for [%d %d]", what, logits, len(labels), n, k)
	}
	lab := make([]int32, n)
	for i, c := range labels[:n] {
		if c < 0 || c >= k {
			return nil, errors.Errorf("cuda: %s: label %d is %d, want [0, %d)", what, i, c, k)
		}
		lab[i] = int32(c)
	}
	return lab, nil
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

// SGDUpdate applies s to w (and the velocity v) on the device with Net's
// sgd_momentum kernel: weight decay, momentum (the velocity starts from the
// gradient on the first step, s.First), plain SGD without momentum (v is
// then nil), and clipping (the gradient scaled by s.Scale on the host
// first, as ops.Reference scales it). Nesterov momentum returns
// ops.ErrNotSupported, and solvers.SGD then runs ops.Reference.
func (e *Engine) SGDUpdate(s ops.SGDStep, w, g, v []float32) error {
	const what = "SGDUpdate"
	n := len(w)
	if len(g) != n || (s.Momentum != 0 && len(v) != n) {
		return errors.Errorf("cuda: %s: %d weights, %d gradients, %d velocities", what, n, len(g), len(v))
	}
	if s.Nesterov {
		return notSupported(what + " with Nesterov momentum")
	}
	if n == 0 {
		return nil
	}
	if s.Clip {
		sc := float32(s.Scale)
		gs := make([]float32, n)
		for i, x := range g {
			gs[i] = x * sc
		}
		g = gs
	}
	h := hostCall{d: e.dev}
	pw, pg := h.in(w), h.in(g)
	var pv Ptr
	if s.Momentum != 0 && !s.First {
		pv = h.in(v)
	} else {
		// Without momentum, or on the first step, the velocity is the
		// gradient: mu·0 + g.
		pv = h.out(n)
		h.do(func() error { return e.dev.Fill(pv, 0, n) })
	}
	h.do(func() error {
		return e.dev.SGDMomentum(pw, pg, pv, n, float32(s.LR), float32(s.Momentum), float32(s.WeightDecay))
	})
	h.get(w, pw)
	if s.Momentum != 0 {
		h.get(v, pv)
	}
	return h.finish(what)
}
