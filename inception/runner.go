package inception

import (
	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/goinception/googlenet/graph"
	"github.com/goinception/googlenet/ops"
)

// Runner is an inference graph of a Model for one batch size with its own
// activations and its own machine, bound to the model's weights and
// batch-norm statistics (shared, not copied).
//
// # Concurrency
//
// Runners of one Model may run at the same time, each in its own
// goroutine: they only read the shared weights. Nothing may change the
// weights meanwhile (no Step-and-solver training, no checkpoint restore),
// and one Runner is not safe for concurrent use. This is how a server
// answers many requests from one copy of the weights: memory is the
// weights once plus each Runner's activations.
type Runner struct {
	m     *Model
	batch int
	ig    *inferGraph
}

// Outputs are the results of one Runner.Run. Both are the graph's own
// buffers: valid until the next Run of the same Runner, not to be changed.
type Outputs struct {
	// Logits are the main classifier's outputs, [N,Classes].
	Logits *tensor.Dense
	// Features are pool5 flattened, [N,C] (C = 1024 for Table 1): the
	// image embedding the classifier reads (before dropout).
	Features *tensor.Dense
}

// NewRunner builds a new inference graph for batches of exactly batch
// images (no auxiliary heads, dropout off, batch norm with running
// statistics, as Forward). Building it does not touch the model's own
// state, but NewRunner itself must not run concurrently with other
// methods of m; create the runners first, then run them concurrently.
func (m *Model) NewRunner(batch int) (*Runner, error) {
	ig, err := m.newInferGraph(batch)
	if err != nil {
		return nil, err
	}
	return &Runner{m: m, batch: batch, ig: ig}, nil
}

// Batch returns the number of images the runner takes per Run.
func (r *Runner) Batch() int { return r.batch }

// Run runs the graph on x of shape [Batch,C,H,W] in the model's dtype.
func (r *Runner) Run(x *tensor.Dense) (Outputs, error) {
	n, err := r.m.checkInput(x)
	if err != nil {
		return Outputs{}, err
	}
	if n != r.batch {
		return Outputs{}, errors.Errorf("inception: batch of %d for a runner of %d", n, r.batch)
	}
	ig := r.ig
	if err := r.m.rebind(ig); err != nil {
		return Outputs{}, err
	}
	if err := G.Let(ig.input, x); err != nil {
		return Outputs{}, errors.Wrap(err, "inception: input")
	}
	ig.vm.Reset()
	if err := ig.vm.RunAll(); err != nil {
		return Outputs{}, errors.Wrap(err, "inception: forward")
	}
	logits, ok1 := ig.logits.Value().(*tensor.Dense)
	feats, ok2 := ig.features.Value().(*tensor.Dense)
	if !ok1 || !ok2 || logits == nil || feats == nil {
		return Outputs{}, errors.New("inception: forward left no output")
	}
	return Outputs{Logits: logits, Features: feats}, nil
}

// rebind binds ig's parameter nodes to the training graph's values where
// the training side replaced a value (gorgonia.Let) instead of updating it
// in place.
func (m *Model) rebind(ig *inferGraph) error {
	for _, p := range ig.b.Params() {
		tp, _ := m.b.Param(p.Name)
		if tv, iv := tp.Value(), p.Value(); tv != iv {
			if err := G.Let(p.Node, tv); err != nil {
				return errors.Wrapf(err, "inception: share %s", p.Name)
			}
		}
	}
	return nil
}

// newInferGraph builds an inference graph for batch n whose parameters
// are the training graph's values.
func (m *Model) newInferGraph(n int) (*inferGraph, error) {
	if n <= 0 {
		return nil, errors.Errorf("inception: batch size %d must be positive", n)
	}
	c := m.cfg
	b := graph.New(graph.Options{
		Dtype: c.dtype(), Training: false, Init: c.Init, Seed: c.Seed, Rand: m.b.Rand(),
		Values: func(name string) *tensor.Dense {
			if p, ok := m.b.Param(name); ok {
				return p.Value()
			}
			return nil
		},
		BNStats: func(name string) *ops.BNStats {
			s, _ := m.b.LookupBN(name)
			return s
		},
	})
	x := b.Input("data", n, c.InChannels, c.InputSize, c.InputSize)
	net, err := buildChecked(b, c, x, false)
	if err != nil {
		return nil, err
	}
	return &inferGraph{
		b: b, input: x.Node, logits: net.logits.Node, features: net.features.Node,
		vm: G.NewTapeMachine(b.Graph(), G.WithEngine(ops.TensorEngine{})),
	}, nil
}
