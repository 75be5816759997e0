package ops

import (
	"math"
	"math/rand/v2"
	"testing"

	"gorgonia.org/tensor"
)

// lrnNaive computes LRN and its gradient directly from the definition, in
// float64, recomputing every channel window: the reference for the
// sliding-window kernels.
func lrnNaive(p lrnParams, x, dy []float64) (y, dx []float64) {
	hw := p.H * p.W
	half := (p.Opts.Size - 1) / 2
	at := func(v []float64, n, c, i int) float64 { return v[(n*p.C+c)*hw+i] }
	s := make([]float64, len(x))
	y = make([]float64, len(x))
	for n := 0; n < p.N; n++ {
		for c := 0; c < p.C; c++ {
			for i := 0; i < hw; i++ {
				sum := 0.0
				for j := max(0, c-half); j <= min(p.C-1, c+half); j++ {
					sum += at(x, n, j, i) * at(x, n, j, i)
				}
				u := (n*p.C+c)*hw + i
				s[u] = p.Opts.K + p.Opts.Alpha/float64(p.Opts.Size)*sum
				y[u] = x[u] * math.Pow(s[u], -p.Opts.Beta)
			}
		}
	}
	dx = make([]float64, len(x))
	coef := 2 * p.Opts.Alpha * p.Opts.Beta / float64(p.Opts.Size)
	for n := 0; n < p.N; n++ {
		for c := 0; c < p.C; c++ {
			for i := 0; i < hw; i++ {
				u := (n*p.C+c)*hw + i
				sum := 0.0
				for j := max(0, c-half); j <= min(p.C-1, c+half); j++ {
					v := (n*p.C+j)*hw + i
					sum += dy[v] * y[v] / s[v]
				}
				dx[u] = dy[u]*math.Pow(s[u], -p.Opts.Beta) - coef*x[u]*sum
			}
		}
	}
	return y, dx
}

// TestLRNSlidingMatchesNaive checks the tiled sliding-window kernels (a
// plane of 1300 pixels: two full tiles and a partial one; channel counts
// below, equal to and above the window) against lrnNaive in float64 and
// float32.
func TestLRNSlidingMatchesNaive(t *testing.T) {
	const tol64, tol32 = 1e-12, 2e-5 // relative to max(1, |reference|)
	for _, c := range []int{1, 2, 5, 13} {
		for _, o := range []LRNOpts{{Size: 5, Alpha: 1e-4, Beta: 0.75, K: 1}, {Size: 3, Alpha: 0.7, Beta: 0.6, K: 2}} {
			p := lrnParams{N: 2, C: c, H: 26, W: 50, Opts: o}
			rng := rand.New(rand.NewPCG(uint64(c), 7))
			size := p.N * p.C * p.H * p.W
			x, dy := make([]float64, size), make([]float64, size)
			for i := range x {
				x[i], dy[i] = 4*rng.Float64()-2, 2*rng.Float64()-1
			}
			wantY, wantDX := lrnNaive(p, x, dy)
			shape := tensor.Shape{p.N, p.C, p.H, p.W}
			check := func(name string, got []float64, want []float64, tol float64) {
				t.Helper()
				for i := range want {
					if d := math.Abs(got[i] - want[i]); !(d <= tol*max(1, math.Abs(want[i]))) {
						t.Fatalf("C=%d %+v %s[%d] = %g, want %g", c, o, name, i, got[i], want[i])
					}
				}
			}
			run := func(dt tensor.Dtype, conv func([]float64) any, back func(any) []float64, tol float64) {
				op := &lrnOp{p: p}
				xv := tensor.New(tensor.WithShape(shape...), tensor.WithBacking(conv(x)))
				yv, err := op.Do(xv)
				if err != nil {
					t.Fatal(err)
				}
				check("y "+dt.String(), back(yv.Data()), wantY, tol)
				gop := &lrnGradOp{p: p}
				dyv := tensor.New(tensor.WithShape(shape...), tensor.WithBacking(conv(dy)))
				dxv, err := gop.Do(xv, yv, dyv)
				if err != nil {
					t.Fatal(err)
				}
				check("dx "+dt.String(), back(dxv.Data()), wantDX, tol)
			}
			run(tensor.Float64, func(v []float64) any { return append([]float64(nil), v...) },
				func(v any) []float64 { return v.([]float64) }, tol64)
			run(tensor.Float32, func(v []float64) any {
				f := make([]float32, len(v))
				for i, w := range v {
					f[i] = float32(w)
				}
				return f
			}, func(v any) []float64 {
				f := v.([]float32)
				d := make([]float64, len(f))
				for i, w := range f {
					d[i] = float64(w)
				}
				return d
			}, tol32)
		}
	}
}

