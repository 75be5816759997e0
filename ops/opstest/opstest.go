package opstest

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/goinception/googlenet/ops"
)

// Tolerances used by TestEngine.
const (
	RelTol = 1e-5 // relative to the sum of magnitudes of the terms
	AbsTol = 1e-6
)

// sentinel pre-fills outputs: an engine that accumulates fails.
const sentinel = 12345.0

// Geometries is the table of convolution geometries TestEngine covers.
// OutH and OutW follow from symmetric or asymmetric padding as given.
var Geometries = []struct {
	Name string
	G    ops.ConvGeom
}{
	{"1x1", geom(1, 8, 5, 5, 4, 1, 1, 1, 1, 0, 0, 0, 0)},
	{"1x1/batch3", geom(3, 6, 4, 7, 5, 1, 1, 1, 1, 0, 0, 0, 0)},
	{"1x1/stride2", geom(2, 3, 7, 7, 4, 1, 1, 2, 2, 0, 0, 0, 0)},
	{"3x3/pad1", geom(2, 4, 6, 6, 5, 3, 3, 1, 1, 1, 1, 1, 1)},
	{"3x3/pad0/odd", geom(1, 3, 7, 5, 2, 3, 3, 1, 1, 0, 0, 0, 0)},
	{"5x5/pad2", geom(2, 3, 9, 9, 4, 5, 5, 1, 1, 2, 2, 2, 2)},
	{"7x7/stride2/pad3", geom(2, 3, 15, 15, 8, 7, 7, 2, 2, 3, 3, 3, 3)},
	{"7x7/stride2/pad3/even", geom(1, 3, 16, 16, 4, 7, 7, 2, 2, 3, 3, 3, 3)},
	{"3x3/stride2/odd", geom(3, 5, 11, 9, 6, 3, 3, 2, 2, 1, 1, 1, 1)},
	{"3x2/stride(2,1)/asympad", geom(2, 2, 7, 6, 3, 3, 2, 2, 1, 0, 1, 1, 0)},
	{"kernel=input", geom(2, 4, 3, 3, 3, 3, 3, 1, 1, 0, 0, 0, 0)},
	{"wide", geom(1, 16, 8, 8, 32, 3, 3, 1, 1, 1, 1, 1, 1)},
}

// geom builds a ConvGeom from pads top, left, bottom, right.
func geom(n, c, h, w, k, r, s, sh, sw, pt, pl, pb, pr int) ops.ConvGeom {
	return ops.ConvGeom{
		N: n, C: c, H: h, W: w, K: k, R: r, S: s,
		StrideH: sh, StrideW: sw, PadTop: pt, PadLeft: pl,
		OutH: (h+pt+pb-r)/sh + 1,
		OutW: (w+pl+pr-s)/sw + 1,
	}
}

func randSlice(rng *rand.Rand, n int) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(rng.Float64()*2 - 1)
	}
	return v
}

func filled(n int) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = sentinel
	}
	return v
}

// compare checks got against want (sums of terms with magnitude sums mag).
func compare(t *testing.T, what string, got []float32, want, mag []float64) {
	t.Helper()
	if len(got) < len(want) {
		t.Fatalf("%s: got %d values, want %d", what, len(got), len(want))
	}
	bad := 0
	for i, w := range want {
		g := float64(got[i])
		if math.IsNaN(g) || math.Abs(g-w) > RelTol*mag[i]+AbsTol {
			if bad < 5 {
				t.Errorf("%s[%d] = %v, want %v (tolerance %.3g)", what, i, g, w, RelTol*mag[i]+AbsTol)
			}
			bad++
		}
	}
	if bad > 0 {
		t.Errorf("%s: %d of %d values out of tolerance", what, bad, len(want))
	}
}

// TestEngine runs the conformance suite against e.
func TestEngine(t *testing.T, e ops.Engine) {
	t.Run("Gemm", func(t *testing.T) { testGemm(t, e) })
	for _, tc := range Geometries {
		t.Run("Conv/"+tc.Name, func(t *testing.T) { testConv(t, e, tc.G) })
	}
	testStep(t, e)
}

