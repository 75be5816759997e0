package train

import (
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/pkg/errors"

	"github.com/goinception/googlenet/checkpoint"
	"github.com/goinception/googlenet/cuda"
	"github.com/goinception/googlenet/data"
	"github.com/goinception/googlenet/graph"
	"github.com/goinception/googlenet/inception"
	"github.com/goinception/googlenet/mpi"
	"github.com/goinception/googlenet/preprocess"
	"github.com/goinception/googlenet/solvers"
)

// Schedule names accepted by Config.Schedule.
const (
	ScheduleConstant = "constant"
	ScheduleStep     = "step" // the paper's: x StepGamma every StepPeriod epochs
	SchedulePoly     = "poly" // Caffe's quick_solver: (1 - epoch/Epochs)^PolyPower
)

// Config configures a training run. Zero fields take the defaults in
// brackets; the defaults are the tuned recipe of the mini variant on MNIST.
type Config struct {
	// Model is the architecture. Its Classes and InChannels are set from
	// the dataset and its BatchSize from Batch; a zero Model (no Table) means
	// inception.Mini(). Model.AuxWeight weighs the auxiliary losses (0.3 in
	// the paper and the presets). On resume the checkpoint's model is used.
	// With InitFrom the architecture is the source's; see InitFrom.
	Model inception.Config

	// InitFrom starts from the weights of a file (fine-tuning): any file
	// eval.LoadModel reads, including a checkpoint of another class count.
	// The network is the source's architecture with the dataset's classes;
	// Model may be zero or name the same Variant, and its InputSize and
	// AuxWeight, when not zero, override the source's. Every weight and
	// batch-norm statistic whose name and shape match is loaded; the
	// classifiers (inception.Classifiers) start afresh when the classes
	// differ in count or names, and auxiliary heads missing from the
	// source start afresh too; any other mismatch is an error naming the
	// tensor. The input normalisation (means, stds) is the source's when it
	// records one for the dataset's channels. A resumed run takes its
	// weights from the checkpoint instead. Init, when set, is InitFrom
	// already loaded (LoadInit) and is used instead of reading the file.
	InitFrom string
	Init     *InitWeights
	// Input, when set, replaces the input contract of InitFrom (which
	// otherwise comes from the weights, InitWeights.Input) or, without
	// InitFrom, the dataset's statistics: its scale, normalisation and
	// affine step give the per-channel means and stds the run normalises
	// with (and records in its checkpoints). A BGR contract reorders the
	// first convolution's input channels of the InitFrom weights, so that
	// the network takes RGB; without InitFrom it is an error. Its geometry
	// is not used: training resizes (or augments) as always. Its channel
	// count must be the dataset's.
	Input *preprocess.Contract
	// NoAux drops the auxiliary heads (their weights in the source are
	// dropped too).
	NoAux bool
	// Freeze lists parameter-name prefixes ("conv1/", "inception_3"):
	// matching parameters are not trained at all (no update, momentum,
	// weight decay or Polyak averaging; batch norms whose scale and shift
	// are frozen keep their running statistics), and the backward pass
	// computes nothing that only they need. FreezeThrough adds every
	// parameter of the main path from the input through the named layer
	// (a row of the summary, as inception.Summary.Through resolves it, e.g.
	// "inception_4e"). Each prefix must match a parameter.
	Freeze        []string
	FreezeThrough string
	// LRMult and DecayMult multiply the learning rate and the weight decay
	// of the parameters whose names start with a prefix (Caffe's lr_mult and
	// decay_mult); where several match, the last one wins. A decay
	// multiplier of 0 turns weight decay off for them; a learning-rate
	// multiplier must be positive (freeze parameters instead).
	LRMult, DecayMult []Mult
	// Verbose makes the reporter list every tensor InitFrom loaded,
	// re-initialised or dropped (the summary line is always reported).
	Verbose bool
	// Data is a dataset spec for data.Open ("mnist", "mnist:DIR",
	// "folder:DIR", "synthetic:..."). Splits, when set, is used instead.
	Data   string
	Splits *data.Splits

	Epochs int // [3]
	Batch  int // images per step on each rank [64]
	// StepsPerEpoch limits the steps of an epoch (0: the whole training set,
	// the last incomplete batch dropped). For quick demonstrations and tests.
	StepsPerEpoch int
	// EvalLimit evaluates on the first EvalLimit validation images only
	// (0: all of them).
	EvalLimit int

	LR          float64 // base learning rate [0.05]
	Momentum    float64 // [0.9]
	WeightDecay float64 // L2 on weights (not biases or batch-norm affine); 0 is none
	Schedule    string  // constant, step or poly [poly]
	StepGamma   float64 // step schedule: factor per period [0.96]
	StepPeriod  float64 // step schedule: period in epochs [8]
	PolyPower   float64 // poly schedule: power [1]
	// WarmupEpochs ramps the rate linearly from WarmupStart times the
	// scheduled rate over that many (fractional) epochs; 0 is no warm-up.
	WarmupEpochs, WarmupStart float64
	// Polyak evaluates and exports the running average of the weights after
	// PolyakStart steps: uniform (Polyak-Juditsky) when PolyakDecay is 0,
	// exponential with that decay otherwise.
	Polyak      bool
	PolyakStart int64
	PolyakDecay float64
	// Augment applies the paper's augmentation (random-sized crops, random
	// interpolation, mirror, photometric distortions) to training images;
	// off, images are only resized to the input size and normalised.
	Augment bool

	Seed uint64 // initialisation, data order, dropout masks
	// Out is the output folder (required): checkpoints, metrics.jsonl,
	// curves.png, labels.txt, model.safetensors.
	Out string
	// Resume continues from the newest checkpoint in Out. Without it, Run
	// refuses an Out that already holds checkpoints.
	Resume   bool
	KeepLast int // checkpoints kept [3]
	// Strict fails on an unreadable image instead of skipping it.
	Strict  bool
	Workers int // decoding goroutines [GOMAXPROCS]

	// Comm, when it has more than one rank, trains data-parallel: rank 0's
	// weights are broadcast, each rank reads its shard of every epoch, the
	// gradients are averaged after every step (GradHook's place), batch-norm
	// statistics are averaged before evaluation, and only rank 0 writes
	// files and reports. nil means one process (mpi.Local).
	Comm mpi.Comm
	// Device, when not nil, trains on it: the network runs as a
	// device-resident cuda.Net (forward, losses, backward with the CPU
	// graph's dropout masks, the SGD update with momentum, weight decay,
	// the schedule's rate and LRMult/DecayMult, Freeze, Polyak averaging,
	// validation in evaluation mode); per step only the batch goes up and
	// the losses and logits come down. Checkpoints are written from the
	// device's weights, momentum buffers, averages, batch-norm statistics
	// and dropout stream, and a resumed run uploads them, so it continues
	// as the uninterrupted run would. Model.Engine is then not used for
	// training. Run refuses at the start what the device does not
	// implement: several ranks (Comm), GradHook, a float64 model, batch
	// norms whose scale and shift are both frozen.
	Device *cuda.Device
	// GradHook, if set, runs after the gradients of a step are computed
	// (and averaged across ranks) and before the solver step, with the
	// trainable parameters (frozen ones have no gradient). step counts
	// completed steps. It may change Param.Grad in place.
	GradHook func(step int64, params []*graph.Param) error
}

