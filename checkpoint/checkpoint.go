package checkpoint

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/pkg/errors"
	"gorgonia.org/tensor"

	"github.com/goinception/googlenet/inception"
	"github.com/goinception/googlenet/interchange/safetensors"
	"github.com/goinception/googlenet/preprocess"
	"github.com/goinception/googlenet/solvers"
)

// FormatName and FormatVersion identify our checkpoints in the
// "format" and "format_version" metadata entries.
const (
	FormatName    = "googlenet-checkpoint"
	FormatVersion = 1
)

// Tensor name prefixes and suffixes of the non-weight entries.
const (
	VelocityPrefix     = "solver.velocity/"      // momentum buffer of a parameter
	AveragePrefix      = "solver.average/"       // Polyak average of a parameter
	AverageCountPrefix = "solver.average_count/" // I64 scalar: values folded into an average
	RunningMeanSuffix  = "/running_mean"
	RunningVarSuffix   = "/running_var"
)

// Meta is the metadata of a checkpoint, stored as strings in the
// safetensors "__metadata__" object.
type Meta struct {
	// Config is the model's full configuration. Config.Init is not stored
	// (the weights are); Load sets it to the variant preset's initialiser.
	Config inception.Config
	// Classes are the class names (labels), one per output; may be nil.
	Classes []string
	// Means and Stds are the per-channel input normalisation on the 0..255
	// scale ((x - mean) / std), as data.Transform applies it.
	Means, Stds []float32
	// Input is the model's input contract (package preprocess): how a
	// photograph becomes its input. nil means the project's own (see
	// InputContract); imported published weights carry their publisher's.
	// Its channel count and crop must match the model's configuration.
	Input *preprocess.Contract
	// Step is the number of optimizer steps completed.
	Step int64
	// Epoch is the number of complete epochs; EpochStep the batches done in
	// the current (incomplete) epoch, 0 at an epoch boundary.
	Epoch, EpochStep int
	Seed             uint64
	// Frozen names the parameters that training left alone (no solver
	// state; Averaged keeps their weights). Stored as the JSON array
	// "frozen" when not empty; older checkpoints have none.
	Frozen []string
	// Extra holds more string entries. Keys must not collide with the ones
	// this package writes.
	Extra map[string]string
}

// Checkpoint is a model's weights, batch-norm running statistics, optional
// solver state and metadata, in plain Go values.
type Checkpoint struct {
	Meta Meta
	// Weights are the trainable parameters by name (see inception's names,
	// "inception_4a/3x3_reduce/w"), each with exactly one of Float32 or
	// Float64 set.
	Weights map[string]solvers.Tensor
	// Stats are batch-norm running statistics by tensor name
	// ("conv1/3x3/bn/running_mean"), float64 as the model keeps them.
	Stats map[string][]float64
	// Solver is the SGD state (step, velocities, Polyak averages), or nil.
	Solver *solvers.State
	// Trainer is the training run's own state (settings, partial epoch,
	// dropout state), or nil for a checkpoint not written by a trainer.
	Trainer *Trainer
}

// FromModel copies the current weights and batch-norm statistics of m,
// the state of opt (which may be nil) and meta into a new checkpoint.
// meta.Config is replaced by m.Config(), and meta.Step by opt.Steps() when opt
// is given. It fails while Polyak averages are swapped into the weights.
func FromModel(m *inception.Model, opt *solvers.SGD, meta Meta) (*Checkpoint, error) {
	if m == nil {
		return nil, errors.New("checkpoint: nil model")
	}
	c := &Checkpoint{Meta: meta, Weights: map[string]solvers.Tensor{}, Stats: map[string][]float64{}}
	c.Meta.Config = m.Config()
	c.Meta.Frozen = nil
	for _, p := range m.Params() {
		if p.Frozen {
			c.Meta.Frozen = append(c.Meta.Frozen, p.Name)
		}
		t, err := plain(p.Value)
		if err != nil {
			return nil, errors.Wrapf(err, "checkpoint: parameter %s", p.Name)
		}
		c.Weights[p.Name] = t
	}
	for _, e := range m.BNStats() {
		c.Stats[e.Name+RunningMeanSuffix] = append([]float64(nil), e.Stats.Mean...)
		c.Stats[e.Name+RunningVarSuffix] = append([]float64(nil), e.Stats.Var...)
	}
	if opt != nil {
		st, err := opt.State()
		if err != nil {
			return nil, errors.Wrap(err, "checkpoint: solver state")
		}
		c.Solver = &st
		c.Meta.Step = st.Step
	}
	return c, nil
}

