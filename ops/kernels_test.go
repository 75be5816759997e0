package ops

// Fast kernels against their naive specifications (the plain loops they
// replaced), on random data with NaNs and ties, and benchmarks of both at
// GoogLeNet's layer sizes (batch 8, float32).

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// naivePool is the specification of poolOp's forward pass: every window
// scanned in row-major order.
func naivePool[T float](op *poolOp, x, y []T) {
	p := op.p
	hw, ohw := p.H*p.W, p.OutH*p.OutW
	for nc := 0; nc < p.N*p.C; nc++ {
		xi, yo := x[nc*hw:(nc+1)*hw], y[nc*ohw:(nc+1)*ohw]
		for oh := 0; oh < p.OutH; oh++ {
			for ow := 0; ow < p.OutW; ow++ {
				best, s := T(math.Inf(-1)), T(0)
				for ih := op.h.Start[oh]; ih < op.h.End[oh]; ih++ {
					for iw := op.w.Start[ow]; iw < op.w.End[ow]; iw++ {
						v := xi[ih*p.W+iw]
						if v > best || v != v {
							best = v
						}
						s += v
					}
				}
				if op.isMax() {
					yo[oh*p.OutW+ow] = best
				} else {
					yo[oh*p.OutW+ow] = s / T(op.h.Div[oh]*op.w.Div[ow])
				}
			}
		}
	}
}

// naivePoolGrad is the specification of poolGradOp: dy goes to the first
// maximum of each window (the first NaN if there is one), or is spread
// evenly for average pools.
func naivePoolGrad[T float](op *poolOp, x, dy, dx []T) {
	p := op.p
	clear(dx)
	hw, ohw := p.H*p.W, p.OutH*p.OutW
	for nc := 0; nc < p.N*p.C; nc++ {
		for oh := 0; oh < p.OutH; oh++ {
			for ow := 0; ow < p.OutW; ow++ {
				d := dy[nc*ohw+oh*p.OutW+ow]
				best, arg := T(math.Inf(-1)), -1
				for ih := op.h.Start[oh]; ih < op.h.End[oh]; ih++ {
					for iw := op.w.Start[ow]; iw < op.w.End[ow]; iw++ {
						i := nc*hw + ih*p.W + iw
						if !op.isMax() {
							dx[i] += d / T(op.h.Div[oh]*op.w.Div[ow])
						} else if v := x[i]; v > best || (v != v && best == best) || arg < 0 {
							best, arg = v, i
						}
					}
				}
				if op.isMax() {
					dx[arg] += d
				}
			}
		}
	}
}

// poolCase builds the pooling op of kind over an input of the given shape.
func poolCase(t testing.TB, dt tensor.Dtype, kind string, shape []int, o PoolOpts) *poolOp {
	t.Helper()
	g := G.NewGraph()
	x := G.NewTensor(g, dt, 4, G.WithShape(shape...), G.WithName("x"))
	var y *G.Node
	var err error
	switch kind {
	case "global":
		y, err = GlobalAvgPool2D(x)
	case "adaptive":
		y, err = AdaptiveAvgPool2D(x, 4, 4)
	default:
		y, err = newPool(nil, x, kind, o, 0, 0)
	}
	if err != nil {
		t.Fatal(err)
	}
	return y.Op().(*poolOp)
}

func randomFill[T float](rng *rand.Rand, v []T, nanEvery int) {
	for i := range v {
		// Few distinct values make ties, which the first-maximum rule decides.
		v[i] = T(rng.IntN(7)) - 3
		if nanEvery > 0 && rng.IntN(nanEvery) == 0 {
			// NaN, +Inf or -Inf: the maximum's search must cope with all.
			v[i] = T([]float64{math.NaN(), math.Inf(1), math.Inf(-1)}[rng.IntN(3)])
		}
	}
}

// sameFloats reports whether a and b agree within tol, NaN matching NaN.
func sameFloats[T float](a, b []T, tol float64) (int, bool) {
	for i := range a {
		x, y := float64(a[i]), float64(b[i])
		if math.IsNaN(x) != math.IsNaN(y) || (!math.IsNaN(x) && math.Abs(x-y) > tol*(1+math.Abs(y))) {
			return i, false
		}
	}
	return 0, true
}

// kernelTol is the relative tolerance between a fast kernel and its naive
// specification: only summation order may differ.
const kernelTol = 1e-5

