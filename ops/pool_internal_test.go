package ops

import (
	"math"
	"math/rand/v2"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// TestMaxInto checks maxInto (AVX for float32 where available) against the
// builtin max, NaN in either operand included, around the eight-lane
// blocks and with dst aliasing a.
func TestMaxInto(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	nan := float32(math.NaN())
	for _, n := range []int{0, 1, 7, 8, 9, 17, 64, 101} {
		a, b := make([]float32, n), make([]float32, n)
		for i := range a {
			a[i], b[i] = float32(rng.NormFloat64()), float32(rng.NormFloat64())
			switch rng.IntN(10) {
			case 0:
				a[i] = nan
			case 1:
				b[i] = nan
			}
		}
		want := make([]float32, n)
		for i := range want {
			want[i] = max(a[i], b[i])
		}
		got := make([]float32, n)
		maxInto(got, a, b)
		alias := append([]float32(nil), a...)
		maxInto(alias, alias, b)
		for i := range want {
			for _, g := range []float32{got[i], alias[i]} {
				if w := want[i]; (w != w) != (g != g) || (w == w && g != w) {
					t.Fatalf("n=%d: max(%g, %g) = %g, want %g", n, a[i], b[i], g, w)
				}
			}
		}
	}
}

// TestMaxPoolMatchesNaive runs max pools wide enough for the vector paths
// (stride-1 3-wide runs, vector column maxima) in float32 and float64,
// with NaNs, against the maximum over each window taken directly.
func TestMaxPoolMatchesNaive(t *testing.T) {
	for _, o := range []PoolOpts{
		{KernelH: 3, KernelW: 3, Pad: Pad2D{Top: 1, Bottom: 1, Left: 1, Right: 1}},
		{KernelH: 3, KernelW: 3},
		{KernelH: 3, KernelW: 3, StrideH: 2, StrideW: 2, CeilMode: true},
		{KernelH: 2, KernelW: 3, StrideH: 1, StrideW: 1, Pad: Pad2D{Left: 2, Right: 1}},
	} {
		for _, dt := range []tensor.Dtype{tensor.Float32, tensor.Float64} {
			g := G.NewGraph()
			const n, c, h, w = 2, 3, 13, 29
			xn := G.NewTensor(g, dt, 4, G.WithShape(n, c, h, w), G.WithName("x"))
			y, err := MaxPool2D(xn, o)
			if err != nil {
				t.Fatal(err)
			}
			op := y.Op().(*poolOp)
			rng := rand.New(rand.NewPCG(1, 2))
			xs := make([]float64, n*c*h*w)
			for i := range xs {
				xs[i] = rng.NormFloat64()
				if rng.IntN(50) == 0 {
					xs[i] = math.NaN()
				}
			}
			var xv *tensor.Dense
			if dt == tensor.Float32 {
				f := make([]float32, len(xs))
				for i, v := range xs {
					f[i] = float32(v)
				}
				xv = tensor.New(tensor.WithShape(n, c, h, w), tensor.WithBacking(f))
			} else {
				xv = tensor.New(tensor.WithShape(n, c, h, w), tensor.WithBacking(append([]float64(nil), xs...)))
			}
			yv, err := op.Do(xv)
			if err != nil {
				t.Fatal(err)
			}
			oh, ow := op.p.OutH, op.p.OutW
			// Backward: each dy goes to the first window element equal to
			// the window's maximum (the first NaN if it holds one).
			dys := make([]float64, n*c*oh*ow)
			for i := range dys {
				dys[i] = float64(float32(rng.NormFloat64()))
			}
			wantDX := make([]float64, len(xs))
			for nc := 0; nc < n*c; nc++ {
				for i := 0; i < oh; i++ {
					for j := 0; j < ow; j++ {
						arg, m := -1, math.Inf(-1)
						for a := op.h.Start[i]; a < op.h.End[i] && !math.IsNaN(m); a++ {
							for b := op.w.Start[j]; b < op.w.End[j]; b++ {
								if v := xs[(nc*h+a)*w+b]; arg < 0 || v > m || math.IsNaN(v) {
									arg, m = (nc*h+a)*w+b, v
									if math.IsNaN(v) {
										break
									}
								}
							}
						}
						wantDX[arg] += dys[(nc*oh+i)*ow+j]
					}
				}
			}
			var dyv *tensor.Dense
			if dt == tensor.Float32 {
				f := make([]float32, len(dys))
				for i, v := range dys {
					f[i] = float32(v)
				}
				dyv = tensor.New(tensor.WithShape(n, c, oh, ow), tensor.WithBacking(f))
			} else {
				dyv = tensor.New(tensor.WithShape(n, c, oh, ow), tensor.WithBacking(dys))
			}
			dxv, err := (&poolGradOp{fwd: op}).Do(xv, yv, dyv)
			if err != nil {
				t.Fatal(err)
			}
			// dy values are float32-exact; at most 9 of them meet in one dx.
			const gradTol = 1e-6
			for i, want := range wantDX {
				var got float64
				if dt == tensor.Float32 {
					got = float64(dxv.Data().([]float32)[i])
				} else {
					got = dxv.Data().([]float64)[i]
				}
				if math.Abs(got-want) > gradTol*max(1, math.Abs(want)) {
					t.Fatalf("%+v %v: dx[%d] = %g, want %g", o, dt, i, got, want)
				}
			}
			for nc := 0; nc < n*c; nc++ {
				for i := 0; i < oh; i++ {
					for j := 0; j < ow; j++ {
						want := math.Inf(-1)
						for a := op.h.Start[i]; a < op.h.End[i]; a++ {
							for b := op.w.Start[j]; b < op.w.End[j]; b++ {
								want = max(want, xs[(nc*h+a)*w+b])
							}
						}
						var got float64
						if dt == tensor.Float32 {
							got = float64(yv.Data().([]float32)[(nc*oh+i)*ow+j])
						} else {
							got = yv.Data().([]float64)[(nc*oh+i)*ow+j]
						}
						if dt == tensor.Float32 {
							want = float64(float32(want))
						}
						// exact: a maximum selects one of its inputs.
						const tol = 0
						if math.IsNaN(want) != math.IsNaN(got) || (!math.IsNaN(want) && math.Abs(want-got) > tol) {
							t.Fatalf("%+v %v: y[%d,%d,%d] = %g, want %g", o, dt, nc, i, j, got, want)
						}
					}
				}
			}
		}
	}
}

// TestReLUKernels checks reluInto and reluGradInto (AVX for float32 where
// available) bit for bit against the Go loops, with NaN, ±0 and ±Inf,
// around the eight-lane blocks.
func TestReLUKernels(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 9))
	special := []float32{float32(math.NaN()), 0, float32(math.Copysign(0, -1)), float32(math.Inf(1)), float32(math.Inf(-1))}
	for _, n := range []int{0, 3, 8, 13, 64, 99} {
		x, dy := make([]float32, n), make([]float32, n)
		for i := range x {
			x[i], dy[i] = float32(rng.NormFloat64()), float32(rng.NormFloat64())
			if rng.IntN(5) == 0 {
				x[i] = special[rng.IntN(len(special))]
			}
		}
		got, want := make([]float32, n), make([]float32, n)
		reluInto(got, x)
		reluIntoGo(want, x)
		gotD, wantD := make([]float32, n), make([]float32, n)
		reluGradInto(gotD, x, dy)
		reluGradIntoGo(wantD, x, dy)
		for i := range x {
			if math.Float32bits(got[i]) != math.Float32bits(want[i]) || math.Float32bits(gotD[i]) != math.Float32bits(wantD[i]) {
				t.Fatalf("n=%d x=%g dy=%g: relu %g (want %g), grad %g (want %g)", n, x[i], dy[i], got[i], want[i], gotD[i], wantD[i])
			}
		}
	}
}

