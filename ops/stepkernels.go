package ops

import (
	"math"
	"runtime"

	"github.com/goinception/googlenet/internal/par"
	"github.com/pkg/errors"
)

// This file holds the specification of the engine kernels of a training
// step beyond convolution, GEMM, pooling and LRN: batch norm, softmax
// cross-entropy, dropout, channel concatenation and the SGD update. They
// are generic: the float32 Reference engine and the float64 ops run the
// same code.

// ErrNotSupported is returned (wrapped) by an engine method the engine does
// not implement. The ops then run the reference kernel on the CPU, so a
// graph built on such an engine still runs; a caller of the engine
// directly sees the error.
var ErrNotSupported = errors.New("not supported by this engine")

// orReference returns err, or the result of ref when err says that the
// engine does not support the kernel.
func orReference(err error, ref func() error) error {
	if errors.Is(err, ErrNotSupported) {
		return ref()
	}
	return err
}

// BNGeom is the geometry of one batch normalisation of an NCHW tensor.
type BNGeom struct {
	N, C, H, W int
	// Training normalises with the batch's statistics (mean and biased
	// variance over N, H and W); otherwise with given (running) ones.
	Training bool
	Eps      float64
}

// DropoutMask names the mask of one dropout op at one step: element i is
// kept, and scaled by 1/(1-Rate), when DropoutKeep(Seed, Step, Index, i,
// Rate).
type DropoutMask struct {
	Seed, Step uint64
	Index      int
	Rate       float64
}

// SGDStep is the update of one parameter by stochastic gradient descent
// with momentum (solvers.SGD, PyTorch's torch.optim.SGD with dampening 0).
// Element by element, with d the gradient:
//
//	d = d * Scale                        (only if Clip)
//	d = d + WeightDecay * w              (only if WeightDecay != 0)
//	v = d (First) or Momentum*v + d      (only if Momentum != 0)
//	d = d + Momentum*v (Nesterov) or v   (only if Momentum != 0)
//	w = w - LR * d
//
// in the parameter's dtype, in this order (PyTorch's _single_tensor_sgd).
type SGDStep struct {
	LR, Scale, WeightDecay, Momentum float64
	Clip, First, Nesterov            bool
}

func checkBN(what string, g BNGeom, n int, slices ...int) error {
	if g.N <= 0 || g.C <= 0 || g.H <= 0 || g.W <= 0 || !(g.Eps > 0) {
		return errors.Errorf("%s: invalid geometry %+v", what, g)
	}
	for _, l := range slices {
		if l < n {
			return errors.Errorf("%s: a slice of %d elements for %+v", what, l, g)
		}
	}
	return nil
}

// bnForward is batch normalisation (the specification): per channel c,
// y = gamma[c]*(x - mean[c])/sqrt(var[c] + Eps) + beta[c]. In training it
// writes the batch mean and biased variance into mean and variance; else
// it reads them.
func bnForward[T float](g BNGeom, x, gamma, beta, y []T, mean, variance []float64) {
	invstd := make([]float64, g.C)
	bnStatistics(g, x, mean, variance, invstd)
	hw := g.H * g.W
	for n := 0; n < g.N; n++ {
		for c := 0; c < g.C; c++ {
			a := T(float64(gamma[c]) * invstd[c])
			b := T(float64(beta[c]) - float64(gamma[c])*invstd[c]*mean[c])
			xs, ys := x[(n*g.C+c)*hw:(n*g.C+c+1)*hw], y[(n*g.C+c)*hw:(n*g.C+c+1)*hw]
			for i, v := range xs {
				ys[i] = a*v + b
			}
		}
	}
}

// bnStatistics fills invstd = 1/sqrt(var+Eps) per channel and, in
// training, mean and variance with the batch's (biased) statistics.
func bnStatistics[T float](g BNGeom, x []T, mean, variance, invstd []float64) {
	hw := g.H * g.W
	m := float64(g.N * hw)
	for c := 0; c < g.C; c++ {
		if !g.Training {
			invstd[c] = 1 / math.Sqrt(variance[c]+g.Eps)
			continue
		}
		var s float64
		for n := 0; n < g.N; n++ {
			for _, v := range x[(n*g.C+c)*hw : (n*g.C+c+1)*hw] {
				s += float64(v)
			}
		}
		mu := s / m
		var ss float64
		for n := 0; n < g.N; n++ {
			for _, v := range x[(n*g.C+c)*hw : (n*g.C+c+1)*hw] {
				d := float64(v) - mu
				ss += d * d
			}
		}
		mean[c], variance[c] = mu, ss/m
		invstd[c] = 1 / math.Sqrt(ss/m+g.Eps)
	}
}