var poolCases = []struct {
	kind  string
	shape []int
	o     PoolOpts
}{
	{"max", []int{2, 3, 9, 11}, PoolOpts{KernelH: 3, KernelW: 3, StrideH: 2, StrideW: 2, CeilMode: true}},
	{"max", []int{2, 3, 7, 7}, PoolOpts{KernelH: 3, KernelW: 3, Pad: Same(1)}},
	// 3x3/2 pools wide enough for max3s2's vectors: every window full (37)
	// and the last one clipped by ceil mode (36, odd height too); with
	// padding they take the general path.
	{"max", []int{2, 3, 20, 37}, PoolOpts{KernelH: 3, KernelW: 3, StrideH: 2, StrideW: 2, CeilMode: true}},
	{"max", []int{1, 4, 17, 36}, PoolOpts{KernelH: 3, KernelW: 3, StrideH: 2, StrideW: 2, CeilMode: true}},
	{"max", []int{1, 2, 16, 36}, PoolOpts{KernelH: 3, KernelW: 3, StrideH: 2, StrideW: 2, Pad: Same(1)}},
	{"max", []int{1, 2, 8, 6}, PoolOpts{KernelH: 2, KernelW: 4, StrideH: 2, StrideW: 1, Pad: Pad2D{Top: 1, Right: 2}}},
	{"max", []int{3, 5, 14, 14}, PoolOpts{KernelH: 2, KernelW: 2, StrideH: 2, StrideW: 2, CeilMode: true}},
	{"avg", []int{2, 3, 14, 14}, PoolOpts{KernelH: 5, KernelW: 5, StrideH: 3, StrideW: 3}},
	{"avg", []int{2, 3, 9, 9}, PoolOpts{KernelH: 3, KernelW: 3, StrideH: 2, StrideW: 2, Pad: Same(1), CeilMode: true, CountIncludePad: true}},
	{"global", []int{2, 4, 7, 7}, PoolOpts{}},
	{"adaptive", []int{2, 4, 14, 14}, PoolOpts{}},
}

func TestPoolKernelsMatchNaive(t *testing.T) {
	for _, c := range poolCases {
		for _, nanEvery := range []int{0, 5} {
			t.Run(fmt.Sprintf("%s%v%+v/nan%d", c.kind, c.shape, c.o, nanEvery), func(t *testing.T) {
				testPoolKernel[float32](t, tensor.Float32, c.kind, c.shape, c.o, nanEvery)
				testPoolKernel[float64](t, tensor.Float64, c.kind, c.shape, c.o, nanEvery)
			})
		}
	}
}

func testPoolKernel[T float](t *testing.T, dt tensor.Dtype, kind string, shape []int, o PoolOpts, nanEvery int) {
	op := poolCase(t, dt, kind, shape, o)
	p := op.p
	rng := rand.New(rand.NewPCG(1, uint64(nanEvery)))
	x := make([]T, p.N*p.C*p.H*p.W)
	dy := make([]T, p.N*p.C*p.OutH*p.OutW)
	randomFill(rng, x, nanEvery)
	randomFill(rng, dy, 0)
	xt := tensor.New(tensor.WithShape(p.N, p.C, p.H, p.W), tensor.WithBacking(x))
	dyt := tensor.New(tensor.WithShape(p.N, p.C, p.OutH, p.OutW), tensor.WithBacking(dy))
	want := make([]T, len(dy))
	naivePool(op, x, want)
	got, err := op.Do(xt)
	if err != nil {
		t.Fatal(err)
	}
	if i, ok := sameFloats(got.Data().([]T), want, kernelTol); !ok {
		t.Fatalf("%T forward: element %d = %v, want %v", x, i, got.Data().([]T)[i], want[i])
	}
	gop := &poolGradOp{fwd: op}
	wantDx := make([]T, len(x))
	naivePoolGrad(op, x, dy, wantDx)
	var dx G.Value
	if op.isMax() {
		dx, err = gop.Do(xt, tensor.New(tensor.WithShape(p.N, p.C, p.OutH, p.OutW), tensor.WithBacking(want)), dyt)
	} else {
		dx, err = gop.Do(dyt)
	}
	if err != nil {
		t.Fatal(err)
	}
	if i, ok := sameFloats(dx.Data().([]T), wantDx, kernelTol); !ok {
		t.Fatalf("%T backward: element %d = %v, want %v", x, i, dx.Data().([]T)[i], wantDx[i])
	}
}

// GoogLeNet's pools at batch 8: the stem's 3x3/2 pools, an Inception pool
// branch (3x3/1 pad 1) and the 5a pool.
var poolBenchCases = []struct {
	name  string
	shape []int
	o     PoolOpts
}{
	{"pool1_3x3_s2", []int{8, 64, 112, 112}, PoolOpts{KernelH: 3, KernelW: 3, StrideH: 2, StrideW: 2, CeilMode: true}},
	{"inception_3b_pool", []int{8, 256, 28, 28}, PoolOpts{KernelH: 3, KernelW: 3, Pad: Same(1)}},
	{"inception_4e_pool", []int{8, 528, 14, 14}, PoolOpts{KernelH: 3, KernelW: 3, Pad: Same(1)}},
}

