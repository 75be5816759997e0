package ops_test

import (
	"math"
	"strings"
	"testing"

	"github.com/goinception/googlenet/internal/gradcheck"
	"github.com/goinception/googlenet/ops"
	G "gorgonia.org/gorgonia"
)

func TestSoftmaxCrossEntropy(t *testing.T) {
	// Row 0: logits [0 0] label 1 -> log 2. Row 1: [1000 0] label 0 -> ~0
	// (stable: no overflow), mean = log(2)/2.
	g := G.NewGraph()
	x := G.NewMatrix(g, G.Float64, G.WithShape(2, 2), G.WithName("x"), G.WithValue(tensorOf([]int{2, 2}, []float64{0, 0, 1000, 0})))
	l := G.NewVector(g, G.Float64, G.WithShape(2), G.WithName("l"), G.WithValue(tensorOf([]int{2}, []float64{1, 0})))
	loss, err := ops.SoftmaxCrossEntropy(x, l)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := G.Grad(loss, x); err != nil {
		t.Fatal(err)
	}
	runGraph(t, g)
	assertClose(t, "loss", values(t, loss.Value()), []float64{math.Log(2) / 2}, closeTol)
}

// A confidently wrong float32 prediction gives a finite loss of 1000 (no
// log of 0, no overflow).
func TestSoftmaxCrossEntropyFloat32Stable(t *testing.T) {
	g := G.NewGraph()
	x := G.NewMatrix(g, G.Float32, G.WithShape(1, 2), G.WithName("x"), G.WithValue(tensorOf32([]int{1, 2}, []float32{1000, 0})))
	l := G.NewVector(g, G.Float32, G.WithShape(1), G.WithName("l"), G.WithValue(tensorOf32([]int{1}, []float32{1})))
	loss, err := ops.SoftmaxCrossEntropy(x, l)
	if err != nil {
		t.Fatal(err)
	}
	runGraph(t, g)
	assertClose(t, "loss", values(t, loss.Value()), []float64{1000}, closeTol)
}

func TestSoftmaxCrossEntropyBadLabel(t *testing.T) {
	for _, bad := range []float64{3, -1, 0.5} {
		g := G.NewGraph()
		x := G.NewMatrix(g, G.Float64, G.WithShape(1, 3), G.WithName("x"), G.WithInit(G.Zeroes()))
		l := G.NewVector(g, G.Float64, G.WithShape(1), G.WithName("l"), G.WithValue(tensorOf([]int{1}, []float64{bad})))
		if _, err := ops.SoftmaxCrossEntropy(x, l); err != nil {
			t.Fatal(err)
		}
		m := G.NewTapeMachine(g)
		err := m.RunAll()
		m.Close()
		if err == nil || !strings.Contains(err.Error(), "label") {
			t.Errorf("label %v: error %v, want a label error", bad, err)
		}
	}
}

func TestSoftmaxCrossEntropyGradient(t *testing.T) {
	gradcheck.Check(t, gradcheck.Case{
		Inputs: []gradcheck.Input{
			{Name: "logits", Shape: []int{3, 5}, Low: -3, High: 3},
			{Name: "labels", Shape: []int{3}, NoGrad: true, Value: []float64{4, 0, 2}},
		},
		Seed:  9,
		Build: func(g *G.ExprGraph, in []*G.Node) (*G.Node, error) { return ops.SoftmaxCrossEntropy(in[0], in[1]) },
	})
}

func TestSoftmax(t *testing.T) {
	_, y := forward(t, []int{2, 3}, []float64{0, 0, 0, 1000, 1000, -1000}, ops.Softmax)
	assertClose(t, "softmax", y, []float64{1. / 3, 1. / 3, 1. / 3, 0.5, 0.5, 0}, closeTol)
	gradcheck.Check(t, gradcheck.Case{
		Inputs: []gradcheck.Input{{Name: "x", Shape: []int{2, 4}}},
		Seed:   2,
		Build:  func(g *G.ExprGraph, in []*G.Node) (*G.Node, error) { return ops.Softmax(in[0]) },
	})
}
