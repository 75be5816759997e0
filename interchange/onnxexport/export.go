package onnxexport

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/pkg/errors"

	"github.com/goinception/googlenet/graph"
	"github.com/goinception/googlenet/interchange/onnx"
	"github.com/goinception/googlenet/ops"
	"github.com/goinception/googlenet/preprocess"
)

// Opset is the ONNX operator set version that the exporter writes.
const Opset = 13

// Metadata keys (ModelProto.metadata_props) that the exporter writes and
// package interchange/onnximport reads back.
const (
	MetaVariant = "googlenet.variant"
	MetaConfig  = "googlenet.config" // inception.Config as JSON, without Init and Dtype
	MetaLabels  = "googlenet.labels" // JSON array of class names
	MetaMeans   = "googlenet.means"  // JSON array, 0..255 scale
	MetaStds    = "googlenet.stds"   // JSON array, 0..255 scale
	// MetaInput is the input contract (preprocess.Contract.Encode).
	MetaInput = "googlenet.input_contract"
)

// Options configures GoogLeNet and Network. The zero value writes the
// logits.
type Options struct {
	// Softmax appends a Softmax node over axis 1: the graph's first output
	// is then "prob" (class probabilities) instead of "logits".
	Softmax bool
	// Labels, Means and Stds are stored as metadata (optional).
	Labels      []string
	Means, Stds []float32
	// Input is the input contract, stored under MetaInput (optional). It
	// must fit the network's input (preprocess.Contract.Fits).
	Input *preprocess.Contract
	// Outputs are more graph outputs after the logits (or prob), each
	// named as given and shaped [N, ...] like the layer's output. For
	// GoogLeNet they are the names inception.Model.Features takes
	// ("pool5", "inception_4e"); for Network, layer names of the
	// description, where a scope ("pool5") means its last layer. Empty
	// writes the logits only.
	Outputs []string
	// Output names the layer whose output is the graph's first output, for
	// Network. Empty means the logits of the description's main loss (the
	// softmax cross-entropy that is not auxiliary), or its last layer when
	// the description has no loss. GoogLeNet ignores it (the logits).
	Output string
}

// Source is a network to export: its description (graph.Builder's Network:
// every layer in build order with its kind, options, input layers, shapes
// and parameter names), its parameters by name and its batch-norm running
// statistics. *graph.Builder and *inception.Model are sources.
type Source interface {
	Network() []graph.Layer
	Param(name string) (*graph.Param, bool)
	BNStats() []graph.BNEntry
}

// Network writes the inference function of the network src describes as
// an ONNX model at opset 13, whatever network it is (a GoogLeNet variant, a
// custom table, a network built layer by layer with package graph): dropout
// is the identity, batch norm uses the running statistics, losses and the
// layers only they need are left out. The file's input is the
// description's input layer (its name, batch dimension symbolic "N"), its
// first output "logits" (see Options.Output and Options.Softmax).
// Initializers carry our parameter names ("inception_4a/3x3/w") and the
// batch-norm statistics ("<layer>/bn/running_mean"), float64 values written
// as float32; each value is named after the layer that makes it.
//
// Every layer kind of package graph is exported except the loss: a
// convolution (Conv, then BatchNormalization and Relu as its options say),
// batch norm, ReLU, max and average pools (ceil mode, padding,
// count_include_pad), global average pools, adaptive average pools whose
// windows are uniform (a GlobalAveragePool or an AveragePool), LRN,
// flatten, linear layers (Gemm, then Relu) and channel concatenation. What
// cannot be written is an error naming the layer.
func Network(src Source, o Options) (*onnx.Model, error) {
	if src == nil {
		return nil, errors.New("onnxexport: nil network")
	}
	return export(src, o, "network", nil)
}

