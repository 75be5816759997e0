package inception

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"gorgonia.org/tensor"
)

func prefixes(ps ...string) func(string) bool {
	return func(name string) bool {
		for _, p := range ps {
			if strings.HasPrefix(name, p) {
				return true
			}
		}
		return false
	}
}

// TestFrozenGradients freezes the stem and the first module of the tiny
// paper network (no batch norm, so freezing changes no forward value) and
// checks that the remaining gradients equal those of the unfrozen model,
// that frozen parameters get none, and that the pruned graph is smaller.
func TestFrozenGradients(t *testing.T) {
	c := tinyConfigs()[0]
	full, err := New(c)
	if err != nil {
		t.Fatal(err)
	}
	frozen, err := NewWith(c, Options{Frozen: prefixes("conv1/", "conv2/", "inception_3a/")})
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(11, 12))
	x := randInput(rng, tensor.Float64, c.BatchSize, c.InChannels, c.InputSize, c.InputSize)
	labels := []int{0, 2}
	for _, m := range []*Model{full, frozen} {
		m.Rand().Step = 3
		if _, err := m.Step(x, labels); err != nil {
			t.Fatal(err)
		}
	}
	nFrozen := 0
	for _, p := range frozen.Params() {
		if p.Frozen {
			nFrozen++
			if p.Grad != nil {
				t.Errorf("frozen %s has a gradient", p.Name)
			}
			if _, ok := frozen.GradNode(p.Name); ok {
				t.Errorf("frozen %s has a gradient node", p.Name)
			}
			continue
		}
		fp, _ := full.Param(p.Name)
		a, b := float64s(t, p.Grad), float64s(t, fp.Grad)
		for i := range a {
			if math.Abs(a[i]-b[i]) > 1e-12*math.Max(1, math.Abs(b[i])) {
				t.Fatalf("%s[%d]: %g frozen-trunk model, %g full model", p.Name, i, a[i], b[i])
			}
		}
	}
	if nFrozen == 0 || len(frozen.Trainable()) != len(frozen.Params())-nFrozen {
		t.Fatalf("%d frozen, %d trainable of %d", nFrozen, len(frozen.Trainable()), len(frozen.Params()))
	}
	nf, nz := len(full.TrainingGraph().AllNodes()), len(frozen.TrainingGraph().AllNodes())
	if nz >= nf {
		t.Errorf("frozen graph has %d nodes, full %d: nothing pruned", nz, nf)
	}
	// One filter gradient per trainable convolution weight, and fewer
	// data gradients than the full model (none at the trained layers'
	// bottom).
	count := func(m *Model, op string) int {
		k := 0
		for _, n := range m.TrainingGraph().AllNodes() {
			if n.Op() != nil && strings.HasPrefix(n.Op().String(), op) {
				k++
			}
		}
		return k
	}
	convs := 0
	for _, p := range frozen.Trainable() {
		if len(p.Shape) == 4 {
			convs++
		}
	}
	if got := count(frozen, "Conv2DGradFilter"); got != convs {
		t.Errorf("%d filter gradients for %d trainable convolutions", got, convs)
	}
	if a, b := count(frozen, "Conv2DGradData"), count(full, "Conv2DGradData"); a == 0 || a >= b {
		t.Errorf("data gradients: %d frozen, %d full", a, b)
	}
	if _, err := NewWith(c, Options{Frozen: func(string) bool { return true }}); err == nil || !strings.Contains(err.Error(), "every parameter is frozen") {
		t.Errorf("all frozen: error %v", err)
	}
}

// TestFrozenBatchNorm checks that a frozen block's batch norms keep their
// running statistics through training steps while the others update theirs.
func TestFrozenBatchNorm(t *testing.T) {
	c := tinyConfigs()[1]
	m, err := NewWith(c, Options{Frozen: prefixes("conv1/")})
	if err != nil {
		t.Fatal(err)
	}
	x := randInput(rand.New(rand.NewPCG(13, 14)), tensor.Float64, c.BatchSize, c.InChannels, c.InputSize, c.InputSize)
	if _, err := m.Step(x, []int{0, 1, 2}); err != nil {
		t.Fatal(err)
	}
	for _, e := range m.BNStats() {
		unchanged := true
		for i := range e.Stats.Mean {
			if e.Stats.Mean[i] != 0 || e.Stats.Var[i] != 1 {
				unchanged = false
			}
		}
		if strings.HasPrefix(e.Name, "conv1/") != unchanged {
			t.Errorf("%s: running statistics unchanged = %v", e.Name, unchanged)
		}
	}
}