// BenchmarkLRN times GoogLeNet's second LRN (192 channels, 56x56, batch
// 8, float32) forward and backward.
func BenchmarkLRN(b *testing.B) {
	p := lrnParams{N: 8, C: 192, H: 56, W: 56, Opts: LRNOpts{Size: 5, Alpha: 1e-4, Beta: 0.75, K: 1}}
	shape := tensor.Shape{p.N, p.C, p.H, p.W}
	x := tensor.New(tensor.WithShape(shape...), tensor.Of(tensor.Float32))
	d := x.Data().([]float32)
	for i := range d {
		d[i] = float32(i%97) / 10
	}
	b.Run("forward", func(b *testing.B) {
		op := &lrnOp{p: p}
		for i := 0; i < b.N; i++ {
			if _, err := op.Do(x); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("backward", func(b *testing.B) {
		op, gop := &lrnOp{p: p}, &lrnGradOp{p: p}
		y, err := op.Do(x)
		if err != nil {
			b.Fatal(err)
		}
		for i := 0; i < b.N; i++ {
			if _, err := gop.Do(x, y, x); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// TestPowNeg075 checks powNeg075 (AVX where available) bit for bit against
// powNeg075Go, and both against math.Pow within float32 rounding, for
// lengths around the eight-lane blocks.
func TestPowNeg075(t *testing.T) {
	const tol = 1e-6 // relative, a few float32 ulps
	rng := rand.New(rand.NewPCG(3, 4))
	for _, n := range []int{0, 1, 7, 8, 9, 16, 37, 1000} {
		s := make([]float32, n)
		for i := range s {
			s[i] = float32(1 + 100*rng.Float64()*rng.Float64())
		}
		got, want := append([]float32(nil), s...), append([]float32(nil), s...)
		powNeg075(got)
		powNeg075Go(want)
		for i := range s {
			if got[i] != want[i] {
				t.Fatalf("n=%d: powNeg075(%g) = %g, scalar path %g", n, s[i], got[i], want[i])
			}
			ref := math.Pow(float64(s[i]), -0.75)
			if d := math.Abs(float64(got[i]) - ref); d > tol*ref {
				t.Fatalf("n=%d: powNeg075(%g) = %g, math.Pow %g", n, s[i], got[i], ref)
			}
		}
	}
}

// TestLRNKernels checks sqAcc and subScaledProd (AVX for float32 where
// available) bit for bit against their Go loops around the eight-lane
// blocks: both multiply and add in the same order, unfused.
func TestLRNKernels(t *testing.T) {
	rng := rand.New(rand.NewPCG(10, 11))
	for _, n := range []int{0, 5, 8, 15, 64, 77} {
		s, x, r := make([]float32, n), make([]float32, n), make([]float32, n)
		for i := range s {
			s[i], x[i], r[i] = float32(rng.NormFloat64()), float32(rng.NormFloat64()), float32(rng.NormFloat64())
		}
		got, want := append([]float32(nil), s...), append([]float32(nil), s...)
		sqAcc(got, x)
		sqAccGo(want, x)
		got2, want2 := append([]float32(nil), s...), append([]float32(nil), s...)
		subScaledProd(got2, x, r, 0.37)
		subScaledProdGo(want2, x, r, 0.37)
		for i := range s {
			if math.Float32bits(got[i]) != math.Float32bits(want[i]) || math.Float32bits(got2[i]) != math.Float32bits(want2[i]) {
				t.Fatalf("n=%d i=%d: sqAcc %g (Go %g), subScaledProd %g (Go %g)", n, i, got[i], want[i], got2[i], want2[i])
			}
		}
	}
}

// TestLRNElementwiseKernels checks mulInto, mulDivInto and affine (AVX for
// float32 where available) bit for bit against their Go loops around the
// eight-lane blocks, with a destination aliasing an operand.
func TestLRNElementwiseKernels(t *testing.T) {
	rng := rand.New(rand.NewPCG(12, 13))
	for _, n := range []int{0, 3, 8, 13, 64, 81} {
		a, b, c := make([]float32, n), make([]float32, n), make([]float32, n)
		for i := range a {
			a[i], b[i], c[i] = float32(rng.NormFloat64()), float32(rng.NormFloat64()), 1+float32(rng.Float64())
		}
		type pair struct {
			name      string
			got, want []float32
		}
		var ps []pair
		p := pair{"mulInto", make([]float32, n), make([]float32, n)}
		mulInto(p.got, a, b)
		mulIntoGo(p.want, a, b)
		ps = append(ps, p)
		p = pair{"mulInto aliased", append([]float32(nil), a...), append([]float32(nil), a...)}
		mulInto(p.got, p.got, b)
		mulIntoGo(p.want, p.want, b)
		ps = append(ps, p)
		p = pair{"mulDivInto", make([]float32, n), make([]float32, n)}
		mulDivInto(p.got, a, b, c)
		mulDivIntoGo(p.want, a, b, c)
		ps = append(ps, p)
		p = pair{"affine", append([]float32(nil), a...), append([]float32(nil), a...)}
		affine(p.got, 2e-5, 1)
		affineGo(p.want, 2e-5, 1)
		ps = append(ps, p)
		for _, p := range ps {
			for i := range p.got {
				if math.Float32bits(p.got[i]) != math.Float32bits(p.want[i]) {
					t.Fatalf("%s n=%d i=%d: %g, Go loop %g", p.name, n, i, p.got[i], p.want[i])
				}
			}
		}
	}
}
