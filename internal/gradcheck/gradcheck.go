// Package gradcheck compares the symbolic gradients of a Gorgonia
// expression with central finite differences, in float64.
//
// # Method
//
// Check builds a small graph: one input node per Input, the expression under
// test on top, and a scalar cost
//
//	cost = sum(out ⊙ R)
//
// where R is a fixed random tensor (so every output element carries a
// different weight and a wrong index in a backward pass shows up). If the
// expression is already a scalar, cost = out. gorgonia.Grad gives the
// analytic gradient of cost with respect to every input not marked NoGrad;
// the numeric gradient of element i is
//
//	(cost(x + h·e_i) - cost(x - h·e_i)) / 2h
//
// computed by editing the input in place and re-running the same
// TapeMachine (Reset, RunAll). The two agree when
//
//	|analytic - numeric| <= Tol.Abs + Tol.Rel * max(|analytic|, |numeric|).
//
// # Repeated runs
//
// After the finite differences, the machine runs once more at the original
// inputs and the gradients must reproduce the first run's: ops that reuse
// buffers across runs must not carry state from one run into the next.
package gradcheck

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Tolerances of a gradient check.
type Tolerances struct {
	Step float64 // finite-difference step h
	Abs  float64 // absolute tolerance
	Rel  float64 // relative tolerance
}

// Default tolerances: a central difference with h = 1e-6 in float64 has
// truncation error O(h²·f”') and rounding error O(eps·|f|/h) ≈ 1e-10, so
// 1e-6 relative agreement leaves a wide margin for smooth ops while still
// catching any wrong term.
var Default = Tolerances{Step: 1e-6, Abs: 1e-7, Rel: 1e-6}

// Repeat is the tolerance for reproducing the first run's gradients on a
// later run of the same machine (they should be identical up to the
// order of parallel reductions).
const Repeat = 1e-12

// Input describes one input node of the graph under test.
type Input struct {
	Name  string
	Shape []int
	// NoGrad excludes the input from the gradient (e.g. class labels).
	NoGrad bool
	// Value fixes the values; nil draws them uniformly from [Low, High)
	// (default [-1, 1)) with the case's seed.
	Value     []float64
	Low, High float64
}

// Case is one gradient check.
type Case struct {
	Inputs []Input
	// Build returns the expression under test over the input nodes.
	Build func(g *G.ExprGraph, in []*G.Node) (*G.Node, error)
	Seed  uint64
	Tol   Tolerances // zero value means Default
}

// Result holds what a check computed, for further assertions.
type Result struct {
	Out      []float64   // the expression's value at the original inputs
	Analytic [][]float64 // per input (nil for NoGrad inputs)
	Numeric  [][]float64
}

