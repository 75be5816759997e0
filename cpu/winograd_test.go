package cpu

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/goinception/googlenet/ops"
	"github.com/goinception/googlenet/ops/opstest"
)

// winoEngines returns the engines of engines(t) with the Winograd path
// forced on (whatever GOOGLENET_WINOGRAD says), and one im2col engine.
func winoEngines(t *testing.T) (map[string]*Engine, *Engine) {
	es := engines(t)
	for _, e := range es {
		e.winograd = true
	}
	return es, New(Options{PureGo: true, NoWinograd: true, Workers: 1})
}

// square3x3 is a 3x3, stride-1, pad-1 geometry of h x w planes.
func square3x3(n, c, h, w, k int) ops.ConvGeom {
	return ops.ConvGeom{N: n, C: c, H: h, W: w, K: k, R: 3, S: 3, StrideH: 1, StrideW: 1,
		PadTop: 1, PadLeft: 1, OutH: h, OutW: w}
}

// winoGeometries cross odd and even plane sizes (1 to 57), channel counts
// that are multiples of nothing, and batches 1, 3 and 8.
var winoGeometries = []ops.ConvGeom{
	square3x3(1, 1, 1, 1, 1),
	square3x3(3, 3, 2, 3, 5),
	square3x3(8, 5, 3, 2, 7),
	square3x3(1, 17, 7, 7, 13),
	square3x3(3, 17, 7, 14, 33),
	square3x3(8, 9, 14, 14, 11),
	square3x3(1, 70, 14, 14, 33),
	square3x3(1, 13, 28, 28, 19),
	square3x3(3, 6, 28, 7, 10),
	square3x3(1, 5, 57, 57, 7),
	square3x3(3, 3, 57, 28, 4),
	square3x3(2, 40, 1, 57, 3),
}

// TestWinogradForward checks the Winograd path against the float64
// definition (opstest.RefConvForward, the conformance suite's tolerance
// relative to the sum of the terms' magnitudes) and against the im2col
// path, with and without bias and ReLU, on every engine configuration
// (BLAS and pure-Go GEMM, 1, 4 and GOMAXPROCS workers: blocks of their own
// or shared, output channels split or not), and with blocks so small that
// they split tile rows.
func TestWinogradForward(t *testing.T) {
	defer func(old int) { winoMinTiles = old }(winoMinTiles)
	winoMinTiles = 1
	es, im2col := winoEngines(t)
	worst := 0.0
	type config struct{ blockBytes, minBlock int }
	for _, cf := range []config{
		{winoBlockBytes, winoMinBlock}, // the defaults
		{4 << 10, 3},                   // many small blocks per image
	} {
		for _, g := range winoGeometries {
			rng := rand.New(rand.NewPCG(uint64(g.H*100+g.W), uint64(g.C*100+g.K)))
			x := randSlice(rng, g.N*g.C*g.H*g.W)
			w := randSlice(rng, g.K*g.C*9)
			b := randSlice(rng, g.K)
			for _, bias := range []bool{false, true} {
				var bb []float32
				if bias {
					bb = b
				}
				want, mag := opstest.RefConvForward(g, x, w, bb)
				for _, relu := range []bool{false, true} {
					wantR := want
					if relu {
						wantR = make([]float64, len(want))
						for i, v := range want {
							wantR[i] = math.Max(v, 0)
						}
					}
					ref := make([]float32, len(want))
					im2col.ConvForward(g, x, w, bb, ref, relu)
					name := fmt.Sprintf("N%dC%dH%dW%dK%d/bias=%v/relu=%v/%v", g.N, g.C, g.H, g.W, g.K, bias, relu, cf)
					for ename, e := range es {
						y := make([]float32, len(want))
						for i := range y {
							y[i] = float32(math.NaN()) // every output must be written
						}
						func() {
							defer func(a, b int) { winoBlockBytes, winoMinBlock = a, b }(winoBlockBytes, winoMinBlock)
							winoBlockBytes, winoMinBlock = cf.blockBytes, cf.minBlock
							e.ConvForward(g, x, w, bb, y, relu)
						}()
						t.Run(name+"/"+ename, func(t *testing.T) {
							compare(t, "y", y, wantR, mag)
							for i, v := range y {
								if d := math.Abs(float64(v) - float64(ref[i])); d > 2*(opstest.RelTol*mag[i]+opstest.AbsTol) {
									t.Fatalf("y[%d] = %v, im2col path %v", i, v, ref[i])
								}
								if mag[i] > 0 {
									worst = max(worst, math.Abs(float64(v)-wantR[i])/mag[i])
								}
							}
						})
					}
				}
			}
		}
	}
	t.Logf("largest error relative to the sum of the terms' magnitudes: %.3g (tolerance %g)", worst, opstest.RelTol)
}