// bnBackward computes dx and dgamma (each when not nil) from x, gamma and
// dy (the specification). With x̂ the normalised input and M = N·H·W,
// training gives
//
//	dx = γ·invstd/M · (M·dy - Σdy - x̂·Σ(dy·x̂)),   dγ = Σ dy·x̂
//
// with the batch's statistics (computed again from x), and inference (the
// given statistics, constants) dx = γ·invstd·dy.
func bnBackward[T float](g BNGeom, x, gamma, dy, dx, dgamma []T, mean, variance []float64) {
	if g.Training {
		mean, variance = make([]float64, g.C), make([]float64, g.C)
	}
	invstd := make([]float64, g.C)
	bnStatistics(g, x, mean, variance, invstd)
	hw := g.H * g.W
	m := float64(g.N * hw)
	// Per channel: Σdy and Σdy·x̂.
	sdy, sdyx := make([]float64, g.C), make([]float64, g.C)
	for n := 0; n < g.N; n++ {
		for c := 0; c < g.C; c++ {
			xs, ds := x[(n*g.C+c)*hw:(n*g.C+c+1)*hw], dy[(n*g.C+c)*hw:(n*g.C+c+1)*hw]
			var a, b float64
			for i, v := range xs {
				d := float64(ds[i])
				a += d
				b += d * (float64(v) - mean[c])
			}
			sdy[c] += a
			sdyx[c] += b * invstd[c]
		}
	}
	for c := range dgamma {
		dgamma[c] = T(sdyx[c])
	}
	if dx == nil {
		return
	}
	for n := 0; n < g.N; n++ {
		for c := 0; c < g.C; c++ {
			xs, ds := x[(n*g.C+c)*hw:(n*g.C+c+1)*hw], dy[(n*g.C+c)*hw:(n*g.C+c+1)*hw]
			dxs := dx[(n*g.C+c)*hw : (n*g.C+c+1)*hw]
			gi := float64(gamma[c]) * invstd[c]
			if !g.Training {
				for i, d := range ds {
					dxs[i] = T(gi * float64(d))
				}
				continue
			}
			mdy, mdyx := sdy[c]/m, sdyx[c]/m
			for i, v := range xs {
				xh := (float64(v) - mean[c]) * invstd[c]
				dxs[i] = T(gi * (float64(ds[i]) - mdy - xh*mdyx))
			}
		}
	}
}

func checkSCE(what string, n, k int, logits, labels int, others ...int) error {
	if n <= 0 || k <= 0 || logits < n*k || labels < n {
		return errors.Errorf("%s: %d logits and %d labels for [%d %d]", what, logits, labels, n, k)
	}
	for _, l := range others {
		if l < n*k {
			return errors.Errorf("%s: a slice of %d elements for [%d %d]", what, l, n, k)
		}
	}
	return nil
}

func checkLabels(what string, labels []int, k int) error {
	for i, c := range labels {
		if c < 0 || c >= k {
			return errors.Errorf("%s: label %d is %d, want [0, %d)", what, i, c, k)
		}
	}
	return nil
}

// sceForward is the mean over the n rows of logits [n,k] of
// -log softmax(row)[label] (the specification), accumulated in float64.
func sceForward[T float](n, k int, logits []T, labels []int) float64 {
	var loss float64
	for i, c := range labels[:n] {
		row := logits[i*k : (i+1)*k]
		loss += softmaxRow[T](row, nil) - float64(row[c])
	}
	return loss / float64(n)
}

// sceBackward is dlogits = (softmax(logits) - onehot(label)) * dloss/n (the
// specification).
func sceBackward[T float](n, k int, logits []T, labels []int, dloss T, dlogits []T) {
	scale := dloss / T(n)
	for i, c := range labels[:n] {
		row := dlogits[i*k : (i+1)*k]
		softmaxRow(logits[i*k:(i+1)*k], row)
		row[c] -= 1
		for j := range row {
			row[j] *= scale
		}
	}
}

