package graph

import (
	"fmt"
	"slices"
	"strings"

	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/goinception/googlenet/ops"
)

// Tensor is one activation of a model being built: its Gorgonia node and its
// shape (NCHW for images, [N,F] for features). In shape-only builds (see
// Options.ShapesOnly) Node is nil and only Shape is tracked.
type Tensor struct {
	Node  *G.Node
	Shape []int
	// from is the name of the layer that made the tensor ("" for a tensor
	// made outside the builder).
	from string
}

// Layer returns the name of the layer whose output t is ("" when t was
// made outside the builder).
func (t *Tensor) Layer() string {
	if t == nil {
		return ""
	}
	return t.from
}

// Dims returns the shape without the batch axis (for example [C,H,W]).
func (t *Tensor) Dims() []int {
	if t == nil || len(t.Shape) == 0 {
		return nil
	}
	return append([]int(nil), t.Shape[1:]...)
}

// Options configure a Builder. The zero value builds a float32 inference
// graph initialised with Caffe's xavier initialiser and seed 0.
type Options struct {
	// Dtype is tensor.Float32 (the default) or tensor.Float64.
	Dtype tensor.Dtype
	// Training selects training behaviour: dropout draws masks and batch
	// norm uses batch statistics (and updates the running ones). Inference
	// (false) makes dropout the identity and batch norm use running stats.
	Training bool
	// Init fills new parameters. nil means Caffe{BiasValue: 0.2}, the
	// paper's bvlc_googlenet initialisation.
	Init Initializer
	// Seed drives Init (each parameter draws from a stream derived from the
	// seed and its name, so values do not depend on build order) and the
	// dropout masks (through Rand when Rand is nil).
	Seed uint64
	// Rand is the dropout state shared by all dropout layers. nil means a
	// new state with Seed.
	Rand *ops.RandState
	// ShapesOnly builds no Gorgonia graph: layers compute output shapes,
	// parameter counts and multiply-adds only (Tensor.Node is nil and
	// parameters have no value). Used for summaries; needs no kernels.
	ShapesOnly bool
	// Values, when not nil, is asked for every new parameter by full name.
	// A non-nil result of the right shape and dtype is bound to the
	// parameter node as is (shared storage, no copy) instead of a fresh
	// initialised tensor. It lets several graphs share one set of weights.
	Values func(name string) *tensor.Dense
	// BNStats, when not nil, is asked for the running statistics of every
	// batch-norm layer by full name (e.g. "conv1/bn"); a non-nil result is
	// shared instead of fresh statistics.
	BNStats func(name string) *ops.BNStats
	// Frozen, when not nil, is asked for every new parameter by full name;
	// true marks it Param.Frozen (a training graph then differentiates with
	// respect to the other parameters only). A batch norm whose scale and
	// shift are both frozen normalises with its running statistics and does
	// not update them, even in a training graph, as a frozen block should.
	Frozen func(name string) bool
	// Engine runs the float32 kernels of every op the builder makes
	// (ops.With). nil means ops.Reference, the pure-Go specification; the
	// command line passes cpu.New's engine. Graphs built with different
	// engines run side by side in one process.
	Engine ops.Engine
}

// Layer records one layer added to a Builder: what the summary prints, and
// the typed description that every backend walks (see Network).
type Layer struct {
	Name   string // full hierarchical name, e.g. "inception_3a/3x3"
	Type   string // one of the Kind constants: "conv", "maxpool", "lrn", ...
	Kernel int    // square window (0 when not applicable)
	Stride int    // 0 when not applicable
	Output []int  // output shape without the batch axis
	Params int64  // trainable parameters: weights + biases + BN affine
	MACs   int64  // multiply-adds per image

	// Inputs are the names of the layers whose outputs this layer reads, in
	// order ("" for a tensor made outside the builder); InShapes their
	// shapes and OutShape the output's, batch first.
	Inputs   []string
	InShapes [][]int
	OutShape []int
	// ParamNames are the full names of the layer's parameters: "<name>/w"
	// then "<name>/b" for convolutions and linear layers (no bias with
	// NoBias or batch norm; then "<name>/bn/scale" and "<name>/bn/shift"),
	// "<name>/scale" and "<name>/shift" for batch norms.
	ParamNames []string
	// The options of the layer's kind; only the one of Type is set.
	Conv     *ConvOpts     // KindConv
	Pool     *PoolOpts     // KindMaxPool, KindAvgPool
	Adaptive *AdaptiveOpts // KindAdaptiveAvgPool
	LRN      *ops.LRNOpts  // KindLRN
	BN       *BNOpts       // KindBatchNorm (a convolution's is Conv.BN)
	Linear   *LinearOpts   // KindLinear
	Dropout  *DropoutOpts  // KindDropout
	Loss     *LossOpts     // KindSoftmaxCrossEntropy
}