// plain copies a dense float tensor into a solvers.Tensor.
func plain(d *tensor.Dense) (solvers.Tensor, error) {
	if d == nil {
		return solvers.Tensor{}, errors.New("no value")
	}
	t := solvers.Tensor{Shape: append([]int(nil), d.Shape()...)}
	switch v := d.Data().(type) {
	case []float32:
		t.Float32 = append([]float32(nil), v...)
	case []float64:
		t.Float64 = append([]float64(nil), v...)
	default:
		return t, errors.Errorf("dtype %v not supported", d.Dtype())
	}
	return t, nil
}

// Apply copies the checkpoint's weights and batch-norm statistics into m, in
// place (the model's inference graphs see them at once). It is strict: every
// parameter and statistic of m must be present with the same shape and dtype,
// and the checkpoint may hold nothing else; nothing is changed on error.
func (c *Checkpoint) Apply(m *inception.Model) error {
	if m == nil {
		return errors.New("checkpoint: nil model")
	}
	var missing, bad []string
	seen := map[string]bool{}
	for _, p := range m.Params() {
		t, ok := c.Weights[p.Name]
		if !ok {
			missing = append(missing, p.Name)
			continue
		}
		seen[p.Name] = true
		if err := compatible(t, p.Value); err != nil {
			bad = append(bad, p.Name+": "+err.Error())
		}
	}
	for _, e := range m.BNStats() {
		for _, s := range [][2]interface{}{{RunningMeanSuffix, e.Stats.Mean}, {RunningVarSuffix, e.Stats.Var}} {
			name := e.Name + s[0].(string)
			v, ok := c.Stats[name]
			if !ok {
				missing = append(missing, name)
				continue
			}
			seen[name] = true
			if want := len(s[1].([]float64)); len(v) != want {
				bad = append(bad, fmt.Sprintf("%s: %d values, the model has %d", name, len(v), want))
			}
		}
	}
	var unexpected []string
	for n := range c.Weights {
		if !seen[n] {
			unexpected = append(unexpected, n)
		}
	}
	for n := range c.Stats {
		if !seen[n] {
			unexpected = append(unexpected, n)
		}
	}
	if err := nameErrors(missing, unexpected, bad); err != nil {
		return errors.Wrap(err, "checkpoint: does not fit the model")
	}
	for _, p := range m.Params() {
		t := c.Weights[p.Name]
		switch v := p.Value.Data().(type) {
		case []float32:
			copy(v, t.Float32)
		case []float64:
			copy(v, t.Float64)
		}
	}
	for _, e := range m.BNStats() {
		copy(e.Stats.Mean, c.Stats[e.Name+RunningMeanSuffix])
		copy(e.Stats.Var, c.Stats[e.Name+RunningVarSuffix])
	}
	return nil
}

// compatible checks that t can be copied into d.
func compatible(t solvers.Tensor, d *tensor.Dense) error {
	if d == nil {
		return errors.New("the model's parameter has no value")
	}
	if !slices.Equal(t.Shape, d.Shape()) {
		return errors.Errorf("shape %v, the model has %v", t.Shape, []int(d.Shape()))
	}
	switch d.Data().(type) {
	case []float32:
		if t.Float32 == nil {
			return errors.New("float64 values, the model is float32")
		}
	case []float64:
		if t.Float64 == nil {
			return errors.New("float32 values, the model is float64")
		}
	default:
		return errors.Errorf("model dtype %v not supported", d.Dtype())
	}
	return nil
}

// nameErrors formats lists of missing, unexpected and mismatched names (at
// most a few of each) into one error, or returns nil.
func nameErrors(missing, unexpected, bad []string) error {
	var parts []string
	add := func(what string, xs []string) {
		if len(xs) == 0 {
			return
		}
		sort.Strings(xs)
		shown := xs
		if len(shown) > 5 {
			shown = shown[:5]
		}
		s := fmt.Sprintf("%d %s: %s", len(xs), what, strings.Join(shown, ", "))
		if len(xs) > len(shown) {
			s += ", ..."
		}
		parts = append(parts, s)
	}
	add("missing", missing)
	add("unexpected", unexpected)
	add("mismatched", bad)
	if len(parts) == 0 {
		return nil
	}
	return errors.New(strings.Join(parts, "; "))
}

// NewModel builds a model from the checkpoint's configuration with training
// batch size batch (0 keeps the stored one) and applies the weights.
func (c *Checkpoint) NewModel(batch int) (*inception.Model, error) {
	cfg := c.Meta.Config
	if batch > 0 {
		cfg.BatchSize = batch
	}
	m, err := inception.New(cfg)
	if err != nil {
		return nil, errors.Wrap(err, "checkpoint: building the model")
	}
	if err := c.Apply(m); err != nil {
		return nil, err
	}
	return m, nil
}

