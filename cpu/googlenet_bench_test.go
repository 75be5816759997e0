package cpu

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/goinception/googlenet/ops"
)

// googLeNetConvs lists every convolution of GoogLeNet (the paper's Table 1,
// main branch only, no auxiliary heads) at 224x224 for batch n.
func googLeNetConvs(n int) []ops.ConvGeom {
	gs := []ops.ConvGeom{
		conv(n, 3, 224, 64, 7, 2, 3), // conv1
		conv(n, 64, 56, 64, 1, 1, 0), // conv2/3x3_reduce
		conv(n, 64, 56, 192, 3, 1, 1),
	}
	// in, size, #1x1, #3x3 reduce, #3x3, #5x5 reduce, #5x5, pool proj.
	for _, r := range [][8]int{
		{192, 28, 64, 96, 128, 16, 32, 32},     // 3a
		{256, 28, 128, 128, 192, 32, 96, 64},   // 3b
		{480, 14, 192, 96, 208, 16, 48, 64},    // 4a
		{512, 14, 160, 112, 224, 24, 64, 64},   // 4b
		{512, 14, 128, 128, 256, 24, 64, 64},   // 4c
		{512, 14, 112, 144, 288, 32, 64, 64},   // 4d
		{528, 14, 256, 160, 320, 32, 128, 128}, // 4e
		{832, 7, 256, 160, 320, 32, 128, 128},  // 5a
		{832, 7, 384, 192, 384, 48, 128, 128},  // 5b
	} {
		c, hw := r[0], r[1]
		gs = append(gs,
			conv(n, c, hw, r[2], 1, 1, 0),    // 1x1
			conv(n, c, hw, r[3], 1, 1, 0),    // 3x3 reduce
			conv(n, r[3], hw, r[4], 3, 1, 1), // 3x3
			conv(n, c, hw, r[5], 1, 1, 0),    // 5x5 reduce
			conv(n, r[5], hw, r[6], 5, 1, 2), // 5x5
			conv(n, c, hw, r[7], 1, 1, 0),    // pool proj
		)
	}
	return gs
}

// BenchmarkGoogLeNetConvs runs all of GoogLeNet's convolutions at batch 8:
// "forward" (with bias and ReLU) as in inference, "train" adds backward
// data and backward filter (conv1's input gradient is not needed and is
// skipped, as in training). It reports ms per batch and GFLOP/s.
func BenchmarkGoogLeNetConvs(b *testing.B) {
	const batch = 8
	type buffers struct{ x, w, bias, y, dx, dw, db []float32 }
	gs := googLeNetConvs(batch)
	rng := rand.New(rand.NewPCG(3, 3))
	bufs := make([]buffers, len(gs))
	var macs float64
	for i, g := range gs {
		bufs[i] = buffers{
			x:    randSlice(rng, g.N*g.C*g.H*g.W),
			w:    randSlice(rng, g.K*g.C*g.R*g.S),
			bias: randSlice(rng, g.K),
			y:    randSlice(rng, g.N*g.K*g.OutH*g.OutW),
			dx:   make([]float32, g.N*g.C*g.H*g.W),
			dw:   make([]float32, g.K*g.C*g.R*g.S),
			db:   make([]float32, g.K),
		}
		macs += float64(g.N * g.K * g.OutH * g.OutW * g.C * g.R * g.S)
	}
	for _, eng := range benchEngines(b) {
		if eng.name == "reference" {
			continue // minutes per iteration
		}
		e := eng.e
		for _, mode := range []string{"forward", "train"} {
			b.Run(fmt.Sprintf("%s/%s", mode, eng.name), func(b *testing.B) {
				flops := 2 * macs
				for b.Loop() {
					for i, g := range gs {
						u := bufs[i]
						e.ConvForward(g, u.x, u.w, u.bias, u.y, true)
						if mode == "train" {
							if i > 0 {
								e.ConvBackwardData(g, u.w, u.y, u.dx)
							}
							e.ConvBackwardFilter(g, u.x, u.y, u.dw, u.db)
						}
					}
				}
				if mode == "train" {
					flops = 2*macs + 2*(2*macs) // conv1's backward data is skipped; close enough
				}
				b.ReportMetric(b.Elapsed().Seconds()*1e3/float64(b.N), "ms/batch")
				b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
	}
}