func (c Config) withDefaults() Config {
	if len(c.Model.Table) == 0 && c.InitFrom == "" && c.Init == nil {
		eng := c.Model.Engine
		c.Model = inception.Mini()
		c.Model.Engine = eng
	}
	def := func(p *float64, v float64) {
		if *p == 0 {
			*p = v
		}
	}
	if c.Epochs == 0 {
		c.Epochs = 3
	}
	if c.Batch == 0 {
		c.Batch = 64
	}
	def(&c.LR, 0.05)
	def(&c.Momentum, 0.9)
	def(&c.StepGamma, 0.96)
	def(&c.StepPeriod, 8)
	def(&c.PolyPower, 1)
	if c.Schedule == "" {
		c.Schedule = SchedulePoly
	}
	if c.KeepLast == 0 {
		c.KeepLast = 3
	}
	if c.Comm == nil {
		c.Comm = mpi.Local{}
	}
	return c
}

// validate reports every bad setting at once.
func (c Config) validate() error {
	var bad []string
	check := func(ok bool, format string, args ...interface{}) {
		if !ok {
			bad = append(bad, fmt.Sprintf(format, args...))
		}
	}
	finite := func(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }
	check(c.Data != "" || c.Splits != nil, "no dataset (Data or Splits)")
	check(c.Out != "", "no output folder (Out)")
	check(c.Epochs > 0, "Epochs %d must be positive", c.Epochs)
	check(c.Batch > 0, "Batch %d must be positive", c.Batch)
	check(c.StepsPerEpoch >= 0, "StepsPerEpoch %d must not be negative", c.StepsPerEpoch)
	check(c.EvalLimit >= 0, "EvalLimit %d must not be negative", c.EvalLimit)
	check(c.LR > 0 && finite(c.LR), "LR %g must be positive", c.LR)
	check(c.Momentum > 0 && c.Momentum < 1, "Momentum %g must be in (0, 1)", c.Momentum)
	check(c.WeightDecay >= 0 && finite(c.WeightDecay), "WeightDecay %g must not be negative", c.WeightDecay)
	check(c.Schedule == ScheduleConstant || c.Schedule == ScheduleStep || c.Schedule == SchedulePoly,
		"Schedule %q unknown (want constant, step or poly)", c.Schedule)
	check(c.WarmupEpochs >= 0 && finite(c.WarmupEpochs), "WarmupEpochs %g must not be negative", c.WarmupEpochs)
	check(c.WarmupStart >= 0 && c.WarmupStart < 1, "WarmupStart %g must be in [0, 1)", c.WarmupStart)
	check(c.PolyakStart >= 0, "PolyakStart %d must not be negative", c.PolyakStart)
	check(c.PolyakDecay >= 0 && c.PolyakDecay < 1, "PolyakDecay %g must be in [0, 1)", c.PolyakDecay)
	check(c.KeepLast > 0, "KeepLast %d must be positive", c.KeepLast)
	check(c.Workers >= 0, "Workers %d must not be negative", c.Workers)
	check(c.Model.AuxWeight >= 0 && finite(c.Model.AuxWeight), "Model.AuxWeight %g must not be negative", c.Model.AuxWeight)
	for _, p := range c.Freeze {
		check(p != "", "Freeze has an empty prefix")
	}
	for _, m := range c.LRMult {
		check(m.Prefix != "" && m.Value > 0 && finite(m.Value), "LRMult %s=%g: want a prefix and a positive multiplier (freeze parameters instead of 0)", m.Prefix, m.Value)
	}
	for _, m := range c.DecayMult {
		check(m.Prefix != "" && m.Value >= 0 && finite(m.Value), "DecayMult %s=%g: want a prefix and a multiplier >= 0", m.Prefix, m.Value)
	}
	if c.Input != nil {
		if err := c.Input.Validate(); err != nil {
			bad = append(bad, fmt.Sprintf("Input: %v", err))
		} else if _, _, _, err := contractStats(*c.Input); err != nil {
			bad = append(bad, fmt.Sprintf("Input: %v", err))
		} else if _, err := c.Input.Encode(); err != nil {
			bad = append(bad, fmt.Sprintf("Input: %v", err))
		}
		check(c.Input.Channels != preprocess.BGR || c.InitFrom != "" || c.Init != nil,
			"Input %v takes BGR: only weights that InitFrom starts from can be reordered to it", *c.Input)
	}
	if len(bad) > 0 {
		return errors.Errorf("train: %s", strings.Join(bad, "; "))
	}
	return nil
}

