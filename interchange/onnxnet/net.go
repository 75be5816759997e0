package onnxnet

import (
	"fmt"

	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/goinception/googlenet/interchange/onnx"
	"github.com/goinception/googlenet/ops"
)

// Net is an ONNX model built as a Gorgonia graph, operator by operator, with
// the kernels of package ops. It runs any graph made of onnx.SupportedOps in
// inference mode (Dropout is the identity, BatchNormalization uses the
// stored statistics). Graphs are built per input shape on first use. A Net is
// not safe for concurrent use.
type Net struct {
	model  *onnx.Model
	order  []*onnx.Node
	input  onnx.ValueInfo
	outs   []string
	graphs map[string]*netGraph
}

type netGraph struct {
	g    *G.ExprGraph
	in   *G.Node
	outs []*G.Node
	vm   G.VM
}

// NewNet checks m (Validate: supported operators only, every input defined,
// no cycle; CheckFinite: no NaN or Inf weight) and prepares it to run. The
// graph must have exactly one input that is not an initializer, of element
// type FLOAT.
func NewNet(m *onnx.Model) (*Net, error) {
	if m == nil {
		return nil, errors.New("onnxnet: nil ONNX model")
	}
	if err := m.Validate(); err != nil {
		return nil, errors.Wrap(err, "onnxnet: ONNX model")
	}
	if err := m.CheckFinite(); err != nil {
		return nil, errors.Wrap(err, "onnxnet: ONNX model")
	}
	order, err := m.Graph.TopoSort()
	if err != nil {
		return nil, errors.Wrap(err, "onnxnet: ONNX model")
	}
	n := &Net{model: m, order: order, graphs: map[string]*netGraph{}}
	var ins []onnx.ValueInfo
	for _, in := range m.Graph.Inputs {
		if _, ok := m.Graph.Initializer(in.Name); !ok {
			ins = append(ins, in)
		}
	}
	if len(ins) != 1 {
		return nil, errors.Errorf("onnxnet: ONNX graph has %d data inputs, want exactly 1", len(ins))
	}
	n.input = ins[0]
	if t := n.input.ElemType; t != onnx.Float && t != onnx.Undefined {
		return nil, errors.Errorf("onnxnet: ONNX input %q has element type %v, want FLOAT", n.input.Name, t)
	}
	if len(m.Graph.Outputs) == 0 {
		return nil, errors.New("onnxnet: ONNX graph has no outputs")
	}
	for _, o := range m.Graph.Outputs {
		n.outs = append(n.outs, o.Name)
	}
	return n, nil
}

// Model returns the parsed ONNX model.
func (n *Net) Model() *onnx.Model { return n.model }

// InputName returns the name of the graph's data input ("data_0", "input").
func (n *Net) InputName() string { return n.input.Name }

// InputShape returns the data input's shape as declared in the file, -1 for
// symbolic or unknown dimensions (nil when the file declares no shape).
func (n *Net) InputShape() []int {
	if n.input.Shape == nil {
		return nil
	}
	s := make([]int, len(n.input.Shape))
	for i, d := range n.input.Shape {
		s[i] = int(d.Value)
	}
	return s
}

// OutputNames returns the names of the graph's outputs, in order.
func (n *Net) OutputNames() []string { return append([]string(nil), n.outs...) }

// Graph returns the Gorgonia graph built for inputs of the given shape, its
// input node and its output nodes (in OutputNames order).
func (n *Net) Graph(shape ...int) (*G.ExprGraph, *G.Node, []*G.Node, error) {
	ng, err := n.graph(shape)
	if err != nil {
		return nil, nil, nil, err
	}
	return ng.g, ng.in, ng.outs, nil
}

// Forward runs the graph on x (float32, the shape the model takes; any batch
// size) and returns the graph's outputs, in OutputNames order, as copies
// owned by the caller.
func (n *Net) Forward(x *tensor.Dense) ([]*tensor.Dense, error) {
	if x == nil {
		return nil, errors.New("onnxnet: nil input")
	}
	if x.Dtype() != tensor.Float32 {
		return nil, errors.Errorf("onnxnet: input dtype %v, want float32", x.Dtype())
	}
	ng, err := n.graph([]int(x.Shape()))
	if err != nil {
		return nil, err
	}
	if err := G.Let(ng.in, x); err != nil {
		return nil, errors.Wrap(err, "onnxnet: input")
	}
	ng.vm.Reset()
	if err := ng.vm.RunAll(); err != nil {
		return nil, errors.Wrap(err, "onnxnet: forward")
	}
	res := make([]*tensor.Dense, len(ng.outs))
	for i, o := range ng.outs {
		d, ok := o.Value().(*tensor.Dense)
		if !ok {
			return nil, errors.Errorf("onnxnet: output %q is not a dense tensor", n.outs[i])
		}
		res[i] = d.Clone().(*tensor.Dense)
	}
	return res, nil
}