// TestWinogradBackwardData checks the Winograd data gradient (the forward
// Winograd of dy with the filters rotated and transposed) against the
// float64 definition (opstest.RefConvBackwardData) and the im2col path,
// on the geometries and engine configurations of TestWinogradForward, with
// dx starting as NaN (it must be overwritten).
func TestWinogradBackwardData(t *testing.T) {
	defer func(a, b, c int) { winoMinTilesBack, winoBlockBytes, winoMinBlock = a, b, c }(winoMinTilesBack, winoBlockBytes, winoMinBlock)
	winoMinTilesBack = 1
	es, im2col := winoEngines(t)
	worst := 0.0
	for _, cf := range [][2]int{{winoBlockBytes, winoMinBlock}, {4 << 10, 3}} {
		winoBlockBytes, winoMinBlock = cf[0], cf[1]
		for _, g := range winoGeometries {
			rng := rand.New(rand.NewPCG(uint64(g.H*10+g.W), uint64(g.C*10+g.K)))
			w := randSlice(rng, g.K*g.C*9)
			dy := randSlice(rng, g.N*g.K*g.OutH*g.OutW)
			want, mag := opstest.RefConvBackwardData(g, w, dy)
			ref := make([]float32, len(want))
			im2col.ConvBackwardData(g, w, dy, ref)
			for ename, e := range es {
				dx := make([]float32, len(want))
				for i := range dx {
					dx[i] = float32(math.NaN())
				}
				e.ConvBackwardData(g, w, dy, dx)
				t.Run(fmt.Sprintf("N%dC%dH%dW%dK%d/%v/%s", g.N, g.C, g.H, g.W, g.K, cf, ename), func(t *testing.T) {
					compare(t, "dx", dx, want, mag)
					for i, v := range dx {
						if d := math.Abs(float64(v) - float64(ref[i])); d > 2*(opstest.RelTol*mag[i]+opstest.AbsTol) {
							t.Fatalf("dx[%d] = %v, im2col path %v", i, v, ref[i])
						}
						if mag[i] > 0 {
							worst = max(worst, math.Abs(float64(v)-want[i])/mag[i])
						}
					}
				})
			}
		}
	}
	t.Logf("largest error relative to the sum of the terms' magnitudes: %.3g (tolerance %g)", worst, opstest.RelTol)
}

// TestWinogradNonFinite checks that NaN and ±Inf inputs make the outputs
// whose windows hold them non-finite, and only those, as in the definition
// (an Inf may come out as NaN: the transforms subtract it from itself).
func TestWinogradNonFinite(t *testing.T) {
	defer func(old int) { winoMinTiles = old }(winoMinTiles)
	winoMinTiles = 1
	es, _ := winoEngines(t)
	g := square3x3(2, 4, 9, 8, 5)
	rng := rand.New(rand.NewPCG(7, 7))
	x := randSlice(rng, g.N*g.C*g.H*g.W)
	w := randSlice(rng, g.K*g.C*9)
	for i, v := range []float64{math.NaN(), math.Inf(1), math.Inf(-1), math.NaN()} {
		x[rng.IntN(len(x))] = float32(v)
		_ = i
	}
	x[0] = float32(math.Inf(1))                  // a corner
	x[g.C*g.H*g.W-1] = float32(math.NaN())       // the other corner of image 0
	x[(g.C*g.H+4)*g.W+7] = float32(math.Inf(-1)) // image 1, right edge
	want, mag := opstest.RefConvForward(g, x, w, nil)
	for name, e := range es {
		y := make([]float32, len(want))
		e.ConvForward(g, x, w, nil, y, false)
		bad := 0
		for i, wv := range want {
			finite := !math.IsNaN(wv) && !math.IsInf(wv, 0)
			gv := float64(y[i])
			gotFinite := !math.IsNaN(gv) && !math.IsInf(gv, 0)
			switch {
			case finite != gotFinite:
				t.Errorf("%s: y[%d] = %v, want %v", name, i, gv, wv)
				bad++
			case finite && math.Abs(gv-wv) > opstest.RelTol*mag[i]+opstest.AbsTol:
				t.Errorf("%s: y[%d] = %v, want %v", name, i, gv, wv)
				bad++
			}
			if bad > 5 {
				t.FailNow()
			}
		}
	}
}

