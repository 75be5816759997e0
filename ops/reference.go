package ops

import (
	"sync"

	"github.com/pkg/errors"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
)

// Reference is the pure-Go engine (no cgo): the engine every other engine
// is compared with, itself checked against plain float64 loops by package
// opstest. Convolutions are im2col followed by a GEMM, one image at a time;
// the GEMM is gonum's (Go assembly inner kernels, parallel over blocks).
type Reference struct{}

var _ Engine = Reference{}

// Name returns "reference".
func (Reference) Name() string { return "reference" }

// ConvForward computes y = conv(x, w) + b, then max(0, y) if relu.
func (Reference) ConvForward(g ConvGeom, x, w, b, y []float32, relu bool) error {
	convForward(g, x, w, b, y, relu)
	return nil
}

// ConvBackwardData computes dx from dy and w (dx is overwritten).
func (Reference) ConvBackwardData(g ConvGeom, w, dy, dx []float32) error {
	convBackwardData(g, w, dy, dx)
	return nil
}

// ConvBackwardFilter computes dw (and db when non-nil) from x and dy.
func (Reference) ConvBackwardFilter(g ConvGeom, x, dy, dw, db []float32) error {
	convBackwardFilter(g, x, dy, dw, db)
	return nil
}

// Gemm computes C = alpha*op(A)*op(B) + beta*C in row-major storage.
func (Reference) Gemm(ta, tb bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) error {
	gemmBLAS(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
	return nil
}

// PoolForward pools x into y.
func (Reference) PoolForward(g PoolGeom, x, y []float32) error {
	k, err := newPoolKernel(g)
	if err != nil {
		return errors.Wrap(err, "ops.Reference.PoolForward")
	}
	if len(x) < g.N*g.C*g.H*g.W || len(y) < g.N*g.C*g.OutH*g.OutW {
		return errors.Errorf("ops.Reference.PoolForward: %d inputs, %d outputs for %+v", len(x), len(y), g)
	}
	poolForward(&k, x, y)
	return nil
}

// PoolBackward computes dx from dy (and x, y for max pools).
func (Reference) PoolBackward(g PoolGeom, x, y, dy, dx []float32) error {
	k, err := newPoolKernel(g)
	if err != nil {
		return errors.Wrap(err, "ops.Reference.PoolBackward")
	}
	in, out := g.N*g.C*g.H*g.W, g.N*g.C*g.OutH*g.OutW
	if len(dx) < in || len(dy) < out || (k.isMax() && (len(x) < in || len(y) < out)) {
		return errors.Errorf("ops.Reference.PoolBackward: slices too short for %+v", g)
	}
	poolBackward(&k, x, y, dy, dx)
	return nil
}

// LRNForward computes y = LRN(x).
func (Reference) LRNForward(g LRNGeom, x, y []float32) error {
	if n := g.N * g.C * g.H * g.W; len(x) < n || len(y) < n {
		return errors.Errorf("ops.Reference.LRNForward: slices too short for %+v", g)
	}
	lrnForward(g, x, y)
	return nil
}

// LRNBackward computes dx from x, y and dy.
func (Reference) LRNBackward(g LRNGeom, x, y, dy, dx []float32) error {
	if n := g.N * g.C * g.H * g.W; len(x) < n || len(y) < n || len(dy) < n || len(dx) < n {
		return errors.Errorf("ops.Reference.LRNBackward: slices too short for %+v", g)
	}
	lrnBackward(g, x, y, dy, dx)
	return nil
}

// float is the element type of the generic kernels.
type float interface{ ~float32 | ~float64 }

// ---- generic kernels, shared by the float32 Reference engine and float64 ----

// gemmBLAS runs gonum's pure-Go GEMM (assembly inner kernels, parallel
// blocks; no cgo) on T.
func gemmBLAS[T float](ta, tb bool, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) {
	if m == 0 || n == 0 {
		return
	}
	tA, tB := blas.NoTrans, blas.NoTrans
	if ta {
		tA = blas.Trans
	}
	if tb {
		tB = blas.Trans
	}
	switch a := any(a).(type) {
	case []float32:
		gonum.Implementation{}.Sgemm(tA, tB, m, n, k, any(alpha).(float32), a, lda, any(b).([]float32), ldb, any(beta).(float32), any(c).([]float32), ldc)
	case []float64:
		gonum.Implementation{}.Dgemm(tA, tB, m, n, k, any(alpha).(float64), a, lda, any(b).([]float64), ldb, any(beta).(float64), any(c).([]float64), ldc)
	}
}

// isPointwise reports whether the convolution is a 1x1, stride 1, unpadded
// one, for which im2col is the identity.
func (g ConvGeom) isPointwise() bool {
	return g.R == 1 && g.S == 1 && g.strideH() == 1 && g.strideW() == 1 &&
		g.PadTop == 0 && g.PadLeft == 0 && g.OutH == g.H && g.OutW == g.W
}

func (g ConvGeom) strideH() int {
	if g.StrideH <= 0 {
		return 1
	}
	return g.StrideH
}

func (g ConvGeom) strideW() int {
	if g.StrideW <= 0 {
		return 1
	}
	return g.StrideW
}

// im2col unrolls one image x[C,H,W] into col[C*R*S, OH*OW] (zero padding).
func im2col[T float](g ConvGeom, x, col []T) {
	sh, sw := g.strideH(), g.strideW()
	ohw := g.OutH * g.OutW
	for c := 0; c < g.C; c++ {
		xc := x[c*g.H*g.W : (c+1)*g.H*g.W]
		for r := 0; r < g.R; r++ {
			for s := 0; s < g.S; s++ {
				dst := col[((c*g.R+r)*g.S+s)*ohw:][:ohw]
				for oh := 0; oh < g.OutH; oh++ {
					ih := oh*sh - g.PadTop + r
					d := dst[oh*g.OutW : (oh+1)*g.OutW]
					if ih < 0 || ih >= g.H {
						clear(d)
						continue
					}
					xr := xc[ih*g.W : (ih+1)*g.W]
					for ow := range d {
						iw := ow*sw - g.PadLeft + s
						if iw < 0 || iw >= g.W {
							d[ow] = 0
						} else {
							d[ow] = xr[iw]
						}
					}
				}
			}
		}
	}
}

// col2im adds col[C*R*S, OH*OW] back into the image dx[C,H,W], which it
// first clears.
func col2im[T float](g ConvGeom, col, dx []T) {
	clear(dx[:g.C*g.H*g.W])
	sh, sw := g.strideH(), g.strideW()
	ohw := g.OutH * g.OutW
	for c := 0; c < g.C; c++ {
		xc := dx[c*g.H*g.W : (c+1)*g.H*g.W]
		for r := 0; r < g.R; r++ {
			for s := 0; s < g.S; s++ {
				src := col[((c*g.R+r)*g.S+s)*ohw:][:ohw]
				for oh := 0; oh < g.OutH; oh++ {
					ih := oh*sh - g.PadTop + r
					if ih < 0 || ih >= g.H {
						continue
					}
					xr := xc[ih*g.W : (ih+1)*g.W]
					d := src[oh*g.OutW : (oh+1)*g.OutW]
					for ow, v := range d {
						iw := ow*sw - g.PadLeft + s
						if iw >= 0 && iw < g.W {
							xr[iw] += v
						}
					}
				}
			}
		}
	}
}

// scratch is a free list of reusable buffers so that repeated runs of a
// machine do not allocate fresh im2col buffers.
type scratch[T float] struct {
	mu   sync.Mutex
	free [][]T
}

var (
	scratch32 scratch[float32]
	scratch64 scratch[float64]
)

func scratchFor[T float]() *scratch[T] {
	var z T
	switch any(z).(type) {
	case float32:
		return any(&scratch32).(*scratch[T])
	default:
		return any(&scratch64).(*scratch[T])
	}
}

// get returns a buffer of length n (contents undefined).
func (s *scratch[T]) get(n int) []T {
	s.mu.Lock()
	defer s.mu.Unlock()
	best := -1
	for i, b := range s.free {
		if cap(b) >= n && (best < 0 || cap(b) < cap(s.free[best])) {
			best = i
		}
	}
	if best < 0 {
		return make([]T, n)
	}
	b := s.free[best]
	s.free = append(s.free[:best], s.free[best+1:]...)
	return b[:n]
}

func (s *scratch[T]) put(b []T) {
	s.mu.Lock()
	s.free = append(s.free, b)
	s.mu.Unlock()
}

// The convolutions below are im2col + GEMM, one image at a time: the GEMM
// (gonum's, parallel over blocks) is where the time goes and where the
// cores are used.

// convForward is the generic im2col+GEMM forward convolution:
// y_n[K, OH·OW] = w[K, C·R·S] · col(x_n)[C·R·S, OH·OW], then bias and ReLU.
func convForward[T float](g ConvGeom, x, w, b, y []T, relu bool) {
	crs := g.C * g.R * g.S
	ohw := g.OutH * g.OutW
	pw := g.isPointwise()
	sc := scratchFor[T]()
	var col []T
	if !pw {
		col = sc.get(crs * ohw)
		defer sc.put(col)
	}
	for n := 0; n < g.N; n++ {
		xn := x[n*g.C*g.H*g.W : (n+1)*g.C*g.H*g.W]
		yn := y[n*g.K*ohw : (n+1)*g.K*ohw]
		cn := xn
		if !pw {
			im2col(g, xn, col)
			cn = col
		}
		gemmBLAS(false, false, g.K, ohw, crs, 1, w, crs, cn, ohw, 0, yn, ohw)
		for k := 0; k < g.K; k++ {
			yk := yn[k*ohw : (k+1)*ohw]
			if b != nil {
				bk := b[k]
				for i := range yk {
					yk[i] += bk
				}
			}
			if relu {
				for i, v := range yk {
					if !(v > 0) {
						yk[i] = 0
					}
				}
			}
		}
	}
}

// convBackwardData computes dx_n = col2im(wᵀ · dy_n).
func convBackwardData[T float](g ConvGeom, w, dy, dx []T) {
	crs := g.C * g.R * g.S
	ohw := g.OutH * g.OutW
	pw := g.isPointwise()
	sc := scratchFor[T]()
	var col []T
	if !pw {
		col = sc.get(crs * ohw)
		defer sc.put(col)
	}
	for n := 0; n < g.N; n++ {
		dyn := dy[n*g.K*ohw : (n+1)*g.K*ohw]
		dxn := dx[n*g.C*g.H*g.W : (n+1)*g.C*g.H*g.W]
		if pw {
			gemmBLAS(true, false, crs, ohw, g.K, 1, w, crs, dyn, ohw, 0, dxn, ohw)
			continue
		}
		gemmBLAS(true, false, crs, ohw, g.K, 1, w, crs, dyn, ohw, 0, col, ohw)
		col2im(g, col, dxn)
	}
}

// convBackwardFilter computes dw = Σ_n dy_n · col(x_n)ᵀ and db = Σ dy.
func convBackwardFilter[T float](g ConvGeom, x, dy, dw, db []T) {
	crs := g.C * g.R * g.S
	ohw := g.OutH * g.OutW
	pw := g.isPointwise()
	sc := scratchFor[T]()
	var col []T
	if !pw {
		col = sc.get(crs * ohw)
		defer sc.put(col)
	}
	clear(dw[:g.K*crs])
	for n := 0; n < g.N; n++ {
		xn := x[n*g.C*g.H*g.W : (n+1)*g.C*g.H*g.W]
		dyn := dy[n*g.K*ohw : (n+1)*g.K*ohw]
		cn := xn
		if !pw {
			im2col(g, xn, col)
			cn = col
		}
		gemmBLAS(false, true, g.K, crs, ohw, 1, dyn, ohw, cn, ohw, 1, dw, crs)
	}
	biasGrad(g, dy, db)
}

// biasGrad computes db[k] = sum of dy over images and positions (if db is
// not nil).
func biasGrad[T float](g ConvGeom, dy, db []T) {
	ohw := g.OutH * g.OutW
	if db != nil {
		db = db[:g.K]
		clear(db)
		for n := 0; n < g.N; n++ {
			for k := 0; k < g.K; k++ {
				var s T
				for _, v := range dy[(n*g.K+k)*ohw : (n*g.K+k+1)*ohw] {
					s += v
				}
				db[k] += s
			}
		}
	}
}
