package gradcheck

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/pkg/errors"
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
	// Mismatches lists the elements out of tolerance (empty: the check
	// passed).
	Mismatches []Mismatch
}

// Mismatch is one gradient element outside tolerance.
type Mismatch struct {
	Input             string
	Index             int
	Analytic, Numeric float64
	// Repeat marks a gradient that changed on a repeated run (Numeric then
	// holds the first run's value).
	Repeat bool
}

func (m Mismatch) String() string {
	if m.Repeat {
		return fmt.Sprintf("d cost/d %s[%d] changed on a repeated run: %.10g then %.10g", m.Input, m.Index, m.Numeric, m.Analytic)
	}
	return fmt.Sprintf("d cost/d %s[%d]: analytic %.10g, numeric %.10g", m.Input, m.Index, m.Analytic, m.Numeric)
}

// Check runs the case and reports every mismatch through t.
func Check(t testing.TB, c Case) Result {
	t.Helper()
	res, err := Run(c)
	if err != nil {
		t.Fatalf("gradcheck: %+v", err)
	}
	for i, m := range res.Mismatches {
		if i == 10 {
			t.Errorf("gradcheck: ... %d mismatches in all", len(res.Mismatches))
			break
		}
		t.Errorf("gradcheck: %v", m)
	}
	return res
}

// Run performs the check and returns what it found; the error reports a
// graph that cannot be built or run.
func Run(c Case) (res Result, err error) {
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
	names := make([]string, len(c.Inputs))
	for i, in := range c.Inputs {
		size := 1
		for _, d := range in.Shape {
			size *= d
		}
		v := make([]float64, size)
		switch {
		case in.Value != nil:
			if len(in.Value) != size {
				return res, errors.Errorf("input %s has %d values for shape %v", in.Name, len(in.Value), in.Shape)
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
		names[i] = in.Name
		if names[i] == "" {
			names[i] = fmt.Sprintf("input%d", i)
		}
		val := tensor.New(tensor.WithShape(in.Shape...), tensor.WithBacking(v))
		nodes[i] = G.NewTensor(g, tensor.Float64, len(in.Shape), G.WithShape(in.Shape...), G.WithName(names[i]), G.WithValue(val))
		if !in.NoGrad {
			wrt = append(wrt, nodes[i])
			wrtIdx = append(wrtIdx, i)
		}
	}
	out, err := c.Build(g, nodes)
	if err != nil {
		return res, errors.Wrap(err, "build")
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
			return res, errors.Wrap(err, "weighting output")
		}
		if cost, err = G.Sum(prod); err != nil {
			return res, errors.Wrap(err, "summing output")
		}
	}
	grads, err := G.Grad(cost, wrt...)
	if err != nil {
		return res, errors.Wrap(err, "Grad")
	}
	m := G.NewTapeMachine(g)
	defer m.Close()
	run := func() error {
		m.Reset()
		return errors.Wrap(m.RunAll(), "RunAll")
	}
	if err := run(); err != nil {
		return res, err
	}
	if res.Out, err = copyValue(out.Value()); err != nil {
		return res, err
	}
	res.Analytic = make([][]float64, len(c.Inputs))
	res.Numeric = make([][]float64, len(c.Inputs))
	for k, gn := range grads {
		i := wrtIdx[k]
		if res.Analytic[i], err = copyValue(gn.Value()); err != nil {
			return res, err
		}
		if len(res.Analytic[i]) != len(data[i]) {
			return res, errors.Errorf("gradient of %s has %d values, want %d", names[i], len(res.Analytic[i]), len(data[i]))
		}
	}
	costAt := func() (float64, error) {
		if err := run(); err != nil {
			return 0, err
		}
		v, err := copyValue(cost.Value())
		if err != nil {
			return 0, err
		}
		if len(v) != 1 {
			return 0, errors.Errorf("cost has %d values", len(v))
		}
		return v[0], nil
	}
	h := tol.Step
	for _, i := range wrtIdx {
		d := data[i]
		num := make([]float64, len(d))
		for j := range d {
			orig := d[j]
			d[j] = orig + h
			fp, err := costAt()
			if err != nil {
				return res, err
			}
			d[j] = orig - h
			fm, err := costAt()
			if err != nil {
				return res, err
			}
			d[j] = orig
			num[j] = (fp - fm) / (2 * h)
		}
		res.Numeric[i] = num
	}
	for _, i := range wrtIdx {
		for j, a := range res.Analytic[i] {
			n := res.Numeric[i][j]
			if math.IsNaN(a) || math.Abs(a-n) > tol.Abs+tol.Rel*math.Max(math.Abs(a), math.Abs(n)) {
				res.Mismatches = append(res.Mismatches, Mismatch{Input: names[i], Index: j, Analytic: a, Numeric: n})
			}
		}
	}
	// Run again at the original inputs: buffers reused across runs must not
	// change the results.
	if err := run(); err != nil {
		return res, err
	}
	for k, gn := range grads {
		i := wrtIdx[k]
		again, err := copyValue(gn.Value())
		if err != nil {
			return res, err
		}
		for j, a := range res.Analytic[i] {
			if math.Abs(again[j]-a) > Repeat*(1+math.Abs(a)) {
				res.Mismatches = append(res.Mismatches, Mismatch{Input: names[i], Index: j, Analytic: again[j], Numeric: a, Repeat: true})
				break
			}
		}
	}
	return res, nil
}

// copyValue returns a copy of a float64 value's elements.
func copyValue(v G.Value) ([]float64, error) {
	switch s := v.(type) {
	case *G.F64:
		return []float64{float64(*s)}, nil
	case tensor.Tensor:
		if x, ok := s.Data().(float64); ok {
			return []float64{x}, nil
		}
		if dd, ok := s.(*tensor.Dense); ok && dd.IsMaterializable() {
			s = dd.Materialize()
		}
		d, ok := s.Data().([]float64)
		if !ok {
			return nil, errors.Errorf("value holds %T, want float64", s.Data())
		}
		return append([]float64(nil), d...), nil
	case nil:
		return nil, errors.New("node has no value")
	}
	return nil, errors.Errorf("unsupported value %T", v)
}
