package inception

import "github.com/goinception/googlenet/graph"

// ModuleOpts configures Module. The zero value is the paper's module:
// 5x5 third branch, no batch norm.
type ModuleOpts struct {
	// Branch3Kernel is the kernel of the third branch (0 means 5, the
	// paper; torchvision uses 3).
	Branch3Kernel int
	// Naive builds Figure 2(a): 1x1, 3x3 and 5x5 convolutions and a 3x3
	// max pool side by side, without the 1x1 reductions (C3x3Reduce,
	// C5x5Reduce and PoolProj are ignored; the pool branch keeps the input
	// depth).
	Naive bool
	// BatchNorm puts batch norm between every convolution and its ReLU.
	BatchNorm bool
	BN        graph.BNOpts
}

// conv is the one convolution helper of the network: conv -> ReLU as in
// the paper, or conv (no bias) -> batch norm -> ReLU with o.BatchNorm (the
// torchvision deviation, its BasicConv2d).
func conv(b *graph.Builder, name string, x *graph.Tensor, out, kernel, stride, pad int, o ModuleOpts) *graph.Tensor {
	return b.Conv(name, x, out, graph.ConvOpts{
		Kernel: kernel, Stride: stride, Pad: pad, ReLU: true, BatchNorm: o.BatchNorm, BN: o.BN,
	})
}

// Module adds one Inception module named name (e.g. "inception_3a") built
// from row r: the dimension-reduced module of Figure 2(b) with its four
// branches concatenated along channels in this order:
//
//	1x1:  conv 1x1 (C1x1)
//	3x3:  conv 1x1 (C3x3Reduce) -> conv 3x3 pad 1 (C3x3)
//	5x5:  conv 1x1 (C5x5Reduce) -> conv 5x5 pad 2 (C5x5)
//	pool: max pool 3x3/1 pad 1 -> conv 1x1 (PoolProj)
//
// Every convolution is followed by a ReLU. Layers are named
// "<name>/1x1", "<name>/3x3_reduce", "<name>/3x3", "<name>/5x5_reduce",
// "<name>/5x5", "<name>/pool", "<name>/pool_proj" and "<name>/output" (the
// concatenation), as in Caffe's bvlc_googlenet. The output has
// r.OutChannels() channels and the input's spatial size.
func Module(b *graph.Builder, name string, x *graph.Tensor, r Row, o ModuleOpts) *graph.Tensor {
	k3 := o.Branch3Kernel
	if k3 == 0 {
		k3 = 5
	}
	var y *graph.Tensor
	b.Scope(name, func() {
		if o.Naive {
			// Figure 2(a): no reductions; the pool branch passes its input depth on.
			br1 := conv(b, "1x1", x, r.C1x1, 1, 1, 0, o)
			br2 := conv(b, "3x3", x, r.C3x3, 3, 1, 1, o)
			br3 := conv(b, "5x5", x, r.C5x5, k3, 1, k3/2, o)
			br4 := b.MaxPool("pool", x, graph.PoolOpts{Kernel: 3, Stride: 1, Pad: 1})
			y = b.Concat("output", br1, br2, br3, br4)
			return
		}
		br1 := conv(b, "1x1", x, r.C1x1, 1, 1, 0, o)
		br2 := conv(b, "3x3_reduce", x, r.C3x3Reduce, 1, 1, 0, o)
		br2 = conv(b, "3x3", br2, r.C3x3, 3, 1, 1, o)
		br3 := conv(b, "5x5_reduce", x, r.C5x5Reduce, 1, 1, 0, o)
		// Branch3Kernel 3 is torchvision's deviation (pytorch/vision#906).
		br3 = conv(b, "5x5", br3, r.C5x5, k3, 1, k3/2, o)
		br4 := b.MaxPool("pool", x, graph.PoolOpts{Kernel: 3, Stride: 1, Pad: 1})
		br4 = conv(b, "pool_proj", br4, r.PoolProj, 1, 1, 0, o)
		y = b.Concat("output", br1, br2, br3, br4)
	})
	return y
}
