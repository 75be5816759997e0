package inception

import (
	"math/rand/v2"
	"testing"

	"gorgonia.org/tensor"
)

// TestForwardPlannedExact checks that the inference graph with activations
// shared by liveness (ops.PlanBuffers) gives bit for bit the logits of the
// same graph with a buffer per op, for the paper variant (LRN), torchvision
// (batch norm) and mini, on repeated calls.
func TestForwardPlannedExact(t *testing.T) {
	cfgs := []Config{Mini(), Paper(), Torchvision()}
	if testing.Short() {
		cfgs = cfgs[:1]
	}
	for _, c := range cfgs {
		c.BatchSize = 2
		if c.Variant != VariantMini {
			c.InputSize = 128 // the same layers on smaller maps
		}
		rng := rand.New(rand.NewPCG(8, 9))
		xs := []*tensor.Dense{randInput(rng, tensor.Float32, 2, c.InChannels, c.InputSize, c.InputSize),
			randInput(rng, tensor.Float32, 2, c.InChannels, c.InputSize, c.InputSize)}
		forward := func(plan bool) [][]float64 {
			t.Helper()
			planInference = plan
			defer func() { planInference = true }()
			m, err := New(c)
			if err != nil {
				t.Fatal(err)
			}
			var out [][]float64
			for _, i := range []int{0, 1, 0} {
				y, err := m.Forward(xs[i])
				if err != nil {
					t.Fatal(err)
				}
				out = append(out, float64s(t, y))
			}
			return out
		}
		want, got := forward(false), forward(true)
		for r := range want {
			for i := range want[r] {
				if got[r][i] != want[r][i] {
					t.Fatalf("%s call %d: logit %d = %v planned, %v with a buffer per op", c.Variant, r, i, got[r][i], want[r][i])
				}
			}
		}
	}
}

// TestPlanTrainingMemoryExact checks that training steps after
// PlanTrainingMemory give bit for bit the losses, logits and parameter
// gradients of an unplanned model, step after step, for mini and the paper
// network (at a smaller input). Batch-norm gradients are planned too: see
// package ops' TestPlanBuffersTraining.
func TestPlanTrainingMemoryExact(t *testing.T) {
	cfgs := []Config{Mini(), Paper()}
	if testing.Short() {
		cfgs = cfgs[:1]
	}
	for _, c := range cfgs {
		c.BatchSize = 2
		if c.Variant != VariantMini {
			c.InputSize = 128
		}
		rng := rand.New(rand.NewPCG(10, 11))
		xs := []*tensor.Dense{randInput(rng, tensor.Float32, 2, c.InChannels, c.InputSize, c.InputSize),
			randInput(rng, tensor.Float32, 2, c.InChannels, c.InputSize, c.InputSize)}
		labels := [][]int{{1, 3}, {4, 0}}
		var ms [2]*Model
		for i := range ms {
			m, err := New(c)
			if err != nil {
				t.Fatal(err)
			}
			ms[i] = m
		}
		st, err := ms[1].PlanTrainingMemory()
		if err != nil {
			t.Fatal(err)
		}
		if st.Outputs == 0 || !(st.Bytes < st.FreeBytes) {
			t.Fatalf("%s: plan %+v shares nothing", c.Variant, st)
		}
		for step, i := range []int{0, 1, 0} {
			var ls [2]Losses
			for k, m := range ms {
				m.Rand().Step = uint64(step)
				out, err := m.Step(xs[i], labels[i])
				if err != nil {
					t.Fatal(err)
				}
				ls[k] = out.Losses
			}
			if ls[0] != ls[1] {
				t.Fatalf("%s step %d: losses %+v planned, %+v unplanned", c.Variant, step, ls[1], ls[0])
			}
			want, got := float64s(t, ms[0].TrainingNodes().Logits.Value().(*tensor.Dense)), float64s(t, ms[1].TrainingNodes().Logits.Value().(*tensor.Dense))
			for j := range want {
				if got[j] != want[j] {
					t.Fatalf("%s step %d: logit %d = %v planned, %v unplanned", c.Variant, step, j, got[j], want[j])
				}
			}
			for j, p := range ms[0].Params() {
				q := ms[1].Params()[j]
				want, got := float64s(t, p.Grad), float64s(t, q.Grad)
				for e := range want {
					if got[e] != want[e] {
						t.Fatalf("%s step %d: gradient of %s[%d] = %v planned, %v unplanned", c.Variant, step, p.Name, e, got[e], want[e])
					}
				}
			}
		}
	}
}
