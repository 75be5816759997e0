package checkpoint

import (
	"encoding/json"
	"strconv"
	"strings"

	"github.com/pkg/errors"

	"github.com/goinception/googlenet/interchange/safetensors"
	"github.com/goinception/googlenet/preprocess"
	"github.com/goinception/googlenet/solvers"
)

// Save writes c to path as one safetensors file, atomically (a temporary
// file in the same folder renamed over path): on error path is unchanged.
func (c *Checkpoint) Save(path string) error {
	ts, md, err := c.Encode()
	if err != nil {
		return err
	}
	if err := safetensors.WriteFile(path, ts, md); err != nil {
		return errors.Wrapf(err, "checkpoint: writing %s", path)
	}
	return nil
}

// Load reads and validates the checkpoint at path.
func Load(path string) (*Checkpoint, error) {
	f, err := safetensors.ReadFile(path)
	if err != nil {
		return nil, errors.Wrapf(err, "checkpoint: reading %s", path)
	}
	c, err := Decode(f)
	if err != nil {
		return nil, errors.Wrap(err, path)
	}
	return c, nil
}

// Decode turns a parsed safetensors file into a checkpoint, with strict
// checks: our format name and a known version, well-formed metadata, finite
// values, weights of the right dtype, statistics of one dimension, solver
// entries only for known weights, and no tensor whose name fits none of the
// layouts.
func Decode(f *safetensors.File) (*Checkpoint, error) {
	md := f.Metadata
	if md["format"] != FormatName {
		return nil, errors.Errorf("checkpoint: not a GoogLeNet checkpoint (metadata format %q, want %q)", md["format"], FormatName)
	}
	if v := md["format_version"]; v != strconv.Itoa(FormatVersion) {
		return nil, errors.Errorf("checkpoint: format version %q not supported (want %d)", v, FormatVersion)
	}
	if err := f.CheckFinite(); err != nil {
		return nil, errors.Wrap(err, "checkpoint")
	}
	c := &Checkpoint{Weights: map[string]solvers.Tensor{}, Stats: map[string][]float64{}, Meta: Meta{Extra: map[string]string{}}}
	var err error
	if c.Meta.Config, err = configFromJSON(md["config"], md["dtype"]); err != nil {
		return nil, errors.Wrap(err, "checkpoint: metadata")
	}
	if md["variant"] != c.Meta.Config.Variant {
		return nil, errors.Errorf("checkpoint: metadata variant %q differs from the config's %q", md["variant"], c.Meta.Config.Variant)
	}
	bad := func(key string, err error) error {
		return errors.Wrapf(err, "checkpoint: metadata %q = %q", key, md[key])
	}
	for _, kv := range []struct {
		key string
		dst interface{}
	}{{"labels", &c.Meta.Classes}, {"means", &c.Meta.Means}, {"stds", &c.Meta.Stds}} {
		if err := json.Unmarshal([]byte(md[kv.key]), kv.dst); err != nil {
			return nil, bad(kv.key, err)
		}
	}
	if s, ok := md["input_contract"]; ok {
		ic, err := preprocess.Decode(s)
		if err != nil {
			return nil, bad("input_contract", err)
		}
		if err := ic.Fits(c.Meta.Config.InChannels, c.Meta.Config.InputSize); err != nil {
			return nil, bad("input_contract", err)
		}
		c.Meta.Input = &ic
	}
	if len(c.Meta.Classes) == 0 {
		c.Meta.Classes = nil
	} else if len(c.Meta.Classes) != c.Meta.Config.Classes {
		return nil, errors.Errorf("checkpoint: %d labels for %d classes", len(c.Meta.Classes), c.Meta.Config.Classes)
	}
	if c.Meta.Step, err = strconv.ParseInt(md["step"], 10, 64); err != nil || c.Meta.Step < 0 {
		return nil, bad("step", errors.New("want a non-negative integer"))
	}
	if c.Meta.Epoch, err = strconv.Atoi(md["epoch"]); err != nil || c.Meta.Epoch < 0 {
		return nil, bad("epoch", errors.New("want a non-negative integer"))
	}
	if c.Meta.EpochStep, err = strconv.Atoi(md["epoch_step"]); err != nil || c.Meta.EpochStep < 0 {
		return nil, bad("epoch_step", errors.New("want a non-negative integer"))
	}
	if c.Meta.Seed, err = strconv.ParseUint(md["seed"], 10, 64); err != nil {
		return nil, bad("seed", err)
	}
	if v, ok := md["frozen"]; ok {
		if err := json.Unmarshal([]byte(v), &c.Meta.Frozen); err != nil {
			return nil, bad("frozen", err)
		}
	}
	if c.Trainer, err = decodeTrainer(md, c.Meta); err != nil {
		return nil, err
	}
	for k, v := range md {
		if !isReserved(k) {
			c.Meta.Extra[k] = v
		}
	}

	_, hasSolver := md["solver_state_version"]
	if hasSolver {
		s := &solvers.State{Velocity: map[string]solvers.Tensor{}, Average: map[string]solvers.Tensor{}, AverageCount: map[string]int64{}}
		if s.Version, err = strconv.Atoi(md["solver_state_version"]); err != nil {
			return nil, bad("solver_state_version", err)
		}
		if s.Step, err = strconv.ParseInt(md["solver_step"], 10, 64); err != nil || s.Step != c.Meta.Step {
			return nil, bad("solver_step", errors.Errorf("want the step, %d", c.Meta.Step))
		}
		c.Solver = s
	}
	var solverNames []string
	for _, t := range f.Tensors {
		name := t.Name
		switch {
		case strings.HasPrefix(name, "solver."):
			if c.Solver == nil {
				return nil, errors.Errorf("checkpoint: tensor %s without solver metadata", name)
			}
			solverNames = append(solverNames, name)
			if err := c.decodeSolver(t); err != nil {
				return nil, err
			}
		case strings.HasSuffix(name, RunningMeanSuffix) || strings.HasSuffix(name, RunningVarSuffix):
			if t.DType != safetensors.F64 || len(t.Shape) != 1 {
				return nil, errors.Errorf("checkpoint: statistic %s is %s %v, want F64 of one dimension", name, t.DType, t.Shape)
			}
			v, err := decodeTensor(t)
			if err != nil {
				return nil, errors.Wrapf(err, "checkpoint: %s", name)
			}
			c.Stats[name] = v.Float64
		default:
			v, err := decodeTensor(t)
			if err != nil {
				return nil, errors.Wrapf(err, "checkpoint: %s", name)
			}
			c.Weights[name] = v
		}
	}
	for _, n := range c.Meta.Frozen {
		if _, ok := c.Weights[n]; !ok {
			return nil, errors.Errorf("checkpoint: metadata \"frozen\" names %s, which is not a weight", n)
		}
	}
	// Solver entries must belong to weights.
	var orphans []string
	for _, n := range solverNames {
		for _, p := range []string{VelocityPrefix, AveragePrefix, AverageCountPrefix} {
			if w := strings.TrimPrefix(n, p); w != n {
				if _, ok := c.Weights[w]; !ok {
					orphans = append(orphans, n)
				}
			}
		}
	}
	if err := nameErrors(nil, orphans, nil); err != nil {
		return nil, errors.Wrap(err, "checkpoint: solver entries for no weight")
	}
	if s := c.Solver; s != nil {
		for n := range s.Average {
			if _, ok := s.AverageCount[n]; !ok {
				return nil, errors.Errorf("checkpoint: average of %s without its count", n)
			}
		}
		for n := range s.AverageCount {
			if _, ok := s.Average[n]; !ok {
				return nil, errors.Errorf("checkpoint: count of %s without its average", n)
			}
		}
	}
	return c, nil
}

