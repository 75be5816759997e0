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
// pooling and LRN. The pure-Go
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
