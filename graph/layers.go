package graph

import (
	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"

	"github.com/goinception/googlenet/ops"
)

// ConvOpts configures a convolution layer. The zero value (apart from the
// required Kernel) is stride 1, no padding, a bias, no batch norm and no
// activation.
type ConvOpts struct {
	Kernel int // square kernel size, required (> 0)
	Stride int // 0 means 1
	Pad    int // zero padding on every side; 0 means none
	// NoBias drops the bias. Batch norm implies no bias (its shift plays
	// that role), as torchvision's BasicConv2d.
	NoBias bool
	// ReLU applies max(0, .) last (fused into the convolution when there is
	// no batch norm).
	ReLU bool
	// BatchNorm inserts batch normalisation (named "<layer>/bn") between the
	// convolution and the ReLU.
	BatchNorm bool
	BN        BNOpts // batch-norm settings when BatchNorm is set
}

// BNOpts configures batch normalisation. The zero value is PyTorch's
// default: eps 1e-5, momentum 0.1.
type BNOpts struct {
	Eps      float64 // 0 means 1e-5 (torchvision GoogLeNet uses 1e-3)
	Momentum float64 // 0 means 0.1
}

// PoolOpts configures a pooling layer with a square window. Windows start
// at the top-left padded corner (Caffe and ONNX semantics).
type PoolOpts struct {
	Kernel int // required (> 0)
	Stride int // 0 means 1
	Pad    int // padding on every side; max pools pad with -Inf, average pools with 0
	// CeilMode rounds the output size up (Caffe's only mode); a last window
	// starting inside the bottom/right padding is dropped.
	CeilMode bool
	// CountIncludePad divides average pools by the whole window including
	// padding (Caffe) instead of by the valid elements only.
	CountIncludePad bool
}

// LinearOpts configures a fully connected layer. The zero value has a bias
// and no activation.
type LinearOpts struct {
	NoBias bool
	ReLU   bool
}

func orOne(v int) int {
	if v == 0 {
		return 1
	}
	return v
}

// rank4 checks that x is an NCHW tensor.
func (b *Builder) rank4(name string, x *Tensor) bool {
	if b.err != nil {
		return false
	}
	if x == nil {
		b.failf(name, "nil input")
		return false
	}
	if len(x.Shape) != 4 {
		b.failf(name, "input must be NCHW, got shape %v", x.Shape)
		return false
	}
	return true
}