// Averaged returns a copy of c whose weights are the Polyak averages of the
// solver state (for evaluation or export) and that carries no solver state.
// Every weight must have an average, except frozen ones (Meta.Frozen),
// which keep their weights.
func (c *Checkpoint) Averaged() (*Checkpoint, error) {
	if c.Solver == nil || len(c.Solver.Average) == 0 {
		return nil, errors.New("checkpoint: no Polyak averages")
	}
	out := &Checkpoint{Meta: c.Meta, Weights: map[string]solvers.Tensor{}, Stats: c.Stats}
	var missing []string
	frozen := map[string]bool{}
	for _, n := range c.Meta.Frozen {
		frozen[n] = true
	}
	for n, w := range c.Weights {
		a, ok := c.Solver.Average[n]
		if !ok && frozen[n] {
			out.Weights[n] = w
			continue
		}
		if !ok {
			missing = append(missing, n)
			continue
		}
		out.Weights[n] = a
	}
	if err := nameErrors(missing, nil, nil); err != nil {
		return nil, errors.Wrap(err, "checkpoint: averages")
	}
	return out, nil
}

// configJSON encodes a model configuration without its initialiser and with
// the dtype as a name.
func configJSON(c inception.Config) (string, string, error) {
	dt := "float32"
	switch c.Dtype {
	case tensor.Float32, tensor.Dtype{}:
	case tensor.Float64:
		dt = "float64"
	default:
		return "", "", errors.Errorf("dtype %v not supported", c.Dtype)
	}
	c.Dtype = tensor.Dtype{}
	c.Init = nil
	b, err := json.Marshal(c)
	if err != nil {
		return "", "", err
	}
	return string(b), dt, nil
}

func configFromJSON(s, dt string) (inception.Config, error) {
	var c inception.Config
	dec := json.NewDecoder(strings.NewReader(s))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return c, errors.Wrap(err, "config")
	}
	switch dt {
	case "float32":
		c.Dtype = tensor.Float32
	case "float64":
		c.Dtype = tensor.Float64
	default:
		return c, errors.Errorf("dtype %q not supported", dt)
	}
	if preset, err := inception.ConfigFor(c.Variant); err == nil {
		c.Init = preset.Init
	}
	if err := c.Validate(); err != nil {
		return c, errors.Wrap(err, "config")
	}
	return c, nil
}

// reserved metadata keys written by Encode.
var reserved = []string{"format", "format_version", "variant", "config", "dtype", "classes",
	"labels", "input_size", "in_channels", "means", "stds", "input_contract", "step", "epoch", "epoch_step", "seed",
	"solver_state_version", "solver_step", "frozen", trainerKey, oldRecipeKey, oldSumsKey}

