package inception

import (
	"fmt"
	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/goinception/googlenet/graph"
	"github.com/goinception/googlenet/ops"
)

// Network returns the description of the training graph (graph.Builder's
// Network): every input, layer and loss with its kind, options, input
// layers, shapes and parameter names, in build order. Backends other than
// the Gorgonia graph (the device network of package cuda) walk it.
func (m *Model) Network() []graph.Layer { return m.b.Network() }

// Losses are the losses of one training step, each the mean over the batch.
type Losses struct {
	Main, Aux1, Aux2 float64
	// Total = Main + AuxWeight*(Aux1+Aux2), the loss that was differentiated.
	Total float64
}

// Model is a GoogLeNet ready to train and run: a training graph with the
// auxiliary heads, the loss and the gradient of every parameter, and
// inference graphs (built per batch size on first use) without auxiliary
// heads.
//
// # Weight sharing
//
// The training graph owns the parameters (Params). Inference and feature
// graphs bind their parameter nodes to the same tensors (Param.Value) and
// the same batch-norm statistics, so an update made in place on Param.Value
// (by a solver, a checkpoint, a user) is seen by Forward at once. Parameter
// values are updated in place, never replaced: do not gorgonia.Let a
// parameter node.
//
// A Model is not safe for concurrent use; Runners (NewRunner) of one Model
// run concurrently on its shared weights.
type Model struct {
	cfg   Config
	b     *graph.Builder // training graph
	sum   Summary
	input *G.Node
	label *G.Node
	auxW  *G.Node
	// Logits and losses of the training graph.
	logits, aux1, aux2 *graph.Tensor
	lossMain, lossAux  [2]*G.Node // lossAux[i] nil when head i+1 is absent
	loss0, total       *G.Node
	grads              map[*graph.Param]*G.Node // of the trainable parameters
	tg                 *G.ExprGraph             // the part of the training graph that runs
	vm                 G.VM
	auxWeight          float64
	infer              map[int]*inferGraph
	trainPlan          *ops.PlanStats // set by PlanTrainingMemory
	feats              map[string]*featureGraph
}

// planInference: inference graphs share activation memory by liveness
// (ops.PlanBuffers). Only the logits are read after a run, so intermediate
// node values of an inference graph are not meaningful afterwards. Tests
// turn it off to compare.
var planInference = true

type inferGraph struct {
	b      *graph.Builder
	input  *G.Node
	logits *G.Node
	vm     G.VM
}

// Options configure a Model beyond its architecture (Config).
type Options struct {
	// Frozen, when not nil, is asked for every parameter by full name
	// ("inception_4a/3x3/w"); the training graph differentiates with respect
	// to the others only, and its backward pass stops where no trainable
	// parameter lies below: nothing is computed for the frozen layers under
	// the lowest trainable one, not even the gradient of their output. A
	// batch norm whose scale and shift are frozen normalises with its
	// running statistics and leaves them unchanged (graph.Options.Frozen).
	// Frozen parameters have Param.Frozen set and never get a Grad.
	Frozen func(name string) bool
}

// New builds the training graph of c (batch c.BatchSize, with auxiliary
// heads, loss and gradients) with parameters initialised by c.Init from
// c.Seed. It is NewWith(c, Options{}).
func New(c Config) (*Model, error) { return NewWith(c, Options{}) }

// NewWith is New with options: frozen parameters.
func NewWith(c Config, o Options) (*Model, error) { return newModel(c, graph.Options{}, o) }