// Builder builds a model graph layer by layer. It keeps the first error:
// after a failure every method is a no-op returning nil (all methods accept
// nil inputs), and Err reports the error with the name of the layer that
// caused it. A Builder is not safe for concurrent use.
type Builder struct {
	opts    Options
	g       *G.ExprGraph
	err     error
	scope   []string
	params  []*Param
	byName  map[string]*Param
	bn      []BNEntry
	bnNames map[string]*ops.BNStats
	names   map[string]bool
	layers  []Layer // the Network: every record
	compute []Layer // the Layers: records other than inputs and losses
	rand    *ops.RandState
	nDrop   int
	ops     ops.Ops // op constructors bound to Options.Engine
	// inputs are the nodes made by Input: data, never a function of the
	// parameters, so no gradient needs to flow into them.
	inputs map[*G.Node]bool
}

// New returns a Builder with options o.
func New(o Options) *Builder {
	if o.Dtype == (tensor.Dtype{}) {
		o.Dtype = tensor.Float32
	}
	if o.Init == nil {
		o.Init = Caffe{BiasValue: 0.2}
	}
	b := &Builder{
		opts:    o,
		byName:  map[string]*Param{},
		bnNames: map[string]*ops.BNStats{},
		names:   map[string]bool{},
		rand:    o.Rand,
		ops:     ops.With(o.Engine),
	}
	if b.rand == nil {
		b.rand = &ops.RandState{Seed: o.Seed}
	}
	if o.Dtype != tensor.Float32 && o.Dtype != tensor.Float64 {
		b.err = errors.Errorf("graph: dtype %v not supported (float32 or float64)", o.Dtype)
	}
	if !o.ShapesOnly {
		b.g = G.NewGraph()
	}
	return b
}

// Graph returns the expression graph (nil in shape-only builds).
func (b *Builder) Graph() *G.ExprGraph { return b.g }

// Dtype returns the element type of the graph.
func (b *Builder) Dtype() tensor.Dtype { return b.opts.Dtype }

// Training reports whether the builder builds a training graph.
func (b *Builder) Training() bool { return b.opts.Training }

// ShapesOnly reports whether the builder only tracks shapes.
func (b *Builder) ShapesOnly() bool { return b.opts.ShapesOnly }

// Ops returns the op constructors bound to the builder's engine, for layer
// helpers and losses written outside this package.
func (b *Builder) Ops() ops.Ops { return b.ops }

// Engine returns the engine the builder's ops run on.
func (b *Builder) Engine() ops.Engine { return b.ops.Engine() }

// Rand returns the dropout state of the model: trainers set its Step before
// each run so that masks differ from step to step and are reproducible.
func (b *Builder) Rand() *ops.RandState { return b.rand }

// Err returns the first error, wrapped with the name of the failing layer.
func (b *Builder) Err() error { return b.err }

// Fail records err (wrapped with the current scope) unless an earlier error
// is already kept. Layer helpers written outside this package use it.
func (b *Builder) Fail(err error) {
	if b.err == nil && err != nil {
		if s := strings.Join(b.scope, "/"); s != "" {
			err = errors.Wrapf(err, "in %s", s)
		}
		b.err = err
	}
}

