package ops

import G "gorgonia.org/gorgonia"

// OpInfo describes one forward op of this package as built into a graph: what
// an exporter (ONNX) needs to write it out. Only the fields of its Kind are
// set.
type OpInfo struct {
	// Kind is one of "conv", "relu", "maxpool", "avgpool", "adaptiveavgpool",
	// "globalavgpool", "lrn", "dropout", "linear", "concat", "softmax" and
	// "batchnorm".
	Kind string
	// Conv: strides, padding and the fused ReLU; Bias says whether the op
	// has a bias input (its third input).
	Conv ConvOpts
	Bias bool
	// Pool: window, strides, padding, ceil mode, divisor (max and avg).
	// OutH, OutW are the output size of a pool (and of adaptive pools).
	Pool       PoolOpts
	OutH, OutW int
	LRN        LRNOpts
	// BN: the running statistics (shared, not copied) and whether the op
	// uses batch statistics (training).
	BN       *BNStats
	Training bool
	// Dropout: the drop rate. Only training graphs hold dropout ops
	// (inference dropout is the identity and builds nothing).
	Rate float64
}

// Describe returns the description of op when it is one of this package's
// forward ops (see OpInfo.Kind), and false for anything else (gradient
// ops, Gorgonia's own ops such as the reshape behind Flatten).
func Describe(op G.Op) (OpInfo, bool) {
	switch o := op.(type) {
	case *convOp:
		g := o.p.G
		return OpInfo{Kind: "conv", Bias: o.p.Bias, Conv: ConvOpts{
			StrideH: g.StrideH, StrideW: g.StrideW,
			Pad:  Pad2D{Top: g.PadTop, Left: g.PadLeft, Bottom: o.p.PadBottom, Right: o.p.PadRight},
			ReLU: o.p.ReLU, NoInputGrad: o.p.NoInputGrad,
		}}, true
	case *reluOp:
		return OpInfo{Kind: "relu"}, true
	case *poolOp:
		kind := map[string]string{"max": "maxpool", "avg": "avgpool", "adaptive": "adaptiveavgpool", "global": "globalavgpool"}[o.p.Kind]
		return OpInfo{Kind: kind, Pool: o.p.Opts, OutH: o.p.OutH, OutW: o.p.OutW}, true
	case *lrnOp:
		return OpInfo{Kind: "lrn", LRN: o.p.Opts}, true
	case *dropoutOp:
		return OpInfo{Kind: "dropout", Rate: o.p.Rate, Training: true}, true // inference dropout is no op at all
	case *gemmOp:
		if !o.p.TB || o.p.TA {
			return OpInfo{}, false // a gradient product, not Linear
		}
		return OpInfo{Kind: "linear", Bias: o.p.Bias}, true
	case *concatOp:
		return OpInfo{Kind: "concat"}, true
	case *softmaxOp:
		return OpInfo{Kind: "softmax"}, true
	case *bnOp:
		return OpInfo{Kind: "batchnorm", BN: o.st, Training: o.p.Training}, true
	}
	return OpInfo{}, false
}
