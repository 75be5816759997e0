package train

import (
	"context"
	"errors"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"testing"
)

// TestStepsLog interrupts a run, resumes it, and checks that steps.csv has
// exactly one line per optimizer step, in order, and that the curves are
// drawn from them.
func TestStepsLog(t *testing.T) {
	out := t.TempDir()
	cfg := smallConfig(out)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if _, err := Run(ctx, cfg, &stopAt{n: 8, cancel: cancel}); !errors.Is(err, ErrInterrupted) {
		t.Fatalf("first run: %v", err)
	}
	cfg.Resume = true
	res, err := Run(context.Background(), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	ss, err := ReadSteps(filepath.Join(out, StepsFile))
	if err != nil {
		t.Fatal(err)
	}
	if int64(len(ss)) != res.Steps {
		t.Fatalf("%d step lines for %d steps", len(ss), res.Steps)
	}
	for i, s := range ss {
		if s.Step != int64(i+1) || math.Abs(s.Epoch-float64(i+1)/6) > 1e-6 || !(s.Loss > 0) || !(s.Total >= s.Loss) || !(s.LR > 0) {
			t.Errorf("line %d: %+v", i+1, s)
		}
	}
	f, err := os.Open(filepath.Join(out, CurvesFile))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := png.Decode(f); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadSteps(filepath.Join(out, "none.csv")); err == nil {
		t.Error("missing steps file read without error")
	}
	bad := filepath.Join(out, "bad.csv")
	if err := os.WriteFile(bad, []byte(stepsHeader+"\n1,0.5,x,1,0.1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadSteps(bad); err == nil {
		t.Error("malformed steps file read without error")
	}
}