// Conv adds a convolution with out output channels, OIHW weights named
// "<name>/w" initialised by Options.Init and an optional bias "<name>/b".
// A convolution applied directly to a tensor made by Input builds no
// gradient with respect to that input (ops.ConvOpts.NoInputGrad): it is
// data, and the gradient would cost a GEMM per step. To differentiate with
// respect to the image (saliency maps), build the network on a Gorgonia
// node of your own instead.
func (b *Builder) Conv(name string, x *Tensor, out int, o ConvOpts) *Tensor {
	if !b.rank4(name, x) {
		return nil
	}
	if o.Kernel <= 0 || out <= 0 || o.Stride < 0 || o.Pad < 0 {
		b.failf(name, "invalid conv: %d outputs, kernel %d, stride %d, pad %d", out, o.Kernel, o.Stride, o.Pad)
		return nil
	}
	n, c, h, w := x.Shape[0], x.Shape[1], x.Shape[2], x.Shape[3]
	s := orOne(o.Stride)
	if h+2*o.Pad < o.Kernel || w+2*o.Pad < o.Kernel {
		b.failf(name, "input %dx%d too small for a %dx%d kernel with pad %d", h, w, o.Kernel, o.Kernel, o.Pad)
		return nil
	}
	oh, errH := ops.ConvOutSize(h, o.Kernel, s, o.Pad, o.Pad)
	ow, errW := ops.ConvOutSize(w, o.Kernel, s, o.Pad, o.Pad)
	if errH != nil || errW != nil {
		b.failf(name, "input %dx%d too small for a %dx%d kernel with pad %d", h, w, o.Kernel, o.Kernel, o.Pad)
		return nil
	}
	f := b.claim(name)
	if f == "" {
		return nil
	}
	fanIn := c * o.Kernel * o.Kernel
	wp := b.newParam(f, "w", Weight, fanIn, out, c, o.Kernel, o.Kernel)
	var bp *Param
	if !o.NoBias && !o.BatchNorm {
		bp = b.newParam(f, "b", Bias, fanIn, out)
	}
	if b.err != nil {
		return nil
	}
	params := wp.Size()
	if bp != nil {
		params += bp.Size()
	}
	if o.BatchNorm {
		params += 2 * int64(out)
	}
	names := []string{wp.Name}
	if bp != nil {
		names = append(names, bp.Name)
	}
	if o.BatchNorm {
		names = append(names, f+"/bn/scale", f+"/bn/shift")
	}
	co := o
	co.Stride = s
	b.record(Layer{Name: f, Type: KindConv, Kernel: o.Kernel, Stride: s, Output: []int{out, oh, ow},
		Params: params, MACs: int64(out) * int64(fanIn) * int64(oh) * int64(ow),
		OutShape: []int{n, out, oh, ow}, ParamNames: names, Conv: &co}, x)
	y := &Tensor{Shape: []int{n, out, oh, ow}, from: f}
	if b.g != nil {
		var bn *G.Node
		if bp != nil {
			bn = bp.Node
		}
		// A convolution of an Input (conv1 of a network) skips the gradient
		// with respect to its input: it is data, and computing it would
		// cost a backward-data GEMM every training step.
		node, err := b.ops.Conv2D(x.Node, wp.Node, bn, ops.ConvOpts{StrideH: s, StrideW: s, Pad: ops.Same(o.Pad),
			ReLU: o.ReLU && !o.BatchNorm, NoInputGrad: b.inputs[x.Node]})
		if err != nil {
			b.wrap(name, err)
			return nil
		}
		y.Node = node
	}
	y = b.checkShape(name, y)
	if o.BatchNorm {
		y = b.batchNorm(f+"/bn", y, o.BN)
		if o.ReLU {
			y = b.relu(f+"/relu", y)
		}
		if y != nil {
			y.from = f // the conv layer covers its batch norm and ReLU
		}
	}
	return y
}

// BatchNorm adds batch normalisation over the channels of x with learnable
// "<name>/scale" (gamma) and "<name>/shift" (beta) and running statistics
// registered as "<name>" (see BNStats).
func (b *Builder) BatchNorm(name string, x *Tensor, o BNOpts) *Tensor {
	if !b.rank4(name, x) {
		return nil
	}
	f := b.claim(name)
	if f == "" {
		return nil
	}
	y := b.batchNorm(f, x, o)
	if y != nil {
		bo := o
		b.record(Layer{Name: f, Type: KindBatchNorm, Output: y.Dims(), Params: 2 * int64(x.Shape[1]),
			OutShape: append([]int(nil), y.Shape...), ParamNames: []string{f + "/scale", f + "/shift"}, BN: &bo}, x)
		y.from = f
	}
	return y
}

// batchNorm builds a batch norm with full name f (no layer record).
func (b *Builder) batchNorm(f string, x *Tensor, o BNOpts) *Tensor {
	if b.err != nil || x == nil {
		return nil
	}
	eps, mom := o.Eps, o.Momentum
	if eps == 0 {
		eps = 1e-5
	}
	if mom == 0 {
		mom = 0.1
	}
	if eps < 0 || mom < 0 || mom > 1 {
		b.err = errors.Errorf("layer %s: invalid batch norm eps %g momentum %g", f, eps, mom)
		return nil
	}
	c := x.Shape[1]
	gamma := b.newParam(f, "scale", BNScale, 1, c)
	beta := b.newParam(f, "shift", BNShift, 1, c)
	st := b.newBNStats(f, c, eps, mom)
	if b.err != nil {
		return nil
	}
	y := &Tensor{Shape: append([]int(nil), x.Shape...)}
	if b.g != nil {
		// A frozen batch norm keeps its running statistics: it normalises
		// with them and does not update them.
		training := b.opts.Training && !(gamma.Frozen && beta.Frozen)
		node, err := b.ops.BatchNorm(x.Node, gamma.Node, beta.Node, st, training)
		if err != nil {
			b.err = errors.Wrapf(err, "layer %s", f)
			return nil
		}
		y.Node = node
	}
	return y
}

