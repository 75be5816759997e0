package ops

import "github.com/pkg/errors"

// ConvGeom is the geometry of one NCHW convolution.
type ConvGeom struct {
	N, C, H, W       int // input batch, channels, height, width
	K, R, S          int // output channels, kernel height, kernel width
	StrideH, StrideW int
	PadTop, PadLeft  int // bottom/right padding is implied by OutH, OutW
	OutH, OutW       int
}

// Engine computes the float32 kernels behind the ops: convolutions, GEMMs,
// pooling, LRN, batch norm, softmax cross-entropy, dropout, channel
// concatenation, and the SGD update of package solvers: every kernel of a
// training step. The pure-Go
// reference engine is the specification; faster engines (OpenBLAS on the CPU,
// CUDA on a GPU) implement the same methods and run the same conformance
// suite (package opstest). float64 always uses the reference kernels.
//
// An engine is a value: a graph's ops are bound to one when they are built
// (With, graph.Options.Engine), so graphs on different engines run side by
// side in one process. Methods return an error when the engine fails (a
// device out of memory, a failed launch); sizes are validated by package
// ops before an engine is called. Every output slice is overwritten, not
// accumulated into.
type Engine interface {
	Name() string
	// ConvForward: y[N,K,OH,OW] = conv(x, w) + b (b may be nil), then ReLU if relu.
	ConvForward(g ConvGeom, x, w, b, y []float32, relu bool) error
	// ConvBackwardData: dx[N,C,H,W] from dy[N,K,OH,OW] and w.
	ConvBackwardData(g ConvGeom, w, dy, dx []float32) error
	// ConvBackwardFilter: dw[K,C,R,S] and db[K] (db may be nil) from x and dy.
	ConvBackwardFilter(g ConvGeom, x, dy, dw, db []float32) error
	// Gemm: C = alpha*op(A)*op(B) + beta*C, row-major, op = transpose if ta/tb.
	Gemm(ta, tb bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) error
	// PoolForward: y[N,C,OutH,OutW] = the max or average pool g of x.
	PoolForward(g PoolGeom, x, y []float32) error
	// PoolBackward: dx[N,C,H,W] from dy; a max pool sends each dy to the
	// first maximum (row-major) of its window in x, found from the
	// forward output y (x and y are nil for average pools).
	PoolBackward(g PoolGeom, x, y, dy, dx []float32) error
	// LRNForward: y = x / (K + Alpha/Size·Σ_window x²)^Beta.
	LRNForward(g LRNGeom, x, y []float32) error
	// LRNBackward: dx from x, y = LRN(x) and dy.
	LRNBackward(g LRNGeom, x, y, dy, dx []float32) error
	// BatchNormForward: per channel c of x [N,C,H,W],
	// y = gamma[c]·(x-mean[c])/sqrt(variance[c]+Eps) + beta[c]. In training
	// the statistics are the batch's (mean and biased variance over N, H,
	// W), written to mean and variance ([C], float64); otherwise they are
	// read from them (the running statistics).
	BatchNormForward(g BNGeom, x, gamma, beta, y []float32, mean, variance []float64) error
	// BatchNormBackward: dx [N,C,H,W] and dgamma [C] (either may be nil)
	// from x, gamma and dy, with the batch's statistics (computed again
	// from x) in training and mean and variance otherwise. The gradient
	// of beta is the channel sum of dy.
	BatchNormBackward(g BNGeom, x, gamma, dy, dx, dgamma []float32, mean, variance []float64) error
	// SoftmaxCrossEntropyForward returns the mean over the n rows of
	// logits [n,k] of -log softmax(row)[labels[row]], accumulated in
	// float64.
	SoftmaxCrossEntropyForward(n, k int, logits []float32, labels []int) (float64, error)
	// SoftmaxCrossEntropyBackward: dlogits [n,k] = (softmax(logits) -
	// onehot(labels))·dloss/n.
	SoftmaxCrossEntropyBackward(n, k int, logits []float32, labels []int, dloss float32, dlogits []float32) error
	// DropoutForward: y = x·mask/(1-Rate), the mask of m (DropoutKeep).
	DropoutForward(m DropoutMask, x, y []float32) error
	// DropoutBackward: dx = dy·mask/(1-Rate), the same mask as the
	// forward pass of m.
	DropoutBackward(m DropoutMask, dy, dx []float32) error
	// ConcatForward: y [n, Σchannels, hw] holds xs[i] [n, channels[i],
	// hw] one after another along the channels.
	ConcatForward(n, hw int, channels []int, xs [][]float32, y []float32) error
	// ConcatBackward: dx [n, to-from, hw] is channels [from, to) of dy
	// [n, c, hw] (the gradient of one input of a concatenation).
	ConcatBackward(n, c, hw, from, to int, dy, dx []float32) error
	// SGDUpdate applies the update s to w in place from the gradient g and
	// the velocity v (updated too; nil without momentum).
	SGDUpdate(s SGDStep, w, g, v []float32) error
}

// NewConvGeom returns the geometry of a convolution of an NCHW input of
// shape x by OIHW filters of shape w with options o, or an error if they do
// not fit together. Engines and benchmarks use it to build geometries the
// way Conv2D does.
func NewConvGeom(x, w []int, o ConvOpts) (ConvGeom, error) {
	if len(x) != 4 || len(w) != 4 {
		return ConvGeom{}, errors.Errorf("ops.NewConvGeom: input %v and filter %v must both have rank 4", x, w)
	}
	g, err := convGeomFor(x, w, o)
	return g, errors.Wrap(err, "ops.NewConvGeom")
}