// schedule builds the learning-rate schedule.
func (c Config) schedule() solvers.Schedule {
	var s solvers.Schedule
	switch c.Schedule {
	case ScheduleStep:
		s = solvers.StepDecay{Gamma: c.StepGamma, Period: c.StepPeriod}
	case SchedulePoly:
		s = solvers.Poly{Max: float64(c.Epochs), Power: c.PolyPower}
	default:
		s = solvers.Constant{}
	}
	if c.WarmupEpochs > 0 {
		s = solvers.Warmup{Length: c.WarmupEpochs, Start: c.WarmupStart, Then: s}
	}
	return s
}

// sgdConfig is the solver configuration for an epoch of stepsPerEpoch steps.
func (c Config) sgdConfig(stepsPerEpoch int) solvers.SGDConfig {
	sc := solvers.SGDConfig{
		LR: c.LR, Momentum: c.Momentum, WeightDecay: c.WeightDecay,
		Schedule: c.schedule(), StepsPerEpoch: int64(stepsPerEpoch),
	}
	if c.Polyak {
		sc.Averaging = solvers.AveragingConfig{Mode: solvers.AverageUniform, Start: c.PolyakStart}
		if c.PolyakDecay > 0 {
			sc.Averaging = solvers.AveragingConfig{Mode: solvers.AverageExponential, Start: c.PolyakStart, Decay: c.PolyakDecay}
		}
	}
	return sc
}

