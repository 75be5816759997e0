package graph

import (
	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"

	"github.com/goinception/googlenet/ops"
)

// The kinds of Layer.Type: every layer a Builder makes is one of these.
const (
	KindInput           = "input"
	KindConv            = "conv" // convolution, with its optional batch norm and ReLU
	KindBatchNorm       = "batchnorm"
	KindReLU            = "relu"
	KindMaxPool         = "maxpool"
	KindAvgPool         = "avgpool"
	KindAdaptiveAvgPool = "adaptiveavgpool"
	KindGlobalAvgPool   = "globalavgpool"
	KindLRN             = "lrn"
	KindDropout         = "dropout"
	KindFlatten         = "flatten"
	KindLinear          = "linear"
	KindConcat          = "concat"
	// KindSoftmaxCrossEntropy is a loss: the mean over the batch of
	// -log softmax(logits)[label] (see SoftmaxCrossEntropy).
	KindSoftmaxCrossEntropy = "softmax_cross_entropy"
)

// AdaptiveOpts are the output size of an adaptive average pool.
type AdaptiveOpts struct{ OutH, OutW int }

// DropoutOpts describe a dropout layer: its rate and its index among the
// model's dropout layers, which selects its masks (ops.DropoutKeep).
type DropoutOpts struct {
	Rate  float64
	Index int
}

// LossOpts describe a loss layer. Aux marks an auxiliary classifier's loss,
// which a model weighs by its auxiliary weight in the total; the others
// weigh 1.
type LossOpts struct {
	Aux bool
}

// Ops returns the pooling options of package ops that o means.
func (o PoolOpts) Ops() ops.PoolOpts {
	s := orOne(o.Stride)
	return ops.PoolOpts{KernelH: o.Kernel, KernelW: o.Kernel, StrideH: s, StrideW: s,
		Pad: ops.Same(o.Pad), CeilMode: o.CeilMode, CountIncludePad: o.CountIncludePad}
}

// SoftmaxCrossEntropy adds a loss on logits [N,K] and class indices labels
// (a [N] node of the graph's dtype, made by the caller) and returns the
// loss node: the mean over the batch of -log softmax(logits)[label]. The
// loss is recorded in the Network (KindSoftmaxCrossEntropy) but not among
// Layers. In shape-only builds it returns nil.
func (b *Builder) SoftmaxCrossEntropy(name string, logits *Tensor, labels *G.Node, o LossOpts) *G.Node {
	if b.err != nil {
		return nil
	}
	if logits == nil || len(logits.Shape) != 2 {
		b.failf(name, "loss logits must be [N,K]")
		return nil
	}
	if b.g != nil && labels == nil {
		b.failf(name, "nil labels")
		return nil
	}
	f := b.claim(name)
	if f == "" {
		return nil
	}
	lo := o
	b.record(Layer{Name: f, Type: KindSoftmaxCrossEntropy, Output: []int{}, OutShape: []int{}, Loss: &lo}, logits)
	if b.g == nil {
		return nil
	}
	node, err := b.ops.SoftmaxCrossEntropy(logits.Node, labels)
	if err != nil {
		b.Fail(errors.Wrapf(err, "layer %s", f))
		return nil
	}
	return node
}
