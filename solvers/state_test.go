package solvers

import (
	"bytes"
	"encoding/gob"
	"encoding/json"
	"math"
	"testing"

	"gorgonia.org/tensor"
)

// resumeTol: a restored solver repeats the uninterrupted run's arithmetic
// exactly, so trajectories agree to the last bit.
const resumeTol = 0

// model is a two-parameter problem whose gradients depend on the weights,
// so a wrong velocity or average shows up in later steps.
type model struct {
	w, b *Param
}

func newModel(dt tensor.Dtype) *model {
	m := &model{}
	if dt == tensor.Float32 {
		m.w = &Param{Name: "fc.weight", Value: vec32(0.5, -1, 2), Grad: vec32(0, 0, 0), Decay: true}
		m.b = &Param{Name: "fc.bias", Value: vec32(0.1), Grad: vec32(0)}
	} else {
		m.w = &Param{Name: "fc.weight", Value: vec64(0.5, -1, 2), Grad: vec64(0, 0, 0), Decay: true}
		m.b = &Param{Name: "fc.bias", Value: vec64(0.1), Grad: vec64(0)}
	}
	return m
}

// grads sets the gradients of 0.5*(w.x(step) + b - 1)^2 for an input that
// changes with the step.
func (m *model) grads(step int) {
	x := []float64{1, float64(step%3) - 1, 0.5}
	w, b := values(m.w.Value), values(m.b.Value)[0]
	r := b - 1
	for i := range x {
		r += w[i] * x[i]
	}
	setGrad(m.w, r*x[0], r*x[1], r*x[2])
	setGrad(m.b, r)
}

func (m *model) params() []*Param { return []*Param{m.w, m.b} }

func TestStateRoundTrip(t *testing.T) {
	cfg := SGDConfig{LR: 0.1, WeightDecay: 1e-2, Nesterov: true, ClipNorm: 2, StepsPerEpoch: 2,
		Schedule:  Warmup{Length: 1, Start: 0.5, Then: StepDecay{Gamma: 0.5, Period: 1}},
		Averaging: AveragingConfig{Mode: AverageExponential, Decay: 0.9, Start: 1}}
	for _, dt := range []tensor.Dtype{tensor.Float64, tensor.Float32} {
		for _, codec := range []string{"json", "gob"} {
			t.Run(dt.String()+"/"+codec, func(t *testing.T) {
				const split, total = 3, 7
				// Uninterrupted run.
				ref := newModel(dt)
				s := mustSGD(t, cfg)
				for i := 0; i < total; i++ {
					ref.grads(i)
					mustStep(t, s, ref.params())
				}
				refAvg, _ := s.Averager().Average("fc.weight")

				// Interrupted run: state and weights saved after split steps.
				m := newModel(dt)
				s1 := mustSGD(t, cfg)
				for i := 0; i < split; i++ {
					m.grads(i)
					mustStep(t, s1, m.params())
				}
				st, err := s1.State()
				if err != nil {
					t.Fatal(err)
				}
				st2 := roundTrip(t, codec, st)
				s2 := mustSGD(t, cfg)
				if err := s2.SetState(st2); err != nil {
					t.Fatal(err)
				}
				if s2.Steps() != split || !near(s2.LR(), s1.LR(), 0) {
					t.Errorf("restored at step %d lr %v, want %d and %v", s2.Steps(), s2.LR(), split, s1.LR())
				}
				for i := split; i < total; i++ {
					m.grads(i)
					mustStep(t, s2, m.params())
				}
				assertValues(t, "weight", m.w.Value, values(ref.w.Value), resumeTol)
				assertValues(t, "bias", m.b.Value, values(ref.b.Value), resumeTol)
				avg, _ := s2.Averager().Average("fc.weight")
				assertValues(t, "average", avg, values(refAvg), resumeTol)
			})
		}
	}
}