// failf records an error about the layer name.
func (b *Builder) failf(name string, format string, args ...interface{}) {
	if b.err == nil {
		b.err = errors.Errorf("layer %s: %s", b.full(name), fmt.Sprintf(format, args...))
	}
}

// wrap records err about the layer name.
func (b *Builder) wrap(name string, err error) {
	if b.err == nil && err != nil {
		b.err = errors.Wrapf(err, "layer %s", b.full(name))
	}
}

// Scope runs fn with name pushed on the name scope: layers built inside get
// names "name/layer" (scopes nest). Nothing runs after an error.
func (b *Builder) Scope(name string, fn func()) {
	if b.err != nil {
		return
	}
	if err := checkName(name); err != nil {
		b.Fail(errors.Wrap(err, "graph: scope"))
		return
	}
	b.scope = append(b.scope, name)
	defer func() { b.scope = b.scope[:len(b.scope)-1] }()
	fn()
}

// full returns the hierarchical name of name in the current scope.
func (b *Builder) full(name string) string {
	if len(b.scope) == 0 {
		return name
	}
	return strings.Join(b.scope, "/") + "/" + name
}

func checkName(name string) error {
	if name == "" {
		return errors.New("empty name")
	}
	if strings.ContainsAny(name, "/ \t\n") {
		return errors.Errorf("name %q must not contain '/' or spaces", name)
	}
	return nil
}

// claim reserves the layer name and returns its full name, or "" after an
// error (duplicate or invalid name).
func (b *Builder) claim(name string) string {
	if b.err != nil {
		return ""
	}
	if err := checkName(name); err != nil {
		b.Fail(errors.Wrap(err, "graph: layer"))
		return ""
	}
	f := b.full(name)
	if b.names[f] {
		b.failf(name, "duplicate layer name")
		return ""
	}
	b.names[f] = true
	return f
}

// Layers returns the computing layers built so far, in build order: the
// Network without its inputs and losses (what summaries count).
func (b *Builder) Layers() []Layer { return b.compute }

// Network returns the description of everything built so far, in build
// order: inputs, layers and losses, each with its kind, options, input
// layers, shapes and parameter names. The Gorgonia graph is one backend
// made from the same calls; the device network of package cuda and the
// summaries walk this description.
func (b *Builder) Network() []Layer { return append([]Layer(nil), b.layers...) }

// record appends l, an operation reading xs, to the description.
func (b *Builder) record(l Layer, xs ...*Tensor) {
	for _, x := range xs {
		l.Inputs = append(l.Inputs, x.from)
		l.InShapes = append(l.InShapes, append([]int(nil), x.Shape...))
	}
	b.layers = append(b.layers, l)
	if l.Type != KindInput && l.Type != KindSoftmaxCrossEntropy {
		b.compute = append(b.compute, l)
	}
}

// Input adds an input node with the given full shape (batch first).
func (b *Builder) Input(name string, shape ...int) *Tensor {
	f := b.claim(name)
	if f == "" {
		return nil
	}
	for _, d := range shape {
		if d <= 0 {
			b.failf(name, "input shape %v must be positive", shape)
			return nil
		}
	}
	t := &Tensor{Shape: append([]int(nil), shape...), from: f}
	b.record(Layer{Name: f, Type: KindInput, Output: t.Dims(), OutShape: append([]int(nil), shape...)})
	if b.g != nil {
		t.Node = G.NewTensor(b.g, b.opts.Dtype, len(shape), G.WithShape(shape...), G.WithName(f))
		if b.inputs == nil {
			b.inputs = map[*G.Node]bool{}
		}
		b.inputs[t.Node] = true
	}
	return t
}

// checkShape asserts that a built node has the shape computed for it.
func (b *Builder) checkShape(name string, t *Tensor) *Tensor {
	if t == nil || t.Node == nil {
		return t
	}
	got := []int(t.Node.Shape())
	if !slices.Equal(got, t.Shape) {
		b.failf(name, "op produced shape %v, want %v", got, t.Shape)
		return nil
	}
	return t
}

func prod(s []int) int64 {
	p := int64(1)
	for _, d := range s {
		p *= int64(d)
	}
	return p
}