// OnEngine returns a model of m's configuration whose graphs run on engine
// e (nil: ops.Reference) and share m's weights and batch-norm statistics
// (the same tensors: an update through either model is seen by both). Its
// dropout state starts as a copy of m's, and its auxiliary weight and
// frozen parameters are m's.
// It lets a model read from a file run on the engine a caller picked: the
// engine is fixed when a graph is built, so this builds new graphs.
func (m *Model) OnEngine(e ops.Engine) (*Model, error) {
	c := m.cfg
	c.Engine = e
	rs := *m.b.Rand()
	frozen := map[string]bool{}
	for _, p := range m.b.Params() {
		if p.Frozen {
			frozen[p.Name] = true
		}
	}
	var o Options
	if len(frozen) > 0 {
		o.Frozen = func(name string) bool { return frozen[name] }
	}
	n, err := newModel(c, graph.Options{
		Rand: &rs,
		Values: func(name string) *tensor.Dense {
			if p, ok := m.b.Param(name); ok {
				return p.Value
			}
			return nil
		},
		BNStats: func(name string) *ops.BNStats {
			s, _ := m.b.LookupBN(name)
			return s
		},
	}, o)
	if err != nil {
		return nil, err
	}
	n.auxWeight = m.auxWeight
	return n, nil
}

// newModel is NewWith with the sharing options of share (Rand, Values,
// BNStats) for the training graph's builder.
func newModel(c Config, share graph.Options, o Options) (*Model, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	if c.Init == nil {
		c.Init = graph.Caffe{BiasValue: 0.2}
	}
	m := &Model{cfg: c, auxWeight: c.AuxWeight, infer: map[int]*inferGraph{}, feats: map[string]*featureGraph{}}
	b := graph.New(graph.Options{Dtype: c.dtype(), Training: true, Init: c.Init, Seed: c.Seed, Engine: c.Engine,
		Rand: share.Rand, Values: share.Values, BNStats: share.BNStats, Frozen: o.Frozen})
	m.b = b
	x := b.Input("data", c.BatchSize, c.InChannels, c.InputSize, c.InputSize)
	n, err := buildChecked(b, c, x, true)
	if err != nil {
		return nil, err
	}
	m.sum = n.summary(c)
	m.logits, m.aux1, m.aux2 = n.logits, n.aux[0], n.aux[1]
	m.input = x.Node
	g := b.Graph()
	dt := c.dtype()
	m.label = G.NewVector(g, dt, G.WithShape(c.BatchSize), G.WithName("label"))
	m.auxW = G.NewScalar(g, dt, G.WithName("aux_weight"))

	// loss = main + AuxWeight*(aux1 + aux2)
	// The losses are layers of the description too (named as Caffe's
	// loss3/loss3, loss1/loss1, loss2/loss2), so that a backend walking it
	// knows which outputs are logits and how they are weighed.
	b.Scope("loss3", func() { m.loss0 = b.SoftmaxCrossEntropy("loss3", n.logits, m.label, graph.LossOpts{}) })
	if err := b.Err(); err != nil {
		return nil, errors.Wrap(err, "inception: main loss")
	}
	m.total = m.loss0
	var auxSum *G.Node
	for i, a := range n.aux {
		if a == nil {
			continue
		}
		scope := fmt.Sprintf("loss%d", i+1)
		b.Scope(scope, func() { m.lossAux[i] = b.SoftmaxCrossEntropy(scope, a, m.label, graph.LossOpts{Aux: true}) })
		if err := b.Err(); err != nil {
			return nil, errors.Wrapf(err, "inception: aux loss %d", i+1)
		}
		if auxSum == nil {
			auxSum = m.lossAux[i]
		} else if auxSum, err = G.Add(auxSum, m.lossAux[i]); err != nil {
			return nil, errors.Wrap(err, "inception: aux losses")
		}
	}
	if auxSum != nil {
		weighted, err := G.Mul(m.auxW, auxSum)
		if err == nil {
			m.total, err = G.Add(m.loss0, weighted)
		}
		if err != nil {
			return nil, errors.Wrap(err, "inception: total loss")
		}
	}
	trainable := b.Trainable()
	if len(trainable) == 0 {
		return nil, errors.New("inception: every parameter is frozen: nothing to train")
	}
	nodes := make(G.Nodes, len(trainable))
	for i, p := range trainable {
		nodes[i] = p.Node
	}
	grads, err := G.Grad(m.total, nodes...)
	if err != nil {
		return nil, errors.Wrap(err, "inception: gradients")
	}
	m.grads = make(map[*graph.Param]*G.Node, len(trainable))
	keep := append(G.Nodes{m.logits.Node, m.loss0, m.total, m.lossAux[0], m.lossAux[1]}, grads...)
	for i, p := range trainable {
		m.grads[p] = grads[i]
	}
	for _, a := range n.aux {
		if a != nil {
			keep = append(keep, a.Node)
		}
	}
	m.tg = graph.Prune(g, keep...)
	m.vm = G.NewTapeMachine(m.tg, G.WithEngine(ops.TensorEngine{}))
	return m, nil
}