// Check runs the case and reports every mismatch through t.
func Check(t testing.TB, c Case) Result {
	t.Helper()
	tol := c.Tol
	if tol == (Tolerances{}) {
		tol = Default
	}
	rng := rand.New(rand.NewPCG(c.Seed, 0x9e3779b97f4a7c15))
	g := G.NewGraph()
	nodes := make([]*G.Node, len(c.Inputs))
	data := make([][]float64, len(c.Inputs))
	var wrt []*G.Node
	var wrtIdx []int
	for i, in := range c.Inputs {
		size := 1
		for _, d := range in.Shape {
			size *= d
		}
		v := make([]float64, size)
		switch {
		case in.Value != nil:
			if len(in.Value) != size {
				t.Fatalf("gradcheck: input %s has %d values for shape %v", in.Name, len(in.Value), in.Shape)
			}
			copy(v, in.Value)
		default:
			lo, hi := in.Low, in.High
			if lo == 0 && hi == 0 {
				lo, hi = -1, 1
			}
			for j := range v {
				v[j] = lo + (hi-lo)*rng.Float64()
			}
		}
		data[i] = v
		name := in.Name
		if name == "" {
			name = fmt.Sprintf("input%d", i)
		}
		val := tensor.New(tensor.WithShape(in.Shape...), tensor.WithBacking(v))
		nodes[i] = G.NewTensor(g, tensor.Float64, len(in.Shape), G.WithShape(in.Shape...), G.WithName(name), G.WithValue(val))
		if !in.NoGrad {
			wrt = append(wrt, nodes[i])
			wrtIdx = append(wrtIdx, i)
		}
	}
	out, err := c.Build(g, nodes)
	if err != nil {
		t.Fatalf("gradcheck: build: %+v", err)
	}
	cost := out
	if s := out.Shape(); !out.IsScalar() && len(s) > 0 {
		r := make([]float64, s.TotalSize())
		for j := range r {
			r[j] = rng.Float64()*2 - 1
		}
		rn := G.NewTensor(g, tensor.Float64, len(s), G.WithShape(s...), G.WithName("gradcheck_weights"),
			G.WithValue(tensor.New(tensor.WithShape(s...), tensor.WithBacking(r))))
		prod, err := G.HadamardProd(out, rn)
		if err != nil {
			t.Fatalf("gradcheck: weighting output: %v", err)
		}
		if cost, err = G.Sum(prod); err != nil {
			t.Fatalf("gradcheck: summing output: %v", err)
		}
	}
	grads, err := G.Grad(cost, wrt...)
	if err != nil {
		t.Fatalf("gradcheck: Grad: %+v", err)
	}
	m := G.NewTapeMachine(g)
	defer m.Close()
	run := func() {
		m.Reset()
		if err := m.RunAll(); err != nil {
			t.Fatalf("gradcheck: RunAll: %+v", err)
		}
	}
	run()
	var res Result
	res.Out = copyValue(t, out.Value())
	res.Analytic = make([][]float64, len(c.Inputs))
	res.Numeric = make([][]float64, len(c.Inputs))
	for k, gn := range grads {
		res.Analytic[wrtIdx[k]] = copyValue(t, gn.Value())
		if len(res.Analytic[wrtIdx[k]]) != len(data[wrtIdx[k]]) {
			t.Fatalf("gradcheck: gradient of %s has %d values, want %d", c.Inputs[wrtIdx[k]].Name, len(res.Analytic[wrtIdx[k]]), len(data[wrtIdx[k]]))
		}
	}
	costAt := func() float64 {
		run()
		v := copyValue(t, cost.Value())
		if len(v) != 1 {
			t.Fatalf("gradcheck: cost has %d values", len(v))
		}
		return v[0]
	}
	h := tol.Step
	for _, i := range wrtIdx {
		d := data[i]
		num := make([]float64, len(d))
		for j := range d {
			orig := d[j]
			d[j] = orig + h
			fp := costAt()
			d[j] = orig - h
			fm := costAt()
			d[j] = orig
			num[j] = (fp - fm) / (2 * h)
		}
		res.Numeric[i] = num
	}
	for _, i := range wrtIdx {
		bad := 0
		for j, a := range res.Analytic[i] {
			n := res.Numeric[i][j]
			if math.IsNaN(a) || math.Abs(a-n) > tol.Abs+tol.Rel*math.Max(math.Abs(a), math.Abs(n)) {
				if bad < 5 {
					t.Errorf("gradcheck: d cost/d %s[%d]: analytic %.10g, numeric %.10g", c.Inputs[i].Name, j, a, n)
				}
				bad++
			}
		}
		if bad > 0 {
			t.Errorf("gradcheck: %s: %d of %d gradient elements out of tolerance %+v", c.Inputs[i].Name, bad, len(res.Analytic[i]), tol)
		}
	}
	// Run again at the original inputs: buffers reused across runs must not
	// change the results.
	run()
	for k, gn := range grads {
		i := wrtIdx[k]
		again := copyValue(t, gn.Value())
		for j, a := range res.Analytic[i] {
			if math.Abs(again[j]-a) > Repeat*(1+math.Abs(a)) {
				t.Errorf("gradcheck: gradient of %s[%d] changed on a repeated run: %g then %g", c.Inputs[i].Name, j, a, again[j])
				break
			}
		}
	}
	return res
}

// copyValue returns a copy of a float64 value's elements.
func copyValue(t testing.TB, v G.Value) []float64 {
	t.Helper()
	switch s := v.(type) {
	case *G.F64:
		return []float64{float64(*s)}
	case tensor.Tensor:
		if x, ok := s.Data().(float64); ok {
			return []float64{x}
		}
		d, ok := s.Data().([]float64)
		if !ok {
			t.Fatalf("gradcheck: value holds %T, want float64", s.Data())
		}
		if dd, ok := s.(*tensor.Dense); ok && dd.IsMaterializable() {
			d = dd.Materialize().Data().([]float64)
		}
		return append([]float64(nil), d...)
	case nil:
		t.Fatalf("gradcheck: node has no value")
	}
	t.Fatalf("gradcheck: unsupported value %T", v)
	return nil
}