// export writes src's description with graph name name and the metadata
// meta added to Options' own.
func export(src Source, o Options, name string, meta map[string]string) (*onnx.Model, error) {
	layers := src.Network()
	if len(layers) == 0 {
		return nil, errors.New("onnxexport: empty network description")
	}
	byName := map[string]graph.Layer{}
	for _, l := range layers {
		byName[l.Name] = l
	}
	main, err := mainOutput(layers, byName, o.Output)
	if err != nil {
		return nil, err
	}
	outName := "logits"
	if o.Softmax {
		outName = "prob"
	}
	outs := []output{{name: "logits", layer: main}}
	for _, name := range o.Outputs {
		l, err := resolve(layers, byName, name)
		if err != nil {
			return nil, err
		}
		if l == main {
			return nil, errors.Errorf("onnxexport: output %q is the main output (%s)", name, outName)
		}
		outs = append(outs, output{name: name, layer: l})
	}
	need, err := needed(byName, outs)
	if err != nil {
		return nil, err
	}

	e := &exporter{src: src, byName: byName, value: map[string]string{}, taken: map[string]bool{}, bn: map[string]*ops.BNStats{}}
	for _, b := range src.BNStats() {
		e.bn[b.Name] = b.Stats
	}
	for _, l := range layers {
		e.taken[l.Name] = true
		for _, p := range l.ParamNames {
			e.taken[p] = true
		}
	}
	m := &onnx.Model{
		IRVersion:    8,
		Opsets:       []onnx.OpsetImport{{Domain: "", Version: Opset}},
		ProducerName: "googlenet (github.com/goinception/googlenet)",
		Graph:        onnx.Graph{Name: name},
		Metadata:     map[string]string{},
	}
	e.g = &m.Graph
	var input *graph.Layer
	for _, l := range layers {
		if !need[l.Name] {
			continue
		}
		if l.Type == graph.KindInput {
			if input != nil {
				return nil, errors.Errorf("onnxexport: the network has two inputs (%s, %s); ONNX export takes one", input.Name, l.Name)
			}
			l := l
			input = &l
			e.value[l.Name] = l.Name
			continue
		}
		if err := e.layer(l); err != nil {
			return nil, errors.Wrapf(err, "onnxexport: layer %s (%s)", l.Name, l.Type)
		}
	}
	if input == nil {
		return nil, errors.New("onnxexport: the outputs depend on no input layer")
	}
	if len(input.OutShape) < 2 {
		return nil, errors.Errorf("onnxexport: input %s has shape %v, want a batch axis and more", input.Name, input.OutShape)
	}
	m.Graph.Inputs = []onnx.ValueInfo{valueInfo(input.Name, input.OutShape)}
	if err := e.outputs(outs, input.Name); err != nil {
		return nil, err
	}
	if o.Softmax {
		if e.exists("prob") {
			return nil, errors.New(`onnxexport: a layer, tensor or output is named "prob", the name of the Softmax output`)
		}
		m.Graph.Nodes = append(m.Graph.Nodes, &onnx.Node{Name: "prob", OpType: "Softmax", Inputs: []string{"logits"},
			Outputs: []string{"prob"}, Attrs: []onnx.Attribute{aInt("axis", 1)}})
		m.Graph.Outputs[0].Name = "prob"
	}
	for k, v := range meta {
		m.Metadata[k] = v
	}
	if err := metadata(m, o, input.OutShape); err != nil {
		return nil, err
	}
	if err := m.Validate(); err != nil {
		return nil, errors.Wrap(err, "onnxexport: produced an invalid model")
	}
	return m, nil
}

// output is a graph output: its name and the layer whose value it is.
type output struct {
	name  string
	layer string
}

// mainOutput returns the layer of the graph's first output: name when
// given, else the logits of the main loss, else the last layer.
func mainOutput(layers []graph.Layer, byName map[string]graph.Layer, name string) (string, error) {
	if name != "" {
		return resolve(layers, byName, name)
	}
	var main []string
	for _, l := range layers {
		if l.Type == graph.KindSoftmaxCrossEntropy && (l.Loss == nil || !l.Loss.Aux) && len(l.Inputs) == 1 {
			main = append(main, l.Inputs[0])
		}
	}
	switch len(main) {
	case 0:
		last := layers[len(layers)-1]
		if last.Type == graph.KindSoftmaxCrossEntropy || last.Type == graph.KindInput {
			return "", errors.Errorf("onnxexport: no main output: the description ends with %s %s and has no main loss", last.Type, last.Name)
		}
		return last.Name, nil
	case 1:
		return main[0], nil
	}
	return "", errors.Errorf("onnxexport: %d main losses (%s); name the output (Options.Output)", len(main), strings.Join(main, ", "))
}

// resolve returns the layer name means: a layer of that name, else the
// last layer of the scope name (not a loss).
func resolve(layers []graph.Layer, byName map[string]graph.Layer, name string) (string, error) {
	if l, ok := byName[name]; ok {
		if l.Type == graph.KindSoftmaxCrossEntropy {
			return "", errors.Errorf("onnxexport: output %q is a loss, which has no ONNX export", name)
		}
		return name, nil
	}
	last := ""
	for _, l := range layers {
		if strings.HasPrefix(l.Name, name+"/") && l.Type != graph.KindSoftmaxCrossEntropy {
			last = l.Name
		}
	}
	if last == "" || name == "" {
		return "", errors.Errorf("onnxexport: no layer or scope %q in the network", name)
	}
	return last, nil
}