// Nodes are the named nodes of the training graph, for users who extend it
// (another loss term, a metric) or inspect it.
type Nodes struct {
	Input     *G.Node // [BatchSize,C,H,W]
	Labels    *G.Node // [BatchSize] class indices in the graph's dtype
	AuxWeight *G.Node // scalar, set from AuxWeight() by Step
	Logits    *G.Node // [BatchSize,Classes]
	// Aux1, Aux2 are the auxiliary logits; AuxLoss1, AuxLoss2 their losses
	// (nil when the table has no such head).
	Aux1, Aux2         *G.Node
	Loss               *G.Node // main loss (mean softmax cross-entropy)
	AuxLoss1, AuxLoss2 *G.Node
	Total              *G.Node // Loss + AuxWeight*(AuxLoss1+AuxLoss2)
}

// TrainingNodes returns the named nodes of the training graph.
func (m *Model) TrainingNodes() Nodes {
	n := Nodes{Input: m.input, Labels: m.label, AuxWeight: m.auxW, Logits: m.logits.Node,
		Loss: m.loss0, AuxLoss1: m.lossAux[0], AuxLoss2: m.lossAux[1], Total: m.total}
	if m.aux1 != nil {
		n.Aux1 = m.aux1.Node
	}
	if m.aux2 != nil {
		n.Aux2 = m.aux2.Node
	}
	return n
}

// GradNode returns the symbolic gradient node of the named parameter in
// the training graph (false for a frozen or unknown parameter).
func (m *Model) GradNode(name string) (*G.Node, bool) {
	p, ok := m.b.Param(name)
	if !ok {
		return nil, false
	}
	g, ok := m.grads[p]
	return g, ok
}

// Config returns the model's configuration.
func (m *Model) Config() Config { return m.cfg }

// Summary returns the layer-by-layer summary of the model.
func (m *Model) Summary() Summary { return m.sum }

// Params returns every parameter in build order, frozen ones included.
// After Step each trainable one carries its gradient in Grad. Solvers update
// Value in place.
func (m *Model) Params() []*graph.Param { return m.b.Params() }

// Trainable returns the parameters that are not frozen, in build order:
// what a solver updates.
func (m *Model) Trainable() []*graph.Param { return m.b.Trainable() }

// Param returns a parameter by name ("inception_4a/3x3_reduce/w").
func (m *Model) Param(name string) (*graph.Param, bool) { return m.b.Param(name) }

// Grad returns the gradient of the last Step's total loss with respect to
// the named parameter.
func (m *Model) Grad(name string) (*tensor.Dense, error) {
	p, ok := m.b.Param(name)
	if !ok {
		return nil, errors.Errorf("inception: no parameter %q", name)
	}
	if p.Frozen {
		return nil, errors.Errorf("inception: %q is frozen: it has no gradient", name)
	}
	if p.Grad == nil {
		return nil, errors.Errorf("inception: no gradient for %q yet (run Step first)", name)
	}
	return p.Grad, nil
}

// BNStats returns the batch-norm running statistics (empty without batch
// norm), shared by the training and inference graphs.
func (m *Model) BNStats() []graph.BNEntry { return m.b.BNStats() }

// Rand returns the dropout state. Step advances Rand().Step by one after
// every step; a trainer resuming at step n sets it to n.
func (m *Model) Rand() *ops.RandState { return m.b.Rand() }

// AuxWeight returns the weight of the auxiliary losses.
func (m *Model) AuxWeight() float64 { return m.auxWeight }

