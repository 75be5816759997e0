package opstest

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/pkg/errors"

	"github.com/goinception/googlenet/ops"
)

// StepTol is the tolerance of the step kernels (batch norm, softmax
// cross-entropy, the SGD update) against their float64 definitions,
// relative to the magnitude of the terms (float32 rounding through sums of
// a few dozen terms).
const StepTol = 1e-5

// testStep checks the kernels of a training step beyond convolution and
// GEMM against float64 loops that follow their definitions. An engine
// that does not implement one (ops.ErrNotSupported; the ops then run the
// reference kernel) skips its subtest, naming it; any other error fails.
func testStep(t *testing.T, e ops.Engine) {
	t.Run("BatchNorm/training", func(t *testing.T) { testBN(t, e, true) })
	t.Run("BatchNorm/inference", func(t *testing.T) { testBN(t, e, false) })
	t.Run("SoftmaxCrossEntropy", func(t *testing.T) { testSCE(t, e) })
	t.Run("Dropout", func(t *testing.T) { testDropout(t, e) })
	t.Run("Concat", func(t *testing.T) { testConcat(t, e) })
	t.Run("SGDUpdate", func(t *testing.T) { testSGD(t, e) })
}

// must fails t on err, or skips it when the engine does not support the
// kernel.
func must(t *testing.T, e ops.Engine, what string, err error) {
	t.Helper()
	if errors.Is(err, ops.ErrNotSupported) {
		t.Skipf("%s: %s not supported (%v); the ops run the reference kernel", e.Name(), what, err)
	}
	if err != nil {
		t.Fatalf("%s: %s: %+v", e.Name(), what, err)
	}
}

func near(t *testing.T, what string, got []float32, want []float64, scale float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	for i, w := range want {
		if g := float64(got[i]); math.IsNaN(g) || math.Abs(g-w) > StepTol*scale {
			t.Fatalf("%s[%d] = %v, want %v (tolerance %.3g)", what, i, g, w, StepTol*scale)
		}
	}
}

func maxAbs(v []float64) float64 {
	m := 1.0
	for _, x := range v {
		m = math.Max(m, math.Abs(x))
	}
	return m
}

func testBN(t *testing.T, e ops.Engine, training bool) {
	g := ops.BNGeom{N: 3, C: 4, H: 3, W: 2, Training: training, Eps: 1e-3}
	rng := rand.New(rand.NewPCG(11, 12))
	hw, n := g.H*g.W, g.N*g.C*g.H*g.W
	x, gamma, beta, dy := randSlice(rng, n), randSlice(rng, g.C), randSlice(rng, g.C), randSlice(rng, n)
	mean, variance := make([]float64, g.C), make([]float64, g.C)
	if !training {
		for c := range mean {
			mean[c], variance[c] = 0.1*float64(c)-0.2, 0.5+0.3*float64(c)
		}
	}
	// The definitions, in float64.
	mu, vr := append([]float64(nil), mean...), append([]float64(nil), variance...)
	m := float64(g.N * hw)
	at := func(i, c, j int) int { return (i*g.C+c)*hw + j }
	if training {
		for c := 0; c < g.C; c++ {
			var s, ss float64
			for i := 0; i < g.N; i++ {
				for j := 0; j < hw; j++ {
					s += float64(x[at(i, c, j)])
				}
			}
			mu[c] = s / m
			for i := 0; i < g.N; i++ {
				for j := 0; j < hw; j++ {
					d := float64(x[at(i, c, j)]) - mu[c]
					ss += d * d
				}
			}
			vr[c] = ss / m
		}
	}
	wantY, wantDX, wantDG := make([]float64, n), make([]float64, n), make([]float64, g.C)
	for c := 0; c < g.C; c++ {
		is := 1 / math.Sqrt(vr[c]+g.Eps)
		var sdy, sdyx float64
		for i := 0; i < g.N; i++ {
			for j := 0; j < hw; j++ {
				k := at(i, c, j)
				xh := (float64(x[k]) - mu[c]) * is
				wantY[k] = float64(gamma[c])*xh + float64(beta[c])
				sdy += float64(dy[k])
				sdyx += float64(dy[k]) * xh
			}
		}
		wantDG[c] = sdyx
		for i := 0; i < g.N; i++ {
			for j := 0; j < hw; j++ {
				k := at(i, c, j)
				xh := (float64(x[k]) - mu[c]) * is
				if training {
					wantDX[k] = float64(gamma[c]) * is * (float64(dy[k]) - sdy/m - xh*sdyx/m)
				} else {
					wantDX[k] = float64(gamma[c]) * is * float64(dy[k])
				}
			}
		}
	}
	y := filled(n)
	must(t, e, "BatchNormForward", e.BatchNormForward(g, x, gamma, beta, y, mean, variance))
	near(t, "y", y, wantY, maxAbs(wantY))
	if training {
		for c := range mean {
			if math.Abs(mean[c]-mu[c]) > 1e-6 || math.Abs(variance[c]-vr[c]) > 1e-6 {
				t.Fatalf("channel %d: batch statistics %v, %v, want %v, %v", c, mean[c], variance[c], mu[c], vr[c])
			}
		}
	}
	dx, dg := filled(n), filled(g.C)
	must(t, e, "BatchNormBackward", e.BatchNormBackward(g, x, gamma, dy, dx, dg, mean, variance))
	near(t, "dx", dx, wantDX, maxAbs(wantDX))
	near(t, "dgamma", dg, wantDG, maxAbs(wantDG)*m)
	dx2 := filled(n)
	must(t, e, "BatchNormBackward", e.BatchNormBackward(g, x, gamma, dy, dx2, nil, mean, variance))
	near(t, "dx without dgamma", dx2, wantDX, maxAbs(wantDX))
}

