package solvers

import (
	"math"
	"testing"

	"gorgonia.org/tensor"
)

// TestMultipliers checks LRMult and DecayMult against the update written
// out: w -= lr*LRMult*(g + wd*DecayMult*w), plain SGD.
func TestMultipliers(t *testing.T) {
	const lr, wd = 0.1, 0.01
	s, err := NewSGD(SGDConfig{LR: lr, NoMomentum: true, WeightDecay: wd})
	if err != nil {
		t.Fatal(err)
	}
	mk := func(v ...float64) *tensor.Dense { return tensor.New(tensor.WithShape(len(v)), tensor.WithBacking(v)) }
	ps := []*Param{
		{Name: "plain", Value: mk(1, 2), Grad: mk(0.5, -1), Decay: true},
		{Name: "lr10", Value: mk(1, 2), Grad: mk(0.5, -1), Decay: true, LRMult: 10},
		{Name: "decay2", Value: mk(1, 2), Grad: mk(0.5, -1), Decay: true, DecayMult: 2},
		{Name: "both", Value: mk(1, 2), Grad: mk(0.5, -1), Decay: true, LRMult: 0.5, DecayMult: 3},
	}
	if _, err := s.Step(ps); err != nil {
		t.Fatal(err)
	}
	w0, g := []float64{1, 2}, []float64{0.5, -1}
	for _, c := range []struct {
		i         int
		lrm, decm float64
	}{{0, 1, 1}, {1, 10, 1}, {2, 1, 2}, {3, 0.5, 3}} {
		got := ps[c.i].Value.Data().([]float64)
		for j := range got {
			want := w0[j] - lr*c.lrm*(g[j]+wd*c.decm*w0[j])
			if math.Abs(got[j]-want) > 1e-15 {
				t.Errorf("%s[%d] = %v, want %v", ps[c.i].Name, j, got[j], want)
			}
		}
	}
	bad := []*Param{{Name: "neg", Value: mk(1), Grad: mk(1), LRMult: -1}}
	if _, err := s.Step(bad); err == nil {
		t.Error("negative LRMult accepted")
	}
	bad[0].LRMult, bad[0].DecayMult = 1, math.Inf(1)
	if _, err := s.Step(bad); err == nil {
		t.Error("infinite DecayMult accepted")
	}
}

// TestFrozenSkipped: a frozen parameter is neither updated, averaged nor
// given a velocity, and needs no gradient.
func TestFrozenSkipped(t *testing.T) {
	s, err := NewSGD(SGDConfig{LR: 0.1, Momentum: 0.9, Averaging: AveragingConfig{Mode: AverageUniform}})
	if err != nil {
		t.Fatal(err)
	}
	mk := func(v ...float64) *tensor.Dense { return tensor.New(tensor.WithShape(len(v)), tensor.WithBacking(v)) }
	ps := []*Param{
		{Name: "live", Value: mk(1), Grad: mk(1)},
		{Name: "frozen", Value: mk(5), Frozen: true},
	}
	for i := 0; i < 2; i++ {
		if _, err := s.Step(ps); err != nil {
			t.Fatal(err)
		}
	}
	if v := ps[1].Value.Data().([]float64)[0]; v != 5 {
		t.Errorf("frozen parameter changed to %v", v)
	}
	if v := ps[0].Value.Data().([]float64)[0]; !(v < 1) {
		t.Errorf("live parameter not updated: %v", v)
	}
	st, err := s.State()
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := st.Velocity["frozen"]; ok || len(st.Velocity) != 1 {
		t.Errorf("velocities %v, want one for live only", st.Velocity)
	}
	if names := s.Averager().Names(); len(names) != 1 || names[0] != "live" {
		t.Errorf("averaged %v, want [live]", names)
	}
	if err := s.Averager().SwapIn(ps); err != nil {
		t.Fatalf("swap in with a frozen parameter: %v", err)
	}
	if err := s.Averager().SwapOut(ps); err != nil {
		t.Fatal(err)
	}
}
