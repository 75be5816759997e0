package checkpoint

import (
	"fmt"
	"sort"

	"github.com/pkg/errors"

	"github.com/goinception/googlenet/inception"
)

// TransferOptions configure Transfer.
type TransferOptions struct {
	// Reinit names the tensors that keep the model's fresh initialisation
	// even when the checkpoint has them (a new classifier when the classes
	// differ). nil re-initialises none.
	Reinit func(name string) bool
	// Optional names the tensors of the model that may be missing from the
	// checkpoint; they keep their initialisation (auxiliary heads that the
	// source lacks). Any other missing tensor is an error. nil allows none.
	Optional func(name string) bool
}

// TransferReport says what Transfer did with every tensor, by name
// (weights and batch-norm statistics), each list sorted.
type TransferReport struct {
	Loaded        []string // copied from the checkpoint
	Reinitialized []string // left as the model initialised them
	Dropped       []string // in the checkpoint, not in the model
}

// String is the one-line summary: how many tensors were loaded,
// re-initialised and dropped.
func (r TransferReport) String() string {
	return fmt.Sprintf("%d tensors loaded, %d re-initialised, %d dropped", len(r.Loaded), len(r.Reinitialized), len(r.Dropped))
}

// Transfer starts m from the checkpoint's weights for fine-tuning: every
// weight and batch-norm statistic of m whose name is in c is copied when its
// shape (and dtype) is the same; o.Reinit keeps chosen tensors at their
// initial values, o.Optional lets chosen ones be missing from c, and
// tensors of c that m lacks are dropped. A shape or dtype mismatch outside
// o.Reinit and a missing tensor outside o.Optional are errors naming the
// tensors, and then m is unchanged. Solver state is not used.
func (c *Checkpoint) Transfer(m *inception.Model, o TransferOptions) (TransferReport, error) {
	var r TransferReport
	if m == nil {
		return r, errors.New("checkpoint: nil model")
	}
	is := func(f func(string) bool, name string) bool { return f != nil && f(name) }
	var missing, bad []string
	seen := map[string]bool{}
	type copyOp struct{ dst, src interface{} }
	var copies []copyOp
	for _, p := range m.Params() {
		t, ok := c.Weights[p.Name]
		seen[p.Name] = ok
		switch {
		case is(o.Reinit, p.Name) || (!ok && is(o.Optional, p.Name)):
			r.Reinitialized = append(r.Reinitialized, p.Name)
		case !ok:
			missing = append(missing, p.Name)
		default:
			if err := compatible(t, p.Value); err != nil {
				bad = append(bad, p.Name+": "+err.Error())
				continue
			}
			r.Loaded = append(r.Loaded, p.Name)
			switch v := p.Value.Data().(type) {
			case []float32:
				copies = append(copies, copyOp{v, t.Float32})
			case []float64:
				copies = append(copies, copyOp{v, t.Float64})
			}
		}
	}
	for _, e := range m.BNStats() {
		for _, s := range []struct {
			suffix string
			dst    []float64
		}{{RunningMeanSuffix, e.Stats.Mean}, {RunningVarSuffix, e.Stats.Var}} {
			name := e.Name + s.suffix
			v, ok := c.Stats[name]
			seen[name] = ok
			switch {
			case is(o.Reinit, name) || (!ok && is(o.Optional, name)):
				r.Reinitialized = append(r.Reinitialized, name)
			case !ok:
				missing = append(missing, name)
			case len(v) != len(s.dst):
				bad = append(bad, fmt.Sprintf("%s: %d values, the model has %d", name, len(v), len(s.dst)))
			default:
				r.Loaded = append(r.Loaded, name)
				copies = append(copies, copyOp{s.dst, v})
			}
		}
	}
	for n := range c.Weights {
		if _, ok := seen[n]; !ok {
			r.Dropped = append(r.Dropped, n)
		}
	}
	for n := range c.Stats {
		if _, ok := seen[n]; !ok {
			r.Dropped = append(r.Dropped, n)
		}
	}
	if len(missing) > 0 || len(bad) > 0 {
		return TransferReport{}, errors.Wrap(nameErrors(missing, nil, bad), "checkpoint: weights do not fit the model")
	}
	for _, cp := range copies {
		switch d := cp.dst.(type) {
		case []float32:
			copy(d, cp.src.([]float32))
		case []float64:
			copy(d, cp.src.([]float64))
		}
	}
	sort.Strings(r.Loaded)
	sort.Strings(r.Reinitialized)
	sort.Strings(r.Dropped)
	return r, nil
}