// recipe is the part of Config that a resumed run must share with the run
// that wrote the checkpoint for the result to be the same. Epochs may grow
// (the poly schedule then changes from that point on).
func (c Config) recipe() checkpoint.Recipe {
	d := c.Data
	if c.Splits != nil {
		d = c.Splits.Name
	}
	in := ""
	if c.Input != nil {
		in, _ = c.Input.Encode() // validated by Run before the recipe is compared or saved
	}
	return checkpoint.Recipe{Data: d, Batch: c.Batch, World: c.Comm.Size(), StepsPerEpoch: c.StepsPerEpoch,
		LR: c.LR, Momentum: c.Momentum, WeightDecay: c.WeightDecay, Schedule: c.Schedule,
		StepGamma: c.StepGamma, StepPeriod: c.StepPeriod, PolyPower: c.PolyPower,
		WarmupEpochs: c.WarmupEpochs, WarmupStart: c.WarmupStart, Polyak: c.Polyak, PolyakStart: c.PolyakStart,
		PolyakDecay: c.PolyakDecay, Augment: c.Augment, Seed: c.Seed, InitFrom: c.initPath(), NoAux: c.NoAux,
		Freeze: c.Freeze, FreezeThrough: c.FreezeThrough, LRMult: c.LRMult, DecayMult: c.DecayMult, Input: in}
}

// checkResumable checks that ck (read from path) holds the state a resumed
// run needs and was written with the same recipe as c's.
func (c Config) checkResumable(ck *checkpoint.Checkpoint, path string) error {
	if ck.Solver == nil {
		return errors.Errorf("train: resume: %s has no solver state", path)
	}
	if ck.Trainer == nil {
		return errors.Errorf("train: resume: %s has no trainer state (not written by a training run)", path)
	}
	if d := diffRecipe(c.recipe(), ck.Trainer.Recipe); len(d) > 0 {
		sort.Strings(d)
		return errors.Errorf("train: resume: settings differ from the checkpoint's: %s", strings.Join(d, "; "))
	}
	return nil
}

// initPath is the source of the initial weights ("" for none).
func (c Config) initPath() string {
	if c.Init != nil {
		return c.Init.Path
	}
	return c.InitFrom
}

// diffRecipe lists the settings in which a and b differ, by JSON field.
func diffRecipe(a, b checkpoint.Recipe) []string {
	ma, mb := map[string]interface{}{}, map[string]interface{}{}
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	_ = json.Unmarshal(ja, &ma)
	_ = json.Unmarshal(jb, &mb)
	var d []string
	for k, v := range ma {
		if fmt.Sprint(v) != fmt.Sprint(mb[k]) {
			d = append(d, fmt.Sprintf("%s %v (checkpoint %v)", k, v, mb[k]))
		}
	}
	return d
}
