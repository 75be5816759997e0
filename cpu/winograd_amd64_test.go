package cpu

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/goinception/googlenet/ops"
	"github.com/goinception/googlenet/ops/opstest"
)

// TestWinogradAssembly compares the AVX-512 transforms with their Go twins
// (winoFilterGo, winoInputGo, winoOutputGo) on random data with NaN and
// infinities, for counts around the 16-lane steps. Both compute the same
// operations in the same order, so the results must be identical bit for
// bit; the assembly must also leave the memory past its outputs alone.
func TestWinogradAssembly(t *testing.T) {
	if !hasAVX512 {
		t.Skip("no AVX-512")
	}
	rng := rand.New(rand.NewPCG(19, 19))
	special := []float32{float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1)), 0}
	fill := func(n int) []float32 {
		v := randSlice(rng, n)
		for i := 0; i < n/50; i++ {
			v[rng.IntN(n)] = special[rng.IntN(len(special))]
		}
		return v
	}
	same := func(what string, n int, got, want []float32) {
		t.Helper()
		for i := range want {
			if math.Float32bits(got[i]) != math.Float32bits(want[i]) &&
				!(math.IsNaN(float64(got[i])) && math.IsNaN(float64(want[i]))) {
				t.Fatalf("%s(n=%d)[%d] = %v, Go twin %v", what, n, i, got[i], want[i])
			}
		}
	}
	const sentinel = 7.5
	for _, n := range []int{1, 5, 15, 16, 17, 31, 32, 33, 48, 100} {
		// Filter transform.
		w := fill(9 * n)
		us := n + 3
		got, want := make([]float32, 16*us), make([]float32, 16*us)
		for i := range got {
			got[i], want[i] = sentinel, sentinel
		}
		winoFilterRow(w, got, us, n)
		winoFilterGo(w, want, us, n)
		same("winoFilterRow", n, got, want)

		// Input transform: 4 rows of 2n+2 values, room to read past them.
		pw := 2*n + 40
		p := fill(4 * pw)
		vs := n + 5
		got, want = make([]float32, 16*vs), make([]float32, 16*vs)
		for i := range got {
			got[i], want[i] = sentinel, sentinel
		}
		winoInputRow(p, pw, got, vs, n)
		winoInputGo(p, pw, want, vs, n)
		same("winoInputRow", n, got, want)

		// Output transform, with and without ReLU, even and odd row ends.
		ms := n + 16
		m := fill(16 * ms)
		for _, relu := range []bool{false, true} {
			for _, nf := range []int{2 * n, 2*n - 1} {
				b := float32(rng.NormFloat64())
				g0, g1 := make([]float32, 2*n+8), make([]float32, 2*n+8)
				w0, w1 := make([]float32, 2*n+8), make([]float32, 2*n+8)
				for i := range g0 {
					g0[i], g1[i], w0[i], w1[i] = sentinel, sentinel, sentinel, sentinel
				}
				winoOutputRow(m, ms, n, nf, b, relu, g0, g1)
				winoOutputGo(m, ms, n, nf, b, relu, w0, w1)
				same("winoOutputRow.out0", n, g0, w0)
				same("winoOutputRow.out1", n, g1, w1)
			}
		}
	}
}

// TestWinogradPortable runs the Winograd forward pass and data gradient
// with the assembly turned off (the Go twins other CPUs run) against the
// float64 definition.
func TestWinogradPortable(t *testing.T) {
	saved := hasAVX512
	defer func() { hasAVX512 = saved }()
	hasAVX512 = false
	defer func(a, b int) { winoMinTiles, winoMinTilesBack = a, b }(winoMinTiles, winoMinTilesBack)
	winoMinTiles, winoMinTilesBack = 1, 1
	rng := rand.New(rand.NewPCG(21, 21))
	for _, g := range []ops.ConvGeom{square3x3(3, 17, 7, 14, 33), square3x3(1, 5, 57, 57, 7), square3x3(2, 40, 1, 57, 3)} {
		x := randSlice(rng, g.N*g.C*g.H*g.W)
		w := randSlice(rng, g.K*g.C*9)
		b := randSlice(rng, g.K)
		dy := randSlice(rng, g.N*g.K*g.OutH*g.OutW)
		want, mag := opstest.RefConvForward(g, x, w, b)
		wantDx, magDx := opstest.RefConvBackwardData(g, w, dy)
		for _, e := range []*Engine{New(Options{PureGo: true}), New(Options{PureGo: true, Workers: 1})} {
			e.winograd = true
			y := make([]float32, len(want))
			e.ConvForward(g, x, w, b, y, false)
			compare(t, "y", y, want, mag)
			dx := make([]float32, len(wantDx))
			e.ConvBackwardData(g, w, dy, dx)
			compare(t, "dx", dx, wantDx, magDx)
		}
	}
}
