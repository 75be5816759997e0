package solvers

import (
	"errors"
	"math"
	"strings"
	"testing"

	"gorgonia.org/tensor"
)

// TestSGDTwoStepsByHand checks two momentum steps with weight decay on a
// decayed weight and an undecayed bias, worked out by hand:
//
//	lr = 0.1, mu = 0.9, lambda = 0.01
//	weight w0 = 1.0 (Decay):
//	  step 1, g = 0.5: d = 0.5 + 0.01*1.0 = 0.51; v = 0.51;
//	                   w1 = 1.0 - 0.1*0.51 = 0.949
//	  step 2, g = 0.2: d = 0.2 + 0.01*0.949 = 0.20949;
//	                   v = 0.9*0.51 + 0.20949 = 0.66849;
//	                   w2 = 0.949 - 0.1*0.66849 = 0.882151
//	bias b0 = 2.0 (no Decay):
//	  step 1, g = 1.0:  v = 1.0;  b1 = 2.0 - 0.1 = 1.9
//	  step 2, g = -1.0: v = 0.9*1.0 - 1.0 = -0.1; b2 = 1.9 + 0.01 = 1.91
func TestSGDTwoStepsByHand(t *testing.T) {
	for _, dt := range []tensor.Dtype{tensor.Float64, tensor.Float32} {
		t.Run(dt.String(), func(t *testing.T) {
			w, b := vec64(1.0), vec64(2.0)
			gw, gb := vec64(0), vec64(0)
			tol := handTol
			if dt == tensor.Float32 {
				w, b, gw, gb = vec32(1.0), vec32(2.0), vec32(0), vec32(0)
				tol = f32Tol
			}
			ps := []*Param{{Name: "w", Value: w, Grad: gw, Decay: true}, {Name: "b", Value: b, Grad: gb}}
			s := mustSGD(t, SGDConfig{LR: 0.1, Momentum: 0.9, WeightDecay: 0.01})

			setGrad(ps[0], 0.5)
			setGrad(ps[1], 1.0)
			info := mustStep(t, s, ps)
			assertValues(t, "w1", w, []float64{0.949}, tol)
			assertValues(t, "b1", b, []float64{1.9}, tol)
			if info.Step != 1 || !near(info.LR, 0.1, handTol) {
				t.Errorf("info = %+v, want step 1 and lr 0.1", info)
			}

			setGrad(ps[0], 0.2)
			setGrad(ps[1], -1.0)
			mustStep(t, s, ps)
			assertValues(t, "w2", w, []float64{0.882151}, tol)
			assertValues(t, "b2", b, []float64{1.91}, tol)
		})
	}
}

// TestSGDNesterovByHand: lr 0.1, mu 0.9, lambda 0.01, w0 = 1.
//
//	step 1, g = 0.5: d = 0.51; v = 0.51; d = 0.51 + 0.9*0.51 = 0.969;
//	                 w1 = 1 - 0.0969 = 0.9031
//	step 2, g = 0.2: d = 0.2 + 0.01*0.9031 = 0.209031;
//	                 v = 0.9*0.51 + 0.209031 = 0.668031;
//	                 d = 0.209031 + 0.9*0.668031 = 0.8102589;
//	                 w2 = 0.9031 - 0.08102589 = 0.82207411
func TestSGDNesterovByHand(t *testing.T) {
	w, g := vec64(1), vec64(0.5)
	ps := []*Param{{Name: "w", Value: w, Grad: g, Decay: true}}
	s := mustSGD(t, SGDConfig{LR: 0.1, Momentum: 0.9, WeightDecay: 0.01, Nesterov: true})
	mustStep(t, s, ps)
	assertValues(t, "w1", w, []float64{0.9031}, handTol)
	setGrad(ps[0], 0.2)
	mustStep(t, s, ps)
	assertValues(t, "w2", w, []float64{0.82207411}, handTol)
}

// TestSGDPlain: without momentum, w = w - lr*(g + lambda*w):
// w0 = 2, g = 1, lr 0.5, lambda 0.1: w1 = 2 - 0.5*(1 + 0.2) = 1.4, and no
// velocity is kept.
func TestSGDPlain(t *testing.T) {
	w := vec64(2)
	ps := []*Param{{Name: "w", Value: w, Grad: vec64(1), Decay: true}}
	s := mustSGD(t, SGDConfig{LR: 0.5, NoMomentum: true, WeightDecay: 0.1})
	mustStep(t, s, ps)
	assertValues(t, "w1", w, []float64{1.4}, handTol)
	st, err := s.State()
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Velocity) != 0 {
		t.Errorf("plain SGD kept velocities %v", st.Velocity)
	}
}

