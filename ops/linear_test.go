package ops_test

import (
	"testing"

	"github.com/goinception/googlenet/internal/gradcheck"
	"github.com/goinception/googlenet/ops"
	G "gorgonia.org/gorgonia"
)

func TestLinear(t *testing.T) {
	// x [1,2] = [1 2]; w [3,2] rows [1 0] [0 1] [1 1]; b [10 20 30].
	g := G.NewGraph()
	x := G.NewMatrix(g, G.Float64, G.WithShape(1, 2), G.WithName("x"), G.WithValue(tensorOf([]int{1, 2}, []float64{1, 2})))
	w := G.NewMatrix(g, G.Float64, G.WithShape(3, 2), G.WithName("w"), G.WithValue(tensorOf([]int{3, 2}, []float64{1, 0, 0, 1, 1, 1})))
	b := G.NewVector(g, G.Float64, G.WithShape(3), G.WithName("b"), G.WithValue(tensorOf([]int{3}, []float64{10, 20, 30})))
	y, err := ops.Linear(x, w, b)
	if err != nil {
		t.Fatal(err)
	}
	runGraph(t, g)
	assertClose(t, "linear", values(t, y.Value()), []float64{11, 22, 33}, closeTol)
}

func TestLinearGradient(t *testing.T) {
	for _, bias := range []bool{false, true} {
		ins := []gradcheck.Input{{Name: "x", Shape: []int{3, 4}}, {Name: "w", Shape: []int{5, 4}}}
		if bias {
			ins = append(ins, gradcheck.Input{Name: "b", Shape: []int{5}})
		}
		gradcheck.Check(t, gradcheck.Case{
			Inputs: ins, Seed: 5,
			Build: func(g *G.ExprGraph, in []*G.Node) (*G.Node, error) {
				var b *G.Node
				if bias {
					b = in[2]
				}
				return ops.Linear(in[0], in[1], b)
			},
		})
	}
}

func TestLinearErrors(t *testing.T) {
	g := G.NewGraph()
	x := G.NewMatrix(g, G.Float32, G.WithShape(2, 3), G.WithName("x"))
	w := G.NewMatrix(g, G.Float32, G.WithShape(4, 2), G.WithName("w"))
	if _, err := ops.Linear(x, w, nil); err == nil {
		t.Error("feature mismatch: no error")
	}
	w64 := G.NewMatrix(g, G.Float64, G.WithShape(4, 3), G.WithName("w64"))
	if _, err := ops.Linear(x, w64, nil); err == nil {
		t.Error("dtype mismatch: no error")
	}
}