// BenchmarkReLU times the float32 ReLU forward and backward kernels on
// inception 3b's output size at batch 8 (8x480x28x28), mixed signs.
func BenchmarkReLU(b *testing.B) {
	n := 8 * 480 * 28 * 28
	x, dy, y := make([]float32, n), make([]float32, n), make([]float32, n)
	rng := rand.New(rand.NewPCG(1, 1))
	for i := range x {
		x[i], dy[i] = float32(rng.NormFloat64()), float32(rng.NormFloat64())
	}
	b.Run("forward", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			parallelFor(n, 1, func(lo, hi int) { reluInto(y[lo:hi], x[lo:hi]) })
		}
	})
	b.Run("backward", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			parallelFor(n, 1, func(lo, hi int) { reluGradInto(y[lo:hi], x[lo:hi], dy[lo:hi]) })
		}
	})
	b.Run("backward/go", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			parallelFor(n, 1, func(lo, hi int) { reluGradIntoGo(y[lo:hi], x[lo:hi], dy[lo:hi]) })
		}
	})
}

// TestMax3s2 checks max3s2 (AVX2 for float32 where available) against the
// builtin max over each 3-wide stride-2 window, NaN in any position
// included, around the eight-output blocks and with v exactly 2n+1 long.
func TestMax3s2(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	nan := float32(math.NaN())
	for _, n := range []int{0, 1, 7, 8, 9, 16, 17, 55} {
		for _, extra := range []int{1, 2, 5} {
			v := make([]float32, 2*n+extra)
			for i := range v {
				v[i] = float32(rng.IntN(9)) - 4
				if rng.IntN(9) == 0 {
					v[i] = nan
				}
			}
			got := make([]float32, n)
			max3s2(got, v)
			for j := range got {
				want := max(v[2*j], v[2*j+1], v[2*j+2])
				if math.IsNaN(float64(want)) != math.IsNaN(float64(got[j])) ||
					(!math.IsNaN(float64(want)) && math.Abs(float64(want-got[j])) > 0) {
					t.Fatalf("n=%d extra=%d: dst[%d] = %v, want %v (window %v)", n, extra, j, got[j], want, v[2*j:2*j+3])
				}
			}
		}
	}
}
