package train

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/goinception/googlenet/checkpoint"
	"github.com/goinception/googlenet/interchange/safetensors"
)

// oldRun is the output folder of a run in the checkpoint format written
// before the trainer's state had typed fields (the recipe and the partial
// epoch as the JSON strings train_recipe and train_partial): smallConfig
// with Polyak averaging from step 2, interrupted after step 4, in the middle
// of epoch 1.
const oldRun = "testdata/v1-resume"

// TestResumeOldCheckpoint resumes the run of oldRun with the current code;
// it must end as an uninterrupted run does, bit for bit.
func TestResumeOldCheckpoint(t *testing.T) {
	ck := weightsOf(t, filepath.Join(oldRun, CheckpointName(4)))
	if ck.Trainer == nil || ck.Trainer.Recipe.Data != synth || ck.Trainer.Partial.Steps != 4 || ck.Trainer.Dropout.Step != 4 || ck.Trainer.Dropout.Seed != 7 {
		t.Fatalf("trainer state of the old checkpoint: %+v", ck.Trainer)
	}
	if len(ck.Meta.Extra) != 0 {
		t.Fatalf("old trainer entries left in Extra: %v", ck.Meta.Extra)
	}
	cfg := smallConfig(t.TempDir())
	cfg.Polyak = true
	cfg.PolyakStart = 2
	full, err := Run(context.Background(), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}

	cfg.Out = t.TempDir()
	es, err := os.ReadDir(oldRun)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range es {
		b, err := os.ReadFile(filepath.Join(oldRun, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(cfg.Out, e.Name()), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cfg.Resume = true
	resumed, err := Run(context.Background(), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	sameRun(t, full, resumed, 12)

	// What the resumed run wrote is the current format: a typed "trainer"
	// entry, not the old strings.
	f, err := safetensors.ReadFile(resumed.Checkpoint)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := f.Metadata["trainer"]; !ok {
		t.Fatal("no trainer entry in a new checkpoint")
	}
	for _, k := range []string{"train_recipe", "train_partial"} {
		if _, ok := f.Metadata[k]; ok {
			t.Errorf("a new checkpoint has the old entry %q", k)
		}
	}
	ck = weightsOf(t, resumed.Checkpoint)
	if ck.Trainer == nil || ck.Trainer.Recipe.PolyakStart != 2 || ck.Trainer.Partial != (checkpoint.EpochSums{}) || ck.Trainer.Dropout.Step != 12 {
		t.Fatalf("trainer state %+v after 2 epochs", ck.Trainer)
	}
}
