package onnxexport

import (
	"math"
	"path/filepath"
	"testing"

	"gorgonia.org/tensor"

	"github.com/goinception/googlenet/inception"
	"github.com/goinception/googlenet/interchange/onnx"
	"github.com/goinception/googlenet/interchange/onnxnet"
)

// parityTol is the largest relative L2 error accepted between two float32
// computations of the same network (the acceptance bound against PyTorch).
const parityTol = 1e-4

// relL2 returns ||a-b|| / ||b||.
func relL2(a, b []float32) float64 {
	var num, den float64
	for i := range a {
		d := float64(a[i]) - float64(b[i])
		num += d * d
		den += float64(b[i]) * float64(b[i])
	}
	return math.Sqrt(num / den)
}

// randInput returns a deterministic [n, c, s, s] float32 batch.
func randInput(n, c, s int, seed uint32) *tensor.Dense {
	v := make([]float32, n*c*s*s)
	x := seed*2654435761 + 1
	for i := range v {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		v[i] = float32(x%2001)/1000 - 1
	}
	return tensor.New(tensor.WithShape(n, c, s, s), tensor.WithBacking(v))
}

func newModel(t testing.TB, variant string, size, classes int) *inception.Model {
	t.Helper()
	cfg, err := inception.ConfigFor(variant)
	if err != nil {
		t.Fatal(err)
	}
	cfg.BatchSize = 1
	if size > 0 {
		cfg.InputSize = size
	}
	if classes > 0 {
		cfg.Classes = classes
	}
	cfg.Seed = 7
	m, err := inception.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// perturbBN gives a model's batch-norm statistics non-trivial values so that
// a mapping error shows in the logits.
func perturbBN(m *inception.Model) {
	for i, e := range m.BNStats() {
		for j := range e.Stats.Mean {
			e.Stats.Mean[j] = 0.01 * float64((i+j)%7-3)
			e.Stats.Var[j] = 0.5 + 0.1*float64((i*3+j)%5)
		}
	}
}

func TestExportRunsLikeForward(t *testing.T) {
	for _, tc := range []struct {
		variant       string
		size, classes int
	}{{"mini", 0, 0}, {"paper", 96, 10}, {"torchvision", 64, 10}} {
		t.Run(tc.variant, func(t *testing.T) {
			if testing.Short() && tc.variant != "mini" {
				t.Skip("skipping large variant in -short mode")
			}
			m := newModel(t, tc.variant, tc.size, tc.classes)
			perturbBN(m)
			cfg := m.Config()
			x := randInput(2, cfg.InChannels, cfg.InputSize, 1)
			want, err := m.Forward(x)
			if err != nil {
				t.Fatal(err)
			}
			om, err := GoogLeNet(m, Options{})
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(t.TempDir(), "m.onnx")
			if err := onnx.WriteFile(path, om); err != nil {
				t.Fatal(err)
			}
			back, err := onnx.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			net, err := onnxnet.NewNet(back)
			if err != nil {
				t.Fatal(err)
			}
			got, err := net.Forward(x)
			if err != nil {
				t.Fatal(err)
			}
			if e := relL2(got[0].Data().([]float32), want.Data().([]float32)); e > parityTol {
				t.Errorf("ONNX net vs Forward: relative L2 error %.3g > %g", e, parityTol)
			} else {
				t.Logf("ONNX net vs Forward: relative L2 error %.3g", e)
			}
		})
	}
}
