package graph

import (
	"math"
	"slices"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/goinception/googlenet/ops"
)

// runTol is the tolerance of hand-computed float64 results.
const runTol = 1e-12

func run(t *testing.T, g *G.ExprGraph) {
	t.Helper()
	vm := G.NewTapeMachine(g)
	defer vm.Close()
	if err := vm.RunAll(); err != nil {
		t.Fatal(err)
	}
}

// TestLinearByHand: values given through Options.Values, checked by hand.
func TestLinearByHand(t *testing.T) {
	vals := map[string]*tensor.Dense{
		"fc/w": tensor.New(tensor.WithShape(2, 2), tensor.WithBacking([]float64{1, 1, 2, -1})),
		"fc/b": tensor.New(tensor.WithShape(2), tensor.WithBacking([]float64{0.5, 0})),
	}
	b := New(Options{Dtype: tensor.Float64, Values: func(n string) *tensor.Dense { return vals[n] }})
	x := b.Input("x", 1, 2)
	y := b.Linear("fc", x, 2, LinearOpts{ReLU: true})
	if err := b.Err(); err != nil {
		t.Fatal(err)
	}
	if err := G.Let(x.Node, tensor.New(tensor.WithShape(1, 2), tensor.WithBacking([]float64{1, 2}))); err != nil {
		t.Fatal(err)
	}
	run(t, b.Graph())
	// [1,2]·[[1,1],[2,-1]]ᵀ + [0.5,0] = [3.5, 0]; ReLU keeps both.
	got := y.Node.Value().Data().([]float64)
	if math.Abs(got[0]-3.5) > runTol || math.Abs(got[1]) > runTol {
		t.Fatalf("linear = %v, want [3.5 0]", got)
	}
}

// TestEveryLayerRuns builds every layer type on the real ops, in training
// and inference mode, and checks that the run produces finite values of
// the shapes the builder computed; in inference mode dropout is the
// identity.
func TestEveryLayerRuns(t *testing.T) {
	for _, training := range []bool{false, true} {
		b := New(Options{Training: training, Seed: 3})
		x := b.Input("data", 2, 3, 9, 9)
		c := b.Conv("conv", x, 4, ConvOpts{Kernel: 3, Stride: 2, Pad: 1, ReLU: true})
		bn := b.Conv("convbn", c, 4, ConvOpts{Kernel: 1, BatchNorm: true, ReLU: true})
		r := b.ReLU("relu", bn)
		mp := b.MaxPool("max", r, PoolOpts{Kernel: 3, Stride: 2, CeilMode: true})
		ap := b.AvgPool("avg", r, PoolOpts{Kernel: 3, Stride: 2, CeilMode: true})
		cat := b.Concat("cat", mp, ap)
		n := b.LRN("lrn", cat, ops.LRNOpts{Size: 5, Alpha: 1e-4, Beta: 0.75, K: 1})
		ad := b.AdaptiveAvgPool("adaptive", n, 2, 2)
		gp := b.GlobalAvgPool("global", ad)
		f := b.Flatten("flat", gp)
		d := b.Dropout("drop", f, 0.5)
		y := b.Linear("fc", d, 5, LinearOpts{})
		if err := b.Err(); err != nil {
			t.Fatal(err)
		}
		data := make([]float32, 2*3*9*9)
		for i := range data {
			data[i] = float32(i%17)/17 - 0.4
		}
		if err := G.Let(x.Node, tensor.New(tensor.WithShape(2, 3, 9, 9), tensor.WithBacking(data))); err != nil {
			t.Fatal(err)
		}
		run(t, b.Graph())
		for _, tt := range []*Tensor{c, bn, r, mp, ap, cat, n, ad, gp, f, d, y} {
			got := []int(tt.Node.Value().Shape())
			if !slices.Equal(got, tt.Shape) {
				t.Fatalf("node %s: shape %v, builder says %v", tt.Node.Name(), got, tt.Shape)
			}
			for _, v := range tt.Node.Value().Data().([]float32) {
				if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
					t.Fatalf("node %s: %v", tt.Node.Name(), v)
				}
			}
		}
		if !training {
			fv, dv := f.Node.Value().Data().([]float32), d.Node.Value().Data().([]float32)
			for i := range fv {
				if math.Abs(float64(fv[i]-dv[i])) > runTol {
					t.Fatalf("inference dropout changed element %d: %v -> %v", i, fv[i], dv[i])
				}
			}
		}
	}
}
