package solvers

import (
	"math"

	"github.com/pkg/errors"
	"gorgonia.org/tensor"

	"github.com/goinception/googlenet/graph"
)

// Param is one parameter as a solver sees it: it is graph.Param, the type a
// model's parameters have, so a solver updates a model's parameters
// directly (Model.Trainable()). A solver uses Name (unique within the list),
// Value (updated in place), Grad (read, never written), Frozen (skipped),
// Decay, LRMult and DecayMult; a parameter made outside a graph needs only
// those.
//
// Value and Grad must be dense, contiguous, natively accessible tensors of
// the same shape and dtype (float32 or float64).
type Param = graph.Param

// mult returns m, or 1 for 0.
func mult(m float64) float64 {
	if m == 0 {
		return 1
	}
	return m
}

// Tensor is a plain copy of one solver buffer (a velocity or an average):
// its shape and exactly one of Float32 or Float64, in row-major order. It is
// what State carries, so a checkpoint writer can serialise it without
// knowing about Gorgonia.
type Tensor struct {
	Shape   []int
	Float32 []float32 `json:",omitempty"`
	Float64 []float64 `json:",omitempty"`
}

// buffer is a solver-owned array with the shape and dtype of one parameter.
type buffer struct {
	shape []int
	f32   []float32
	f64   []float64
}

func newBuffer(shape []int, dt tensor.Dtype) buffer {
	n := numElems(shape)
	b := buffer{shape: append([]int(nil), shape...)}
	if dt == tensor.Float32 {
		b.f32 = make([]float32, n)
	} else {
		b.f64 = make([]float64, n)
	}
	return b
}

func (b buffer) dtype() tensor.Dtype {
	if b.f32 != nil {
		return tensor.Float32
	}
	return tensor.Float64
}

func (b buffer) export() Tensor {
	t := Tensor{Shape: append([]int(nil), b.shape...)}
	if b.f32 != nil {
		t.Float32 = append([]float32(nil), b.f32...)
	} else {
		t.Float64 = append([]float64(nil), b.f64...)
	}
	return t
}

func (b buffer) dense() *tensor.Dense {
	if b.f32 != nil {
		return tensor.New(tensor.WithShape(b.shape...), tensor.WithBacking(append([]float32(nil), b.f32...)))
	}
	return tensor.New(tensor.WithShape(b.shape...), tensor.WithBacking(append([]float64(nil), b.f64...)))
}

// importTensor validates t and returns a deep copy of it as a buffer.
func importTensor(name string, t Tensor) (buffer, error) {
	for _, d := range t.Shape {
		if d <= 0 {
			return buffer{}, errors.Errorf("solvers: %q: shape %v has a non-positive dimension", name, t.Shape)
		}
	}
	n := numElems(t.Shape)
	switch {
	case t.Float32 != nil && t.Float64 != nil:
		return buffer{}, errors.Errorf("solvers: %q: both Float32 and Float64 are set", name)
	case t.Float32 != nil:
		if len(t.Float32) != n {
			return buffer{}, errors.Errorf("solvers: %q: %d float32 values for shape %v", name, len(t.Float32), t.Shape)
		}
		return buffer{shape: append([]int(nil), t.Shape...), f32: append([]float32(nil), t.Float32...)}, nil
	case t.Float64 != nil:
		if len(t.Float64) != n {
			return buffer{}, errors.Errorf("solvers: %q: %d float64 values for shape %v", name, len(t.Float64), t.Shape)
		}
		return buffer{shape: append([]int(nil), t.Shape...), f64: append([]float64(nil), t.Float64...)}, nil
	}
	return buffer{}, errors.Errorf("solvers: %q: neither Float32 nor Float64 is set", name)
}

func numElems(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}

// data is direct access to the elements of a *tensor.Dense. A scalar Dense
// does not expose its backing slice, so its single element is copied out and
// written back by flush.
type data struct {
	t      *tensor.Dense
	f32    []float32
	f64    []float64
	scalar bool
}

func (d data) flush() {
	if !d.scalar {
		return
	}
	if d.f32 != nil {
		d.t.Set(0, d.f32[0])
	} else {
		d.t.Set(0, d.f64[0])
	}
}

