package solvers

import (
	"math"
	"testing"

	"gorgonia.org/tensor"
)

// Tolerances for comparing floats. Hand-computed float64 cases differ from
// exact decimal arithmetic only by rounding.
const (
	handTol = 1e-12 // float64 hand-computed steps and schedule values
	f32Tol  = 1e-6  // float32 steps computed by hand in float64
)

// near reports whether got is within tol of want, absolutely or relative to
// |want|, whichever is larger.
func near(got, want, tol float64) bool {
	return math.Abs(got-want) <= tol*math.Max(1, math.Abs(want))
}

func vec64(xs ...float64) *tensor.Dense {
	return tensor.New(tensor.WithShape(len(xs)), tensor.WithBacking(append([]float64(nil), xs...)))
}

func vec32(xs ...float32) *tensor.Dense {
	return tensor.New(tensor.WithShape(len(xs)), tensor.WithBacking(append([]float32(nil), xs...)))
}

// values returns the elements of a float32 or float64 Dense as float64.
func values(t *tensor.Dense) []float64 {
	if t.IsScalar() {
		switch v := t.Get(0).(type) {
		case float32:
			return []float64{float64(v)}
		case float64:
			return []float64{v}
		}
	}
	switch d := t.Data().(type) {
	case []float32:
		out := make([]float64, len(d))
		for i, v := range d {
			out[i] = float64(v)
		}
		return out
	case []float64:
		return append([]float64(nil), d...)
	}
	panic("values: unsupported dtype")
}

// setGrad overwrites the gradient of p with xs.
func setGrad(p *Param, xs ...float64) {
	switch d := p.Grad.Data().(type) {
	case []float32:
		for i := range d {
			d[i] = float32(xs[i])
		}
	case []float64:
		copy(d, xs)
	}
}

func assertValues(t *testing.T, what string, got *tensor.Dense, want []float64, tol float64) {
	t.Helper()
	g := values(got)
	if len(g) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(g), len(want))
	}
	for i := range g {
		if !near(g[i], want[i], tol) {
			t.Errorf("%s[%d] = %.15g, want %.15g (tol %g)", what, i, g[i], want[i], tol)
		}
	}
}

func mustSGD(t *testing.T, cfg SGDConfig) *SGD {
	t.Helper()
	s, err := NewSGD(cfg)
	if err != nil {
		t.Fatalf("NewSGD(%+v): %v", cfg, err)
	}
	return s
}

func mustStep(t *testing.T, s *SGD, ps []*Param) StepInfo {
	t.Helper()
	info, err := s.Step(ps)
	if err != nil {
		t.Fatalf("Step: %v", err)
	}
	return info
}
