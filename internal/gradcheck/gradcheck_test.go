package gradcheck_test

import (
	"fmt"
	"hash"
	"io"
	"testing"

	"github.com/chewxy/hm"
	"github.com/goinception/googlenet/internal/gradcheck"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

func TestCheckPassesOnCorrectGradients(t *testing.T) {
	res := gradcheck.Check(t, gradcheck.Case{
		Inputs: []gradcheck.Input{{Name: "x", Shape: []int{2, 3}}, {Name: "y", Shape: []int{2, 3}}},
		Seed:   1,
		Build: func(g *G.ExprGraph, in []*G.Node) (*G.Node, error) {
			p, err := G.HadamardProd(in[0], in[1])
			if err != nil {
				return nil, err
			}
			return G.Tanh(p)
		},
	})
	if len(res.Analytic[0]) != 6 || len(res.Numeric[1]) != 6 {
		t.Fatalf("result sizes %d, %d", len(res.Analytic[0]), len(res.Numeric[1]))
	}
}

// twiceOp computes 2x but claims its gradient is dy (it should be 2·dy).
type twiceOp struct{}

func (twiceOp) Arity() int { return 1 }
func (twiceOp) Type() hm.Type {
	t := G.TensorType{Dims: 1, Of: hm.TypeVariable('a')}
	return hm.NewFnType(t, t)
}
func (twiceOp) InferShape(s ...G.DimSizer) (tensor.Shape, error) {
	return s[0].(tensor.Shape).Clone(), nil
}
func (twiceOp) ReturnsPtr() bool      { return false }
func (twiceOp) CallsExtern() bool     { return false }
func (twiceOp) OverwritesInput() int  { return -1 }
func (twiceOp) WriteHash(h hash.Hash) { io.WriteString(h, "twice") }
func (twiceOp) Hashcode() uint32      { return 2 }
func (twiceOp) String() string        { return "twice" }
func (twiceOp) DiffWRT(int) []bool    { return []bool{true} }
func (twiceOp) Do(v ...G.Value) (G.Value, error) {
	x := v[0].Data().([]float64)
	y := make([]float64, len(x))
	for i := range x {
		y[i] = 2 * x[i]
	}
	return tensor.New(tensor.WithShape(len(y)), tensor.WithBacking(y)), nil
}
func (twiceOp) SymDiff(in G.Nodes, out, grad *G.Node) (G.Nodes, error) { return G.Nodes{grad}, nil }

func TestRunDetectsWrongGradient(t *testing.T) {
	res, err := gradcheck.Run(gradcheck.Case{
		Inputs: []gradcheck.Input{{Name: "x", Shape: []int{4}}},
		Seed:   2,
		Build:  func(g *G.ExprGraph, in []*G.Node) (*G.Node, error) { return G.ApplyOp(twiceOp{}, in[0]) },
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Mismatches) != 4 {
		t.Fatalf("%d mismatches, want 4: %v", len(res.Mismatches), res.Mismatches)
	}
	m := res.Mismatches[0]
	if d := m.Numeric - 2*m.Analytic; d > 1e-6 || d < -1e-6 {
		t.Errorf("numeric %v should be twice analytic %v", m.Numeric, m.Analytic)
	}
}

// Checking the gradient of sum(R ⊙ x²): no element is out of tolerance.
func ExampleRun() {
	res, err := gradcheck.Run(gradcheck.Case{
		Inputs: []gradcheck.Input{{Name: "x", Shape: []int{3}, Value: []float64{1, 2, 3}}},
		Build:  func(g *G.ExprGraph, in []*G.Node) (*G.Node, error) { return G.Square(in[0]) },
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("mismatches:", len(res.Mismatches))
	// Output: mismatches: 0
}
