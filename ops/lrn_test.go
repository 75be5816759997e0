package ops_test

import (
	"testing"

	"github.com/goinception/googlenet/internal/gradcheck"
	"github.com/goinception/googlenet/ops"
	G "gorgonia.org/gorgonia"
)

func TestLRN(t *testing.T) {
	// size 3, alpha 3 (alpha/size = 1), beta 1, k 1:
	// s = 1 + window sum of squares: 6, 15, 14.
	_, y := forward(t, []int{1, 3, 1, 1}, []float64{1, 2, 3}, func(x *G.Node) (*G.Node, error) {
		return ops.LRN(x, ops.LRNOpts{Size: 3, Alpha: 3, Beta: 1, K: 1})
	})
	assertClose(t, "lrn", y, []float64{1. / 6, 2. / 15, 3. / 14}, closeTol)
}

func TestLRNGradient(t *testing.T) {
	for _, o := range []ops.LRNOpts{
		{Size: 3, Alpha: 0.5, Beta: 0.75, K: 2},
		{Size: 5, Alpha: 1, Beta: 0.6, K: 1.5},
		{Size: 5, Alpha: 1e-4, Beta: 0.75, K: 1}, // GoogLeNet's
	} {
		gradcheck.Check(t, gradcheck.Case{
			Inputs: []gradcheck.Input{{Name: "x", Shape: []int{2, 6, 2, 3}, Low: -2, High: 2}},
			Seed:   12,
			Build:  func(g *G.ExprGraph, in []*G.Node) (*G.Node, error) { return ops.LRN(in[0], o) },
		})
	}
}

func TestLRNErrors(t *testing.T) {
	g := G.NewGraph()
	x := G.NewTensor(g, G.Float32, 4, G.WithShape(1, 3, 2, 2), G.WithName("x"))
	for _, o := range []ops.LRNOpts{{Size: 4, Alpha: 1, Beta: 1, K: 1}, {Size: 3, Alpha: 1, Beta: 1, K: 0}, {}} {
		if _, err := ops.LRN(x, o); err == nil {
			t.Errorf("LRN(%+v): no error", o)
		}
	}
}