func (n *Net) graph(shape []int) (*netGraph, error) {
	key := fmt.Sprint(shape)
	if ng, ok := n.graphs[key]; ok {
		return ng, nil
	}
	if err := n.checkShape(shape); err != nil {
		return nil, err
	}
	b := &netBuilder{net: n, g: G.NewGraph(), vals: map[string]*G.Node{}, consts: map[string]*onnx.Tensor{}}
	for _, t := range n.model.Graph.Initializers {
		b.consts[t.Name] = t
	}
	in := G.NewTensor(b.g, tensor.Float32, len(shape), G.WithShape(shape...), G.WithName(n.input.Name))
	b.vals[n.input.Name] = in
	for _, nd := range n.order {
		if err := b.build(nd); err != nil {
			return nil, errors.Wrapf(err, "onnxnet: ONNX node %q (%s)", nd.Name, nd.OpType)
		}
	}
	ng := &netGraph{g: b.g, in: in}
	for _, o := range n.outs {
		v, ok := b.vals[o]
		if !ok {
			return nil, errors.Errorf("onnxnet: ONNX output %q is not computed from the input", o)
		}
		if v == in {
			return nil, errors.Errorf("onnxnet: ONNX output %q is the input itself", o)
		}
		ng.outs = append(ng.outs, v)
	}
	ng.vm = G.NewTapeMachine(b.g, G.WithEngine(ops.TensorEngine{}))
	n.graphs[key] = ng
	return ng, nil
}

// checkShape compares an input shape with the declared one (fixed
// dimensions must agree; the batch axis may differ).
func (n *Net) checkShape(shape []int) error {
	decl := n.InputShape()
	for _, d := range shape {
		if d <= 0 {
			return errors.Errorf("onnxnet: input shape %v", shape)
		}
	}
	if decl == nil {
		return nil
	}
	if len(decl) != len(shape) {
		return errors.Errorf("onnxnet: input shape %v, the model takes %v", shape, decl)
	}
	for i := 1; i < len(decl); i++ {
		if decl[i] > 0 && decl[i] != shape[i] {
			return errors.Errorf("onnxnet: input shape %v, the model takes %v", shape, decl)
		}
	}
	return nil
}

// netBuilder builds one graph: vals are the computed values by ONNX name,
// consts the initializers and Constant outputs (turned into nodes on use).
type netBuilder struct {
	net    *Net
	g      *G.ExprGraph
	vals   map[string]*G.Node
	consts map[string]*onnx.Tensor
	cnodes map[string]*G.Node
}

// node returns the graph node of value name (a computed value, or a float
// constant made into a node).
func (b *netBuilder) node(name string) (*G.Node, error) {
	if v, ok := b.vals[name]; ok {
		return v, nil
	}
	if t, ok := b.consts[name]; ok {
		if v, ok := b.cnodes[name]; ok {
			return v, nil
		}
		if !t.DataType.IsFloat() {
			return nil, errors.Errorf("value %q is a %v tensor, want floating point", name, t.DataType)
		}
		s := t.Shape()
		if len(s) == 0 {
			s = []int{1}
		}
		d := tensor.New(tensor.WithShape(s...), tensor.WithBacking(append([]float32(nil), t.Floats...)))
		v := G.NewTensor(b.g, tensor.Float32, len(s), G.WithShape(s...), G.WithName("const/"+name), G.WithValue(d))
		if b.cnodes == nil {
			b.cnodes = map[string]*G.Node{}
		}
		b.cnodes[name] = v
		return v, nil
	}
	return nil, errors.Errorf("value %q is not defined", name)
}

// constant returns the constant tensor of value name (initializer or
// Constant output); computed values are an error.
func (b *netBuilder) constant(name, what string) (*onnx.Tensor, error) {
	if t, ok := b.consts[name]; ok {
		return t, nil
	}
	if _, ok := b.vals[name]; ok {
		return nil, errors.Errorf("%s %q is computed at run time; only constant %ss (initializers) are supported", what, name, what)
	}
	return nil, errors.Errorf("%s %q is not defined", what, name)
}

func (b *netBuilder) input(nd *onnx.Node, i int) (*G.Node, error) {
	if i >= len(nd.Inputs) || nd.Inputs[i] == "" {
		return nil, errors.Errorf("input %d is missing", i)
	}
	return b.node(nd.Inputs[i])
}

func optional(nd *onnx.Node, i int) string {
	if i < len(nd.Inputs) {
		return nd.Inputs[i]
	}
	return ""
}

// maxPerImage bounds the elements of one value per image (per index of the
// first axis): 64 Mi float32 values, 256 MiB, 80 times GoogLeNet's largest
// activation at 224x224. A file asking for more is rejected before anything
// is allocated.
const maxPerImage = 1 << 26

// set records v as the node's first output. Extra outputs (MaxPool indices,
// Dropout masks, batch-norm training statistics) are not built: a consumer
// of one fails with "not defined".
func (b *netBuilder) set(nd *onnx.Node, v *G.Node) error {
	if len(nd.Outputs) == 0 || nd.Outputs[0] == "" {
		return errors.New("no output")
	}
	s := v.Shape()
	if len(s) > 0 && s[0] > 0 && s.TotalSize()/s[0] > maxPerImage {
		return errors.Errorf("output of shape %v is larger than %d elements per image", s, maxPerImage)
	}
	b.vals[nd.Outputs[0]] = v
	return nil
}