func testConv(t *testing.T, e ops.Engine, g ops.ConvGeom) {
	rng := rand.New(rand.NewPCG(uint64(g.N*1000+g.C*100+g.K), uint64(g.R*10+g.S)))
	x := randSlice(rng, g.N*g.C*g.H*g.W)
	w := randSlice(rng, g.K*g.C*g.R*g.S)
	b := randSlice(rng, g.K)
	ysize := g.N * g.K * g.OutH * g.OutW
	dy := randSlice(rng, ysize)

	for _, bias := range []bool{false, true} {
		for _, relu := range []bool{false, true} {
			var bb []float32
			if bias {
				bb = b
			}
			want, mag := RefConvForward(g, x, w, bb)
			if relu {
				for i, v := range want {
					want[i] = math.Max(v, 0)
				}
			}
			y := filled(ysize)
			if err := e.ConvForward(g, x, w, bb, y, relu); err != nil {
				t.Fatalf("%s: %+v", e.Name(), err)
			}
			compare(t, fmt.Sprintf("ConvForward(bias=%v,relu=%v)", bias, relu), y, want, mag)
		}
	}

	wantDx, magDx := RefConvBackwardData(g, w, dy)
	dx := filled(len(x))
	if err := e.ConvBackwardData(g, w, dy, dx); err != nil {
		t.Fatalf("%s: %+v", e.Name(), err)
	}
	compare(t, "ConvBackwardData", dx, wantDx, magDx)

	wantDw, magDw, wantDb, magDb := RefConvBackwardFilter(g, x, dy)
	dw := filled(len(w))
	if err := e.ConvBackwardFilter(g, x, dy, dw, nil); err != nil {
		t.Fatalf("%s: %+v", e.Name(), err)
	}
	compare(t, "ConvBackwardFilter(db=nil).dw", dw, wantDw, magDw)
	dw = filled(len(w))
	db := filled(g.K)
	if err := e.ConvBackwardFilter(g, x, dy, dw, db); err != nil {
		t.Fatalf("%s: %+v", e.Name(), err)
	}
	compare(t, "ConvBackwardFilter.dw", dw, wantDw, magDw)
	compare(t, "ConvBackwardFilter.db", db, wantDb, magDb)
}

func testGemm(t *testing.T, e ops.Engine) {
	rng := rand.New(rand.NewPCG(1, 2))
	sizes := [][3]int{{1, 1, 1}, {3, 5, 7}, {8, 8, 8}, {17, 13, 29}, {64, 33, 70}, {2, 100, 3}, {5, 4, 0}}
	for _, sz := range sizes {
		m, n, k := sz[0], sz[1], sz[2]
		for _, ta := range []bool{false, true} {
			for _, tb := range []bool{false, true} {
				for _, ab := range [][2]float32{{1, 0}, {0.5, 1}, {-2, 0.25}} {
					alpha, beta := ab[0], ab[1]
					// Stored shapes and leading dimensions with 3 extra columns.
					ar, ac := m, k
					if ta {
						ar, ac = k, m
					}
					br, bc := k, n
					if tb {
						br, bc = n, k
					}
					lda, ldb, ldc := ac+3, bc+2, n+1
					a := randSlice(rng, max(ar*lda, 1))
					b := randSlice(rng, max(br*ldb, 1))
					c := randSlice(rng, m*ldc)
					orig := append([]float32(nil), c...)
					want := make([]float64, m*n)
					mag := make([]float64, m*n)
					for i := 0; i < m; i++ {
						for j := 0; j < n; j++ {
							var s, sm float64
							for p := 0; p < k; p++ {
								var av, bv float64
								if ta {
									av = float64(a[p*lda+i])
								} else {
									av = float64(a[i*lda+p])
								}
								if tb {
									bv = float64(b[j*ldb+p])
								} else {
									bv = float64(b[p*ldb+j])
								}
								s += av * bv
								sm += math.Abs(av * bv)
							}
							cv := float64(orig[i*ldc+j])
							want[i*n+j] = float64(alpha)*s + float64(beta)*cv
							mag[i*n+j] = math.Abs(float64(alpha))*sm + math.Abs(float64(beta)*cv)
						}
					}
					if err := e.Gemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc); err != nil {
						t.Fatalf("%s: %+v", e.Name(), err)
					}
					got := make([]float32, m*n)
					for i := 0; i < m; i++ {
						copy(got[i*n:(i+1)*n], c[i*ldc:i*ldc+n])
						if c[i*ldc+n] != orig[i*ldc+n] {
							t.Errorf("Gemm(%v,%v,%d,%d,%d) wrote outside C at row %d", ta, tb, m, n, k, i)
						}
					}
					compare(t, fmt.Sprintf("Gemm(ta=%v,tb=%v,m=%d,n=%d,k=%d,alpha=%v,beta=%v)", ta, tb, m, n, k, alpha, beta), got, want, mag)
				}
			}
		}
	}
	// beta = 0 must not read C (BLAS convention): NaN in C must not leak.
	c := []float32{float32(math.NaN()), float32(math.NaN())}
	if err := e.Gemm(false, false, 1, 2, 1, 1, []float32{2}, 1, []float32{3, 4}, 2, 0, c, 2); err != nil {
		t.Fatalf("%s: %+v", e.Name(), err)
	}
	compare(t, "Gemm(beta=0, C=NaN)", c, []float64{6, 8}, []float64{6, 8})
}

