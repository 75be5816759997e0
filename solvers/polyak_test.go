package solvers

import (
	"testing"
)

// setValue overwrites a float64 parameter value.
func setValue(p *Param, xs ...float64) { copy(p.Value.Data().([]float64), xs) }

// TestUniformAverage: with Start 1 the weights after steps 2, 3 and 4 are
// averaged: values (1, 10) -> ignored, (2, 20), (3, 30), (4, 40) -> mean
// (3, 30).
func TestUniformAverage(t *testing.T) {
	a, err := NewAverager(AveragingConfig{Mode: AverageUniform, Start: 1})
	if err != nil {
		t.Fatal(err)
	}
	p := &Param{Name: "w", Value: vec64(0, 0)}
	for step := int64(1); step <= 4; step++ {
		setValue(p, float64(step), 10*float64(step))
		if err := a.Update([]*Param{p}, step); err != nil {
			t.Fatal(err)
		}
	}
	avg, err := a.Average("w")
	if err != nil {
		t.Fatal(err)
	}
	assertValues(t, "average", avg, []float64{3, 30}, handTol)
	if a.Count("w") != 3 {
		t.Errorf("count %d, want 3", a.Count("w"))
	}
	if _, err := a.Average("nope"); err == nil {
		t.Error("average of an unknown name")
	}
}

// TestExponentialAverage: decay 0.5 from the first step over 1, 2, 3:
// avg = 1, then 0.5*1 + 0.5*2 = 1.5, then 0.5*1.5 + 0.5*3 = 2.25.
func TestExponentialAverage(t *testing.T) {
	a, err := NewAverager(AveragingConfig{Mode: AverageExponential, Decay: 0.5})
	if err != nil {
		t.Fatal(err)
	}
	p := &Param{Name: "w", Value: vec32(0)}
	for step := 1; step <= 3; step++ {
		p.Value.Data().([]float32)[0] = float32(step)
		if err := a.Update([]*Param{p}, int64(step)); err != nil {
			t.Fatal(err)
		}
	}
	avg, _ := a.Average("w")
	assertValues(t, "average", avg, []float64{2.25}, f32Tol)
	if d := a.Config().Decay; !near(d, 0.5, handTol) {
		t.Errorf("decay %v", d)
	}
	def, _ := NewAverager(AveragingConfig{Mode: AverageExponential})
	if d := def.Config().Decay; !near(d, 0.999, handTol) {
		t.Errorf("default decay %v, want 0.999", d)
	}
}

// TestSwapInOut: SwapIn puts the averages into the live tensors, SwapOut
// restores the training values; training and state are refused in between.
func TestSwapInOut(t *testing.T) {
	s := mustSGD(t, SGDConfig{LR: 1, NoMomentum: true, Averaging: AveragingConfig{Mode: AverageUniform}})
	p := &Param{Name: "w", Value: vec64(0), Grad: vec64(1)}
	for i := 0; i < 3; i++ { // weights -1, -2, -3; average -2
		mustStep(t, s, []*Param{p})
	}
	av := s.Averager()
	if err := av.SwapOut([]*Param{p}); err == nil {
		t.Error("SwapOut before SwapIn accepted")
	}
	if err := av.SwapIn([]*Param{p}); err != nil {
		t.Fatal(err)
	}
	assertValues(t, "swapped in", p.Value, []float64{-2}, handTol)
	if _, err := s.Step([]*Param{p}); err == nil {
		t.Error("Step while swapped accepted")
	}
	if _, err := s.State(); err == nil {
		t.Error("State while swapped accepted")
	}
	if err := av.SwapIn([]*Param{p}); err == nil {
		t.Error("second SwapIn accepted")
	}
	if err := av.SwapOut([]*Param{p}); err != nil {
		t.Fatal(err)
	}
	assertValues(t, "swapped out", p.Value, []float64{-3}, handTol)
	avg, _ := av.Average("w")
	assertValues(t, "average after swaps", avg, []float64{-2}, handTol)

	// A parameter without an average is refused and nothing is swapped.
	q := &Param{Name: "q", Value: vec64(7)}
	if err := av.SwapIn([]*Param{p, q}); err == nil {
		t.Error("SwapIn of an unaveraged parameter accepted")
	}
	assertValues(t, "after failed swap", p.Value, []float64{-3}, 0)
}

// TestAveragingStartsAfterStart: with Start 2, SGD's first two steps are not
// averaged.
func TestAveragingStartsAfterStart(t *testing.T) {
	s := mustSGD(t, SGDConfig{LR: 1, NoMomentum: true, Averaging: AveragingConfig{Mode: AverageUniform, Start: 2}})
	p := &Param{Name: "w", Value: vec64(0), Grad: vec64(1)}
	for i := 0; i < 2; i++ {
		mustStep(t, s, []*Param{p})
	}
	if n := len(s.Averager().Names()); n != 0 {
		t.Fatalf("%d averages before Start", n)
	}
	for i := 0; i < 2; i++ { // weights -3, -4
		mustStep(t, s, []*Param{p})
	}
	avg, err := s.Averager().Average("w")
	if err != nil {
		t.Fatal(err)
	}
	assertValues(t, "average", avg, []float64{-3.5}, handTol)
}

func TestAveragerRejects(t *testing.T) {
	if _, err := NewAverager(AveragingConfig{}); err == nil {
		t.Error("NewAverager with AverageOff accepted")
	}
	a, _ := NewAverager(AveragingConfig{Mode: AverageUniform})
	if err := a.Update([]*Param{{Name: "w", Value: vec64(1)}}, 1); err != nil {
		t.Fatal(err)
	}
	if err := a.Update([]*Param{{Name: "w", Value: vec64(1, 2)}}, 2); err == nil {
		t.Error("shape change accepted")
	}
}
