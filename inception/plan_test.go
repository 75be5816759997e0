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
