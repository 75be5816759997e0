package graph_test

import (
	"reflect"
	"testing"

	"github.com/goinception/googlenet/graph"
)

// TestNetworkDescribesEveryLayer builds a small network in a shape-only
// build and checks the description: kinds, input layers, shapes, parameter
// names and options, with inputs and losses in Network but not in Layers.
func TestNetworkDescribesEveryLayer(t *testing.T) {
	b := graph.New(graph.Options{ShapesOnly: true})
	x := b.Input("data", 2, 3, 9, 9)
	a := b.Conv("a", x, 4, graph.ConvOpts{Kernel: 3, Stride: 2, Pad: 1, ReLU: true})
	bn := b.Conv("b", x, 2, graph.ConvOpts{Kernel: 1, Stride: 2, BatchNorm: true, ReLU: true})
	c := b.Concat("cat", a, bn)
	p := b.MaxPool("pool", c, graph.PoolOpts{Kernel: 3, Stride: 2, CeilMode: true})
	d := b.Dropout("drop", b.Flatten("flat", p), 0.5)
	y := b.Linear("fc", d, 7, graph.LinearOpts{})
	b.SoftmaxCrossEntropy("loss", y, nil, graph.LossOpts{})
	if err := b.Err(); err != nil {
		t.Fatal(err)
	}
	type row struct {
		name, kind string
		inputs     []string
		out        []int
		params     []string
	}
	want := []row{
		{"data", graph.KindInput, nil, []int{2, 3, 9, 9}, nil},
		{"a", graph.KindConv, []string{"data"}, []int{2, 4, 5, 5}, []string{"a/w", "a/b"}},
		{"b", graph.KindConv, []string{"data"}, []int{2, 2, 5, 5}, []string{"b/w", "b/bn/scale", "b/bn/shift"}},
		{"cat", graph.KindConcat, []string{"a", "b"}, []int{2, 6, 5, 5}, nil},
		{"pool", graph.KindMaxPool, []string{"cat"}, []int{2, 6, 2, 2}, nil},
		{"flat", graph.KindFlatten, []string{"pool"}, []int{2, 24}, nil},
		{"drop", graph.KindDropout, []string{"flat"}, []int{2, 24}, nil},
		{"fc", graph.KindLinear, []string{"drop"}, []int{2, 7}, []string{"fc/w", "fc/b"}},
		{"loss", graph.KindSoftmaxCrossEntropy, []string{"fc"}, []int{}, nil},
	}
	net := b.Network()
	if len(net) != len(want) {
		t.Fatalf("%d layers described, want %d", len(net), len(want))
	}
	for i, w := range want {
		l := net[i]
		got := row{l.Name, l.Type, l.Inputs, l.OutShape, l.ParamNames}
		if !reflect.DeepEqual(got, w) {
			t.Errorf("layer %d: %+v, want %+v", i, got, w)
		}
	}
	if net[1].Conv == nil || net[1].Conv.Stride != 2 || !net[1].Conv.ReLU || net[2].Conv == nil || !net[2].Conv.BatchNorm {
		t.Errorf("conv options not recorded: %+v, %+v", net[1].Conv, net[2].Conv)
	}
	if net[4].Pool == nil || net[4].Pool.Kernel != 3 || !net[4].Pool.CeilMode {
		t.Errorf("pool options %+v", net[4].Pool)
	}
	if net[6].Dropout == nil || net[6].Dropout.Rate != 0.5 || net[6].Dropout.Index != 0 {
		t.Errorf("dropout options %+v", net[6].Dropout)
	}
	if !reflect.DeepEqual(net[3].InShapes, [][]int{{2, 4, 5, 5}, {2, 2, 5, 5}}) {
		t.Errorf("concat input shapes %v", net[3].InShapes)
	}
	if n := len(b.Layers()); n != len(want)-2 {
		t.Errorf("Layers has %d entries, want %d (no input, no loss)", n, len(want)-2)
	}
}