// SetAuxWeight sets the weight of the auxiliary losses for the next steps.
func (m *Model) SetAuxWeight(w float64) error {
	if !(w >= 0) {
		return errors.Errorf("inception: aux weight %g must not be negative", w)
	}
	m.auxWeight = w
	return nil
}

// TrainingGraph returns the training expression graph that Step runs (for
// inspection or drawing): the forward pass, the losses and the gradients of
// the trainable parameters, without the nodes that none of them needs.
func (m *Model) TrainingGraph() *G.ExprGraph { return m.tg }

// InferenceGraph returns the inference graph for batch size n, building it
// if needed. It has no auxiliary heads, no loss and no labels. Its
// activations share memory by liveness (ops.PlanBuffers): after a run only
// the output (the logits) holds a meaningful value.
func (m *Model) InferenceGraph(n int) (*G.ExprGraph, error) {
	ig, err := m.inference(n)
	if err != nil {
		return nil, err
	}
	return ig.b.Graph(), nil
}

func (m *Model) inference(n int) (*inferGraph, error) {
	if ig, ok := m.infer[n]; ok {
		return ig, nil
	}
	if n <= 0 {
		return nil, errors.Errorf("inception: batch size %d must be positive", n)
	}
	c := m.cfg
	b := m.inferenceBuilder()
	x := b.Input("data", n, c.InChannels, c.InputSize, c.InputSize)
	net, err := buildChecked(b, c, x, false)
	if err != nil {
		return nil, err
	}
	// Forward reads only the logits: the activations share memory by
	// liveness (ops.PlanBuffers).
	if planInference {
		if _, err := ops.PlanBuffers(b.Graph(), net.logits.Node); err != nil {
			return nil, errors.Wrap(err, "inception: inference graph")
		}
	}
	ig := &inferGraph{b: b, input: x.Node, logits: net.logits.Node, vm: G.NewTapeMachine(b.Graph(), G.WithEngine(ops.TensorEngine{}))}
	m.infer[n] = ig
	return ig, nil
}

// inferenceBuilder returns a builder for an inference graph whose
// parameters and batch-norm statistics are the training graph's (shared
// storage).
func (m *Model) inferenceBuilder() *graph.Builder {
	c := m.cfg
	return graph.New(graph.Options{
		Dtype: c.dtype(), Training: false, Init: c.Init, Seed: c.Seed, Rand: m.b.Rand(), Engine: c.Engine,
		Values: func(name string) *tensor.Dense {
			if p, ok := m.b.Param(name); ok {
				return p.Value
			}
			return nil
		},
		BNStats: func(name string) *ops.BNStats {
			s, _ := m.b.LookupBN(name)
			return s
		},
	})
}

// checkInput validates an input batch and returns its batch size.
func (m *Model) checkInput(x *tensor.Dense) (int, error) {
	c := m.cfg
	if x == nil {
		return 0, errors.New("inception: nil input")
	}
	s := x.Shape()
	if len(s) != 4 || s[1] != c.InChannels || s[2] != c.InputSize || s[3] != c.InputSize || s[0] <= 0 {
		return 0, errors.Errorf("inception: input shape %v, want [N %d %d %d]", s, c.InChannels, c.InputSize, c.InputSize)
	}
	if x.Dtype() != c.dtype() {
		return 0, errors.Errorf("inception: input dtype %v, want %v", x.Dtype(), c.dtype())
	}
	return s[0], nil
}

// Forward runs the inference graph (no auxiliary heads, dropout off, batch
// norm with running statistics) on a batch x of shape [N,C,H,W] and returns
// the logits [N,Classes] (a copy owned by the caller).
func (m *Model) Forward(x *tensor.Dense) (*tensor.Dense, error) {
	n, err := m.checkInput(x)
	if err != nil {
		return nil, err
	}
	ig, err := m.inference(n)
	if err != nil {
		return nil, err
	}
	if err := G.Let(ig.input, x); err != nil {
		return nil, errors.Wrap(err, "inception: input")
	}
	ig.vm.Reset()
	if err := ig.vm.RunAll(); err != nil {
		return nil, errors.Wrap(err, "inception: forward")
	}
	return cloneValue(ig.logits.Value())
}