// Encode returns the safetensors tensors and metadata of c.
func (c *Checkpoint) Encode() ([]safetensors.Tensor, map[string]string, error) {
	md := map[string]string{}
	for k, v := range c.Meta.Extra {
		for _, r := range reserved {
			if k == r {
				return nil, nil, errors.Errorf("checkpoint: extra metadata key %q is reserved", k)
			}
		}
		md[k] = v
	}
	cfg, dt, err := configJSON(c.Meta.Config)
	if err != nil {
		return nil, nil, errors.Wrap(err, "checkpoint: config")
	}
	js := func(v interface{}) string {
		b, _ := json.Marshal(v) // plain slices of strings and floats cannot fail
		return string(b)
	}
	md["format"] = FormatName
	md["format_version"] = strconv.Itoa(FormatVersion)
	md["variant"] = c.Meta.Config.Variant
	md["config"] = cfg
	md["dtype"] = dt
	md["classes"] = strconv.Itoa(c.Meta.Config.Classes)
	labels := c.Meta.Classes
	if labels == nil {
		labels = []string{}
	}
	md["labels"] = js(labels)
	md["input_size"] = strconv.Itoa(c.Meta.Config.InputSize)
	md["in_channels"] = strconv.Itoa(c.Meta.Config.InChannels)
	md["means"] = js(nonNil(c.Meta.Means))
	md["stds"] = js(nonNil(c.Meta.Stds))
	if c.Meta.Input != nil {
		if err := c.Meta.Input.Fits(c.Meta.Config.InChannels, c.Meta.Config.InputSize); err != nil {
			return nil, nil, errors.Wrap(err, "checkpoint")
		}
		s, err := c.Meta.Input.Encode()
		if err != nil {
			return nil, nil, errors.Wrap(err, "checkpoint")
		}
		md["input_contract"] = s
	}
	md["step"] = strconv.FormatInt(c.Meta.Step, 10)
	md["epoch"] = strconv.Itoa(c.Meta.Epoch)
	md["epoch_step"] = strconv.Itoa(c.Meta.EpochStep)
	md["seed"] = strconv.FormatUint(c.Meta.Seed, 10)
	if len(c.Meta.Frozen) > 0 {
		fz := append([]string(nil), c.Meta.Frozen...)
		sort.Strings(fz)
		md["frozen"] = js(fz)
	}
	if c.Trainer != nil {
		if md[trainerKey], err = encodeTrainer(c.Trainer); err != nil {
			return nil, nil, err
		}
	}

	var ts []safetensors.Tensor
	addT := func(name string, t solvers.Tensor) error {
		st, err := encodeTensor(name, t)
		if err != nil {
			return errors.Wrapf(err, "checkpoint: %s", name)
		}
		ts = append(ts, st)
		return nil
	}
	for _, n := range sortedKeys(c.Weights) {
		if err := addT(n, c.Weights[n]); err != nil {
			return nil, nil, err
		}
	}
	for _, n := range sortedKeys(c.Stats) {
		v := c.Stats[n]
		if err := addT(n, solvers.Tensor{Shape: []int{len(v)}, Float64: v}); err != nil {
			return nil, nil, err
		}
	}
	if s := c.Solver; s != nil {
		md["solver_state_version"] = strconv.Itoa(s.Version)
		md["solver_step"] = strconv.FormatInt(s.Step, 10)
		for _, n := range sortedKeys(s.Velocity) {
			if err := addT(VelocityPrefix+n, s.Velocity[n]); err != nil {
				return nil, nil, err
			}
		}
		for _, n := range sortedKeys(s.Average) {
			if err := addT(AveragePrefix+n, s.Average[n]); err != nil {
				return nil, nil, err
			}
		}
		for _, n := range sortedKeys(s.AverageCount) {
			t, err := safetensors.NewI64(AverageCountPrefix+n, []int{}, []int64{s.AverageCount[n]})
			if err != nil {
				return nil, nil, errors.Wrapf(err, "checkpoint: average count of %s", n)
			}
			ts = append(ts, t)
		}
	}
	return ts, md, nil
}

func nonNil(x []float32) []float32 {
	if x == nil {
		return []float32{}
	}
	return x
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// encodeTensor stores float32 data as F32 and float64 data as F64, bit for
// bit.
func encodeTensor(name string, t solvers.Tensor) (safetensors.Tensor, error) {
	switch {
	case t.Float32 != nil && t.Float64 == nil:
		return safetensors.NewF32(name, t.Shape, t.Float32)
	case t.Float64 != nil && t.Float32 == nil:
		n := 1
		for _, d := range t.Shape {
			n *= d
		}
		if n != len(t.Float64) {
			return safetensors.Tensor{}, errors.Errorf("shape %v does not hold %d values", t.Shape, len(t.Float64))
		}
		b := make([]byte, 8*len(t.Float64))
		for i, v := range t.Float64 {
			binary.LittleEndian.PutUint64(b[8*i:], math.Float64bits(v))
		}
		return safetensors.Tensor{Name: name, DType: safetensors.F64, Shape: append([]int{}, t.Shape...), Data: b}, nil
	}
	return safetensors.Tensor{}, errors.New("exactly one of Float32 and Float64 must be set")
}

// decodeTensor is the inverse of encodeTensor.
func decodeTensor(t safetensors.Tensor) (solvers.Tensor, error) {
	out := solvers.Tensor{Shape: append([]int{}, t.Shape...)}
	switch t.DType {
	case safetensors.F32:
		v, err := t.Float32s()
		if err != nil {
			return out, err
		}
		out.Float32 = v
	case safetensors.F64:
		n := t.NumElements()
		if len(t.Data) != 8*n {
			return out, errors.Errorf("%d bytes for %d float64 values", len(t.Data), n)
		}
		out.Float64 = make([]float64, n)
		for i := range out.Float64 {
			out.Float64[i] = math.Float64frombits(binary.LittleEndian.Uint64(t.Data[8*i:]))
		}
	default:
		return out, errors.Errorf("dtype %s not supported (want F32 or F64)", t.DType)
	}
	return out, nil
}

// InputContract returns the model's input contract: Meta.Input when set,
// else the project's native one (preprocess.Native) with the checkpoint's
// channels, input size, means and stds.
func (m Meta) InputContract() preprocess.Contract {
	if m.Input != nil {
		return m.Input.Clone()
	}
	return preprocess.Native(m.Config.InChannels, m.Config.InputSize, m.Means, m.Stds)
}