// TestSGDClipping: gradients (3) and (4) have global norm 5. With ClipNorm 1
// both are scaled by 1/(5+1e-6), and the decay term is added after
// clipping, as clip_grad_norm_ before optimizer.step() does:
//
//	a: w0 = 1, Decay, lambda 0.5, lr 1, no momentum:
//	   a1 = 1 - (3/(5+1e-6) + 0.5*1) = -0.5 + 1 - 0.6/(1+2e-7)
//	b: w0 = 1, no Decay: b1 = 1 - 4/(5+1e-6)
func TestSGDClipping(t *testing.T) {
	a, b := vec64(1), vec64(1)
	ps := []*Param{{Name: "a", Value: a, Grad: vec64(3), Decay: true}, {Name: "b", Value: b, Grad: vec64(4)}}
	s := mustSGD(t, SGDConfig{LR: 1, NoMomentum: true, WeightDecay: 0.5, ClipNorm: 1})
	info := mustStep(t, s, ps)
	if !info.Clipped || !near(info.GradNorm, 5, handTol) {
		t.Errorf("info = %+v, want clipped with norm 5", info)
	}
	assertValues(t, "a1", a, []float64{1 - (3/(5+1e-6) + 0.5)}, handTol)
	assertValues(t, "b1", b, []float64{1 - 4/(5+1e-6)}, handTol)
	// Gradients are read, never written.
	assertValues(t, "grad a", ps[0].Grad, []float64{3}, 0)

	// Below the threshold nothing is scaled.
	s = mustSGD(t, SGDConfig{LR: 1, NoMomentum: true, ClipNorm: 10})
	setGrad(ps[0], 3)
	info = mustStep(t, s, ps)
	if info.Clipped {
		t.Errorf("norm 5 clipped at 10: %+v", info)
	}
	assertValues(t, "b2", b, []float64{1 - 4/(5+1e-6) - 4}, handTol)
}

// TestStateKeyedByName: the velocity of a parameter follows its name, so
// the order of the slice does not change the result.
func TestStateKeyedByName(t *testing.T) {
	run := func(swapEvery bool) (float64, float64) {
		a, b := vec64(1), vec64(-1)
		pa := &Param{Name: "a", Value: a, Grad: vec64(0.5), Decay: true}
		pb := &Param{Name: "b", Value: b, Grad: vec64(-2)}
		s := mustSGD(t, SGDConfig{LR: 0.1, WeightDecay: 0.01})
		for i := 0; i < 4; i++ {
			ps := []*Param{pa, pb}
			if swapEvery && i%2 == 1 {
				ps = []*Param{pb, pa}
			}
			mustStep(t, s, ps)
		}
		return values(a)[0], values(b)[0]
	}
	a1, b1 := run(false)
	a2, b2 := run(true)
	if !near(a1, a2, handTol) || !near(b1, b2, handTol) {
		t.Errorf("order changed the result: (%v, %v) vs (%v, %v)", a1, b1, a2, b2)
	}
}

// TestSGDNewParameterLater: a parameter first seen at step 3 starts its own
// velocity (v = g) while the others keep theirs.
func TestSGDNewParameterLater(t *testing.T) {
	s := mustSGD(t, SGDConfig{LR: 1, Momentum: 0.5})
	a := &Param{Name: "a", Value: vec64(0), Grad: vec64(1)}
	mustStep(t, s, []*Param{a}) // v_a = 1, a = -1
	mustStep(t, s, []*Param{a}) // v_a = 1.5, a = -2.5
	b := &Param{Name: "b", Value: vec64(0), Grad: vec64(1)}
	mustStep(t, s, []*Param{a, b}) // v_a = 1.75, a = -4.25; v_b = 1, b = -1
	assertValues(t, "a", a.Value, []float64{-4.25}, handTol)
	assertValues(t, "b", b.Value, []float64{-1}, handTol)
}

func TestSGDScalarTensor(t *testing.T) {
	w := tensor.New(tensor.FromScalar(1.0))
	g := tensor.New(tensor.FromScalar(0.5))
	s := mustSGD(t, SGDConfig{LR: 0.1, Momentum: 0.9, WeightDecay: 0.01})
	mustStep(t, s, []*Param{{Name: "w", Value: w, Grad: g, Decay: true}})
	assertValues(t, "w1", w, []float64{0.949}, handTol)
}