// ReLU adds max(0, x).
func (b *Builder) ReLU(name string, x *Tensor) *Tensor {
	if b.err != nil {
		return nil
	}
	if x == nil {
		b.failf(name, "nil input")
		return nil
	}
	f := b.claim(name)
	if f == "" {
		return nil
	}
	y := b.relu(f, x)
	if y != nil {
		b.record(Layer{Name: f, Type: KindReLU, Output: y.Dims(), OutShape: append([]int(nil), y.Shape...)}, x)
		y.from = f
	}
	return y
}

func (b *Builder) relu(f string, x *Tensor) *Tensor {
	if b.err != nil || x == nil {
		return nil
	}
	y := &Tensor{Shape: append([]int(nil), x.Shape...)}
	if b.g != nil {
		node, err := b.ops.ReLU(x.Node)
		if err != nil {
			b.err = errors.Wrapf(err, "layer %s", f)
			return nil
		}
		y.Node = node
	}
	return y
}

// MaxPool adds max pooling.
func (b *Builder) MaxPool(name string, x *Tensor, o PoolOpts) *Tensor {
	return b.pool(name, KindMaxPool, x, o)
}

// AvgPool adds average pooling.
func (b *Builder) AvgPool(name string, x *Tensor, o PoolOpts) *Tensor {
	return b.pool(name, KindAvgPool, x, o)
}

func (b *Builder) pool(name, typ string, x *Tensor, o PoolOpts) *Tensor {
	if !b.rank4(name, x) {
		return nil
	}
	if o.Kernel <= 0 || o.Stride < 0 || o.Pad < 0 || o.Pad >= o.Kernel {
		b.failf(name, "invalid pool: kernel %d, stride %d, pad %d", o.Kernel, o.Stride, o.Pad)
		return nil
	}
	s := orOne(o.Stride)
	n, c, h, w := x.Shape[0], x.Shape[1], x.Shape[2], x.Shape[3]
	oh, errH := ops.PoolOutSize(h, o.Kernel, s, o.Pad, o.Pad, o.CeilMode)
	ow, errW := ops.PoolOutSize(w, o.Kernel, s, o.Pad, o.Pad, o.CeilMode)
	if errH != nil || errW != nil || oh < 1 || ow < 1 {
		b.failf(name, "input %dx%d too small for a %dx%d window with pad %d", h, w, o.Kernel, o.Kernel, o.Pad)
		return nil
	}
	f := b.claim(name)
	if f == "" {
		return nil
	}
	po := o
	po.Stride = s
	b.record(Layer{Name: f, Type: typ, Kernel: o.Kernel, Stride: s, Output: []int{c, oh, ow},
		OutShape: []int{n, c, oh, ow}, Pool: &po}, x)
	y := &Tensor{Shape: []int{n, c, oh, ow}, from: f}
	if b.g != nil {
		var node *G.Node
		var err error
		if typ == KindMaxPool {
			node, err = b.ops.MaxPool2D(x.Node, po.Ops())
		} else {
			node, err = b.ops.AvgPool2D(x.Node, po.Ops())
		}
		if err != nil {
			b.wrap(name, err)
			return nil
		}
		y.Node = node
	}
	return b.checkShape(name, y)
}