func access(what string, t *tensor.Dense) (data, error) {
	if t == nil {
		return data{}, errors.Errorf("%s is nil", what)
	}
	if t.IsMaterializable() || t.RequiresIterator() {
		return data{}, errors.Errorf("%s is a view or non-contiguous tensor; pass a materialised tensor", what)
	}
	if !t.IsNativelyAccessible() {
		return data{}, errors.Errorf("%s is not in Go-accessible memory", what)
	}
	d := data{t: t}
	switch t.Dtype() {
	case tensor.Float32:
		if t.IsScalar() {
			d.f32, d.scalar = []float32{t.Get(0).(float32)}, true
		} else {
			d.f32 = t.Data().([]float32)
		}
	case tensor.Float64:
		if t.IsScalar() {
			d.f64, d.scalar = []float64{t.Get(0).(float64)}, true
		} else {
			d.f64 = t.Data().([]float64)
		}
	default:
		return data{}, errors.Errorf("%s has dtype %v; solvers support float32 and float64", what, t.Dtype())
	}
	return d, nil
}

// checked is one validated parameter, ready to update.
type checked struct {
	p     *Param
	shape []int
	dt    tensor.Dtype
	w, g  data
}

// checkParams validates params (unique non-empty names, matching shapes and
// dtypes) and gives direct access to their values and gradients; frozen
// parameters are left out. needGrad says whether Grad is required.
func checkParams(params []*Param, needGrad bool) ([]checked, error) {
	seen := make(map[string]bool, len(params))
	out := make([]checked, 0, len(params))
	for i, p := range params {
		if p == nil {
			return nil, errors.Errorf("solvers: parameter %d is nil", i)
		}
		if p.Frozen {
			continue
		}
		if p.Name == "" {
			return nil, errors.Errorf("solvers: parameter %d has an empty name", i)
		}
		if seen[p.Name] {
			return nil, errors.Errorf("solvers: parameter name %q appears twice", p.Name)
		}
		if !(p.LRMult >= 0) || math.IsInf(p.LRMult, 0) || !(p.DecayMult >= 0) || math.IsInf(p.DecayMult, 0) {
			return nil, errors.Errorf("solvers: parameter %q: multipliers lr %v, decay %v must be finite and not negative", p.Name, p.LRMult, p.DecayMult)
		}
		seen[p.Name] = true
		w, err := access("value", p.Value)
		if err != nil {
			return nil, errors.Wrapf(err, "solvers: parameter %q", p.Name)
		}
		c := checked{p: p, shape: []int(p.Value.Shape().Clone()), dt: p.Value.Dtype(), w: w}
		if needGrad {
			g, err := access("gradient", p.Grad)
			if err != nil {
				return nil, errors.Wrapf(err, "solvers: parameter %q", p.Name)
			}
			if p.Grad.Dtype() != c.dt {
				return nil, errors.Errorf("solvers: parameter %q: gradient dtype %v differs from value dtype %v", p.Name, p.Grad.Dtype(), c.dt)
			}
			if !p.Grad.Shape().Eq(p.Value.Shape()) {
				return nil, errors.Errorf("solvers: parameter %q: gradient shape %v differs from value shape %v", p.Name, p.Grad.Shape(), p.Value.Shape())
			}
			c.g = g
		}
		out = append(out, c)
	}
	return out, nil
}

// sumSquares returns the sum of the squares of x, accumulated in float64.
func sumSquares[T float32 | float64](x []T) float64 {
	var s float64
	for _, v := range x {
		s += float64(v) * float64(v)
	}
	return s
}

// globalNorm is the Euclidean norm of all gradients taken together, the
// quantity torch.nn.utils.clip_grad_norm_ computes.
// Each parameter's sum is taken whole by one goroutine and the sums are
// added in order, so the result does not depend on the number of threads.
func globalNorm(cs []checked) float64 {
	sums := make([]float64, len(cs))
	forEach(len(cs), func(i int) {
		if g := cs[i].g; g.f32 != nil {
			sums[i] = sumSquares(g.f32)
		} else {
			sums[i] = sumSquares(g.f64)
		}
	})
	var s float64
	for _, v := range sums {
		s += v
	}
	return math.Sqrt(s)
}
