package bench

import (
	"math"
	"strings"
	"testing"

	"gorgonia.org/tensor"

	"github.com/goinception/googlenet/inception"
	"github.com/goinception/googlenet/ops"
)

// TestRunMini runs both modes on the mini network (28x28, a few
// milliseconds a step) and checks every reported number is sensible.
func TestRunMini(t *testing.T) {
	for _, mode := range []string{ModeInfer, ModeTrain} {
		r, err := Run(Config{Variant: inception.VariantMini, Mode: mode, Batch: 4, Iters: 3, Warmup: 1})
		if err != nil {
			t.Fatalf("%s: %v", mode, err)
		}
		if r.Mode != mode || r.Variant != inception.VariantMini || r.Batch != 4 || r.InputSize != 28 || r.Iters != 3 {
			t.Errorf("%s: result describes %+v", mode, r)
		}
		for name, v := range map[string]float64{"img/s": r.ImgPerS, "ms/batch": r.MsPerBatch, "GFLOP/s": r.GFLOPs,
			"peak RSS": float64(r.PeakRSSBytes), "MACs": float64(r.MACsPerImage)} {
			if !(v > 0) || math.IsInf(v, 0) {
				t.Errorf("%s: %s = %v, want positive and finite", mode, name, v)
			}
		}
		if math.Abs(r.ImgPerS*r.MsPerBatch/1e3-4) > 1e-9 || r.MinMs > r.MsPerBatch || r.MaxMs < r.MsPerBatch {
			t.Errorf("%s: img/s %v, ms %v (min %v, max %v) disagree", mode, r.ImgPerS, r.MsPerBatch, r.MinMs, r.MaxMs)
		}
		if !strings.Contains(r.Checked, "finite") || !strings.HasPrefix(r.Engine, "cpu/") {
			t.Errorf("%s: checked %q, engine %q", mode, r.Checked, r.Engine)
		}
		if r.PeakRSSBytes < r.RSSAtEnd {
			t.Errorf("%s: peak RSS %d below the current %d", mode, r.PeakRSSBytes, r.RSSAtEnd)
		}
	}
}

// TestRunReferenceEngine checks the pure-Go engine can be benchmarked too.
func TestRunReferenceEngine(t *testing.T) {
	r, err := Run(Config{Variant: inception.VariantMini, Batch: 2, Iters: 1, Warmup: -1, Engine: EngineReference})
	if err != nil {
		t.Fatal(err)
	}
	if r.Engine != (ops.Reference{}).Name() || r.Warmup != 0 {
		t.Errorf("engine %q, warm-up %d; want the reference engine and no warm-up", r.Engine, r.Warmup)
	}
}

func TestConfigErrors(t *testing.T) {
	for _, c := range []Config{
		{Mode: "fast"},
		{Engine: "gpu"},
		{Batch: -1},
		{Variant: "alexnet"},
		{Variant: inception.VariantMini, Mode: ModeTrain, Batch: 1},
		{Variant: inception.VariantMini, InputSize: 3},
	} {
		if _, err := Run(c); err == nil {
			t.Errorf("Run(%+v) succeeded, want an error", c)
		}
	}
}

// Tolerance of the statistics helpers (exact arithmetic on small integers).
const statTol = 1e-12

func TestMedianAndDiff(t *testing.T) {
	if m := median([]float64{1, 2, 10}); math.Abs(m-2) > statTol {
		t.Errorf("median of 1, 2, 10 = %v", m)
	}
	if m := median([]float64{1, 2, 4, 10}); math.Abs(m-3) > statTol {
		t.Errorf("median of 1, 2, 4, 10 = %v", m)
	}
	a := randomInput(inception.Mini().Dtype, []int{1, 2, 3}, 1)
	b := randomInput(inception.Mini().Dtype, []int{1, 2, 3}, 2)
	if d := maxAbsDiff(a, randomInput(inception.Mini().Dtype, []int{1, 2, 3}, 1)); d > statTol {
		t.Errorf("two inputs from seed 1 differ by %v", d)
	}
	u := tensor.New(tensor.WithShape(3), tensor.WithBacking([]float32{1, -2, 3}))
	v := tensor.New(tensor.WithShape(3), tensor.WithBacking([]float32{1.5, 2, 3}))
	if d := maxAbsDiff(u, v); math.Abs(d-4) > statTol {
		t.Errorf("maxAbsDiff([1 -2 3], [1.5 2 3]) = %v, want 4", d)
	}
	if d := maxAbsDiff(u, tensor.New(tensor.WithShape(2), tensor.WithBacking([]float32{1, 2}))); !math.IsInf(d, 1) {
		t.Errorf("maxAbsDiff of different lengths = %v, want +Inf", d)
	}
	if d := maxAbsDiff(a, b); !(d > changeTol) {
		t.Errorf("inputs from different seeds differ by only %v", d)
	}
	if !finiteDense(a) {
		t.Error("random input not finite")
	}
}

func TestPeakRSS(t *testing.T) {
	if p := PeakRSS(); p <= 0 {
		t.Skipf("no peak RSS on this system (%d)", p)
	}
	// Current first: the peak read after it cannot be lower.
	cur := currentRSS()
	if peak := PeakRSS(); peak < cur {
		t.Errorf("peak RSS %d below current RSS %d", peak, cur)
	}
}