func testSCE(t *testing.T, e ops.Engine) {
	const n, k = 4, 7
	rng := rand.New(rand.NewPCG(13, 14))
	logits := randSlice(rng, n*k)
	for i := range logits {
		logits[i] *= 8 // wide enough to need the log-sum-exp
	}
	labels := []int{3, 0, 6, 3}
	const dloss = 0.75
	var loss float64
	wantD := make([]float64, n*k)
	for i, c := range labels {
		row := logits[i*k : (i+1)*k]
		mx := math.Inf(-1)
		for _, v := range row {
			mx = math.Max(mx, float64(v))
		}
		var z float64
		for _, v := range row {
			z += math.Exp(float64(v) - mx)
		}
		loss += mx + math.Log(z) - float64(row[c])
		for j, v := range row {
			p := math.Exp(float64(v)-mx) / z
			if j == c {
				p--
			}
			wantD[i*k+j] = p * dloss / n
		}
	}
	loss /= n
	got, err := e.SoftmaxCrossEntropyForward(n, k, logits, labels)
	must(t, e, "SoftmaxCrossEntropyForward", err)
	if math.Abs(got-loss) > StepTol*math.Max(1, loss) {
		t.Fatalf("loss %v, want %v", got, loss)
	}
	d := filled(n * k)
	must(t, e, "SoftmaxCrossEntropyBackward", e.SoftmaxCrossEntropyBackward(n, k, logits, labels, dloss, d))
	near(t, "dlogits", d, wantD, 1)
	if _, err := e.SoftmaxCrossEntropyForward(n, k, logits, []int{0, 1, k, 2}); err == nil {
		t.Fatal("a label out of range was accepted")
	}
}

func testDropout(t *testing.T, e ops.Engine) {
	rng := rand.New(rand.NewPCG(15, 16))
	const n = 1000
	x := randSlice(rng, n)
	m := ops.DropoutMask{Seed: 7, Step: 41, Index: 3, Rate: 0.3}
	y, dx := filled(n), filled(n)
	must(t, e, "DropoutForward", e.DropoutForward(m, x, y))
	must(t, e, "DropoutBackward", e.DropoutBackward(m, x, dx))
	kept := 0
	for i := range x {
		want := 0.0
		if ops.DropoutKeep(m.Seed, m.Step, m.Index, i, m.Rate) {
			want = float64(x[i]) / (1 - m.Rate)
			kept++
		}
		if math.Abs(float64(y[i])-want) > 1e-6 || y[i] != dx[i] {
			t.Fatalf("element %d: forward %v, backward %v, want %v", i, y[i], dx[i], want)
		}
	}
	if kept < 600 || kept > 800 {
		t.Fatalf("%d of %d kept at rate %v", kept, n, m.Rate)
	}
}

func testConcat(t *testing.T, e ops.Engine) {
	const n, hw = 2, 5
	channels := []int{2, 3, 1}
	rng := rand.New(rand.NewPCG(17, 18))
	xs := make([][]float32, len(channels))
	for i, c := range channels {
		xs[i] = randSlice(rng, n*c*hw)
	}
	y := filled(n * 6 * hw)
	must(t, e, "ConcatForward", e.ConcatForward(n, hw, channels, xs, y))
	off := 0
	for i, c := range channels {
		for b := 0; b < n; b++ {
			for j := 0; j < c*hw; j++ {
				if got, want := y[(b*6+off)*hw+j], xs[i][b*c*hw+j]; got != want {
					t.Fatalf("input %d, image %d, element %d: %v, want %v", i, b, j, got, want)
				}
			}
		}
		dx := filled(n * c * hw)
		must(t, e, "ConcatBackward", e.ConcatBackward(n, 6, hw, off, off+c, y, dx))
		for j := range dx {
			if dx[j] != xs[i][j] {
				t.Fatalf("gradient of input %d, element %d: %v, want %v", i, j, dx[j], xs[i][j])
			}
		}
		off += c
	}
}

func testSGD(t *testing.T, e ops.Engine) {
	rng := rand.New(rand.NewPCG(19, 20))
	const n = 300
	w0, g, v0 := randSlice(rng, n), randSlice(rng, n), randSlice(rng, n)
	for _, s := range []ops.SGDStep{
		{LR: 0.1},
		{LR: 0.05, WeightDecay: 1e-2, Momentum: 0.9, First: true},
		{LR: 0.05, WeightDecay: 1e-2, Momentum: 0.9},
		{LR: 0.05, Momentum: 0.9, Nesterov: true},
		{LR: 0.2, Scale: 0.25, Clip: true, Momentum: 0.5},
	} {
		w, v := append([]float32(nil), w0...), append([]float32(nil), v0...)
		var vv []float32
		if s.Momentum != 0 {
			vv = v
		}
		must(t, e, "SGDUpdate", e.SGDUpdate(s, w, g, vv))
		wantW, wantV := make([]float64, n), make([]float64, n)
		for i := range w0 {
			d := float64(g[i])
			if s.Clip {
				d *= s.Scale
			}
			d += s.WeightDecay * float64(w0[i])
			vi := float64(v0[i])
			if s.Momentum != 0 {
				if s.First {
					vi = d
				} else {
					vi = s.Momentum*vi + d
				}
				if s.Nesterov {
					d += s.Momentum * vi
				} else {
					d = vi
				}
			}
			wantW[i], wantV[i] = float64(w0[i])-s.LR*d, vi
		}
		near(t, "w", w, wantW, 1)
		near(t, "v", v, wantV, 1)
	}
	if err := e.SGDUpdate(ops.SGDStep{LR: 0.1, Momentum: 0.9}, make([]float32, 3), make([]float32, 3), nil); err == nil {
		t.Fatal("momentum without a velocity was accepted")
	}
}