// StepOutput is what a training step computed: its losses and logits.
// The logits are the training graph's own buffers, not copies: valid until
// the next Step.
type StepOutput struct {
	Losses
	// Logits are the main classifier's [BatchSize,Classes] logits (dropout
	// on, batch statistics).
	Logits *tensor.Dense
	// AuxLogits are the logits of the auxiliary classifiers 1 and 2 (nil
	// where the table has no such head).
	AuxLogits [2]*tensor.Dense
}

// Step runs one training step on a batch x [BatchSize,C,H,W] with integer
// labels in [0, Classes): forward through the training graph (dropout on,
// batch statistics), the losses, and the gradients, which it leaves in
// Param.Grad of every trainable parameter (overwritten, not accumulated; Grad is the
// gradient node's buffer, not a copy: valid until the next Step). It returns
// the losses and logits. It does not change the weights: a solver does that,
// given Trainable() (solvers.SGD.Step). It then advances Rand().Step.
func (m *Model) Step(x *tensor.Dense, labels []int) (StepOutput, error) {
	n, err := m.checkInput(x)
	if err != nil {
		return StepOutput{}, err
	}
	if n != m.cfg.BatchSize {
		return StepOutput{}, errors.Errorf("inception: batch of %d, the training graph takes %d (Config.BatchSize)", n, m.cfg.BatchSize)
	}
	if len(labels) != n {
		return StepOutput{}, errors.Errorf("inception: %d labels for a batch of %d", len(labels), n)
	}
	lv := make([]float64, n)
	for i, l := range labels {
		if l < 0 || l >= m.cfg.Classes {
			return StepOutput{}, errors.Errorf("inception: label %d at %d out of range [0,%d)", l, i, m.cfg.Classes)
		}
		lv[i] = float64(l)
	}
	lt := denseOf(m.cfg.dtype(), lv, n)
	var aw interface{} = m.auxWeight
	if m.cfg.dtype() == tensor.Float32 {
		aw = float32(m.auxWeight)
	}
	if err := G.Let(m.input, x); err != nil {
		return StepOutput{}, errors.Wrap(err, "inception: input")
	}
	if err := G.Let(m.label, lt); err != nil {
		return StepOutput{}, errors.Wrap(err, "inception: labels")
	}
	if err := G.Let(m.auxW, aw); err != nil {
		return StepOutput{}, errors.Wrap(err, "inception: aux weight")
	}
	m.vm.Reset()
	if err := m.vm.RunAll(); err != nil {
		return StepOutput{}, errors.Wrap(err, "inception: training step")
	}
	var ls Losses
	if ls.Main, err = scalar(m.loss0); err == nil {
		ls.Total, err = scalar(m.total)
	}
	for i, a := range m.lossAux {
		if a == nil || err != nil {
			continue
		}
		v, e := scalar(a)
		err = e
		if i == 0 {
			ls.Aux1 = v
		} else {
			ls.Aux2 = v
		}
	}
	if err != nil {
		return StepOutput{}, err
	}
	for _, p := range m.b.Trainable() {
		src, ok := m.grads[p].Value().(*tensor.Dense)
		if !ok || src == nil {
			return StepOutput{}, errors.Errorf("inception: no gradient value for %s", p.Name)
		}
		if !equalShape(p.Shape, src.Shape()) {
			return StepOutput{}, errors.Errorf("inception: gradient of %s has shape %v, want %v", p.Name, src.Shape(), p.Shape)
		}
		// No copy: Grad is the gradient op's own buffer (ops reuse their
		// buffers across runs), which the next Step overwrites. Callers
		// may change it in place (data-parallel averaging) and must read
		// p.Grad again after each Step.
		p.Grad = src
	}
	out := StepOutput{Losses: ls}
	out.Logits, err = outputOf(m.logits)
	for i, a := range []*graph.Tensor{m.aux1, m.aux2} {
		if a != nil && err == nil {
			out.AuxLogits[i], err = outputOf(a)
		}
	}
	if err != nil {
		return StepOutput{}, err
	}
	m.b.Rand().Step++
	return out, nil
}