// AdaptiveAvgPool adds PyTorch's adaptive average pooling to outH x outW.
func (b *Builder) AdaptiveAvgPool(name string, x *Tensor, outH, outW int) *Tensor {
	if !b.rank4(name, x) {
		return nil
	}
	if outH <= 0 || outW <= 0 {
		b.failf(name, "invalid adaptive pool output %dx%d", outH, outW)
		return nil
	}
	f := b.claim(name)
	if f == "" {
		return nil
	}
	n, c := x.Shape[0], x.Shape[1]
	b.record(Layer{Name: f, Type: KindAdaptiveAvgPool, Output: []int{c, outH, outW},
		OutShape: []int{n, c, outH, outW}, Adaptive: &AdaptiveOpts{OutH: outH, OutW: outW}}, x)
	y := &Tensor{Shape: []int{n, c, outH, outW}, from: f}
	if b.g != nil {
		node, err := b.ops.AdaptiveAvgPool2D(x.Node, outH, outW)
		if err != nil {
			b.wrap(name, err)
			return nil
		}
		y.Node = node
	}
	return b.checkShape(name, y)
}

// GlobalAvgPool averages each channel to 1x1: [N,C,H,W] -> [N,C,1,1].
func (b *Builder) GlobalAvgPool(name string, x *Tensor) *Tensor {
	if !b.rank4(name, x) {
		return nil
	}
	f := b.claim(name)
	if f == "" {
		return nil
	}
	n, c := x.Shape[0], x.Shape[1]
	b.record(Layer{Name: f, Type: KindGlobalAvgPool, Kernel: x.Shape[2], Stride: 1, Output: []int{c, 1, 1},
		OutShape: []int{n, c, 1, 1}}, x)
	y := &Tensor{Shape: []int{n, c, 1, 1}, from: f}
	if b.g != nil {
		node, err := b.ops.GlobalAvgPool2D(x.Node)
		if err != nil {
			b.wrap(name, err)
			return nil
		}
		y.Node = node
	}
	return b.checkShape(name, y)
}

// LRN adds local response normalisation across channels.
func (b *Builder) LRN(name string, x *Tensor, o ops.LRNOpts) *Tensor {
	if !b.rank4(name, x) {
		return nil
	}
	if o.Size <= 0 || o.Size%2 == 0 {
		b.failf(name, "LRN size %d must be odd and positive", o.Size)
		return nil
	}
	f := b.claim(name)
	if f == "" {
		return nil
	}
	lo := o
	b.record(Layer{Name: f, Type: KindLRN, Kernel: o.Size, Output: x.Dims(),
		OutShape: append([]int(nil), x.Shape...), LRN: &lo}, x)
	y := &Tensor{Shape: append([]int(nil), x.Shape...), from: f}
	if b.g != nil {
		node, err := b.ops.LRN(x.Node, o)
		if err != nil {
			b.wrap(name, err)
			return nil
		}
		y.Node = node
	}
	return b.checkShape(name, y)
}

// Dropout adds dropout with the given rate (in [0, 1)). Masks come from the
// builder's RandState; in inference builds the layer is the identity.
func (b *Builder) Dropout(name string, x *Tensor, rate float64) *Tensor {
	if b.err != nil {
		return nil
	}
	if x == nil {
		b.failf(name, "nil input")
		return nil
	}
	if !(rate >= 0 && rate < 1) {
		b.failf(name, "dropout rate %g must be in [0, 1)", rate)
		return nil
	}
	f := b.claim(name)
	if f == "" {
		return nil
	}
	idx := b.nDrop
	b.record(Layer{Name: f, Type: KindDropout, Output: x.Dims(),
		OutShape: append([]int(nil), x.Shape...), Dropout: &DropoutOpts{Rate: rate, Index: idx}}, x)
	y := &Tensor{Shape: append([]int(nil), x.Shape...), from: f}
	b.nDrop++
	if b.g != nil {
		node, err := b.ops.Dropout(x.Node, rate, b.rand, idx, b.opts.Training)
		if err != nil {
			b.wrap(name, err)
			return nil
		}
		y.Node = node
	}
	return b.checkShape(name, y)
}