// TestWinogradApplies pins which geometries take the Winograd path.
func TestWinogradApplies(t *testing.T) {
	if winoMinTiles != 16 || winoMinTilesBack != 49 {
		t.Fatalf("winoMinTiles = %d, winoMinTilesBack = %d; the cases below assume 16 and 49", winoMinTiles, winoMinTilesBack)
	}
	for _, tc := range []struct {
		g    ops.ConvGeom
		want bool
	}{
		{square3x3(1, 8, 14, 14, 8), true},
		{square3x3(1, 8, 7, 7, 8), true},    // 16 tiles
		{square3x3(8, 8, 6, 7, 8), false},   // 12 tiles an image
		{conv(1, 8, 14, 8, 3, 2, 1), false}, // stride 2
		{conv(1, 8, 14, 8, 3, 1, 0), false}, // unpadded
		{conv(1, 8, 14, 8, 5, 1, 2), false}, // 5x5
		{conv(1, 8, 14, 8, 1, 1, 0), false}, // 1x1
		{ops.ConvGeom{N: 1, C: 2, H: 16, W: 16, K: 2, R: 3, S: 3, StrideH: 1, StrideW: 1, PadTop: 1, PadLeft: 1, OutH: 15, OutW: 16}, false}, // no bottom pad
		{ops.ConvGeom{N: 1, C: 2, H: 16, W: 16, K: 2, R: 3, S: 3, PadTop: 1, PadLeft: 1, OutH: 16, OutW: 16}, true},                          // stride 0 = 1
	} {
		if got := winoApplies(newGeom(tc.g)); got != tc.want {
			t.Errorf("winoApplies(%+v) = %v, want %v", tc.g, got, tc.want)
		}
		// The data gradient: from 49 tiles an image (14x14) on.
		wantBack := tc.want && winoTiles(newGeom(tc.g)) >= 49
		if got := winoAppliesBack(newGeom(tc.g)); got != wantBack {
			t.Errorf("winoAppliesBack(%+v) = %v, want %v", tc.g, got, wantBack)
		}
	}
	if New(Options{NoWinograd: true}).winograd {
		t.Error("Options.NoWinograd does not turn Winograd off")
	}
	t.Setenv(EnvWinograd, "0")
	if New(Options{}).winograd {
		t.Errorf("%s=0 does not turn Winograd off", EnvWinograd)
	}
}

// TestWinogradImageAloneMatchesBatch checks that the Winograd path gives
// an image bit for bit the same output (and data gradient) alone as in a
// batch, on every engine configuration: the blocks and GEMM shapes must not
// depend on the batch (package serve relies on it; see
// TestImageAloneMatchesBatch).
func TestWinogradImageAloneMatchesBatch(t *testing.T) {
	defer func(a, b int) { winoBlockBytes, winoMinBlock = a, b }(winoBlockBytes, winoMinBlock)
	rng := rand.New(rand.NewPCG(8, 8))
	for _, cf := range [][2]int{{winoBlockBytes, winoMinBlock}, {4 << 10, 3}} {
		winoBlockBytes, winoMinBlock = cf[0], cf[1]
		for _, g := range []ops.ConvGeom{
			square3x3(3, 20, 14, 14, 40), // one block an image
			square3x3(8, 12, 14, 14, 24),
			square3x3(3, 10, 28, 28, 20),
			square3x3(8, 6, 28, 28, 10),
			square3x3(5, 7, 19, 17, 9),
			square3x3(2, 3, 57, 28, 4),
			square3x3(4, 16, 7, 7, 32),
			square3x3(3, 96, 14, 14, 208), // GoogLeNet's inception_4a/3x3
			square3x3(2, 64, 28, 28, 96),
		} {
			if !winoApplies(newGeom(g)) {
				t.Fatalf("%+v does not take the Winograd path", g)
			}
			q := newGeom(g)
			x := randSlice(rng, g.N*q.chw)
			w := randSlice(rng, g.K*q.crs)
			b := randSlice(rng, g.K)
			es, _ := winoEngines(t)
			for ename, e := range es {
				batch := make([]float32, g.N*q.kohw)
				e.ConvForward(g, x, w, b, batch, true)
				dy := randSlice(rng, g.N*q.kohw)
				dxBatch := make([]float32, g.N*q.chw)
				e.ConvBackwardData(g, w, dy, dxBatch)
				g1 := g
				g1.N = 1
				for n := 0; n < g.N; n++ {
					alone := make([]float32, q.kohw)
					e.ConvForward(g1, x[n*q.chw:(n+1)*q.chw], w, b, alone, true)
					for i, v := range alone {
						if math.Float32bits(v) != math.Float32bits(batch[n*q.kohw+i]) {
							t.Fatalf("%+v, blocks %v, %s, image %d: y[%d] alone %v, in the batch %v", g, cf, ename, n, i, v, batch[n*q.kohw+i])
						}
					}
					dx := make([]float32, q.chw)
					e.ConvBackwardData(g1, w, dy[n*q.kohw:(n+1)*q.kohw], dx)
					for i, v := range dx {
						if math.Float32bits(v) != math.Float32bits(dxBatch[n*q.chw+i]) {
							t.Fatalf("%+v, blocks %v, %s, image %d: dx[%d] alone %v, in the batch %v", g, cf, ename, n, i, v, dxBatch[n*q.chw+i])
						}
					}
				}
			}
		}
	}
}
