package convert

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
		return nil, errors.New("convert: nil ONNX model")
	}
	if err := m.Validate(); err != nil {
		return nil, errors.Wrap(err, "convert: ONNX model")
	}
	if err := m.CheckFinite(); err != nil {
		return nil, errors.Wrap(err, "convert: ONNX model")
	}
	order, err := m.Graph.TopoSort()
	if err != nil {
		return nil, errors.Wrap(err, "convert: ONNX model")
	}
	n := &Net{model: m, order: order, graphs: map[string]*netGraph{}}
	var ins []onnx.ValueInfo
	for _, in := range m.Graph.Inputs {
		if _, ok := m.Graph.Initializer(in.Name); !ok {
			ins = append(ins, in)
		}
	}
	if len(ins) != 1 {
		return nil, errors.Errorf("convert: ONNX graph has %d data inputs, want exactly 1", len(ins))
	}
	n.input = ins[0]
	if t := n.input.ElemType; t != onnx.Float && t != onnx.Undefined {
		return nil, errors.Errorf("convert: ONNX input %q has element type %v, want FLOAT", n.input.Name, t)
	}
	if len(m.Graph.Outputs) == 0 {
		return nil, errors.New("convert: ONNX graph has no outputs")
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
		return nil, errors.New("convert: nil input")
	}
	if x.Dtype() != tensor.Float32 {
		return nil, errors.Errorf("convert: input dtype %v, want float32", x.Dtype())
	}
	ng, err := n.graph([]int(x.Shape()))
	if err != nil {
		return nil, err
	}
	if err := G.Let(ng.in, x); err != nil {
		return nil, errors.Wrap(err, "convert: input")
	}
	ng.vm.Reset()
	if err := ng.vm.RunAll(); err != nil {
		return nil, errors.Wrap(err, "convert: forward")
	}
	res := make([]*tensor.Dense, len(ng.outs))
	for i, o := range ng.outs {
		d, ok := o.Value().(*tensor.Dense)
		if !ok {
			return nil, errors.Errorf("convert: output %q is not a dense tensor", n.outs[i])
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
			return nil, errors.Wrapf(err, "convert: ONNX node %q (%s)", nd.Name, nd.OpType)
		}
	}
	ng := &netGraph{g: b.g, in: in}
	for _, o := range n.outs {
		v, ok := b.vals[o]
		if !ok {
			return nil, errors.Errorf("convert: ONNX output %q is not computed from the input", o)
		}
		if v == in {
			return nil, errors.Errorf("convert: ONNX output %q is the input itself", o)
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
			return errors.Errorf("convert: input shape %v", shape)
		}
	}
	if decl == nil {
		return nil
	}
	if len(decl) != len(shape) {
		return errors.Errorf("convert: input shape %v, the model takes %v", shape, decl)
	}
	for i := 1; i < len(decl); i++ {
		if decl[i] > 0 && decl[i] != shape[i] {
			return errors.Errorf("convert: input shape %v, the model takes %v", shape, decl)
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

func (b *netBuilder) conv(nd *onnx.Node) error {
	x, err := b.input(nd, 0)
	if err != nil {
		return err
	}
	w, err := b.input(nd, 1)
	if err != nil {
		return err
	}
	var bias *G.Node
	if name := optional(nd, 2); name != "" {
		if bias, err = b.node(name); err != nil {
			return err
		}
	}
	if g, err := nd.Int("group", 1); err != nil || g != 1 {
		if err == nil {
			err = errors.Errorf("group %d is not supported (only 1)", g)
		}
		return err
	}
	ws := w.Shape()
	if len(ws) != 4 {
		return errors.Errorf("weight %v is not 4-D", ws)
	}
	if ks, err := ints(nd, "kernel_shape", 2, -1); err == nil {
		if ks[0] != ws[2] || ks[1] != ws[3] {
			return errors.Errorf("kernel_shape %v does not match the weight %v", ks, ws)
		}
	}
	st, pad, err := spatial(nd)
	if err != nil {
		return err
	}
	y, err := ops.Conv2D(x, w, bias, ops.ConvOpts{StrideH: st[0], StrideW: st[1], Pad: pad})
	if err != nil {
		return err
	}
	return b.set(nd, y)
}

func (b *netBuilder) pool(nd *onnx.Node) error {
	x, err := b.input(nd, 0)
	if err != nil {
		return err
	}
	if len(nd.Outputs) > 1 && nd.Outputs[1] != "" {
		return errors.New("the Indices output is not supported")
	}
	k, err := ints(nd, "kernel_shape", 2, 0)
	if err != nil {
		return err
	}
	st, pad, err := spatial(nd)
	if err != nil {
		return err
	}
	ceil, err := nd.Int("ceil_mode", 0)
	if err != nil {
		return err
	}
	if so, err := nd.Int("storage_order", 0); err != nil || so != 0 {
		if err == nil {
			err = errors.New("storage_order 1 is not supported")
		}
		return err
	}
	cip, err := nd.Int("count_include_pad", 0)
	if err != nil {
		return err
	}
	o := ops.PoolOpts{KernelH: k[0], KernelW: k[1], StrideH: st[0], StrideW: st[1], Pad: pad,
		CeilMode: ceil != 0, CountIncludePad: cip != 0}
	var y *G.Node
	if nd.OpType == "MaxPool" {
		y, err = ops.MaxPool2D(x, o)
	} else {
		y, err = ops.AvgPool2D(x, o)
	}
	if err != nil {
		return err
	}
	return b.set(nd, y)
}

func (b *netBuilder) lrn(nd *onnx.Node) error {
	x, err := b.input(nd, 0)
	if err != nil {
		return err
	}
	size, err := nd.Int("size", 0)
	if err != nil {
		return err
	}
	alpha, err := nd.Float("alpha", 1e-4)
	if err != nil {
		return err
	}
	beta, err := nd.Float("beta", 0.75)
	if err != nil {
		return err
	}
	bias, err := nd.Float("bias", 1)
	if err != nil {
		return err
	}
	if size <= 0 || size > 1<<16 {
		return errors.Errorf("size %d", size)
	}
	y, err := ops.LRN(x, ops.LRNOpts{Size: int(size), Alpha: float64(alpha), Beta: float64(beta), K: float64(bias)})
	if err != nil {
		return err
	}
	return b.set(nd, y)
}

func (b *netBuilder) concat(nd *onnx.Node) error {
	axis, err := nd.Int("axis", 1<<40)
	if err != nil {
		return err
	}
	var xs []*G.Node
	for i := range nd.Inputs {
		x, err := b.input(nd, i)
		if err != nil {
			return err
		}
		xs = append(xs, x)
	}
	if len(xs) == 0 {
		return errors.New("no inputs")
	}
	if len(xs) == 1 {
		return b.set(nd, xs[0])
	}
	r := int64(xs[0].Dims())
	if axis < 0 {
		axis += r
	}
	if r != 4 || axis != 1 {
		return errors.Errorf("concatenation along axis %d of rank-%d tensors is not supported (only channels of NCHW)", axis, r)
	}
	y, err := ops.ConcatChannels(xs...)
	if err != nil {
		return err
	}
	return b.set(nd, y)
}

func (b *netBuilder) flatten(nd *onnx.Node) error {
	x, err := b.input(nd, 0)
	if err != nil {
		return err
	}
	axis, err := nd.Int("axis", 1)
	if err != nil {
		return err
	}
	s := x.Shape()
	r := int64(len(s))
	if axis < 0 {
		axis += r
	}
	if axis < 0 || axis > r {
		return errors.Errorf("axis %d for a rank-%d input", axis, r)
	}
	outer, inner := 1, 1
	for i, d := range s {
		if int64(i) < axis {
			outer *= d
		} else {
			inner *= d
		}
	}
	return b.reshapeTo(nd, x, []int{outer, inner})
}

func (b *netBuilder) reshapeTo(nd *onnx.Node, x *G.Node, shape []int) error {
	if x.Shape().Eq(tensor.Shape(shape)) {
		return b.set(nd, x)
	}
	y, err := G.Reshape(x, tensor.Shape(shape))
	if err != nil {
		return err
	}
	return b.set(nd, y)
}

func (b *netBuilder) reshape(nd *onnx.Node) error {
	x, err := b.input(nd, 0)
	if err != nil {
		return err
	}
	if len(nd.Inputs) < 2 {
		return errors.New("no shape input")
	}
	st, err := b.constant(nd.Inputs[1], "shape")
	if err != nil {
		return err
	}
	if st.DataType != onnx.Int64 {
		return errors.Errorf("shape %q is %v, want INT64", st.Name, st.DataType)
	}
	allowZero, err := nd.Int("allowzero", 0)
	if err != nil {
		return err
	}
	in := x.Shape()
	out := make([]int, len(st.Ints))
	infer, known := -1, 1
	for i, d := range st.Ints {
		switch {
		case d == -1:
			if infer >= 0 {
				return errors.Errorf("shape %v has two -1 entries", st.Ints)
			}
			infer = i
			continue
		case d == 0 && allowZero == 0:
			if i >= len(in) {
				return errors.Errorf("shape %v copies dimension %d of the rank-%d input", st.Ints, i, len(in))
			}
			out[i] = in[i]
		case d > 0 && d <= 1<<31:
			out[i] = int(d)
		default:
			return errors.Errorf("shape %v has an invalid entry %d", st.Ints, d)
		}
		known *= out[i]
	}
	total := in.TotalSize()
	if infer >= 0 {
		if known == 0 || total%known != 0 {
			return errors.Errorf("cannot reshape %v to %v", in, st.Ints)
		}
		out[infer] = total / known
	} else if known != total {
		return errors.Errorf("cannot reshape %v (%d elements) to %v", in, total, st.Ints)
	}
	return b.reshapeTo(nd, x, out)
}

// floatConst returns a constant's values and shape; it must be a
// floating-point tensor.
func floatConst(t *onnx.Tensor) ([]float32, []int, error) {
	if !t.DataType.IsFloat() {
		return nil, nil, errors.Errorf("constant %q is %v, want floating point", t.Name, t.DataType)
	}
	return t.Floats, t.Shape(), nil
}

// transpose2 returns the transpose of the row-major r x c matrix a.
func transpose2(a []float32, r, c int) []float32 {
	t := make([]float32, len(a))
	for i := 0; i < r; i++ {
		for j := 0; j < c; j++ {
			t[j*r+i] = a[i*c+j]
		}
	}
	return t
}

func (b *netBuilder) newConst(name string, shape []int, data []float32) *G.Node {
	d := tensor.New(tensor.WithShape(shape...), tensor.WithBacking(data))
	return G.NewTensor(b.g, tensor.Float32, len(shape), G.WithShape(shape...), G.WithName(name), G.WithValue(d))
}

// linear builds x·Wᵀ + bias with W [out, in] (bias may be nil).
func (b *netBuilder) linear(nd *onnx.Node, x *G.Node, w []float32, out, in int, bias []float32) error {
	wn := b.newConst("linear/"+nd.Outputs[0]+"/w", []int{out, in}, w)
	var bn *G.Node
	if bias != nil {
		bn = b.newConst("linear/"+nd.Outputs[0]+"/b", []int{out}, bias)
	}
	y, err := ops.Linear(x, wn, bn)
	if err != nil {
		return err
	}
	return b.set(nd, y)
}

// gemm builds alpha·op(A)·op(B) + beta·C with B (and C) constant: a Linear
// layer with weights alpha·op(B)ᵀ and bias beta·C.
func (b *netBuilder) gemm(nd *onnx.Node) error {
	a, err := b.input(nd, 0)
	if err != nil {
		return err
	}
	if len(nd.Inputs) < 2 {
		return errors.New("no B input")
	}
	bt, err := b.constant(nd.Inputs[1], "B")
	if err != nil {
		return err
	}
	alpha, err := nd.Float("alpha", 1)
	if err != nil {
		return err
	}
	beta, err := nd.Float("beta", 1)
	if err != nil {
		return err
	}
	transA, err := nd.Int("transA", 0)
	if err != nil {
		return err
	}
	transB, err := nd.Int("transB", 0)
	if err != nil {
		return err
	}
	bv, bs, err := floatConst(bt)
	if err != nil {
		return err
	}
	if len(bs) != 2 || a.Dims() != 2 {
		return errors.Errorf("Gemm of %v and %v: both must be matrices", a.Shape(), bs)
	}
	if transA != 0 {
		if a, err = G.Transpose(a, 1, 0); err != nil {
			return err
		}
	}
	// W is [out, in] = op(B)ᵀ scaled by alpha.
	var w []float32
	var out, in int
	if transB != 0 {
		out, in = bs[0], bs[1]
		w = append([]float32(nil), bv...)
	} else {
		in, out = bs[0], bs[1]
		w = transpose2(bv, in, out)
	}
	for i := range w {
		w[i] *= alpha
	}
	if a.Shape()[1] != in {
		return errors.Errorf("Gemm: A %v does not match B %v (transB %d)", a.Shape(), bs, transB)
	}
	var bias []float32
	var full *G.Node
	if c := optional(nd, 2); c != "" && beta != 0 {
		ct, err := b.constant(c, "C")
		if err != nil {
			return err
		}
		cv, cs, err := floatConst(ct)
		if err != nil {
			return err
		}
		m := a.Shape()[0]
		if bias, err = broadcastRow(cv, cs, out); err != nil {
			// A full [M, N] C is added after the product.
			if len(cs) != 2 || cs[0] != m || cs[1] != out {
				return errors.Errorf("Gemm: C of shape %v does not broadcast to [%d %d]", cs, m, out)
			}
			full = b.newConst("gemm/"+nd.Outputs[0]+"/c", []int{m, out}, scaled(cv, beta))
		} else {
			bias = scaled(bias, beta)
		}
	}
	if full == nil {
		return b.linear(nd, a, w, out, in, bias)
	}
	if err := b.linear(nd, a, w, out, in, nil); err != nil {
		return err
	}
	y, err := G.Add(b.vals[nd.Outputs[0]], full)
	if err != nil {
		return err
	}
	return b.set(nd, y)
}

func scaled(v []float32, s float32) []float32 {
	o := make([]float32, len(v))
	for i, x := range v {
		o[i] = x * s
	}
	return o
}

// broadcastRow expands a constant of shape [], [1], [n] or [1, n] to a row of
// n values.
func broadcastRow(v []float32, s []int, n int) ([]float32, error) {
	size := 1
	for _, d := range s {
		size *= d
	}
	switch {
	case size == 1 && len(v) == 1:
		r := make([]float32, n)
		for i := range r {
			r[i] = v[0]
		}
		return r, nil
	case (len(s) == 1 && s[0] == n) || (len(s) == 2 && s[0] == 1 && s[1] == n):
		return append([]float32(nil), v...), nil
	}
	return nil, errors.Errorf("shape %v is not a row of %d", s, n)
}

func (b *netBuilder) matmul(nd *onnx.Node) error {
	a, err := b.input(nd, 0)
	if err != nil {
		return err
	}
	if len(nd.Inputs) < 2 {
		return errors.New("no B input")
	}
	if bt, ok := b.consts[nd.Inputs[1]]; ok {
		bv, bs, err := floatConst(bt)
		if err != nil {
			return err
		}
		if len(bs) != 2 || a.Dims() != 2 || a.Shape()[1] != bs[0] {
			return errors.Errorf("MatMul of %v and %v: only [M K]·[K N] is supported", a.Shape(), bs)
		}
		return b.linear(nd, a, transpose2(bv, bs[0], bs[1]), bs[1], bs[0], nil)
	}
	c, err := b.input(nd, 1)
	if err != nil {
		return err
	}
	if a.Dims() != 2 || c.Dims() != 2 {
		return errors.Errorf("MatMul of %v and %v: only matrices are supported", a.Shape(), c.Shape())
	}
	y, err := G.Mul(a, c)
	if err != nil {
		return err
	}
	return b.set(nd, y)
}

// add builds a + b: two computed values of one shape, or a computed value
// and a constant that broadcasts to its shape (numpy rules).
func (b *netBuilder) add(nd *onnx.Node) error {
	if len(nd.Inputs) != 2 {
		return errors.Errorf("%d inputs, want 2", len(nd.Inputs))
	}
	_, c0 := b.consts[nd.Inputs[0]]
	_, c1 := b.consts[nd.Inputs[1]]
	if c0 && c1 {
		return errors.New("adding two constants is not supported")
	}
	xi, ci := 0, 1
	if c0 {
		xi, ci = 1, 0
	}
	x, err := b.input(nd, xi)
	if err != nil {
		return err
	}
	var y *G.Node
	if c0 || c1 {
		t := b.consts[nd.Inputs[ci]]
		v, s, err := floatConst(t)
		if err != nil {
			return err
		}
		full, err := broadcastTo(v, s, x.Shape())
		if err != nil {
			return err
		}
		cn := b.newConst("add/"+nd.Outputs[0]+"/c", x.Shape(), full)
		y, err = G.Add(x, cn)
		if err != nil {
			return err
		}
	} else {
		z, err := b.input(nd, ci)
		if err != nil {
			return err
		}
		if !x.Shape().Eq(z.Shape()) {
			return errors.Errorf("adding %v and %v: computed values must have equal shapes", x.Shape(), z.Shape())
		}
		if y, err = G.Add(x, z); err != nil {
			return err
		}
	}
	return b.set(nd, y)
}

// broadcastTo expands v of shape s to shape to (numpy broadcasting, s not
// longer than to).
func broadcastTo(v []float32, s []int, to []int) ([]float32, error) {
	if len(s) > len(to) {
		return nil, errors.Errorf("constant of shape %v does not broadcast to %v", s, to)
	}
	// Align s on the right.
	ps := make([]int, len(to))
	for i := range ps {
		ps[i] = 1
	}
	copy(ps[len(to)-len(s):], s)
	for i := range to {
		if ps[i] != 1 && ps[i] != to[i] {
			return nil, errors.Errorf("constant of shape %v does not broadcast to %v", s, to)
		}
	}
	total := 1
	for _, d := range to {
		total *= d
	}
	out := make([]float32, total)
	idx := make([]int, len(to))
	for k := range out {
		off := 0
		for i := range to {
			j := idx[i]
			if ps[i] == 1 {
				j = 0
			}
			off = off*ps[i] + j
		}
		out[k] = v[off]
		for i := len(to) - 1; i >= 0; i-- {
			idx[i]++
			if idx[i] < to[i] {
				break
			}
			idx[i] = 0
		}
	}
	return out, nil
}

func (b *netBuilder) softmax(nd *onnx.Node) error {
	x, err := b.input(nd, 0)
	if err != nil {
		return err
	}
	opset := b.net.model.Opset()
	def := int64(-1)
	if opset < 13 {
		def = 1
	}
	axis, err := nd.Int("axis", def)
	if err != nil {
		return err
	}
	s := x.Shape()
	r := int64(len(s))
	if axis < 0 {
		axis += r
	}
	// Before opset 13 Softmax flattens to [prod(s[:axis]), prod(s[axis:])];
	// from 13 it normalises along one axis, the same when the later axes
	// have size 1.
	ok := axis == r-1
	if opset < 13 && axis >= 0 && axis < r {
		ok = true
	}
	if !ok {
		for _, d := range s[axis+1:] {
			ok = d == 1
			if !ok {
				break
			}
		}
		if axis < 0 || axis >= r {
			ok = false
		}
	}
	if !ok {
		return errors.Errorf("softmax along axis %d of %v is not supported", axis, s)
	}
	outer, inner := 1, 1
	for i, d := range s {
		if int64(i) < axis {
			outer *= d
		} else {
			inner *= d
		}
	}
	y := x
	if r != 2 || s[0] != outer {
		if y, err = G.Reshape(x, tensor.Shape{outer, inner}); err != nil {
			return err
		}
	}
	if y, err = ops.Softmax(y); err != nil {
		return err
	}
	if r != 2 || s[0] != outer {
		if y, err = G.Reshape(y, s.Clone()); err != nil {
			return err
		}
	}
	return b.set(nd, y)
}

func (b *netBuilder) batchnorm(nd *onnx.Node) error {
	x, err := b.input(nd, 0)
	if err != nil {
		return err
	}
	if len(nd.Inputs) != 5 {
		return errors.Errorf("%d inputs, want 5", len(nd.Inputs))
	}
	if tm, err := nd.Int("training_mode", 0); err != nil || tm != 0 {
		if err == nil {
			err = errors.New("training_mode 1 is not supported (inference only)")
		}
		return err
	}
	eps, err := nd.Float("epsilon", 1e-5)
	if err != nil {
		return err
	}
	if x.Dims() != 4 {
		return errors.Errorf("input %v is not NCHW", x.Shape())
	}
	c := x.Shape()[1]
	var vals [4][]float32
	for i, what := range []string{"scale", "B", "mean", "var"} {
		t, err := b.constant(nd.Inputs[i+1], what)
		if err != nil {
			return err
		}
		v, s, err := floatConst(t)
		if err != nil {
			return err
		}
		if len(s) != 1 || s[0] != c {
			return errors.Errorf("%s %q has shape %v, want [%d]", what, t.Name, s, c)
		}
		vals[i] = v
	}
	for i, v := range vals[3] {
		if v < 0 {
			return errors.Errorf("negative variance %v in channel %d", v, i)
		}
	}
	st := &ops.BNStats{Mean: f64(vals[2]), Var: f64(vals[3]), Eps: float64(eps)}
	if st.Eps <= 0 {
		return errors.Errorf("epsilon %v must be positive", eps)
	}
	gamma := b.newConst("bn/"+nd.Outputs[0]+"/scale", []int{c}, append([]float32(nil), vals[0]...))
	beta := b.newConst("bn/"+nd.Outputs[0]+"/shift", []int{c}, append([]float32(nil), vals[1]...))
	y, err := ops.BatchNorm(x, gamma, beta, st, false)
	if err != nil {
		return err
	}
	return b.set(nd, y)
}

func f64(v []float32) []float64 {
	o := make([]float64, len(v))
	for i, x := range v {
		o[i] = float64(x)
	}
	return o
}

func (b *netBuilder) pad(nd *onnx.Node) error {
	x, err := b.input(nd, 0)
	if err != nil {
		return err
	}
	mode, err := nd.String("mode", "constant")
	if err != nil {
		return err
	}
	if mode != "constant" {
		return errors.Errorf("mode %q is not supported (only constant)", mode)
	}
	var pads []int64
	var value float32
	if b.net.model.Opset() < 11 {
		if pads, err = nd.Ints("pads", nil); err != nil {
			return err
		}
		if value, err = nd.Float("value", 0); err != nil {
			return err
		}
	} else {
		if len(nd.Inputs) < 2 || nd.Inputs[1] == "" {
			return errors.New("no pads input")
		}
		pt, err := b.constant(nd.Inputs[1], "pads")
		if err != nil {
			return err
		}
		if pt.DataType != onnx.Int64 {
			return errors.Errorf("pads %q is %v, want INT64", pt.Name, pt.DataType)
		}
		pads = pt.Ints
		if cv := optional(nd, 2); cv != "" {
			ct, err := b.constant(cv, "constant_value")
			if err != nil {
				return err
			}
			v, _, err := floatConst(ct)
			if err != nil {
				return err
			}
			if len(v) != 1 {
				return errors.Errorf("constant_value has %d values", len(v))
			}
			value = v[0]
		}
		if ax := optional(nd, 3); ax != "" {
			return errors.New("the axes input is not supported")
		}
	}
	if x.Dims() != 4 || len(pads) != 8 {
		return errors.Errorf("pads %v for input %v: only 4-D inputs are supported", pads, x.Shape())
	}
	if pads[0] != 0 || pads[1] != 0 || pads[4] != 0 || pads[5] != 0 {
		return errors.Errorf("pads %v: only the spatial axes may be padded", pads)
	}
	for _, p := range pads {
		if p < 0 || p > 1<<12 {
			return errors.Errorf("pads %v: negative or huge padding is not supported", pads)
		}
	}
	y, err := padNode(x, ops.Pad2D{Top: int(pads[2]), Left: int(pads[3]), Bottom: int(pads[6]), Right: int(pads[7])}, value)
	if err != nil {
		return err
	}
	return b.set(nd, y)
}