// BenchmarkMaxPool times the max pool forward and backward kernels against
// the naive loops, reporting input elements per nanosecond (Gelem/s).
func BenchmarkMaxPool(b *testing.B) {
	for _, c := range poolBenchCases {
		op := poolCase(b, tensor.Float32, "max", c.shape, c.o)
		p := op.p
		x := make([]float32, p.N*p.C*p.H*p.W)
		dy := make([]float32, p.N*p.C*p.OutH*p.OutW)
		randomFill(rand.New(rand.NewPCG(1, 2)), x, 0)
		randomFill(rand.New(rand.NewPCG(3, 4)), dy, 0)
		xt := tensor.New(tensor.WithShape(p.N, p.C, p.H, p.W), tensor.WithBacking(x))
		dyt := tensor.New(tensor.WithShape(p.N, p.C, p.OutH, p.OutW), tensor.WithBacking(dy))
		y, dx := make([]float32, len(dy)), make([]float32, len(x))
		naivePool(op, x, y)
		yt := tensor.New(tensor.WithShape(p.N, p.C, p.OutH, p.OutW), tensor.WithBacking(append([]float32(nil), y...)))
		gop := &poolGradOp{fwd: op}
		elems := float64(len(x))
		report := func(b *testing.B) {
			b.ReportMetric(elems*float64(b.N)/b.Elapsed().Seconds()/1e9, "Gelem/s")
		}
		b.Run(c.name+"/forward/fast", func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				if _, err := op.Do(xt); err != nil {
					b.Fatal(err)
				}
			}
			report(b)
		})
		b.Run(c.name+"/forward/naive", func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				naivePool(op, x, y)
			}
			report(b)
		})
		b.Run(c.name+"/backward/fast", func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				if _, err := gop.Do(xt, yt, dyt); err != nil {
					b.Fatal(err)
				}
			}
			report(b)
		})
		b.Run(c.name+"/backward/naive", func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				naivePoolGrad(op, x, dy, dx)
			}
			report(b)
		})
	}
}

// naiveLRN is the specification of LRN forward and backward, straight from
// the formulas of LRNOpts and lrnGradOp, in float64.
func naiveLRN(p lrnParams, x, dy []float64) (y, dx []float64) {
	o := p.Opts
	hw := p.H * p.W
	half := (o.Size - 1) / 2
	at := func(n, c, i int) int { return (n*p.C+c)*hw + i }
	s := make([]float64, len(x))
	y, dx = make([]float64, len(x)), make([]float64, len(x))
	for n := 0; n < p.N; n++ {
		for c := 0; c < p.C; c++ {
			for i := 0; i < hw; i++ {
				var q float64
				for j := max(0, c-half); j <= min(p.C-1, c+half); j++ {
					q += x[at(n, j, i)] * x[at(n, j, i)]
				}
				s[at(n, c, i)] = o.K + o.Alpha/float64(o.Size)*q
				y[at(n, c, i)] = x[at(n, c, i)] * math.Pow(s[at(n, c, i)], -o.Beta)
			}
		}
	}
	for n := 0; n < p.N; n++ {
		for c := 0; c < p.C; c++ {
			for i := 0; i < hw; i++ {
				var q float64
				for j := max(0, c-half); j <= min(p.C-1, c+half); j++ {
					q += dy[at(n, j, i)] * y[at(n, j, i)] / s[at(n, j, i)]
				}
				k := at(n, c, i)
				dx[k] = dy[k]*math.Pow(s[k], -o.Beta) - 2*o.Alpha*o.Beta/float64(o.Size)*x[k]*q
			}
		}
	}
	return y, dx
}

func TestLRNKernelsMatchNaive(t *testing.T) {
	for _, o := range []LRNOpts{{Size: 5, Alpha: 1e-4, Beta: 0.75, K: 1}, {Size: 3, Alpha: 0.5, Beta: 0.6, K: 2}} {
		p := lrnParams{N: 2, C: 7, H: 5, W: 6, Opts: o}
		rng := rand.New(rand.NewPCG(5, 6))
		x, dy := make([]float64, p.N*p.C*p.H*p.W), make([]float64, p.N*p.C*p.H*p.W)
		for i := range x {
			x[i], dy[i] = 4*rng.Float64()-2, rng.Float64()-0.5
		}
		wantY, wantDx := naiveLRN(p, x, dy)
		op := &lrnOp{p: p}
		shape := []int{p.N, p.C, p.H, p.W}
		xt, dyt := tensor.New(tensor.WithShape(shape...), tensor.WithBacking(x)), tensor.New(tensor.WithShape(shape...), tensor.WithBacking(dy))
		y, err := op.Do(xt)
		if err != nil {
			t.Fatal(err)
		}
		if i, ok := sameFloats(y.Data().([]float64), wantY, kernelTol); !ok {
			t.Fatalf("%+v forward: element %d = %v, want %v", o, i, y.Data().([]float64)[i], wantY[i])
		}
		dx, err := (&lrnGradOp{p: p}).Do(xt, y, dyt)
		if err != nil {
			t.Fatal(err)
		}
		if i, ok := sameFloats(dx.Data().([]float64), wantDx, kernelTol); !ok {
			t.Fatalf("%+v backward: element %d = %v, want %v", o, i, dx.Data().([]float64)[i], wantDx[i])
		}
	}
}
