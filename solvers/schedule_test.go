package solvers

import (
	"math"
	"testing"
)

func TestScheduleValues(t *testing.T) {
	const spe = 10 // steps per epoch
	at := func(step int64) Position { return Position{Step: step, Epoch: float64(step) / spe} }
	for _, c := range []struct {
		name  string
		s     Schedule
		steps []int64
		want  []float64
	}{
		{"constant", Constant{}, []int64{0, 1, 1e9}, []float64{1, 1, 1}},
		// Paper default: 0.96 every 8 epochs; the factor changes at the
		// first step of epoch 8 (step 80 at 10 steps per epoch).
		{"paper step", StepDecay{}, []int64{0, 79, 80, 159, 160},
			[]float64{1, 1, 0.96, 0.96, 0.96 * 0.96}},
		{"step in steps", StepDecay{Gamma: 0.5, Period: 3, Unit: Steps}, []int64{0, 2, 3, 5, 6},
			[]float64{1, 1, 0.5, 0.5, 0.25}},
		// (1 - 75/100)^0.5 = 0.5; zero at and after Max.
		{"poly", Poly{Max: 100, Unit: Steps}, []int64{0, 75, 99, 100, 150},
			[]float64{1, 0.5, 0.1, 0, 0}},
		// (1 - 5/10 epochs)^2 = 0.25.
		{"poly epochs power 2", Poly{Max: 10, Power: 2}, []int64{0, 50, 100},
			[]float64{1, 0.25, 0}},
		// Ramp 0.25 + 0.75*t/4 times a halving every 2 steps:
		//   t=0: 0.25*1; t=1: 0.4375*1; t=2: 0.625*0.5; t=3: 0.8125*0.5; t=4: 1*0.25.
		{"warm-up over step", Warmup{Length: 4, Start: 0.25, Unit: Steps,
			Then: StepDecay{Gamma: 0.5, Period: 2, Unit: Steps}},
			[]int64{0, 1, 2, 3, 4}, []float64{0.25, 0.4375, 0.3125, 0.40625, 0.25}},
		// From zero over half an epoch (5 steps): t/5.
		{"warm-up from zero", Warmup{Length: 0.5}, []int64{0, 1, 4, 5, 100},
			[]float64{0, 0.2, 0.8, 1, 1}},
	} {
		if err := c.s.Validate(spe); err != nil {
			t.Errorf("%s: Validate: %v", c.name, err)
			continue
		}
		for i, step := range c.steps {
			if got := c.s.Factor(at(step)); !near(got, c.want[i], handTol) {
				t.Errorf("%s: factor at step %d = %.15g, want %.15g", c.name, step, got, c.want[i])
			}
		}
	}
}

func TestScheduleRejectsUnsupportedSettings(t *testing.T) {
	for _, c := range []struct {
		name string
		s    Schedule
		spe  int64
	}{
		{"step epochs without steps per epoch", StepDecay{}, 0},
		{"step gamma > 1", StepDecay{Gamma: 1.5, Unit: Steps}, 0},
		{"step gamma < 0", StepDecay{Gamma: -0.5, Unit: Steps}, 0},
		{"step negative period", StepDecay{Period: -1, Unit: Steps}, 0},
		{"step infinite period", StepDecay{Period: math.Inf(1), Unit: Steps}, 0},
		{"step unknown unit", StepDecay{Unit: 9}, 10},
		{"poly without max", Poly{Unit: Steps}, 0},
		{"poly negative power", Poly{Max: 10, Power: -1, Unit: Steps}, 0},
		{"poly epochs without steps per epoch", Poly{Max: 10}, 0},
		{"warm-up without length", Warmup{Unit: Steps}, 0},
		{"warm-up start 1", Warmup{Length: 5, Start: 1, Unit: Steps}, 0},
		{"warm-up negative start", Warmup{Length: 5, Start: -0.1, Unit: Steps}, 0},
		{"warm-up bad inner", Warmup{Length: 5, Unit: Steps, Then: Poly{Unit: Steps}}, 0},
	} {
		if err := c.s.Validate(c.spe); err == nil {
			t.Errorf("%s: %+v accepted", c.name, c.s)
		}
	}
}

// TestScheduleResumeIsExact: the factor depends only on the position, so a
// solver restored at step n uses the same rates as one that ran n steps.
func TestScheduleResumeIsExact(t *testing.T) {
	cfg := SGDConfig{LR: 0.1, StepsPerEpoch: 3, Schedule: Warmup{Length: 1, Then: Poly{Max: 4}}}
	a := mustSGD(t, cfg)
	p := &Param{Name: "w", Value: vec64(0), Grad: vec64(1)}
	var want []float64
	for i := 0; i < 8; i++ {
		want = append(want, mustStep(t, a, []*Param{p}).LR)
	}
	b := mustSGD(t, cfg)
	if err := b.SetState(State{Version: StateVersion, Step: 5}); err != nil {
		t.Fatal(err)
	}
	for i := 5; i < 8; i++ {
		if got := mustStep(t, b, []*Param{p}).LR; !near(got, want[i], 0) {
			t.Errorf("resumed step %d: lr %v, want %v", i+1, got, want[i])
		}
	}
}