// RefConvForward is the definition of the convolution in float64 loops:
// y[n,k,oh,ow] = b[k] + sum_{c,r,s} x[n,c,oh*sh-pt+r,ow*sw-pl+s]*w[k,c,r,s],
// with out-of-range input reading as zero. It also returns, per output, the
// sum of the magnitudes of its terms (for tolerances).
func RefConvForward(g ops.ConvGeom, x, w, b []float32) (y, mag []float64) {
	sh, sw := max(g.StrideH, 1), max(g.StrideW, 1)
	y = make([]float64, g.N*g.K*g.OutH*g.OutW)
	mag = make([]float64, len(y))
	for n := 0; n < g.N; n++ {
		for k := 0; k < g.K; k++ {
			for oh := 0; oh < g.OutH; oh++ {
				for ow := 0; ow < g.OutW; ow++ {
					var s, m float64
					if b != nil {
						s, m = float64(b[k]), math.Abs(float64(b[k]))
					}
					for c := 0; c < g.C; c++ {
						for r := 0; r < g.R; r++ {
							ih := oh*sh - g.PadTop + r
							if ih < 0 || ih >= g.H {
								continue
							}
							for q := 0; q < g.S; q++ {
								iw := ow*sw - g.PadLeft + q
								if iw < 0 || iw >= g.W {
									continue
								}
								t := float64(x[((n*g.C+c)*g.H+ih)*g.W+iw]) * float64(w[((k*g.C+c)*g.R+r)*g.S+q])
								s += t
								m += math.Abs(t)
							}
						}
					}
					i := ((n*g.K+k)*g.OutH+oh)*g.OutW + ow
					y[i], mag[i] = s, m
				}
			}
		}
	}
	return y, mag
}

// RefConvBackwardData is the float64 definition of dx = d(sum y*dy)/dx.
func RefConvBackwardData(g ops.ConvGeom, w, dy []float32) (dx, mag []float64) {
	sh, sw := max(g.StrideH, 1), max(g.StrideW, 1)
	dx = make([]float64, g.N*g.C*g.H*g.W)
	mag = make([]float64, len(dx))
	for n := 0; n < g.N; n++ {
		for k := 0; k < g.K; k++ {
			for oh := 0; oh < g.OutH; oh++ {
				for ow := 0; ow < g.OutW; ow++ {
					d := float64(dy[((n*g.K+k)*g.OutH+oh)*g.OutW+ow])
					for c := 0; c < g.C; c++ {
						for r := 0; r < g.R; r++ {
							ih := oh*sh - g.PadTop + r
							if ih < 0 || ih >= g.H {
								continue
							}
							for q := 0; q < g.S; q++ {
								iw := ow*sw - g.PadLeft + q
								if iw < 0 || iw >= g.W {
									continue
								}
								t := d * float64(w[((k*g.C+c)*g.R+r)*g.S+q])
								i := ((n*g.C+c)*g.H+ih)*g.W + iw
								dx[i] += t
								mag[i] += math.Abs(t)
							}
						}
					}
				}
			}
		}
	}
	return dx, mag
}

// RefConvBackwardFilter is the float64 definition of dw = d(sum y*dy)/dw and
// db = d(sum y*dy)/db.
func RefConvBackwardFilter(g ops.ConvGeom, x, dy []float32) (dw, magW, db, magB []float64) {
	sh, sw := max(g.StrideH, 1), max(g.StrideW, 1)
	dw = make([]float64, g.K*g.C*g.R*g.S)
	magW = make([]float64, len(dw))
	db = make([]float64, g.K)
	magB = make([]float64, g.K)
	for n := 0; n < g.N; n++ {
		for k := 0; k < g.K; k++ {
			for oh := 0; oh < g.OutH; oh++ {
				for ow := 0; ow < g.OutW; ow++ {
					d := float64(dy[((n*g.K+k)*g.OutH+oh)*g.OutW+ow])
					db[k] += d
					magB[k] += math.Abs(d)
					for c := 0; c < g.C; c++ {
						for r := 0; r < g.R; r++ {
							ih := oh*sh - g.PadTop + r
							if ih < 0 || ih >= g.H {
								continue
							}
							for q := 0; q < g.S; q++ {
								iw := ow*sw - g.PadLeft + q
								if iw < 0 || iw >= g.W {
									continue
								}
								t := d * float64(x[((n*g.C+c)*g.H+ih)*g.W+iw])
								i := ((k*g.C+c)*g.R+r)*g.S + q
								dw[i] += t
								magW[i] += math.Abs(t)
							}
						}
					}
				}
			}
		}
	}
	return dw, magW, db, magB
}

// BenchmarkConv measures e.ConvForward on geometry g and reports GFLOP/s
// (2 flops per multiply-add).
func BenchmarkConv(b *testing.B, e ops.Engine, g ops.ConvGeom) {
	rng := rand.New(rand.NewPCG(1, 1))
	x := randSlice(rng, g.N*g.C*g.H*g.W)
	w := randSlice(rng, g.K*g.C*g.R*g.S)
	bias := randSlice(rng, g.K)
	y := make([]float32, g.N*g.K*g.OutH*g.OutW)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := e.ConvForward(g, x, w, bias, y, true); err != nil {
			b.Fatalf("%s: %+v", e.Name(), err)
		}
	}
	flops := 2 * float64(g.N*g.K*g.OutH*g.OutW*g.C*g.R*g.S)
	b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}