func (c *Checkpoint) decodeSolver(t safetensors.Tensor) error {
	s := c.Solver
	switch {
	case strings.HasPrefix(t.Name, VelocityPrefix):
		v, err := decodeTensor(t)
		if err != nil {
			return errors.Wrapf(err, "checkpoint: %s", t.Name)
		}
		s.Velocity[strings.TrimPrefix(t.Name, VelocityPrefix)] = v
	case strings.HasPrefix(t.Name, AveragePrefix):
		v, err := decodeTensor(t)
		if err != nil {
			return errors.Wrapf(err, "checkpoint: %s", t.Name)
		}
		s.Average[strings.TrimPrefix(t.Name, AveragePrefix)] = v
	case strings.HasPrefix(t.Name, AverageCountPrefix):
		if t.DType != safetensors.I64 || t.NumElements() != 1 {
			return errors.Errorf("checkpoint: %s is %s %v, want one I64", t.Name, t.DType, t.Shape)
		}
		v, err := t.Int64s()
		if err != nil {
			return errors.Wrapf(err, "checkpoint: %s", t.Name)
		}
		if v[0] < 0 {
			return errors.Errorf("checkpoint: %s is negative", t.Name)
		}
		s.AverageCount[strings.TrimPrefix(t.Name, AverageCountPrefix)] = v[0]
	default:
		return errors.Errorf("checkpoint: unexpected solver tensor %s", t.Name)
	}
	return nil
}

func isReserved(k string) bool {
	for _, r := range reserved {
		if k == r {
			return true
		}
	}
	return false
}
