package ops

// This file is the public contract of package ops: option structs and the
// node-level constructors that graph builders call. Every constructor
// validates its inputs and returns an error (never panics) on bad shapes or
// options.

import (
	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"
)

// Pad2D is padding on each side of the two spatial axes of an NCHW tensor.
// Padding may be asymmetric (ONNX "pads" = [Top, Left, Bottom, Right]).
type Pad2D struct {
	Top, Bottom, Left, Right int
}

// Same returns symmetric padding p on every side.
func Same(p int) Pad2D { return Pad2D{p, p, p, p} }

// ConvOpts describes a 2-D convolution over NCHW input with OIHW weights.
// The zero value is stride 1, no padding, no fused activation.
type ConvOpts struct {
	StrideH, StrideW int   // 0 means 1
	Pad              Pad2D // zero padding
	ReLU             bool  // fuse max(0, .) after the bias add
	// NoInputGrad skips the gradient with respect to the input x (its
	// gradient node is not built, so no machine computes it). Set it on the
	// first convolution of a network, whose input is data, not a parameter.
	// On a convolution whose input depends on parameters, gorgonia.Grad
	// then fails (no gradient reaches them).
	NoInputGrad bool
}

// PoolOpts describes a 2-D pooling window over NCHW input.
// Windows start at the top-left padded corner (Caffe and ONNX semantics).
type PoolOpts struct {
	KernelH, KernelW int   // required, > 0
	StrideH, StrideW int   // 0 means 1
	Pad              Pad2D // max pool pads with -Inf, average pool with zeros
	// CeilMode rounds the output size up (Caffe's default, ONNX ceil_mode=1):
	// out = ceil((in + padBefore + padAfter - k) / s) + 1, dropping a last
	// window that would start entirely in the after-padding.
	CeilMode bool
	// CountIncludePad divides average pools by the window size including
	// padding (Caffe, PyTorch's default); otherwise by the number of valid
	// elements (ONNX default). As in PyTorch, a window that a ceil-mode
	// overhang extends past the padding counts only up to the padding's end.
	// Ignored by max pooling.
	CountIncludePad bool
}

// LRNOpts is local response normalisation across channels:
// y = x / (K + Alpha/Size * sum_{window of Size channels} x^2)^Beta,
// with alpha divided by size as in Caffe and ONNX.
type LRNOpts struct {
	Size  int     // odd window size across channels (the paper uses 5)
	Alpha float64 // 1e-4 in GoogLeNet
	Beta  float64 // 0.75 in GoogLeNet
	K     float64 // 1 in GoogLeNet
}

// RandState seeds the random masks of every dropout op of one model. Mask
// bits for a given op are a pure function of (Seed, Step, op index), so a run
// resumed at step n draws the same masks as an uninterrupted run. Trainers set
// Step before each forward pass.
type RandState struct {
	Seed uint64
	Step uint64
}

// BNStats holds batch-normalisation running statistics outside any
// machine, so they survive when a new machine is made.
type BNStats struct {
	// Mean and Var have one entry per channel, in float64 regardless of the
	// graph's dtype.
	Mean, Var []float64
	// Momentum of the running-average update (torchvision: 0.1):
	// running = (1-Momentum)*running + Momentum*batch, with the unbiased
	// batch variance as PyTorch does.
	// Zero means DefaultBNMomentum (0.1).
	Momentum float64
	Eps      float64 // torchvision GoogLeNet: 1e-3; zero means DefaultBNEps (1e-5)
}

// Ops are the op constructors bound to one engine: every op they build runs
// its float32 kernels on that engine, and the backward ops Gorgonia derives
// from it inherit the engine. The zero value (and With(nil)) is the
// reference engine. An engine is a value given to the graph when it is
// built, so two graphs on two engines run side by side in one process.
type Ops struct{ e Engine }

// With returns the op constructors bound to e (nil: Reference).
func With(e Engine) Ops { return Ops{e: e} }

// Engine returns the engine the constructors bind (Reference for the zero
// value).
func (o Ops) Engine() Engine {
	if o.e == nil {
		return Reference{}
	}
	return o.e
}

// Conv2D returns conv(x, w) + b (b may be nil), optionally followed by ReLU.
// x is [N,C,H,W]; w is [K,C,R,S]; b is [K]; the output is [N,K,OH,OW].
func (o Ops) Conv2D(x, w, b *G.Node, co ConvOpts) (*G.Node, error) { return newConv(o.e, x, w, b, co) }

// ReLU returns max(0, x).
func (o Ops) ReLU(x *G.Node) (*G.Node, error) { return newReLU(o.e, x) }

// MaxPool2D is max pooling with ceil mode and asymmetric padding.
func (o Ops) MaxPool2D(x *G.Node, po PoolOpts) (*G.Node, error) {
	return newPool(o.e, x, "max", po, 0, 0)
}

// AvgPool2D is average pooling (correct divisor, see PoolOpts.CountIncludePad).
func (o Ops) AvgPool2D(x *G.Node, po PoolOpts) (*G.Node, error) {
	return newPool(o.e, x, "avg", po, 0, 0)
}

// AdaptiveAvgPool2D pools to an outH x outW output with PyTorch's adaptive
// window boundaries (start = floor(i*in/out), end = ceil((i+1)*in/out)).
func (o Ops) AdaptiveAvgPool2D(x *G.Node, outH, outW int) (*G.Node, error) {
	return newPool(o.e, x, "adaptive", PoolOpts{}, outH, outW)
}

