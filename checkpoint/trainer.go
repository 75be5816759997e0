package checkpoint

import (
	"encoding/json"
	"strings"

	"github.com/pkg/errors"

	"github.com/goinception/googlenet/ops"
)

// Trainer is the state of the training run that wrote a checkpoint beyond
// the weights, the solver state (Checkpoint.Solver: step, velocities,
// Polyak averages) and Meta's counters (Step, Epoch, EpochStep, Seed): what
// package train needs to resume the run bit for bit. It is stored as the
// JSON object "trainer" of the metadata.
type Trainer struct {
	// Recipe is the run's settings, which a resumed run must share.
	Recipe Recipe
	// Partial are the sums of the incomplete epoch (Meta.EpochStep steps
	// into epoch Meta.Epoch+1); zero at an epoch boundary.
	Partial EpochSums
	// Dropout is the dropout state of the model (rank 0's in a
	// data-parallel run) after the last step: its seed and the number of
	// steps whose masks were drawn.
	Dropout ops.RandState
}

// Recipe is the part of a training run's settings that a resumed run must
// share with the run that wrote the checkpoint for the result to be the
// same: the data, the batch, the ranks, the solver and its schedule,
// Polyak averaging, augmentation, the seed, the initial weights, freezing
// and the per-parameter multipliers (package train's Config).
type Recipe struct {
	Data          string
	Batch         int
	World         int
	StepsPerEpoch int
	LR            float64
	Momentum      float64
	WeightDecay   float64
	Schedule      string
	StepGamma     float64
	StepPeriod    float64
	PolyPower     float64
	WarmupEpochs  float64
	WarmupStart   float64
	Polyak        bool
	PolyakStart   int64
	PolyakDecay   float64
	Augment       bool
	Seed          uint64
	InitFrom      string
	NoAux         bool
	Freeze        []string
	FreezeThrough string
	LRMult        []Mult
	DecayMult     []Mult
	// Input is the input contract of the run (package preprocess, encoded;
	// "" when the run had none: left out of the JSON then, so that
	// checkpoints written before the field resume).
	Input string `json:",omitempty"`
}

// Mult is a multiplier for the parameters whose names start with Prefix
// (a learning-rate or weight-decay multiplier of a recipe).
type Mult struct {
	Prefix string
	Value  float64
}

// EpochSums are a training epoch's running sums, so that a resumed epoch
// reports the whole epoch.
type EpochSums struct {
	Steps                   int     // optimizer steps
	Images                  int     // training images
	Main, Aux1, Aux2, Total float64 // sums of the batches' mean losses
	Top1, Top5              float64 // correct images
	Seconds                 float64 // training time
}

// Metadata keys of the trainer state: "trainer" (this format), and the two
// JSON strings older checkpoints carried instead (the recipe and the
// partial sums), which Decode still reads.
const (
	trainerKey   = "trainer"
	oldRecipeKey = "train_recipe"
	oldSumsKey   = "train_partial"
)

// encodeTrainer returns the "trainer" metadata entry.
func encodeTrainer(t *Trainer) (string, error) {
	b, err := json.Marshal(t)
	if err != nil {
		return "", errors.Wrap(err, "checkpoint: trainer state")
	}
	return string(b), nil
}

// decodeTrainer reads the trainer state from metadata: the "trainer" entry,
// or the entries of checkpoints written before it (train_recipe and
// train_partial; the dropout state is then the one those runs had, the
// model's seed and one draw per step). It returns nil when there is none.
func decodeTrainer(md map[string]string, m Meta) (*Trainer, error) {
	strict := func(key string, dst interface{}) error {
		dec := json.NewDecoder(strings.NewReader(md[key]))
		dec.DisallowUnknownFields()
		if err := dec.Decode(dst); err != nil {
			return errors.Wrapf(err, "checkpoint: metadata %q", key)
		}
		if dec.More() {
			return errors.Errorf("checkpoint: metadata %q: data after the JSON value", key)
		}
		return nil
	}
	if _, ok := md[trainerKey]; ok {
		if _, old := md[oldRecipeKey]; old {
			return nil, errors.Errorf("checkpoint: metadata has both %q and %q", trainerKey, oldRecipeKey)
		}
		t := &Trainer{}
		if err := strict(trainerKey, t); err != nil {
			return nil, err
		}
		return t, t.validate()
	}
	if _, ok := md[oldRecipeKey]; !ok {
		if _, ok := md[oldSumsKey]; ok {
			return nil, errors.Errorf("checkpoint: metadata %q without %q", oldSumsKey, oldRecipeKey)
		}
		return nil, nil
	}
	t := &Trainer{Dropout: ops.RandState{Seed: m.Config.Seed, Step: uint64(m.Step)}}
	if err := strict(oldRecipeKey, &t.Recipe); err != nil {
		return nil, err
	}
	if _, ok := md[oldSumsKey]; ok {
		if err := strict(oldSumsKey, &t.Partial); err != nil {
			return nil, err
		}
	}
	return t, t.validate()
}

func (t *Trainer) validate() error {
	p := t.Partial
	if p.Steps < 0 || p.Images < 0 || p.Seconds < 0 {
		return errors.Errorf("checkpoint: trainer state: negative partial sums %+v", p)
	}
	if t.Recipe.Batch < 0 || t.Recipe.World < 0 || t.Recipe.StepsPerEpoch < 0 {
		return errors.Errorf("checkpoint: trainer state: negative batch, ranks or steps per epoch in %+v", t.Recipe)
	}
	return nil
}
