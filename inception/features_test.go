package inception

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"gorgonia.org/tensor"
)

// featTol bounds float64 differences between two computations of the same
// activations in a different order (a matrix product written out by hand).
const featTol = 1e-10

// TestFeaturesMatchForward checks pool5 against the logits of a full
// forward pass: logits = pool5 · Wᵀ + b with the classifier's weights.
func TestFeaturesMatchForward(t *testing.T) {
	for _, c := range tinyConfigs() {
		t.Run(c.Variant, func(t *testing.T) {
			m, err := New(c)
			if err != nil {
				t.Fatal(err)
			}
			rng := rand.New(rand.NewPCG(3, 4))
			const n = 3
			x := randInput(rng, tensor.Float64, n, c.InChannels, c.InputSize, c.InputSize)
			logits, err := m.Forward(x)
			if err != nil {
				t.Fatal(err)
			}
			fs, err := m.Features(x)
			if err != nil {
				t.Fatal(err)
			}
			f := fs[0]
			last := c.Table[len(c.Table)-1]
			width := last.C1x1 + last.C3x3 + last.C5x5 + last.PoolProj
			if s := f.Shape(); len(s) != 2 || s[0] != n || s[1] != width {
				t.Fatalf("pool5 shape %v, want [%d %d]", s, n, width)
			}
			w, _ := m.Param("loss3/classifier/w")
			b, _ := m.Param("loss3/classifier/b")
			fv, wv, bv, lv := float64s(t, f), float64s(t, w.Value), float64s(t, b.Value), float64s(t, logits)
			for i := 0; i < n; i++ {
				for k := 0; k < c.Classes; k++ {
					s := bv[k]
					for j := 0; j < width; j++ {
						s += fv[i*width+j] * wv[k*width+j]
					}
					if d := math.Abs(s - lv[i*c.Classes+k]); d > featTol {
						t.Errorf("image %d class %d: pool5·W+b = %g, forward %g", i, k, s, lv[i*c.Classes+k])
					}
				}
			}
			// The classifier row itself is the logits.
			ls, err := m.Features(x, "loss3/classifier")
			if err != nil {
				t.Fatal(err)
			}
			for i, v := range float64s(t, ls[0]) {
				if math.Abs(v-lv[i]) > featTol {
					t.Fatalf("loss3/classifier[%d] = %g, forward %g", i, v, lv[i])
				}
			}
		})
	}
}

// TestFeaturesSeveralLayers asks for several layers at once and compares
// each with a graph that outputs only that layer (where it is the last
// node, so no buffer can have been reused).
func TestFeaturesSeveralLayers(t *testing.T) {
	for _, c := range tinyConfigs() {
		t.Run(c.Variant, func(t *testing.T) {
			m, err := New(c)
			if err != nil {
				t.Fatal(err)
			}
			rng := rand.New(rand.NewPCG(5, 6))
			x := randInput(rng, tensor.Float64, 2, c.InChannels, c.InputSize, c.InputSize)
			layers := []string{"inception_3b", "conv1", "inception_3a", "pool5", "pool1"}
			all, err := m.Features(x, layers...)
			if err != nil {
				t.Fatal(err)
			}
			for i, l := range layers {
				one, err := m.Features(x, l)
				if err != nil {
					t.Fatal(err)
				}
				row, _ := m.FeatureLayer(l)
				want := []int{2, row.Output[0], row.Output[1], row.Output[2]}
				if row.Output[1] == 1 && row.Output[2] == 1 && len(one[0].Shape()) == 2 {
					want = want[:2]
				}
				if !equalShape(all[i].Shape(), want) {
					t.Errorf("%s: shape %v, want %v", l, all[i].Shape(), want)
				}
				a, b := float64s(t, all[i]), float64s(t, one[0])
				if len(a) != len(b) {
					t.Fatalf("%s: %d vs %d values", l, len(a), len(b))
				}
				for j := range a {
					if math.Abs(a[j]-b[j]) > featTol {
						t.Fatalf("%s[%d]: %g with other layers, %g alone", l, j, a[j], b[j])
					}
				}
			}
		})
	}
}

// TestFeaturesStopEarly checks that a feature graph holds no parameter of
// the layers after the deepest one asked for.
func TestFeaturesStopEarly(t *testing.T) {
	c := tinyConfigs()[1]
	m, err := New(c)
	if err != nil {
		t.Fatal(err)
	}
	x := randInput(rand.New(rand.NewPCG(7, 8)), tensor.Float64, 1, c.InChannels, c.InputSize, c.InputSize)
	if _, err := m.Features(x, "inception_3a"); err != nil {
		t.Fatal(err)
	}
	if len(m.feats) != 1 {
		t.Fatalf("%d feature graphs, want 1", len(m.feats))
	}
	for _, fg := range m.feats {
		for _, p := range fg.b.Params() {
			if strings.HasPrefix(p.Name, "inception_3b") || strings.HasPrefix(p.Name, "loss") {
				t.Errorf("feature graph up to inception_3a has parameter %s", p.Name)
			}
		}
	}
}

func TestFeaturesErrors(t *testing.T) {
	c := tinyConfigs()[0]
	m, err := New(c)
	if err != nil {
		t.Fatal(err)
	}
	x := randInput(rand.New(rand.NewPCG(7, 8)), tensor.Float64, 1, c.InChannels, c.InputSize, c.InputSize)
	for _, l := range []string{"inception_9z", "", "loss1/fc", "pool"} {
		_, err := m.Features(x, l)
		if err == nil || !strings.Contains(err.Error(), "no layer") {
			t.Errorf("layer %q: error %v", l, err)
		}
	}
	bad := randInput(rand.New(rand.NewPCG(7, 8)), tensor.Float64, 1, c.InChannels, c.InputSize+1, c.InputSize)
	if _, err := m.Features(bad); err == nil {
		t.Error("wrong input shape accepted")
	}
}
