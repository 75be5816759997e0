package ops_test

import (
	"testing"

	"github.com/goinception/googlenet/internal/gradcheck"
	"github.com/goinception/googlenet/ops"
	G "gorgonia.org/gorgonia"
)

func TestConv2DGradient(t *testing.T) {
	cases := []struct {
		name string
		x, w []int
		bias bool
		opts ops.ConvOpts
	}{
		{"7x7/stride2/pad3/noinputgrad", []int{1, 3, 9, 9}, []int{2, 3, 7, 7}, true, ops.ConvOpts{StrideH: 2, StrideW: 2, Pad: ops.Same(3), NoInputGrad: true}},
		{"1x1", []int{2, 3, 4, 4}, []int{2, 3, 1, 1}, true, ops.ConvOpts{}},
		{"3x3/pad1/relu", []int{2, 2, 5, 5}, []int{3, 2, 3, 3}, true, ops.ConvOpts{Pad: ops.Same(1), ReLU: true}},
		{"3x3/stride2/nobias", []int{1, 2, 7, 6}, []int{2, 2, 3, 3}, false, ops.ConvOpts{StrideH: 2, StrideW: 2}},
		{"2x3/asym", []int{1, 2, 5, 4}, []int{2, 2, 2, 3}, true, ops.ConvOpts{StrideH: 2, Pad: ops.Pad2D{Top: 1, Bottom: 0, Left: 0, Right: 2}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ins := []gradcheck.Input{{Name: "x", Shape: c.x, NoGrad: c.opts.NoInputGrad}, {Name: "w", Shape: c.w}}
			if c.bias {
				ins = append(ins, gradcheck.Input{Name: "b", Shape: []int{c.w[0]}})
			}
			gradcheck.Check(t, gradcheck.Case{
				Inputs: ins,
				Seed:   7,
				Build: func(g *G.ExprGraph, in []*G.Node) (*G.Node, error) {
					var b *G.Node
					if c.bias {
						b = in[2]
					}
					return ops.Conv2D(in[0], in[1], b, c.opts)
				},
			})
		})
	}
}

func TestReLUGradient(t *testing.T) {
	gradcheck.Check(t, gradcheck.Case{
		Inputs: []gradcheck.Input{{Name: "x", Shape: []int{2, 3, 4}}},
		Seed:   1,
		Build:  func(g *G.ExprGraph, in []*G.Node) (*G.Node, error) { return ops.ReLU(in[0]) },
	})
}

func TestConv2DErrors(t *testing.T) {
	g := G.NewGraph()
	x := G.NewTensor(g, G.Float32, 4, G.WithShape(1, 3, 5, 5), G.WithName("x"))
	w := G.NewTensor(g, G.Float32, 4, G.WithShape(4, 2, 3, 3), G.WithName("w"))
	if _, err := ops.Conv2D(x, w, nil, ops.ConvOpts{}); err == nil {
		t.Error("channel mismatch: no error")
	}
}

func TestNewConvGeom(t *testing.T) {
	// GoogLeNet conv1: 224x224, 7x7/2 pad 3 -> 112x112.
	g, err := ops.NewConvGeom([]int{2, 3, 224, 224}, []int{64, 3, 7, 7}, ops.ConvOpts{StrideH: 2, StrideW: 2, Pad: ops.Same(3)})
	if err != nil {
		t.Fatal(err)
	}
	if g.OutH != 112 || g.OutW != 112 || g.StrideH != 2 || g.PadTop != 3 {
		t.Errorf("geometry %+v", g)
	}
	if _, err := ops.NewConvGeom([]int{1, 3, 2, 2}, []int{4, 3, 3, 3}, ops.ConvOpts{}); err == nil {
		t.Error("kernel larger than input: no error")
	}
}

// NoInputGrad on a convolution whose input depends on a parameter makes
// Grad fail with an error (no gradient reaches the parameter), not a panic.
func TestConv2DNoInputGradOnHiddenLayer(t *testing.T) {
	g := G.NewGraph()
	x := G.NewTensor(g, G.Float64, 4, G.WithShape(1, 1, 3, 3), G.WithName("x"), G.WithInit(G.Ones()))
	w1 := G.NewTensor(g, G.Float64, 4, G.WithShape(1, 1, 1, 1), G.WithName("w1"), G.WithInit(G.Ones()))
	w2 := G.NewTensor(g, G.Float64, 4, G.WithShape(1, 1, 1, 1), G.WithName("w2"), G.WithInit(G.Ones()))
	h, err := ops.Conv2D(x, w1, nil, ops.ConvOpts{})
	if err != nil {
		t.Fatal(err)
	}
	y, err := ops.Conv2D(h, w2, nil, ops.ConvOpts{NoInputGrad: true})
	if err != nil {
		t.Fatal(err)
	}
	c, _ := G.Sum(y)
	if _, err := G.Grad(c, w1, w2); err == nil {
		t.Error("Grad through a NoInputGrad convolution: no error")
	}
}