func TestSGDConfigDefaults(t *testing.T) {
	s := mustSGD(t, SGDConfig{})
	c := s.Config()
	if !near(c.LR, 0.01, handTol) || !near(c.Momentum, 0.9, handTol) || c.WeightDecay != 0 || c.ClipNorm != 0 {
		t.Errorf("defaults = %+v", c)
	}
	if _, ok := c.Schedule.(Constant); !ok {
		t.Errorf("default schedule %T, want Constant", c.Schedule)
	}
}

func TestSGDRejectsUnsupportedSettings(t *testing.T) {
	nan := math.NaN()
	for _, c := range []struct {
		name string
		cfg  SGDConfig
	}{
		{"negative lr", SGDConfig{LR: -0.1}},
		{"NaN lr", SGDConfig{LR: nan}},
		{"infinite lr", SGDConfig{LR: math.Inf(1)}},
		{"momentum 1", SGDConfig{Momentum: 1}},
		{"negative momentum", SGDConfig{Momentum: -0.5}},
		{"momentum with NoMomentum", SGDConfig{Momentum: 0.5, NoMomentum: true}},
		{"nesterov without momentum", SGDConfig{NoMomentum: true, Nesterov: true}},
		{"negative decay", SGDConfig{WeightDecay: -1e-4}},
		{"NaN decay", SGDConfig{WeightDecay: nan}},
		{"negative clip", SGDConfig{ClipNorm: -1}},
		{"negative steps per epoch", SGDConfig{StepsPerEpoch: -1}},
		{"epoch schedule without steps per epoch", SGDConfig{Schedule: StepDecay{}}},
		{"bad schedule", SGDConfig{Schedule: StepDecay{Gamma: 2, Unit: Steps}}},
		{"negative averaging start", SGDConfig{Averaging: AveragingConfig{Mode: AverageUniform, Start: -1}}},
		{"decay 1", SGDConfig{Averaging: AveragingConfig{Mode: AverageExponential, Decay: 1}}},
		{"decay with uniform", SGDConfig{Averaging: AveragingConfig{Mode: AverageUniform, Decay: 0.9}}},
		{"unknown averaging", SGDConfig{Averaging: AveragingConfig{Mode: 7}}},
	} {
		if _, err := NewSGD(c.cfg); err == nil {
			t.Errorf("%s: NewSGD(%+v) accepted", c.name, c.cfg)
		}
	}
}

func TestSGDRejectsBadParams(t *testing.T) {
	ints := tensor.New(tensor.WithShape(2), tensor.WithBacking([]int{1, 2}))
	m := tensor.New(tensor.WithShape(2, 2), tensor.WithBacking([]float64{1, 2, 3, 4}))
	view, err := m.Slice(nil, tensor.S(0))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		ps   []*Param
		want string
	}{
		{"empty name", []*Param{{Value: vec64(1), Grad: vec64(1)}}, "empty name"},
		{"duplicate", []*Param{{Name: "a", Value: vec64(1), Grad: vec64(1)}, {Name: "a", Value: vec64(1), Grad: vec64(1)}}, "twice"},
		{"nil grad", []*Param{{Name: "a", Value: vec64(1)}}, "gradient is nil"},
		{"nil value", []*Param{{Name: "a", Grad: vec64(1)}}, "value is nil"},
		{"shape", []*Param{{Name: "a", Value: vec64(1, 2), Grad: vec64(1)}}, "shape"},
		{"dtype", []*Param{{Name: "a", Value: vec64(1), Grad: vec32(1)}}, "dtype"},
		{"ints", []*Param{{Name: "a", Value: ints, Grad: ints}}, "dtype"},
		{"view", []*Param{{Name: "a", Value: view.(*tensor.Dense), Grad: vec64(1, 1)}}, "view"},
	} {
		s := mustSGD(t, SGDConfig{})
		_, err := s.Step(c.ps)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one containing %q", c.name, err, c.want)
		}
	}
}

// TestSGDNonFiniteGradientChangesNothing: a NaN in any gradient is
// reported before any parameter moves.
func TestSGDNonFiniteGradientChangesNothing(t *testing.T) {
	a, b := vec64(1), vec64(2)
	ps := []*Param{{Name: "a", Value: a, Grad: vec64(1)}, {Name: "b", Value: b, Grad: vec64(math.NaN())}}
	s := mustSGD(t, SGDConfig{})
	_, err := s.Step(ps)
	if !errors.Is(err, ErrNonFinite) || !strings.Contains(err.Error(), `"b"`) {
		t.Fatalf("error %v, want ErrNonFinite naming b", err)
	}
	assertValues(t, "a", a, []float64{1}, 0)
	if s.Steps() != 0 {
		t.Errorf("step counted: %d", s.Steps())
	}
}

