package ops_test

import (
	"testing"

	"github.com/goinception/googlenet/internal/gradcheck"
	"github.com/goinception/googlenet/ops"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

func TestConcatChannels(t *testing.T) {
	g := G.NewGraph()
	a := G.NewTensor(g, G.Float64, 4, G.WithShape(2, 1, 1, 2), G.WithName("a"), G.WithValue(tensorOf([]int{2, 1, 1, 2}, []float64{1, 2, 3, 4})))
	b := G.NewTensor(g, G.Float64, 4, G.WithShape(2, 2, 1, 2), G.WithName("b"), G.WithValue(tensorOf([]int{2, 2, 1, 2}, []float64{5, 6, 7, 8, 9, 10, 11, 12})))
	y, err := ops.ConcatChannels(a, b)
	if err != nil {
		t.Fatal(err)
	}
	if !y.Shape().Eq(tensor.Shape{2, 3, 1, 2}) {
		t.Fatalf("shape %v", y.Shape())
	}
	runGraph(t, g)
	assertClose(t, "concat", values(t, y.Value()), []float64{1, 2, 5, 6, 7, 8, 3, 4, 9, 10, 11, 12}, closeTol)
}

func TestConcatChannelsGradient(t *testing.T) {
	gradcheck.Check(t, gradcheck.Case{
		Inputs: []gradcheck.Input{{Name: "a", Shape: []int{2, 1, 2, 3}}, {Name: "b", Shape: []int{2, 3, 2, 3}}, {Name: "c", Shape: []int{2, 2, 2, 3}}},
		Seed:   4,
		Build:  func(g *G.ExprGraph, in []*G.Node) (*G.Node, error) { return ops.ConcatChannels(in...) },
	})
}

// TestConcatFanOut checks gradient accumulation when one node feeds several
// branches that are concatenated again (the Inception pattern).
func TestConcatFanOut(t *testing.T) {
	gradcheck.Check(t, gradcheck.Case{
		Inputs: []gradcheck.Input{{Name: "x", Shape: []int{1, 2, 3, 3}}, {Name: "w", Shape: []int{2, 2, 1, 1}}},
		Seed:   8,
		Build: func(g *G.ExprGraph, in []*G.Node) (*G.Node, error) {
			a, err := ops.Conv2D(in[0], in[1], nil, ops.ConvOpts{ReLU: true})
			if err != nil {
				return nil, err
			}
			p, err := ops.MaxPool2D(in[0], ops.PoolOpts{KernelH: 3, KernelW: 3, Pad: ops.Same(1)})
			if err != nil {
				return nil, err
			}
			return ops.ConcatChannels(a, p, in[0])
		},
	})
}

func TestFlatten(t *testing.T) {
	s, y := forward(t, []int{2, 3, 1, 2}, iota(12), ops.Flatten)
	if !s.Eq(tensor.Shape{2, 6}) {
		t.Fatalf("shape %v", s)
	}
	assertClose(t, "flatten", y, iota(12), closeTol)
	gradcheck.Check(t, gradcheck.Case{
		Inputs: []gradcheck.Input{{Name: "x", Shape: []int{2, 2, 1, 2}}},
		Seed:   6,
		Build:  func(g *G.ExprGraph, in []*G.Node) (*G.Node, error) { return ops.Flatten(in[0]) },
	})
}
