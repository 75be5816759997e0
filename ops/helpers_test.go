package ops_test

import (
	"math"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// closeTol is the tolerance of hand-computed forward values.
const closeTol = 1e-6

// forward evaluates f on a float64 input of the given shape and data and
// returns the output's shape and values.
func forward(t *testing.T, shape []int, data []float64, f func(x *G.Node) (*G.Node, error)) (tensor.Shape, []float64) {
	t.Helper()
	g := G.NewGraph()
	x := G.NewTensor(g, G.Float64, len(shape), G.WithShape(shape...), G.WithName("x"),
		G.WithValue(tensor.New(tensor.WithShape(shape...), tensor.WithBacking(append([]float64(nil), data...)))))
	y, err := f(x)
	if err != nil {
		t.Fatalf("build: %+v", err)
	}
	m := G.NewTapeMachine(g)
	defer m.Close()
	if err := m.RunAll(); err != nil {
		t.Fatalf("run: %+v", err)
	}
	return y.Shape().Clone(), values(t, y.Value())
}

// values copies a float32 or float64 value into float64s.
func values(t *testing.T, v G.Value) []float64 {
	t.Helper()
	switch d := v.Data().(type) {
	case []float64:
		return append([]float64(nil), d...)
	case []float32:
		r := make([]float64, len(d))
		for i, x := range d {
			r[i] = float64(x)
		}
		return r
	case float64:
		return []float64{d}
	case float32:
		return []float64{float64(d)}
	}
	t.Fatalf("unsupported value %T", v.Data())
	return nil
}

// assertClose compares got and want elementwise within tol.
func assertClose(t *testing.T, what string, got, want []float64, tol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: got %d values %v, want %d %v", what, len(got), got, len(want), want)
	}
	for i := range want {
		if math.IsNaN(got[i]) || math.Abs(got[i]-want[i]) > tol*(1+math.Abs(want[i])) {
			t.Errorf("%s[%d] = %v, want %v (all: %v)", what, i, got[i], want[i], got)
			return
		}
	}
}

func iota(n int) []float64 {
	v := make([]float64, n)
	for i := range v {
		v[i] = float64(i + 1)
	}
	return v
}

func ones(n int) []float64 {
	v := make([]float64, n)
	for i := range v {
		v[i] = 1
	}
	return v
}

func tensorOf(shape []int, data []float64) *tensor.Dense {
	return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(append([]float64(nil), data...)))
}

func runGraph(t *testing.T, g *G.ExprGraph) {
	t.Helper()
	m := G.NewTapeMachine(g)
	defer m.Close()
	if err := m.RunAll(); err != nil {
		t.Fatalf("run: %+v", err)
	}
}

func tensorOf32(shape []int, data []float32) *tensor.Dense {
	return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(append([]float32(nil), data...)))
}

// upstreamFixed fails t when a Gorgonia defect that a test pins is gone:
// the replacement in package ops may then be dropped in favour of
// Gorgonia's own op, and the test updated. fixed is whether Gorgonia now
// behaves correctly; what describes what it did.
func upstreamFixed(t *testing.T, fixed bool, gorgoniaOp, ours, what string) {
	t.Helper()
	if fixed {
		t.Fatalf("gorgonia.%s no longer shows the defect this test pins (%s): upstream fixed it; "+
			"ops.%s may be replaced by Gorgonia's op and this test updated", gorgoniaOp, what, ours)
	}
}

// closeAll reports whether got and want have the same length and agree
// within closeTol.
func closeAll(got, want []float64) bool {
	if len(got) != len(want) {
		return false
	}
	for i := range got {
		if math.Abs(got[i]-want[i]) > closeTol {
			return false
		}
	}
	return true
}
