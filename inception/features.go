package inception

import (
	"fmt"
	"sort"
	"strings"

	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/goinception/googlenet/graph"
	"github.com/goinception/googlenet/ops"
)

// DefaultFeatureLayer is the layer Features returns when none is named: the
// global average pool before the classifier, 1024 values per image in the
// paper's variants.
const DefaultFeatureLayer = "pool5"

// featureGraph is an inference graph built up to the deepest requested
// layer.
type featureGraph struct {
	b     *graph.Builder
	input *G.Node
	outs  []*G.Node // parallel to the resolved layer names
	vm    G.VM
}

// FeatureLayers returns the names Features accepts, in network order: the
// rows of the summary's main path ("conv1/7x7_s2", "pool1/3x3_s2",
// "inception_3a", ..., "pool5/7x7_s1", "pool5/drop_7x7_s1",
// "loss3/classifier"). Features also takes a scope such as "pool5",
// "pool1" or "conv1", meaning the last row of that scope.
func (m *Model) FeatureLayers() []string {
	names := make([]string, len(m.sum.Layers))
	for i, l := range m.sum.Layers {
		names[i] = l.Name
	}
	return names
}

// FeatureLayer resolves a layer name as Features does and returns the
// summary row it names (whose Output is the shape of one image's
// activations).
func (m *Model) FeatureLayer(name string) (Layer, error) {
	i, err := m.resolveLayer(name)
	if err != nil {
		return Layer{}, err
	}
	return m.sum.Layers[i], nil
}

// resolveLayer returns the index of the main-path row named name (see
// Summary.LayerIndex).
func (m *Model) resolveLayer(name string) (int, error) { return m.sum.LayerIndex(name) }

// LayerIndex returns the index in s.Layers of the main-path row named name:
// the row of that exact name, else the last row of the scope name ("pool5"
// is "pool5/drop_7x7_s1", the flattened pool; "conv2" the stem's second
// convolution; "pool1" the stem's first pool with its LRN).
func (s Summary) LayerIndex(name string) (int, error) {
	last := -1
	for i, l := range s.Layers {
		if l.Name == name {
			return i, nil
		}
		if strings.HasPrefix(l.Name, name+"/") {
			last = i
		}
	}
	if last < 0 || name == "" {
		names := make([]string, len(s.Layers))
		for i, l := range s.Layers {
			names[i] = l.Name
		}
		return 0, errors.Errorf("inception: no layer %q in the %s model (layers: %s)", name, s.Variant, strings.Join(names, ", "))
	}
	return last, nil
}

// Through returns the parameter-name prefixes of the main-path rows from the
// input up to and including the row named layer (resolved as LayerIndex
// does): what freezing a network "through inception_4e" freezes. Rows
// without parameters (pools, LRN) are skipped; the auxiliary heads are not
// part of the main path.
func (s Summary) Through(layer string) ([]string, error) {
	last, err := s.LayerIndex(layer)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, l := range s.Layers[:last+1] {
		if l.Params > 0 {
			out = append(out, l.Name+"/")
		}
	}
	return out, nil
}

// Classifiers are the layers whose outputs are the classes: the main
// classifier and those of the two auxiliary heads. Their weights depend on
// the number of classes; fine-tuning onto new classes starts them afresh.
var Classifiers = []string{"loss3/classifier", "loss1/classifier", "loss2/classifier"}

// AuxHeads are the scopes of the auxiliary classifiers.
var AuxHeads = []string{"loss1", "loss2"}

// Features runs x [N,C,H,W] through an inference graph (dropout off, batch
// norm with running statistics, as Forward) that stops at the deepest of
// layers, and returns the activations of each layer in the order asked
// (copies owned by the caller), with the batch first: [N,C,H,W] for maps,
// [N,F] for the flattened pool and the classifier. No layers means
// DefaultFeatureLayer. Names are those of FeatureLayers, or a scope meaning
// its last row ("pool5"). The graph for a batch size and set of layers is
// built on first use and kept; the weights are shared with the model, so
// Features sees every update.
func (m *Model) Features(x *tensor.Dense, layers ...string) ([]*tensor.Dense, error) {
	n, err := m.checkInput(x)
	if err != nil {
		return nil, err
	}
	if len(layers) == 0 {
		layers = []string{DefaultFeatureLayer}
	}
	rows := make([]int, len(layers))
	for i, l := range layers {
		if rows[i], err = m.resolveLayer(l); err != nil {
			return nil, err
		}
	}
	fg, err := m.featureGraph(n, rows)
	if err != nil {
		return nil, err
	}
	if err := G.Let(fg.input, x); err != nil {
		return nil, errors.Wrap(err, "inception: input")
	}
	fg.vm.Reset()
	if err := fg.vm.RunAll(); err != nil {
		return nil, errors.Wrap(err, "inception: features")
	}
	out := make([]*tensor.Dense, len(layers))
	for i, node := range fg.outs {
		if out[i], err = cloneValue(node.Value()); err != nil {
			return nil, errors.Wrapf(err, "inception: layer %s", layers[i])
		}
	}
	return out, nil
}

// featureGraph returns the graph for batch n that outputs the given rows,
// building it on first use.
func (m *Model) featureGraph(n int, rows []int) (*featureGraph, error) {
	uniq := append([]int(nil), rows...)
	sort.Ints(uniq)
	key := fmt.Sprint(n, uniq)
	if fg, ok := m.feats[key]; ok {
		return fg, nil
	}
	want := map[string]bool{}
	for _, r := range rows {
		want[m.sum.Layers[r].Name] = true
	}
	c := m.cfg
	b := m.inferenceBuilder()
	x := b.Input("data", n, c.InChannels, c.InputSize, c.InputSize)
	net, err := buildCheckedUpTo(b, c, x, false, want)
	if err != nil {
		return nil, err
	}
	fg := &featureGraph{b: b, input: x.Node}
	var reads []*G.Node
	for _, r := range rows {
		t := net.outs[m.sum.Layers[r].Name]
		if t == nil {
			return nil, errors.Errorf("inception: layer %s was not built", m.sum.Layers[r].Name)
		}
		reads = append(reads, t.Node)
	}
	fg.outs = reads
	fg.vm = G.NewTapeMachine(b.Graph(), G.WithEngine(ops.TensorEngine{}))
	m.feats[key] = fg
	return fg, nil
}

// FeatureGraph returns the inference graph for batch n that Features runs
// for layers (built on first use and kept), and the node of each layer in
// the order asked: for exporters that write several outputs. The graph is
// the model's; running it is Features' job.
func (m *Model) FeatureGraph(n int, layers ...string) (*G.ExprGraph, []*G.Node, error) {
	if n <= 0 {
		return nil, nil, errors.Errorf("inception: batch size %d must be positive", n)
	}
	if len(layers) == 0 {
		layers = []string{DefaultFeatureLayer}
	}
	rows := make([]int, len(layers))
	for i, l := range layers {
		var err error
		if rows[i], err = m.resolveLayer(l); err != nil {
			return nil, nil, err
		}
	}
	fg, err := m.featureGraph(n, rows)
	if err != nil {
		return nil, nil, err
	}
	return fg.b.Graph(), append([]*G.Node(nil), fg.outs...), nil
}
