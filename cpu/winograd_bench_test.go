package cpu

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// BenchmarkWinograd compares the forward pass (bias and ReLU) and the data
// gradient of each of GoogLeNet's 3x3 convolutions at batch 1, 2 and 8 by
// Winograd and by
// im2col+GEMM, on the system BLAS (when found) and the pure-Go GEMM. It
// reports the direct convolution's GFLOP/s (2 per multiply-add), so the
// two paths compare as speeds of the same work. Winograd runs even where
// winoMinTiles or winoMinTilesBack would turn it off (the measurements
// behind those rules).
func BenchmarkWinograd(b *testing.B) {
	defer func(a, b int) { winoMinTiles, winoMinTilesBack = a, b }(winoMinTiles, winoMinTilesBack)
	winoMinTiles, winoMinTilesBack = 1, 1
	type variant struct {
		name string
		e    *Engine
	}
	var vs []variant
	if lib, err := SystemLibrary(); err == nil {
		vs = append(vs, variant{"openblas/winograd", New(Options{Library: lib})},
			variant{"openblas/im2col", New(Options{Library: lib, NoWinograd: true})})
	}
	vs = append(vs, variant{"go/winograd", New(Options{PureGo: true})},
		variant{"go/im2col", New(Options{PureGo: true, NoWinograd: true})})
	for _, v := range vs {
		v.e.winograd = v.name[len(v.name)-8:] == "winograd"
	}
	for _, batch := range []int{1, 2, 8} {
		for i, g := range googLeNetConvs(batch) {
			if !winoApplies(newGeom(g)) {
				continue
			}
			rng := rand.New(rand.NewPCG(uint64(i), 5))
			x := randSlice(rng, g.N*g.C*g.H*g.W)
			w := randSlice(rng, g.K*g.C*9)
			bias := randSlice(rng, g.K)
			y := make([]float32, g.N*g.K*g.OutH*g.OutW)
			dx := make([]float32, len(x))
			flops := 2 * float64(g.N*g.K*g.OutH*g.OutW*g.C*9)
			for _, pass := range []string{"forward", "backward_data"} {
				for _, v := range vs {
					b.Run(fmt.Sprintf("batch%d/%dx%d/C%dK%d/%s/%s", batch, g.H, g.W, g.C, g.K, pass, v.name), func(b *testing.B) {
						for b.Loop() {
							if pass == "forward" {
								v.e.ConvForward(g, x, w, bias, y, true)
							} else {
								v.e.ConvBackwardData(g, w, y, dx)
							}
						}
						b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
					})
				}
			}
		}
	}
}

// BenchmarkWinogradFilter measures the filter transform of inception_5b's
// 3x3 filters (384 x 192), which every Winograd call does, in ns/filter.
func BenchmarkWinogradFilter(b *testing.B) {
	const n = 384 * 192
	w := randSlice(rand.New(rand.NewPCG(1, 9)), 9*n)
	us := planeStride(n)
	u := make([]float32, 16*us)
	b.Run("asm", func(b *testing.B) {
		for b.Loop() {
			winoFilterRow(w, u, us, n)
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/n, "ns/filter")
	})
	b.Run("go", func(b *testing.B) {
		for b.Loop() {
			winoFilterGo(w, u, us, n)
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/n, "ns/filter")
	})
}