// dropoutMap is y = x·mask/(1-Rate) (the specification): the forward pass on
// x and the backward pass on dy are the same map.
func dropoutMap[T float](m DropoutMask, x, y []T) {
	k := dropoutKey(m.Seed, m.Step, m.Index)
	scale := T(1 / (1 - m.Rate))
	for i, xv := range x {
		if dropoutU(k, i) >= m.Rate {
			y[i] = xv * scale
		} else {
			y[i] = 0
		}
	}
}

func checkDropout(what string, m DropoutMask, x, y int) error {
	if !(m.Rate >= 0 && m.Rate < 1) || y < x {
		return errors.Errorf("%s: rate %v, %d inputs, %d outputs", what, m.Rate, x, y)
	}
	return nil
}

// concatForward writes the inputs xs[i] [n, channels[i], hw] one after
// another along the channels of y (the specification).
func concatForward[T float](n, hw int, channels []int, xs [][]T, y []T) {
	ct := 0
	for _, c := range channels {
		ct += c
	}
	off := 0
	for i, x := range xs {
		c := channels[i]
		copyBlocks(n, c*hw, y[off*hw:], ct*hw, x, c*hw)
		off += c
	}
}

// concatBackward copies channels [from, to) of dy [n, c, hw] into dx (the
// gradient of one input of a concatenation).
func concatBackward[T float](n, c, hw, from, to int, dy, dx []T) {
	k := to - from
	copyBlocks(n, k*hw, dx, k*hw, dy[from*hw:], c*hw)
}

func checkConcat(what string, n, hw int, channels []int, xs, y int) error {
	if n < 0 || hw <= 0 || len(channels) != xs {
		return errors.Errorf("%s: %d inputs for %d channel counts, n %d, hw %d", what, xs, len(channels), n, hw)
	}
	ct := 0
	for _, c := range channels {
		if c <= 0 {
			return errors.Errorf("%s: channel counts %v", what, channels)
		}
		ct += c
	}
	if y < n*ct*hw {
		return errors.Errorf("%s: output of %d elements for [%d %d %d]", what, y, n, ct, hw)
	}
	return nil
}

// sgdMinParallel is the number of elements below which an update stays on
// the caller's goroutine.
const sgdMinParallel = 1 << 15

// sgdUpdate applies s to w (the specification), split over GOMAXPROCS
// goroutines for large parameters: element-wise, so the bits do not depend
// on the split.
func sgdUpdate[T float](s SGDStep, w, g, v []T) {
	n := len(w)
	workers := min(runtime.GOMAXPROCS(0), n/sgdMinParallel)
	if workers <= 1 {
		sgdApply(s, w, g, v)
		return
	}
	par.Do(workers, func(w0 int) {
		lo, hi := w0*n/workers, (w0+1)*n/workers
		var vc []T
		if v != nil {
			vc = v[lo:hi]
		}
		sgdApply(s, w[lo:hi], g[lo:hi], vc)
	})
}

func sgdApply[T float](s SGDStep, w, g, v []T) {
	lr, scale, wd, mu := T(s.LR), T(s.Scale), T(s.WeightDecay), T(s.Momentum)
	for i := range w {
		d := g[i]
		if s.Clip {
			d *= scale
		}
		if s.WeightDecay != 0 {
			d += wd * w[i]
		}
		if s.Momentum != 0 {
			if s.First {
				v[i] = d
			} else {
				v[i] = mu*v[i] + d
			}
			if s.Nesterov {
				d += mu * v[i]
			} else {
				d = v[i]
			}
		}
		w[i] -= lr * d
	}
}

func checkSGD(what string, s SGDStep, w, g, v int) error {
	if g != w || (s.Momentum != 0 && v != w) {
		return errors.Errorf("%s: %d weights, %d gradients, %d velocities", what, w, g, v)
	}
	return nil
}

// SGDUpdateFloat64 is the SGD update on float64 parameters (engines compute
// float32; float64 always runs the specification).
func SGDUpdateFloat64(s SGDStep, w, g, v []float64) error {
	if err := checkSGD("ops.SGDUpdateFloat64", s, len(w), len(g), len(v)); err != nil {
		return err
	}
	sgdUpdate(s, w, g, v)
	return nil
}
