package ops

import (
	"runtime"
	"sync"
)

// Reference is the pure-Go engine: the specification every other engine is
// tested against (see package opstest). Convolutions are im2col followed by a
// GEMM, one image at a time, with images split across GOMAXPROCS goroutines.
type Reference struct{}

var _ Engine = Reference{}

// Name returns "reference".
func (Reference) Name() string { return "reference" }

// ConvForward computes y = conv(x, w) + b, then max(0, y) if relu.
func (Reference) ConvForward(g ConvGeom, x, w, b, y []float32, relu bool) {
	convForward(g, x, w, b, y, relu)
}

// ConvBackwardData computes dx from dy and w (dx is overwritten).
func (Reference) ConvBackwardData(g ConvGeom, w, dy, dx []float32) {
	convBackwardData(g, w, dy, dx)
}

// ConvBackwardFilter computes dw (and db when non-nil) from x and dy.
func (Reference) ConvBackwardFilter(g ConvGeom, x, dy, dw, db []float32) {
	convBackwardFilter(g, x, dy, dw, db)
}

// Gemm computes C = alpha*op(A)*op(B) + beta*C in row-major storage.
func (Reference) Gemm(ta, tb bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	gemmPar(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// float is the element type of the generic kernels.
type float interface{ ~float32 | ~float64 }

// ---- generic kernels, shared by the float32 Reference engine and float64 ----

// gemm is the row-major GEMM used by the reference engine and float64 ops.
// When beta is 0, C is not read (BLAS convention).
func gemm[T float](ta, tb bool, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) {
	if m == 0 || n == 0 {
		return
	}
	for i := 0; i < m; i++ {
		row := c[i*ldc : i*ldc+n]
		if beta == 0 {
			clear(row)
		} else if beta != 1 {
			for j := range row {
				row[j] *= beta
			}
		}
	}
	if k == 0 || alpha == 0 {
		return
	}
	switch {
	case !ta && !tb:
		// C[i,:] += alpha*A[i,p]*B[p,:], four rows of C per pass over a
		// block of B's rows (kept in cache while the rows of C stream).
		const kb = 128
		for p0 := 0; p0 < k; p0 += kb {
			p1 := min(p0+kb, k)
			i := 0
			for ; i+4 <= m; i += 4 {
				c0 := c[i*ldc : i*ldc+n]
				c1 := c[(i+1)*ldc : (i+1)*ldc+n]
				c2 := c[(i+2)*ldc : (i+2)*ldc+n]
				c3 := c[(i+3)*ldc : (i+3)*ldc+n]
				for p := p0; p < p1; p++ {
					a0, a1 := alpha*a[i*lda+p], alpha*a[(i+1)*lda+p]
					a2, a3 := alpha*a[(i+2)*lda+p], alpha*a[(i+3)*lda+p]
					br := b[p*ldb : p*ldb+n]
					c0, c1, c2, c3 := c0[:len(br)], c1[:len(br)], c2[:len(br)], c3[:len(br)]
					for j, bv := range br {
						c0[j] += a0 * bv
						c1[j] += a1 * bv
						c2[j] += a2 * bv
						c3[j] += a3 * bv
					}
				}
			}
			for ; i < m; i++ {
				row := c[i*ldc : i*ldc+n]
				for p := p0; p < p1; p++ {
					if av := a[i*lda+p]; av != 0 {
						axpy(alpha*av, b[p*ldb:p*ldb+n], row)
					}
				}
			}
		}
	case ta && !tb:
		// A is stored k x m.
		for p := 0; p < k; p++ {
			brow := b[p*ldb : p*ldb+n]
			acol := a[p*lda : p*lda+m]
			for i, av := range acol {
				if av == 0 {
					continue
				}
				axpy(alpha*av, brow, c[i*ldc:i*ldc+n])
			}
		}
	case !ta && tb:
		// B is stored n x k: C[i,j] += alpha*dot(A[i,:], B[j,:]).
		for i := 0; i < m; i++ {
			arow := a[i*lda : i*lda+k]
			row := c[i*ldc : i*ldc+n]
			for j := range row {
				row[j] += alpha * dot(arow, b[j*ldb:j*ldb+k])
			}
		}
	default:
		// A is k x m, B is n x k.
		for i := 0; i < m; i++ {
			row := c[i*ldc : i*ldc+n]
			for j := range row {
				var s T
				for p := 0; p < k; p++ {
					s += a[p*lda+i] * b[j*ldb+p]
				}
				row[j] += alpha * s
			}
		}
	}
}

// parallelGemmMin is the number of multiply-adds above which gemmPar splits
// the rows of C across goroutines.
const parallelGemmMin = 1 << 16

// gemmPar is gemm with the rows of C split across GOMAXPROCS goroutines
// when the product is large enough to pay for them.
func gemmPar[T float](ta, tb bool, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) {
	workers := min(runtime.GOMAXPROCS(0), m)
	if workers <= 1 || m*n*k < parallelGemmMin {
		gemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		return
	}
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		i0, i1 := w*m/workers, (w+1)*m/workers
		// Rows i0..i1 of op(A): rows of A, or columns when A is transposed.
		var aa []T
		if ta {
			aa = a[i0:]
		} else {
			aa = a[i0*lda:]
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			gemm(ta, tb, i1-i0, n, k, alpha, aa, lda, b, ldb, beta, c[i0*ldc:], ldc)
		}()
	}
	wg.Wait()
}

// axpy computes y += alpha*x.
func axpy[T float](alpha T, x, y []T) {
	y = y[:len(x)]
	i := 0
	for ; i+4 <= len(x); i += 4 {
		y[i] += alpha * x[i]
		y[i+1] += alpha * x[i+1]
		y[i+2] += alpha * x[i+2]
		y[i+3] += alpha * x[i+3]
	}
	for ; i < len(x); i++ {
		y[i] += alpha * x[i]
	}
}

// dot returns sum x[i]*y[i].
func dot[T float](x, y []T) T {
	y = y[:len(x)]
	var s0, s1, s2, s3 T
	i := 0
	for ; i+4 <= len(x); i += 4 {
		s0 += x[i] * y[i]
		s1 += x[i+1] * y[i+1]
		s2 += x[i+2] * y[i+2]
		s3 += x[i+3] * y[i+3]
	}
	for ; i < len(x); i++ {
		s0 += x[i] * y[i]
	}
	return s0 + s1 + s2 + s3
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

// gemmFunc is the signature of gemm and gemmPar.
type gemmFunc[T float] func(ta, tb bool, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int)

// forImages runs f for each of n images: in parallel with a sequential GEMM
// when there are at least as many images as GOMAXPROCS, else one image at a
// time with a parallel GEMM.
func forImages[T float](n int, f func(i int, mm gemmFunc[T])) {
	if n >= runtime.GOMAXPROCS(0) {
		parallelFor(n, func(_, i int) { f(i, gemm[T]) })
		return
	}
	for i := 0; i < n; i++ {
		f(i, gemmPar[T])
	}
}

// parallelFor runs f(i) for i in [0,n) on up to GOMAXPROCS goroutines; each
// worker gets its own index w for per-worker scratch.
func parallelFor(n int, f func(w, i int)) {
	workers := min(runtime.GOMAXPROCS(0), n)
	if workers <= 1 {
		for i := 0; i < n; i++ {
			f(0, i)
		}
		return
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	next := 0
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for {
				mu.Lock()
				i := next
				next++
				mu.Unlock()
				if i >= n {
					return
				}
				f(w, i)
			}
		}(w)
	}
	wg.Wait()
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

// convForward is the generic im2col+GEMM forward convolution.
func convForward[T float](g ConvGeom, x, w, b, y []T, relu bool) {
	crs := g.C * g.R * g.S
	ohw := g.OutH * g.OutW
	pw := g.isPointwise()
	sc := scratchFor[T]()
	forImages(g.N, func(n int, mm gemmFunc[T]) {
		xn := x[n*g.C*g.H*g.W : (n+1)*g.C*g.H*g.W]
		yn := y[n*g.K*ohw : (n+1)*g.K*ohw]
		col := xn
		if !pw {
			col = sc.get(crs * ohw)
			defer sc.put(col)
			im2col(g, xn, col)
		}
		mm(false, false, g.K, ohw, crs, 1, w, crs, col, ohw, 0, yn, ohw)
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
	})
}

// convBackwardData computes dx = conv^T(dy, w).
func convBackwardData[T float](g ConvGeom, w, dy, dx []T) {
	crs := g.C * g.R * g.S
	ohw := g.OutH * g.OutW
	pw := g.isPointwise()
	sc := scratchFor[T]()
	forImages(g.N, func(n int, mm gemmFunc[T]) {
		dyn := dy[n*g.K*ohw : (n+1)*g.K*ohw]
		dxn := dx[n*g.C*g.H*g.W : (n+1)*g.C*g.H*g.W]
		if pw {
			mm(true, false, crs, ohw, g.K, 1, w, crs, dyn, ohw, 0, dxn, ohw)
			return
		}
		col := sc.get(crs * ohw)
		defer sc.put(col)
		mm(true, false, crs, ohw, g.K, 1, w, crs, dyn, ohw, 0, col, ohw)
		col2im(g, col, dxn)
	})
}

// convBackwardFilter computes dw = sum_n dy_n · col(x_n)^T and db = sum dy.
func convBackwardFilter[T float](g ConvGeom, x, dy, dw, db []T) {
	crs := g.C * g.R * g.S
	ohw := g.OutH * g.OutW
	pw := g.isPointwise()
	sc := scratchFor[T]()
	if g.N < runtime.GOMAXPROCS(0) {
		// Few images: one at a time, each GEMM split across goroutines.
		clear(dw[:g.K*crs])
		for n := 0; n < g.N; n++ {
			xn := x[n*g.C*g.H*g.W : (n+1)*g.C*g.H*g.W]
			dyn := dy[n*g.K*ohw : (n+1)*g.K*ohw]
			col := xn
			if !pw {
				col = sc.get(crs * ohw)
				im2col(g, xn, col)
			}
			gemmPar(false, true, g.K, crs, ohw, 1, dyn, ohw, col, ohw, 1, dw, crs)
			if !pw {
				sc.put(col)
			}
		}
		biasGrad(g, dy, db)
		return
	}
	workers := max(1, min(runtime.GOMAXPROCS(0), g.N))
	// Each worker accumulates into its own partial dw; worker 0 uses dw.
	partial := make([][]T, workers)
	partial[0] = dw[:g.K*crs]
	clear(partial[0])
	for i := 1; i < workers; i++ {
		partial[i] = sc.get(g.K * crs)
		clear(partial[i])
	}
	// parallelFor gives each goroutine its own worker index w, so no two
	// goroutines share a partial buffer.
	parallelFor(g.N, func(w, n int) {
		xn := x[n*g.C*g.H*g.W : (n+1)*g.C*g.H*g.W]
		dyn := dy[n*g.K*ohw : (n+1)*g.K*ohw]
		col := xn
		if !pw {
			col = sc.get(crs * ohw)
			defer sc.put(col)
			im2col(g, xn, col)
		}
		gemm(false, true, g.K, crs, ohw, 1, dyn, ohw, col, ohw, 1, partial[w], crs)
	})
	for i := 1; i < workers; i++ {
		axpy(1, partial[i], partial[0])
		sc.put(partial[i])
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
