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
	oh, ow := (h+2*o.Pad-o.Kernel)/s+1, (w+2*o.Pad-o.Kernel)/s+1
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
	b.record(Layer{Name: f, Type: "conv", Kernel: o.Kernel, Stride: s, Output: []int{out, oh, ow},
		Params: params, MACs: int64(out) * int64(fanIn) * int64(oh) * int64(ow)})
	y := &Tensor{Shape: []int{n, out, oh, ow}}
	if b.g != nil {
		var bn *G.Node
		if bp != nil {
			bn = bp.Node
		}
		// A convolution of an Input (conv1 of a network) skips the gradient
		// with respect to its input: it is data, and computing it would
		// cost a backward-data GEMM every training step.
		node, err := ops.Conv2D(x.Node, wp.Node, bn, ops.ConvOpts{StrideH: s, StrideW: s, Pad: ops.Same(o.Pad),
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
		b.record(Layer{Name: f, Type: "batchnorm", Output: y.Dims(), Params: 2 * int64(x.Shape[1])})
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
		node, err := ops.BatchNorm(x.Node, gamma.Node, beta.Node, st, training)
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
		b.record(Layer{Name: f, Type: "relu", Output: y.Dims()})
	}
	return y
}

func (b *Builder) relu(f string, x *Tensor) *Tensor {
	if b.err != nil || x == nil {
		return nil
	}
	y := &Tensor{Shape: append([]int(nil), x.Shape...)}
	if b.g != nil {
		node, err := ops.ReLU(x.Node)
		if err != nil {
			b.err = errors.Wrapf(err, "layer %s", f)
			return nil
		}
		y.Node = node
	}
	return y
}

// poolOut returns the pooled size of in, or -1 if the window does not fit.
func poolOut(in, k, s, pad int, ceil bool) int {
	span := in + 2*pad - k
	if span < 0 {
		return -1
	}
	if !ceil {
		return span/s + 1
	}
	out := (span+s-1)/s + 1
	if (out-1)*s >= in+pad { // last window would start in the after-padding
		out--
	}
	return out
}

// MaxPool adds max pooling.
func (b *Builder) MaxPool(name string, x *Tensor, o PoolOpts) *Tensor {
	return b.pool(name, "maxpool", x, o)
}

// AvgPool adds average pooling.
func (b *Builder) AvgPool(name string, x *Tensor, o PoolOpts) *Tensor {
	return b.pool(name, "avgpool", x, o)
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
	oh, ow := poolOut(h, o.Kernel, s, o.Pad, o.CeilMode), poolOut(w, o.Kernel, s, o.Pad, o.CeilMode)
	if oh < 1 || ow < 1 {
		b.failf(name, "input %dx%d too small for a %dx%d window with pad %d", h, w, o.Kernel, o.Kernel, o.Pad)
		return nil
	}
	f := b.claim(name)
	if f == "" {
		return nil
	}
	b.record(Layer{Name: f, Type: typ, Kernel: o.Kernel, Stride: s, Output: []int{c, oh, ow}})
	y := &Tensor{Shape: []int{n, c, oh, ow}}
	if b.g != nil {
		po := ops.PoolOpts{KernelH: o.Kernel, KernelW: o.Kernel, StrideH: s, StrideW: s,
			Pad: ops.Same(o.Pad), CeilMode: o.CeilMode, CountIncludePad: o.CountIncludePad}
		var node *G.Node
		var err error
		if typ == "maxpool" {
			node, err = ops.MaxPool2D(x.Node, po)
		} else {
			node, err = ops.AvgPool2D(x.Node, po)
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
	b.record(Layer{Name: f, Type: "adaptiveavgpool", Output: []int{c, outH, outW}})
	y := &Tensor{Shape: []int{n, c, outH, outW}}
	if b.g != nil {
		node, err := ops.AdaptiveAvgPool2D(x.Node, outH, outW)
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
	b.record(Layer{Name: f, Type: "globalavgpool", Kernel: x.Shape[2], Stride: 1, Output: []int{c, 1, 1}})
	y := &Tensor{Shape: []int{n, c, 1, 1}}
	if b.g != nil {
		node, err := ops.GlobalAvgPool2D(x.Node)
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
	b.record(Layer{Name: f, Type: "lrn", Kernel: o.Size, Output: x.Dims()})
	y := &Tensor{Shape: append([]int(nil), x.Shape...)}
	if b.g != nil {
		node, err := ops.LRN(x.Node, o)
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
	b.record(Layer{Name: f, Type: "dropout", Output: x.Dims()})
	y := &Tensor{Shape: append([]int(nil), x.Shape...)}
	idx := b.nDrop
	b.nDrop++
	if b.g != nil {
		node, err := ops.Dropout(x.Node, rate, b.rand, idx, b.opts.Training)
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
	b.record(Layer{Name: f, Type: "flatten", Output: []int{feat}})
	y := &Tensor{Shape: []int{x.Shape[0], feat}}
	if b.g != nil {
		node, err := ops.Flatten(x.Node)
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
	b.record(Layer{Name: f, Type: "linear", Output: []int{out}, Params: params, MACs: int64(in) * int64(out)})
	y := &Tensor{Shape: []int{x.Shape[0], out}}
	if b.g != nil {
		var bn *G.Node
		if bp != nil {
			bn = bp.Node
		}
		node, err := ops.Linear(x.Node, wp.Node, bn)
		if err == nil && o.ReLU {
			node, err = ops.ReLU(node)
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
	b.record(Layer{Name: f, Type: "concat", Output: []int{c, s[2], s[3]}})
	y := &Tensor{Shape: []int{s[0], c, s[2], s[3]}}
	if b.g != nil {
		node, err := ops.ConcatChannels(nodes...)
		if err != nil {
			b.wrap(name, err)
			return nil
		}
		y.Node = node
	}
	return b.checkShape(name, y)
}
