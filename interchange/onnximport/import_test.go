package onnximport

import (
	"math"
	"strings"
	"testing"

	"gorgonia.org/tensor"

	"github.com/goinception/googlenet/inception"
	"github.com/goinception/googlenet/interchange/onnx"
	"github.com/goinception/googlenet/interchange/onnxexport"
	"github.com/goinception/googlenet/preprocess"
)

// parityTol is the largest relative L2 error accepted between two float32
// computations of the same network.
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

func newModel(t testing.TB, cfg inception.Config, size, classes int) *inception.Model {
	t.Helper()
	cfg.BatchSize, cfg.Seed = 1, 7
	if size > 0 {
		cfg.InputSize = size
	}
	if classes > 0 {
		cfg.Classes = classes
	}
	m, err := inception.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for i, e := range m.BNStats() {
		for j := range e.Stats.Mean {
			e.Stats.Mean[j] = 0.01 * float64((i+j)%7-3)
			e.Stats.Var[j] = 0.5 + 0.1*float64((i*3+j)%5)
		}
	}
	return m
}

// TestExportImportRoundTrip: a model exported by onnxexport.GoogLeNet comes
// back as the same configuration with the same weights, for the presets
// and for a table of our own (from the metadata).
func TestExportImportRoundTrip(t *testing.T) {
	custom := inception.Mini()
	custom.Variant = "custom"
	custom.Table = []inception.Row{
		{Name: "a", C1x1: 8, C3x3Reduce: 8, C3x3: 16, C5x5Reduce: 4, C5x5: 8, PoolProj: 8},
		{Name: "b", MaxPoolBefore: true, C1x1: 16, C3x3Reduce: 8, C3x3: 16, C5x5Reduce: 4, C5x5: 8, PoolProj: 8, Aux: 1},
	}
	for _, tc := range []struct {
		name          string
		cfg           inception.Config
		size, classes int
		softmax       bool
		long          bool
	}{
		{"mini", inception.Mini(), 0, 0, false, false},
		{"mini-softmax", inception.Mini(), 0, 0, true, false},
		{"custom-table", custom, 0, 7, false, false},
		{"paper", inception.Paper(), 96, 10, false, true},
		{"torchvision", inception.Torchvision(), 64, 10, true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if testing.Short() && tc.long {
				t.Skip("skipping large variant in -short mode")
			}
			m := newModel(t, tc.cfg, tc.size, tc.classes)
			cfg := m.Config()
			x := randInput(2, cfg.InChannels, cfg.InputSize, 2)
			want, err := m.Forward(x)
			if err != nil {
				t.Fatal(err)
			}
			means, stds := make([]float32, cfg.InChannels), make([]float32, cfg.InChannels)
			for i := range means {
				means[i], stds[i] = 127, 64
			}
			in := preprocess.Native(cfg.InChannels, cfg.InputSize, means, stds)
			om, err := onnxexport.GoogLeNet(m, onnxexport.Options{Softmax: tc.softmax, Labels: []string{"a"}, Input: &in})
			if err != nil {
				t.Fatal(err)
			}
			b, err := onnx.Marshal(om)
			if err != nil {
				t.Fatal(err)
			}
			back, err := onnx.Parse(b)
			if err != nil {
				t.Fatal(err)
			}
			imp, err := GoogLeNet(back, 0)
			if err != nil {
				t.Fatal(err)
			}
			if imp.Softmax != tc.softmax || len(imp.Labels) != 1 || imp.Input == nil || imp.Input.Name != "native" {
				t.Errorf("softmax %v labels %v input %v", imp.Softmax, imp.Labels, imp.Input)
			}
			if got := imp.Model.Config(); got.Variant != cfg.Variant || len(got.Table) != len(cfg.Table) || got.Classes != cfg.Classes {
				t.Errorf("imported %s with %d rows and %d classes", got.Variant, len(got.Table), got.Classes)
			}
			got, err := imp.Model.Forward(x)
			if err != nil {
				t.Fatal(err)
			}
			if e := relL2(got.Data().([]float32), want.Data().([]float32)); e > parityTol {
				t.Errorf("imported vs original: relative L2 error %.3g > %g", e, parityTol)
			} else {
				t.Logf("imported vs original: relative L2 error %.3g", e)
			}
		})
	}
}

// tinyONNX is a two-node graph: y = Relu(Conv(x, w)).
func tinyONNX() *onnx.Model {
	return &onnx.Model{
		IRVersion: 8, Opsets: []onnx.OpsetImport{{Version: 13}},
		Graph: onnx.Graph{
			Nodes: []*onnx.Node{
				{Name: "c", OpType: "Conv", Inputs: []string{"x", "w"}, Outputs: []string{"h"}},
				{Name: "r", OpType: "Relu", Inputs: []string{"h"}, Outputs: []string{"y"}},
			},
			Initializers: []*onnx.Tensor{{Name: "w", DataType: onnx.Float, Dims: []int64{2, 1, 1, 1}, Floats: []float32{1, -1}}},
			Inputs:       []onnx.ValueInfo{{Name: "x", ElemType: onnx.Float, Shape: []onnx.Dim{{Value: -1, Param: "N"}, {Value: 1}, {Value: 2}, {Value: 2}}}},
			Outputs:      []onnx.ValueInfo{{Name: "y", ElemType: onnx.Float}},
		},
	}
}

// TestNotGoogLeNet: a graph that runs (see package onnxnet) but is not a
// GoogLeNet cannot become an inception model.
func TestNotGoogLeNet(t *testing.T) {
	if _, err := GoogLeNet(tinyONNX(), 0); err == nil || !strings.Contains(err.Error(), "want [1 classes]") {
		t.Errorf("GoogLeNet of a tiny graph: %v", err)
	}
}

// TestContract: the stored contract must fit the model; a zoo-shaped file
// gets the zoo's, scaled to its input size; other files none.
func TestContract(t *testing.T) {
	cfg := inception.Paper()
	m := &onnx.Model{Metadata: map[string]string{}}
	if c, err := contract(m, "data_0", []string{"prob_1"}, cfg, true); err != nil || c == nil || c.Name != "onnx-zoo" || c.Crop != 224 {
		t.Errorf("zoo-shaped: %v, %v", c, err)
	}
	cfg.InputSize = 112
	if c, err := contract(m, "data_0", []string{"prob_0"}, cfg, true); err != nil || c == nil || c.Crop != 112 || c.Size != 112 {
		t.Errorf("zoo-shaped at 112: %v, %v", c, err)
	}
	if c, err := contract(m, "data_0", []string{"prob_0"}, cfg, false); err != nil || c != nil {
		t.Errorf("no softmax: %v, %v", c, err)
	}
	s, err := preprocess.Caffe().Encode()
	if err != nil {
		t.Fatal(err)
	}
	m.Metadata[onnxexport.MetaInput] = s
	if _, err := contract(m, "data", []string{"logits"}, cfg, false); err == nil {
		t.Error("a 224 contract accepted for a 112 model")
	}
	m.Metadata[onnxexport.MetaInput] = "{"
	if _, err := contract(m, "data", []string{"logits"}, cfg, false); err == nil {
		t.Error("a broken contract accepted")
	}
}