// needed returns the layers the outputs depend on.
func needed(byName map[string]graph.Layer, outs []output) (map[string]bool, error) {
	need := map[string]bool{}
	var visit func(name string) error
	visit = func(name string) error {
		if need[name] {
			return nil
		}
		l, ok := byName[name]
		if !ok {
			return errors.Errorf("onnxexport: the description reads %q, which is not one of its layers (a tensor made outside the builder?)", name)
		}
		need[name] = true
		for _, in := range l.Inputs {
			if err := visit(in); err != nil {
				return err
			}
		}
		return nil
	}
	for _, o := range outs {
		if err := visit(o.layer); err != nil {
			return nil, err
		}
	}
	return need, nil
}

// valueInfo describes a float tensor whose first axis is the symbolic batch.
func valueInfo(name string, shape []int) onnx.ValueInfo {
	dims := []onnx.Dim{{Value: -1, Param: "N"}}
	for _, d := range shape[1:] {
		dims = append(dims, onnx.Dim{Value: int64(d)})
	}
	return onnx.ValueInfo{Name: name, ElemType: onnx.Float, Shape: dims}
}

// outputs names the output values and declares the graph's outputs: a
// value made by a node takes the output's name; the input, or a value that
// is already another output, goes through an Identity.
func (e *exporter) outputs(outs []output, input string) error {
	declared := map[string]bool{}
	for _, o := range outs {
		if declared[o.name] || o.name == input {
			return errors.Errorf("onnxexport: output name %q used twice (or the input's)", o.name)
		}
		v := e.value[o.layer]
		if o.name != v && e.exists(o.name) {
			return errors.Errorf("onnxexport: output name %q is taken by another layer or tensor", o.name)
		}
		switch {
		case v == o.name:
		case e.producer(v) != nil && !declared[v]:
			e.rename(v, o.name)
		default:
			e.g.Nodes = append(e.g.Nodes, &onnx.Node{Name: o.name, OpType: "Identity", Inputs: []string{v}, Outputs: []string{o.name}})
		}
		declared[o.name] = true
		e.g.Outputs = append(e.g.Outputs, valueInfo(o.name, e.byName[o.layer].OutShape))
	}
	return nil
}

// exists reports whether the graph has a value named v: an input, an
// initializer or a node's output.
func (e *exporter) exists(v string) bool {
	for _, in := range e.g.Inputs {
		if in.Name == v {
			return true
		}
	}
	return e.inits[v] || e.producer(v) != nil
}

// producer returns the node that outputs value v, or nil.
func (e *exporter) producer(v string) *onnx.Node {
	for _, n := range e.g.Nodes {
		for _, out := range n.Outputs {
			if out == v {
				return n
			}
		}
	}
	return nil
}

// rename renames value from to to wherever it appears.
func (e *exporter) rename(from, to string) {
	for l, v := range e.value {
		if v == from {
			e.value[l] = to
		}
	}
	for _, n := range e.g.Nodes {
		for i := range n.Outputs {
			if n.Outputs[i] == from {
				n.Outputs[i] = to
			}
		}
		for i := range n.Inputs {
			if n.Inputs[i] == from {
				n.Inputs[i] = to
			}
		}
	}
}

// metadata stores o's labels, normalisation and input contract.
func metadata(m *onnx.Model, o Options, inShape []int) error {
	for k, v := range map[string]any{MetaLabels: o.Labels, MetaMeans: o.Means, MetaStds: o.Stds} {
		if v == nil || fmt.Sprint(v) == "[]" {
			continue
		}
		b, err := json.Marshal(v)
		if err != nil {
			return errors.Wrap(err, "onnxexport: metadata")
		}
		m.Metadata[k] = string(b)
	}
	if o.Input == nil {
		return nil
	}
	if len(inShape) != 4 || inShape[2] != inShape[3] {
		return errors.Errorf("onnxexport: an input contract needs a square NCHW input, the network takes %v", inShape)
	}
	if err := o.Input.Fits(inShape[1], inShape[2]); err != nil {
		return errors.Wrap(err, "onnxexport")
	}
	s, err := o.Input.Encode()
	if err != nil {
		return errors.Wrap(err, "onnxexport")
	}
	m.Metadata[MetaInput] = s
	return nil
}