// GlobalAvgPool2D averages each channel: [N,C,H,W] -> [N,C,1,1].
func (o Ops) GlobalAvgPool2D(x *G.Node) (*G.Node, error) {
	if err := checkRank(x, 4, "input"); err != nil {
		return nil, errors.Wrap(err, "ops.GlobalAvgPool2D")
	}
	return newPool(o.e, x, "global", PoolOpts{}, 1, 1)
}

// LRN is local response normalisation across channels.
func (o Ops) LRN(x *G.Node, lo LRNOpts) (*G.Node, error) { return newLRN(o.e, x, lo) }

// Dropout zeroes each element with probability rate and scales survivors by
// 1/(1-rate), in forward and backward. index distinguishes the dropout ops
// of one model (it is mixed into the mask seed). When training is false it
// returns x unchanged.
func (o Ops) Dropout(x *G.Node, rate float64, st *RandState, index int, training bool) (*G.Node, error) {
	return newDropout(o.e, x, rate, st, index, training)
}

// Linear returns x·Wᵀ + b for x [N,In], w [Out,In] (PyTorch layout), b [Out]
// (b may be nil).
func (o Ops) Linear(x, w, b *G.Node) (*G.Node, error) { return newLinear(o.e, x, w, b) }

// Flatten reshapes [N, ...] to [N, prod(...)].
func (o Ops) Flatten(x *G.Node) (*G.Node, error) { return newFlatten(x) }

// ConcatChannels concatenates NCHW tensors along axis 1.
func (o Ops) ConcatChannels(xs ...*G.Node) (*G.Node, error) { return newConcat(o.e, xs...) }

// SoftmaxCrossEntropy returns the mean over the batch of
// -log softmax(logits)[label], computed stably (log-sum-exp). logits is
// [N,K]; labels is a [N] node of the same dtype holding class indices.
func (o Ops) SoftmaxCrossEntropy(logits, labels *G.Node) (*G.Node, error) {
	return newSCE(o.e, logits, labels)
}

// Softmax returns row-wise softmax of [N,K] logits (inference only: no gradient
// needed, but one is provided).
func (o Ops) Softmax(x *G.Node) (*G.Node, error) { return newSoftmax(o.e, x) }

// BatchNorm normalises x [N,C,H,W] per channel with learnable gamma, beta [C].
// Training mode uses batch statistics and updates st in place each time the
// machine runs; eval mode uses st.Mean and st.Var. If st.Mean and st.Var
// are both nil, BatchNorm sets them to PyTorch's initial 0 and 1; zero
// Momentum and Eps are set to their defaults.
func (o Ops) BatchNorm(x, gamma, beta *G.Node, st *BNStats, training bool) (*G.Node, error) {
	return newBatchNorm(o.e, x, gamma, beta, st, training)
}

// The package-level constructors build ops on the reference engine: they are
// With(nil)'s methods (see Ops for their documentation).

// Conv2D is With(nil).Conv2D: conv(x, w) + b, optionally followed by ReLU.
func Conv2D(x, w, b *G.Node, o ConvOpts) (*G.Node, error) { return Ops{}.Conv2D(x, w, b, o) }

// ReLU is With(nil).ReLU: max(0, x).
func ReLU(x *G.Node) (*G.Node, error) { return Ops{}.ReLU(x) }

// MaxPool2D is With(nil).MaxPool2D.
func MaxPool2D(x *G.Node, o PoolOpts) (*G.Node, error) { return Ops{}.MaxPool2D(x, o) }

// AvgPool2D is With(nil).AvgPool2D.
func AvgPool2D(x *G.Node, o PoolOpts) (*G.Node, error) { return Ops{}.AvgPool2D(x, o) }

// AdaptiveAvgPool2D is With(nil).AdaptiveAvgPool2D.
func AdaptiveAvgPool2D(x *G.Node, outH, outW int) (*G.Node, error) {
	return Ops{}.AdaptiveAvgPool2D(x, outH, outW)
}

// GlobalAvgPool2D is With(nil).GlobalAvgPool2D: [N,C,H,W] -> [N,C,1,1].
func GlobalAvgPool2D(x *G.Node) (*G.Node, error) { return Ops{}.GlobalAvgPool2D(x) }

// LRN is With(nil).LRN.
func LRN(x *G.Node, o LRNOpts) (*G.Node, error) { return Ops{}.LRN(x, o) }

// Dropout is With(nil).Dropout.
func Dropout(x *G.Node, rate float64, st *RandState, index int, training bool) (*G.Node, error) {
	return Ops{}.Dropout(x, rate, st, index, training)
}

// Linear is With(nil).Linear: x·Wᵀ + b.
func Linear(x, w, b *G.Node) (*G.Node, error) { return Ops{}.Linear(x, w, b) }

// Flatten reshapes [N, ...] to [N, prod(...)].
func Flatten(x *G.Node) (*G.Node, error) { return newFlatten(x) }

// ConcatChannels is With(nil).ConcatChannels.
func ConcatChannels(xs ...*G.Node) (*G.Node, error) { return Ops{}.ConcatChannels(xs...) }

// SoftmaxCrossEntropy is With(nil).SoftmaxCrossEntropy.
func SoftmaxCrossEntropy(logits, labels *G.Node) (*G.Node, error) {
	return Ops{}.SoftmaxCrossEntropy(logits, labels)
}

// Softmax is With(nil).Softmax.
func Softmax(x *G.Node) (*G.Node, error) { return Ops{}.Softmax(x) }

// BatchNorm is With(nil).BatchNorm.
func BatchNorm(x, gamma, beta *G.Node, st *BNStats, training bool) (*G.Node, error) {
	return Ops{}.BatchNorm(x, gamma, beta, st, training)
}
