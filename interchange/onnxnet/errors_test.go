package onnxnet

import (
	"math"
	"strings"
	"testing"

	"gorgonia.org/tensor"

	"github.com/goinception/googlenet/interchange/onnx"
)

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

func TestNetErrors(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(m *onnx.Model)
		want   string
	}{
		{"unsupported-op", func(m *onnx.Model) { m.Graph.Nodes[1].OpType = "Sigmoid" }, "Sigmoid"},
		{"cycle", func(m *onnx.Model) { m.Graph.Nodes[0].Inputs[0] = "y" }, "cycle"},
		{"missing-input", func(m *onnx.Model) { m.Graph.Nodes[1].Inputs[0] = "nowhere" }, "nowhere"},
		{"nan-weight", func(m *onnx.Model) { m.Graph.Initializers[0].Floats[1] = float32(math.NaN()) }, "NaN"},
		{"group", func(m *onnx.Model) {
			m.Graph.Nodes[0].Attrs = []onnx.Attribute{{Name: "group", Type: onnx.AttrInt, I: 2}}
		}, "group 2"},
		{"auto-pad", func(m *onnx.Model) {
			m.Graph.Nodes[0].Attrs = []onnx.Attribute{{Name: "auto_pad", Type: onnx.AttrString, S: "SAME_UPPER"}}
		}, "auto_pad"},
		{"no-output", func(m *onnx.Model) {
			m.Graph.Nodes = append(m.Graph.Nodes, &onnx.Node{Name: "dangling", OpType: "Relu", Inputs: []string{"y"}})
		}, "no output"},
		{"two-inputs", func(m *onnx.Model) {
			m.Graph.Inputs = append(m.Graph.Inputs, onnx.ValueInfo{Name: "z", ElemType: onnx.Float})
		}, "2 data inputs"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := tinyONNX()
			tc.change(m)
			n, err := NewNet(m)
			if err == nil {
				_, err = n.Forward(randInput(1, 1, 2, 1))
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
	// The tiny graph itself runs: y = [relu(x), relu(-x)].
	n, err := NewNet(tinyONNX())
	if err != nil {
		t.Fatal(err)
	}
	x := randInput(1, 1, 2, 3)
	ys, err := n.Forward(x)
	if err != nil {
		t.Fatal(err)
	}
	xv, yv := x.Data().([]float32), ys[0].Data().([]float32)
	for i, v := range xv {
		if yv[i] != max(v, 0) || yv[4+i] != max(-v, 0) {
			t.Fatalf("y = %v for x = %v", yv, xv)
		}
	}
}