// alias makes the node's first output the same value as its first input.
func (b *netBuilder) alias(nd *onnx.Node) error {
	if len(nd.Inputs) == 0 || nd.Inputs[0] == "" || len(nd.Outputs) == 0 {
		return errors.New("needs one input and one output")
	}
	if t, ok := b.consts[nd.Inputs[0]]; ok {
		b.consts[nd.Outputs[0]] = t
		return nil
	}
	v, err := b.node(nd.Inputs[0])
	if err != nil {
		return err
	}
	b.vals[nd.Outputs[0]] = v
	return nil
}

func (b *netBuilder) build(nd *onnx.Node) error {
	if len(nd.Outputs) == 0 || nd.Outputs[0] == "" {
		return errors.New("no output")
	}
	switch nd.OpType {
	case "Identity":
		return b.alias(nd)
	case "Dropout":
		// Inference: the identity. A training_mode input (opset 12+) must
		// be absent or false.
		if tm := optional(nd, 2); tm != "" {
			t, err := b.constant(tm, "training_mode")
			if err != nil {
				return err
			}
			if len(t.Ints) != 1 || t.Ints[0] != 0 {
				return errors.New("training_mode is not false: only inference is supported")
			}
		}
		return b.alias(nd)
	case "Constant":
		t, err := nd.Tensor("value")
		if err != nil {
			return errors.Wrap(err, "only the \"value\" attribute is supported")
		}
		if len(nd.Outputs) == 0 {
			return errors.New("no output")
		}
		b.consts[nd.Outputs[0]] = t
		return nil
	case "Conv":
		return b.conv(nd)
	case "Relu":
		x, err := b.input(nd, 0)
		if err != nil {
			return err
		}
		y, err := ops.ReLU(x)
		if err != nil {
			return err
		}
		return b.set(nd, y)
	case "MaxPool", "AveragePool":
		return b.pool(nd)
	case "GlobalAveragePool":
		x, err := b.input(nd, 0)
		if err != nil {
			return err
		}
		y, err := ops.GlobalAvgPool2D(x)
		if err != nil {
			return err
		}
		return b.set(nd, y)
	case "LRN":
		return b.lrn(nd)
	case "Concat":
		return b.concat(nd)
	case "Flatten":
		return b.flatten(nd)
	case "Reshape":
		return b.reshape(nd)
	case "Gemm":
		return b.gemm(nd)
	case "MatMul":
		return b.matmul(nd)
	case "Add":
		return b.add(nd)
	case "Softmax":
		return b.softmax(nd)
	case "Pad":
		return b.pad(nd)
	case "BatchNormalization":
		return b.batchnorm(nd)
	}
	return errors.Errorf("unsupported ONNX operator %q", nd.OpType)
}

// ints reads an INTS attribute of n values (def when absent).
func ints(nd *onnx.Node, name string, n int, def int64) ([]int, error) {
	d := make([]int64, n)
	for i := range d {
		d[i] = def
	}
	v, err := nd.Ints(name, d)
	if err != nil {
		return nil, err
	}
	if len(v) != n {
		return nil, errors.Errorf("attribute %s has %d values, want %d", name, len(v), n)
	}
	out := make([]int, n)
	for i, x := range v {
		if x < 0 || x > 1<<12 {
			return nil, errors.Errorf("attribute %s = %v out of range", name, v)
		}
		out[i] = int(x)
	}
	return out, nil
}

// spatial reads the attributes common to Conv and the pools: strides,
// pads (ONNX order [top, left, bottom, right]) and dilations (must be 1),
// and rejects auto_pad other than NOTSET and VALID.
func spatial(nd *onnx.Node) (strides []int, pad ops.Pad2D, err error) {
	ap, err := nd.String("auto_pad", "NOTSET")
	if err != nil {
		return nil, pad, err
	}
	if ap != "NOTSET" && ap != "VALID" && ap != "" {
		return nil, pad, errors.Errorf("auto_pad %q is not supported (use explicit pads)", ap)
	}
	if strides, err = ints(nd, "strides", 2, 1); err != nil {
		return nil, pad, err
	}
	if strides[0] == 0 || strides[1] == 0 {
		return nil, pad, errors.Errorf("zero stride %v", strides)
	}
	p, err := ints(nd, "pads", 4, 0)
	if err != nil {
		return nil, pad, err
	}
	if ap == "VALID" {
		p = []int{0, 0, 0, 0}
	}
	d, err := ints(nd, "dilations", 2, 1)
	if err != nil {
		return nil, pad, err
	}
	if d[0] != 1 || d[1] != 1 {
		return nil, pad, errors.Errorf("dilations %v are not supported", d)
	}
	return strides, ops.Pad2D{Top: p[0], Left: p[1], Bottom: p[2], Right: p[3]}, nil
}