// outputOf returns the value of an output tensor of the training graph.
func outputOf(t *graph.Tensor) (*tensor.Dense, error) {
	d, ok := t.Node.Value().(*tensor.Dense)
	if !ok || d == nil {
		return nil, errors.Errorf("inception: %s has no value", t.Node.Name())
	}
	return d, nil
}

func scalar(n *G.Node) (float64, error) {
	if n == nil || n.Value() == nil {
		return 0, errors.New("inception: loss has no value")
	}
	switch v := n.Value().Data().(type) {
	case float32:
		return float64(v), nil
	case float64:
		return v, nil
	case []float32:
		if len(v) == 1 {
			return float64(v[0]), nil
		}
	case []float64:
		if len(v) == 1 {
			return v[0], nil
		}
	}
	return 0, errors.Errorf("inception: loss value %T is not a scalar", n.Value().Data())
}

func equalShape(a, b tensor.Shape) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// copyDense copies src's elements into dst (same dtype and size).
func copyDense(dst, src *tensor.Dense) error {
	switch d := dst.Data().(type) {
	case []float32:
		s, ok := src.Data().([]float32)
		if !ok || len(s) != len(d) {
			return errors.New("dtype or size mismatch")
		}
		copy(d, s)
	case []float64:
		s, ok := src.Data().([]float64)
		if !ok || len(s) != len(d) {
			return errors.New("dtype or size mismatch")
		}
		copy(d, s)
	default:
		return errors.Errorf("unsupported dtype %v", dst.Dtype())
	}
	return nil
}

func cloneValue(v G.Value) (*tensor.Dense, error) {
	d, ok := v.(*tensor.Dense)
	if !ok || d == nil {
		return nil, errors.Errorf("inception: output is %T, not a dense tensor", v)
	}
	out := tensor.New(tensor.Of(d.Dtype()), tensor.WithShape(d.Shape().Clone()...))
	if err := copyDense(out, d); err != nil {
		return nil, errors.Wrap(err, "inception: output")
	}
	return out, nil
}

func denseOf(dt tensor.Dtype, v []float64, shape ...int) *tensor.Dense {
	if dt == tensor.Float64 {
		return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(v))
	}
	f := make([]float32, len(v))
	for i, x := range v {
		f[i] = float32(x)
	}
	return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(f))
}

// PlanTrainingMemory lets the activations of the training graph and their
// gradients share memory by liveness (ops.PlanBuffers): a forward output
// lives until the last backward op that reads it, a gradient until the ops
// that consume it have run. At batch 32 this takes roughly a third off a
// training step's peak memory. Afterwards only the values of TrainingNodes
// (logits, auxiliary logits, losses) and of the parameter gradients are
// meaningful after Step; other intermediate nodes of the training graph
// are overwritten during the step. The plan follows the order in which the
// model's own machine runs the graph, so call it only while the graph is
// the one New built: do not extend the graph (TrainingNodes) and then run
// it with another machine after planning. Calling it again does nothing.
func (m *Model) PlanTrainingMemory() (ops.PlanStats, error) {
	if m.trainPlan != nil {
		return *m.trainPlan, nil
	}
	n := m.TrainingNodes()
	var kept G.Nodes
	for _, k := range []*G.Node{n.Logits, n.Aux1, n.Aux2, n.Loss, n.AuxLoss1, n.AuxLoss2, n.Total} {
		if k != nil {
			kept = append(kept, k)
		}
	}
	for _, g := range m.grads {
		kept = append(kept, g)
	}
	// The graph the model's machine runs (the training graph pruned to
	// what the losses and gradients need).
	st, err := ops.PlanBuffers(m.tg, kept...)
	if err != nil {
		return st, errors.Wrap(err, "inception: plan training memory")
	}
	m.trainPlan = &st
	return st, nil
}