// Flatten reshapes [N, ...] to [N, prod(...)].
func (b *Builder) Flatten(name string, x *Tensor) *Tensor {
	if b.err != nil {
		return nil
	}
	if x == nil || len(x.Shape) < 2 {
		b.failf(name, "flatten needs a batched input")
		return nil
	}
	f := b.claim(name)
	if f == "" {
		return nil
	}
	feat := int(prod(x.Shape[1:]))
	b.record(Layer{Name: f, Type: KindFlatten, Output: []int{feat}, OutShape: []int{x.Shape[0], feat}}, x)
	y := &Tensor{Shape: []int{x.Shape[0], feat}, from: f}
	if b.g != nil {
		node, err := b.ops.Flatten(x.Node)
		if err != nil {
			b.wrap(name, err)
			return nil
		}
		y.Node = node
	}
	return b.checkShape(name, y)
}

// Linear adds a fully connected layer with out outputs: x·Wᵀ + b with
// weights "<name>/w" of shape [out, in] (PyTorch layout) and bias
// "<name>/b". x must be [N, in] (see Flatten).
func (b *Builder) Linear(name string, x *Tensor, out int, o LinearOpts) *Tensor {
	if b.err != nil {
		return nil
	}
	if x == nil || len(x.Shape) != 2 {
		var s []int
		if x != nil {
			s = x.Shape
		}
		b.failf(name, "linear input must be [N,F], got %v (use Flatten)", s)
		return nil
	}
	if out <= 0 {
		b.failf(name, "linear outputs %d must be positive", out)
		return nil
	}
	f := b.claim(name)
	if f == "" {
		return nil
	}
	in := x.Shape[1]
	wp := b.newParam(f, "w", Weight, in, out, in)
	var bp *Param
	if !o.NoBias {
		bp = b.newParam(f, "b", Bias, in, out)
	}
	if b.err != nil {
		return nil
	}
	params := wp.Size()
	if bp != nil {
		params += bp.Size()
	}
	names := []string{wp.Name}
	if bp != nil {
		names = append(names, bp.Name)
	}
	lo := o
	b.record(Layer{Name: f, Type: KindLinear, Output: []int{out}, Params: params, MACs: int64(in) * int64(out),
		OutShape: []int{x.Shape[0], out}, ParamNames: names, Linear: &lo}, x)
	y := &Tensor{Shape: []int{x.Shape[0], out}, from: f}
	if b.g != nil {
		var bn *G.Node
		if bp != nil {
			bn = bp.Node
		}
		node, err := b.ops.Linear(x.Node, wp.Node, bn)
		if err == nil && o.ReLU {
			node, err = b.ops.ReLU(node)
		}
		if err != nil {
			b.wrap(name, err)
			return nil
		}
		y.Node = node
	}
	return b.checkShape(name, y)
}

// Concat concatenates NCHW tensors along the channel axis, in the given
// order.
func (b *Builder) Concat(name string, xs ...*Tensor) *Tensor {
	if b.err != nil {
		return nil
	}
	if len(xs) == 0 {
		b.failf(name, "concat of nothing")
		return nil
	}
	c := 0
	nodes := make([]*G.Node, len(xs))
	for i, x := range xs {
		if !b.rank4(name, x) {
			return nil
		}
		if x.Shape[0] != xs[0].Shape[0] || x.Shape[2] != xs[0].Shape[2] || x.Shape[3] != xs[0].Shape[3] {
			b.failf(name, "concat inputs differ: %v and %v", xs[0].Shape, x.Shape)
			return nil
		}
		c += x.Shape[1]
		nodes[i] = x.Node
	}
	f := b.claim(name)
	if f == "" {
		return nil
	}
	s := xs[0].Shape
	b.record(Layer{Name: f, Type: KindConcat, Output: []int{c, s[2], s[3]}, OutShape: []int{s[0], c, s[2], s[3]}}, xs...)
	y := &Tensor{Shape: []int{s[0], c, s[2], s[3]}, from: f}
	if b.g != nil {
		node, err := b.ops.ConcatChannels(nodes...)
		if err != nil {
			b.wrap(name, err)
			return nil
		}
		y.Node = node
	}
	return b.checkShape(name, y)
}