// TestSGDShapeChangeRejected: a name keeps its shape for the solver's life.
func TestSGDShapeChangeRejected(t *testing.T) {
	s := mustSGD(t, SGDConfig{})
	mustStep(t, s, []*Param{{Name: "a", Value: vec64(1), Grad: vec64(1)}})
	if _, err := s.Step([]*Param{{Name: "a", Value: vec64(1, 2), Grad: vec64(1, 2)}}); err == nil {
		t.Error("shape change accepted")
	}
	if _, err := s.Step([]*Param{{Name: "a", Value: vec32(1), Grad: vec32(1)}}); err == nil {
		t.Error("dtype change accepted")
	}
}

// TestSGDFollowsSchedule: the rate of each step is LR * factor at the
// number of steps completed before it.
func TestSGDFollowsSchedule(t *testing.T) {
	s := mustSGD(t, SGDConfig{LR: 1, NoMomentum: true, StepsPerEpoch: 2,
		Schedule: StepDecay{Gamma: 0.5, Period: 1}})
	p := &Param{Name: "w", Value: vec64(0), Grad: vec64(1)}
	want := []float64{1, 1, 0.5, 0.5, 0.25}
	for i, lr := range want {
		if !near(s.LR(), lr, handTol) {
			t.Errorf("before step %d: LR() = %v, want %v", i+1, s.LR(), lr)
		}
		info := mustStep(t, s, []*Param{p})
		if !near(info.LR, lr, handTol) {
			t.Errorf("step %d used lr %v, want %v", i+1, info.LR, lr)
		}
	}
	assertValues(t, "w", p.Value, []float64{-3.25}, handTol)
}

// TestSGDAveragedShapeChangeChangesNothing: with averaging on and no
// momentum, a parameter whose shape no longer matches its average is
// refused before any weight moves.
func TestSGDAveragedShapeChangeChangesNothing(t *testing.T) {
	s := mustSGD(t, SGDConfig{NoMomentum: true, Averaging: AveragingConfig{Mode: AverageUniform}})
	mustStep(t, s, []*Param{{Name: "a", Value: vec64(1), Grad: vec64(1)}})
	a := vec64(5)
	_, err := s.Step([]*Param{{Name: "a2", Value: a, Grad: vec64(1)}, {Name: "a", Value: vec64(1, 2), Grad: vec64(1, 2)}})
	if err == nil {
		t.Fatal("shape change accepted")
	}
	assertValues(t, "a2", a, []float64{5}, 0)
	if s.Steps() != 1 {
		t.Errorf("steps = %d, want 1", s.Steps())
	}
}

// BenchmarkSGDStep updates one float32 tensor of GoogLeNet's size (about
// 6.8M weights without the auxiliary heads) with momentum, decay and
// clipping; it reports parameters per second.
func BenchmarkSGDStep(b *testing.B) {
	const n = 6_800_000
	w := tensor.New(tensor.WithShape(n), tensor.WithBacking(make([]float32, n)))
	g := tensor.New(tensor.WithShape(n), tensor.WithBacking(make([]float32, n)))
	for i, d := 0, g.Data().([]float32); i < n; i++ {
		d[i] = float32(i%7) * 1e-3
	}
	s, err := NewSGD(SGDConfig{WeightDecay: 2e-4, ClipNorm: 10})
	if err != nil {
		b.Fatal(err)
	}
	ps := []*Param{{Name: "w", Value: w, Grad: g, Decay: true}}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := s.Step(ps); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "params/s")
}

// badSchedule is a user schedule that returns a negative factor.
type badSchedule struct{}

func (badSchedule) Factor(Position) float64 { return -1 }
func (badSchedule) Validate(int64) error    { return nil }

func TestSGDRejectsBadScheduleValue(t *testing.T) {
	s := mustSGD(t, SGDConfig{Schedule: badSchedule{}})
	w := vec64(1)
	if _, err := s.Step([]*Param{{Name: "w", Value: w, Grad: vec64(1)}}); err == nil {
		t.Fatal("negative learning rate accepted")
	}
	assertValues(t, "w", w, []float64{1}, 0)
}
