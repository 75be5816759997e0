package cpu

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/goinception/googlenet/ops"
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
)

// googLeNetLayers are convolutions of GoogLeNet (Table 1 of the paper) at
// 224x224, batch 8.
var googLeNetLayers = []struct {
	name string
	g    ops.ConvGeom
}{
	{"conv1.7x7s2", conv(8, 3, 224, 64, 7, 2, 3)},
	{"conv2.3x3_reduce", conv(8, 64, 56, 64, 1, 1, 0)},
	{"conv2.3x3", conv(8, 64, 56, 192, 3, 1, 1)},
	{"inception_3a.1x1", conv(8, 192, 28, 64, 1, 1, 0)},
	{"inception_3a.3x3", conv(8, 96, 28, 128, 3, 1, 1)},
	{"inception_4a.5x5", conv(8, 16, 14, 48, 5, 1, 2)},
	{"inception_5b.1x1", conv(8, 832, 7, 384, 1, 1, 0)},
}

// conv is a square convolution geometry with symmetric padding.
func conv(n, c, hw, k, rs, stride, pad int) ops.ConvGeom {
	out := (hw+2*pad-rs)/stride + 1
	return ops.ConvGeom{N: n, C: c, H: hw, W: hw, K: k, R: rs, S: rs,
		StrideH: stride, StrideW: stride, PadTop: pad, PadLeft: pad, OutH: out, OutW: out}
}

// benchEngines are the engines compared: the system BLAS (if found), the
// pure-Go GEMM, and the naive reference engine of package ops.
func benchEngines(b *testing.B) []struct {
	name string
	e    ops.Engine
} {
	es := []struct {
		name string
		e    ops.Engine
	}{{"go", New(Options{PureGo: true})}, {"reference", ops.Reference{}}}
	if lib, err := SystemLibrary(); err == nil {
		es = append([]struct {
			name string
			e    ops.Engine
		}{
			{"openblas", New(Options{Library: lib})},
			{"openblas_threads", blasThreaded{New(Options{Library: lib, Workers: 1}), lib}},
		}, es...)
	}
	return es
}

// blasThreaded is the strategy the engine does not use, kept to measure it:
// one goroutine, OpenBLAS's own threads inside each GEMM.
type blasThreaded struct {
	*Engine
	lib *Library
}

func (b blasThreaded) run(f func()) {
	b.lib.SetThreads(defaultWorkers())
	defer b.lib.SetThreads(1)
	f()
}

func (b blasThreaded) ConvForward(g ops.ConvGeom, x, w, bias, y []float32, relu bool) (err error) {
	b.run(func() { err = b.Engine.ConvForward(g, x, w, bias, y, relu) })
	return err
}

func (b blasThreaded) ConvBackwardData(g ops.ConvGeom, w, dy, dx []float32) (err error) {
	b.run(func() { err = b.Engine.ConvBackwardData(g, w, dy, dx) })
	return err
}

func (b blasThreaded) ConvBackwardFilter(g ops.ConvGeom, x, dy, dw, db []float32) (err error) {
	b.run(func() { err = b.Engine.ConvBackwardFilter(g, x, dy, dw, db) })
	return err
}

// BenchmarkConv reports GFLOP/s (2 flops per multiply-add) of the forward
// pass (with bias and ReLU), backward data and backward filter.
func BenchmarkConv(b *testing.B) {
	for _, l := range googLeNetLayers {
		g := l.g
		rng := rand.New(rand.NewPCG(1, 1))
		x := randSlice(rng, g.N*g.C*g.H*g.W)
		w := randSlice(rng, g.K*g.C*g.R*g.S)
		bias := randSlice(rng, g.K)
		dy := randSlice(rng, g.N*g.K*g.OutH*g.OutW)
		y := make([]float32, len(dy))
		dx := make([]float32, len(x))
		dw := make([]float32, len(w))
		db := make([]float32, g.K)
		flops := 2 * float64(g.N*g.K*g.OutH*g.OutW*g.C*g.R*g.S)
		for _, eng := range benchEngines(b) {
			e := eng.e
			for _, pass := range []struct {
				name string
				f    func()
			}{
				{"forward", func() { e.ConvForward(g, x, w, bias, y, true) }},
				{"backward_data", func() { e.ConvBackwardData(g, w, dy, dx) }},
				{"backward_filter", func() { e.ConvBackwardFilter(g, x, dy, dw, db) }},
			} {
				b.Run(fmt.Sprintf("%s/%s/%s", l.name, pass.name, eng.name), func(b *testing.B) {
					for b.Loop() {
						pass.f()
					}
					b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
				})
			}
		}
	}
}

// BenchmarkSgemm compares square SGEMMs: OpenBLAS split over goroutines
// (the engine's strategy), OpenBLAS's own threads on one goroutine, the
// pure-Go GEMM, gonum's pure-Go Sgemm and the naive reference.
func BenchmarkSgemm(b *testing.B) {
	lib, libErr := SystemLibrary()
	for _, size := range []int{512, 1024} {
		rng := rand.New(rand.NewPCG(2, 2))
		a := randSlice(rng, size*size)
		bb := randSlice(rng, size*size)
		c := make([]float32, size*size)
		flops := 2 * float64(size) * float64(size) * float64(size)
		type impl struct {
			name string
			f    func()
		}
		impls := []impl{
			{"go", func() {
				New(Options{PureGo: true}).Gemm(false, false, size, size, size, 1, a, size, bb, size, 0, c, size)
			}},
			{"gonum", func() {
				gonum.Implementation{}.Sgemm(blas.NoTrans, blas.NoTrans, size, size, size, 1, a, size, bb, size, 0, c, size)
			}},
			{"reference", func() { ops.Reference{}.Gemm(false, false, size, size, size, 1, a, size, bb, size, 0, c, size) }},
		}
		if libErr == nil {
			e := New(Options{Library: lib})
			impls = append([]impl{
				{"openblas", func() { e.Gemm(false, false, size, size, size, 1, a, size, bb, size, 0, c, size) }},
				{"openblas_threads", func() {
					lib.SetThreads(defaultWorkers())
					defer lib.SetThreads(1)
					lib.Sgemm(false, false, size, size, size, 1, a, size, bb, size, 0, c, size)
				}},
			}, impls...)
		}
		for _, im := range impls {
			b.Run(fmt.Sprintf("%d/%s", size, im.name), func(b *testing.B) {
				for b.Loop() {
					im.f()
				}
				b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
	}
}
