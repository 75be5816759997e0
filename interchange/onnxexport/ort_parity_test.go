package onnxexport

import (
	"math"
	"math/rand/v2"
	"path/filepath"
	"testing"

	"gorgonia.org/tensor"

	"github.com/goinception/googlenet/inception"
	"github.com/goinception/googlenet/interchange/onnx"
	"github.com/goinception/googlenet/internal/peer"
)

// ortTol bounds the relative L2 distance between ONNX Runtime's outputs on
// our exported files and our own.
const ortTol = 1e-4

// TestONNXRuntimeParity exports the paper, torchvision and mini networks
// (random weights, batch-norm statistics made non-trivial) with GoogLeNet,
// runs the files with ONNX Runtime (onnxruntime-node, the runtime Go
// services use through onnxruntime_go) on random inputs, and compares with
// Model.Forward: logits, and the probabilities of an export with a final
// Softmax.
func TestONNXRuntimeParity(t *testing.T) {
	if testing.Short() {
		t.Skip("whole GoogLeNets at 224: skipped with -short")
	}
	peer.Node(t)
	for _, tc := range []struct {
		variant string
		softmax bool
	}{{inception.VariantPaper, true}, {inception.VariantTorchvision, false}, {inception.VariantMini, false}} {
		cfg, err := inception.ConfigFor(tc.variant)
		if err != nil {
			t.Fatal(err)
		}
		cfg.BatchSize, cfg.Seed = 1, 7
		m, err := inception.New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		r := rand.New(rand.NewPCG(3, 4))
		for _, e := range m.BNStats() {
			for j := range e.Stats.Mean {
				e.Stats.Mean[j] = 0.05 * r.NormFloat64()
				e.Stats.Var[j] = 0.5 + r.Float64()
			}
		}
		const batch = 2
		shape := []int{batch, cfg.InChannels, cfg.InputSize, cfg.InputSize}
		x := make([]float32, batch*cfg.InChannels*cfg.InputSize*cfg.InputSize)
		for i := range x {
			x[i] = float32(r.NormFloat64())
		}
		y, err := m.Forward(tensor.New(tensor.WithShape(shape...), tensor.WithBacking(append([]float32(nil), x...))))
		if err != nil {
			t.Fatal(err)
		}
		logits := y.Data().([]float32)
		om, err := GoogLeNet(m, Options{Softmax: tc.softmax})
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(t.TempDir(), tc.variant+".onnx")
		if err := onnx.WriteFile(path, om); err != nil {
			t.Fatal(err)
		}
		got := peer.RunORT(t, path, x, shape)
		want := logits
		what := "logits"
		if tc.softmax {
			want, what = softmaxOf(logits, cfg.Classes), "probabilities"
		}
		e := relL2(got, want)
		t.Logf("%s (%dx%d): ONNX Runtime's %s vs ours: relative L2 %.2e", tc.variant, cfg.InputSize, cfg.InputSize, what, e)
		if len(got) != len(want) || e > ortTol {
			t.Errorf("%s: %d values (want %d), relative L2 %.3g > %g", tc.variant, len(got), len(want), e, ortTol)
		}
	}
}

func softmaxOf(x []float32, k int) []float32 {
	out := make([]float32, len(x))
	for r := 0; r < len(x); r += k {
		m := x[r]
		for _, v := range x[r : r+k] {
			m = max(m, v)
		}
		var s float64
		for i, v := range x[r : r+k] {
			e := math.Exp(float64(v - m))
			out[r+i] = float32(e)
			s += e
		}
		for i := range out[r : r+k] {
			out[r+i] = float32(float64(out[r+i]) / s)
		}
	}
	return out
}
