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
// batch-norm statistics (shared, not copied). One run gives the logits and
// the DefaultFeatureLayer features (pool5) together.
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
	m        *Model
	batch    int
	b        *graph.Builder
	input    *G.Node
	logits   *G.Node
	features *G.Node
	vm       G.VM
}

// Outputs are the results of one Runner.Run. Both are the graph's own
// buffers: valid until the next Run of the same Runner, not to be changed.
type Outputs struct {
	// Logits are the main classifier's outputs, [N,Classes].
	Logits *tensor.Dense
	// Features are those of Features(x) with the default layer: pool5
	// flattened, [N,C] (C = 1024 for Table 1), the classifier's input.
	Features *tensor.Dense
}

// NewRunner builds a new inference graph for batches of exactly batch
// images (no auxiliary heads, dropout off, batch norm with running
// statistics, as Forward). NewRunner must not run concurrently with other
// methods of m: create the runners first, then run them concurrently.
func (m *Model) NewRunner(batch int) (*Runner, error) {
	if batch <= 0 {
		return nil, errors.Errorf("inception: batch size %d must be positive", batch)
	}
	row, err := m.resolveLayer(DefaultFeatureLayer)
	if err != nil {
		return nil, err
	}
	pool, last := m.sum.Layers[row].Name, m.sum.Layers[len(m.sum.Layers)-1].Name
	c := m.cfg
	b := m.inferenceBuilder()
	x := b.Input("data", batch, c.InChannels, c.InputSize, c.InputSize)
	net, err := buildCheckedUpTo(b, c, x, false, map[string]bool{pool: true, last: true})
	if err != nil {
		return nil, err
	}
	if net.outs[pool] == nil || net.logits == nil {
		return nil, errors.Errorf("inception: runner graph lacks %s or the logits", pool)
	}
	// Run reads only the logits and the features: the other activations
	// share memory by liveness, as in Forward's graphs.
	if planInference {
		if _, err := ops.PlanBuffers(b.Graph(), net.logits.Node, net.outs[pool].Node); err != nil {
			return nil, errors.Wrap(err, "inception: runner graph")
		}
	}
	return &Runner{
		m: m, batch: batch, b: b, input: x.Node, logits: net.logits.Node, features: net.outs[pool].Node,
		vm: G.NewTapeMachine(b.Graph(), G.WithEngine(ops.TensorEngine{})),
	}, nil
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
	if err := G.Let(r.input, x); err != nil {
		return Outputs{}, errors.Wrap(err, "inception: input")
	}
	r.vm.Reset()
	if err := r.vm.RunAll(); err != nil {
		return Outputs{}, errors.Wrap(err, "inception: forward")
	}
	logits, ok1 := r.logits.Value().(*tensor.Dense)
	feats, ok2 := r.features.Value().(*tensor.Dense)
	if !ok1 || !ok2 || logits == nil || feats == nil {
		return Outputs{}, errors.New("inception: forward left no output")
	}
	return Outputs{Logits: logits, Features: feats}, nil
}