func roundTrip(t *testing.T, codec string, st State) State {
	t.Helper()
	var out State
	switch codec {
	case "json":
		b, err := json.Marshal(st)
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, &out); err != nil {
			t.Fatal(err)
		}
	case "gob":
		var buf bytes.Buffer
		if err := gob.NewEncoder(&buf).Encode(st); err != nil {
			t.Fatal(err)
		}
		if err := gob.NewDecoder(&buf).Decode(&out); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// TestStateIsACopy: neither the exported state nor the state given to
// SetState aliases the solver's buffers.
func TestStateIsACopy(t *testing.T) {
	s := mustSGD(t, SGDConfig{LR: 1, Momentum: 0.5})
	p := &Param{Name: "w", Value: vec64(0), Grad: vec64(1)}
	mustStep(t, s, []*Param{p})
	st, _ := s.State()
	st.Velocity["w"].Float64[0] = 100
	st2, _ := s.State()
	if !near(st2.Velocity["w"].Float64[0], 1, 0) {
		t.Errorf("exported state aliases the velocity")
	}
	if err := s.SetState(st2); err != nil {
		t.Fatal(err)
	}
	st2.Velocity["w"].Float64[0] = 100
	mustStep(t, s, []*Param{p}) // v = 0.5*1 + 1 = 1.5, w = -1 - 1.5
	assertValues(t, "w", p.Value, []float64{-2.5}, handTol)
}

func TestSetStateRejects(t *testing.T) {
	good := Tensor{Shape: []int{2}, Float64: []float64{1, 2}}
	for _, c := range []struct {
		name string
		cfg  SGDConfig
		st   State
	}{
		{"version", SGDConfig{}, State{Version: 99}},
		{"negative step", SGDConfig{}, State{Version: StateVersion, Step: -1}},
		{"length", SGDConfig{}, State{Version: StateVersion, Velocity: map[string]Tensor{"w": {Shape: []int{3}, Float64: []float64{1}}}}},
		{"no data", SGDConfig{}, State{Version: StateVersion, Velocity: map[string]Tensor{"w": {Shape: []int{1}}}}},
		{"both dtypes", SGDConfig{}, State{Version: StateVersion, Velocity: map[string]Tensor{"w": {Shape: []int{1}, Float32: []float32{1}, Float64: []float64{1}}}}},
		{"bad shape", SGDConfig{}, State{Version: StateVersion, Velocity: map[string]Tensor{"w": {Shape: []int{0}, Float64: []float64{}}}}},
		{"NaN", SGDConfig{}, State{Version: StateVersion, Velocity: map[string]Tensor{"w": {Shape: []int{1}, Float64: []float64{math.NaN()}}}}},
		{"velocity without momentum", SGDConfig{NoMomentum: true}, State{Version: StateVersion, Velocity: map[string]Tensor{"w": good}}},
		{"average without averaging", SGDConfig{}, State{Version: StateVersion, Average: map[string]Tensor{"w": good}, AverageCount: map[string]int64{"w": 1}}},
		{"average without count", SGDConfig{Averaging: AveragingConfig{Mode: AverageUniform}}, State{Version: StateVersion, Average: map[string]Tensor{"w": good}}},
		{"count without average", SGDConfig{Averaging: AveragingConfig{Mode: AverageUniform}}, State{Version: StateVersion, AverageCount: map[string]int64{"w": 1}}},
	} {
		s := mustSGD(t, c.cfg)
		if err := s.SetState(c.st); err == nil {
			t.Errorf("%s: SetState accepted %+v", c.name, c.st)
		}
		if s.Steps() != 0 {
			t.Errorf("%s: failed SetState changed the step", c.name)
		}
	}
}

// TestStateShapeCheckedAtStep: a restored velocity whose shape does not
// match the parameter is reported by the next Step.
func TestStateShapeCheckedAtStep(t *testing.T) {
	s := mustSGD(t, SGDConfig{})
	st := State{Version: StateVersion, Velocity: map[string]Tensor{"w": {Shape: []int{2}, Float64: []float64{1, 2}}}}
	if err := s.SetState(st); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Step([]*Param{{Name: "w", Value: vec64(1, 2, 3), Grad: vec64(1, 2, 3)}}); err == nil {
		t.Error("mismatched velocity shape accepted")
	}
}
