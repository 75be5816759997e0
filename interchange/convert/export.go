package convert

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/goinception/googlenet/inception"
	"github.com/goinception/googlenet/interchange/onnx"
	"github.com/goinception/googlenet/ops"
	"github.com/goinception/googlenet/preprocess"
)

// ExportOpset is the ONNX operator set version that ExportONNX writes.
const ExportOpset = 13

// Metadata keys written by ExportONNX (ModelProto.metadata_props) and read
// back by ImportONNX.
const (
	MetaVariant = "googlenet.variant"
	MetaConfig  = "googlenet.config" // inception.Config as JSON, without Init and Dtype
	MetaLabels  = "googlenet.labels" // JSON array of class names
	MetaMeans   = "googlenet.means"  // JSON array, 0..255 scale
	MetaStds    = "googlenet.stds"   // JSON array, 0..255 scale
)

// ExportOptions configures ExportONNX. The zero value writes logits.
type ExportOptions struct {
	// Softmax appends a Softmax node: the graph's output is then "prob"
	// (class probabilities) instead of "logits".
	Softmax bool
	// Labels, Means and Stds are stored as metadata (optional).
	Labels      []string
	Means, Stds []float32
	// Input is the input contract, stored under MetaInput (optional).
	Input *preprocess.Contract
	// Outputs are more graph outputs after the logits (or prob): layers of
	// the main path by the names inception.Model.Features takes ("pool5",
	// "inception_4e"), each an output of that name with the layer's shape
	// [N, ...]. Empty writes the logits only.
	Outputs []string
}

// ExportONNX writes the inference graph of m (no auxiliary heads, dropout
// off, batch norm with running statistics) as an ONNX model at opset 13:
// input "data" [N, C, H, W] (N symbolic), output "logits" [N, classes].
// Initializers carry our parameter names ("inception_4a/3x3/w") and the
// batch-norm statistics ("<layer>/bn/running_mean"); float64 models are
// written as float32. The graph is read from the model's Gorgonia inference
// graph op by op (see ops.Describe), so whatever the configuration, the
// file computes what Forward computes.
func ExportONNX(m *inception.Model, o ExportOptions) (*onnx.Model, error) {
	if m == nil {
		return nil, errors.New("convert: nil model")
	}
	g, err := m.InferenceGraph(1)
	var extra []*G.Node
	if err == nil && len(o.Outputs) > 0 {
		var nodes []*G.Node
		g, nodes, err = m.FeatureGraph(1, append([]string{"loss3/classifier"}, o.Outputs...)...)
		if err == nil {
			extra = nodes[1:]
		}
	}
	if err != nil {
		return nil, errors.Wrap(err, "convert: export")
	}
	cfg := m.Config()
	bnNames := map[*ops.BNStats]string{}
	for _, e := range m.BNStats() {
		bnNames[e.Stats] = e.Name
	}
	e := &exporter{g: g, names: map[int64]string{}, bnNames: bnNames, inits: map[string]bool{}}
	out := &onnx.Model{
		IRVersion:    8,
		Opsets:       []onnx.OpsetImport{{Domain: "", Version: ExportOpset}},
		ProducerName: "googlenet (github.com/goinception/googlenet)",
		Graph:        onnx.Graph{Name: "googlenet_" + cfg.Variant},
		Metadata:     map[string]string{},
	}
	e.out = &out.Graph
	sorted, err := G.Sort(g)
	if err != nil {
		return nil, errors.Wrap(err, "convert: export: sort")
	}
	roots := g.Roots()
	if len(roots) != 1 {
		return nil, errors.Errorf("convert: export: inference graph has %d outputs, want 1", len(roots))
	}
	for i := len(sorted) - 1; i >= 0; i-- {
		if err := e.node(sorted[i]); err != nil {
			return nil, errors.Wrapf(err, "convert: export %v", sorted[i].Name())
		}
	}
	if e.input == nil {
		return nil, errors.New("convert: export: no input node")
	}
	// Rename the last value to the output name.
	final := e.names[roots[0].ID()]
	outName := "logits"
	if o.Softmax {
		out.Graph.Nodes = append(out.Graph.Nodes, &onnx.Node{Name: "prob", OpType: "Softmax", Inputs: []string{final},
			Outputs: []string{"prob"}, Attrs: []onnx.Attribute{{Name: "axis", Type: onnx.AttrInt, I: 1}}})
		outName = "prob"
	} else {
		for _, nd := range out.Graph.Nodes {
			for i, v := range nd.Outputs {
				if v == final {
					nd.Outputs[i] = outName
				}
			}
		}
	}
	batch := onnx.Dim{Value: -1, Param: "N"}
	var extraOuts []onnx.ValueInfo
	for i, n := range extra {
		name, v := o.Outputs[i], e.names[n.ID()]
		if name == outName || name == "data" || v == "" || v == final {
			return nil, errors.Errorf("convert: export: output %q: name taken or layer not exported", name)
		}
		// The layer's value gets the output's name wherever it appears.
		for _, nd := range out.Graph.Nodes {
			for j := range nd.Outputs {
				if nd.Outputs[j] == v {
					nd.Outputs[j] = name
				}
			}
			for j := range nd.Inputs {
				if nd.Inputs[j] == v {
					nd.Inputs[j] = name
				}
			}
		}
		e.names[n.ID()] = name
		dims := []onnx.Dim{batch}
		for _, d := range n.Shape()[1:] {
			dims = append(dims, onnx.Dim{Value: int64(d)})
		}
		extraOuts = append(extraOuts, onnx.ValueInfo{Name: name, ElemType: onnx.Float, Shape: dims})
	}
	s := e.input.Shape()
	out.Graph.Inputs = []onnx.ValueInfo{{Name: "data", ElemType: onnx.Float,
		Shape: []onnx.Dim{batch, {Value: int64(s[1])}, {Value: int64(s[2])}, {Value: int64(s[3])}}}}
	out.Graph.Outputs = []onnx.ValueInfo{{Name: outName, ElemType: onnx.Float,
		Shape: []onnx.Dim{batch, {Value: int64(cfg.Classes)}}}}
	out.Graph.Outputs = append(out.Graph.Outputs, extraOuts...)

	c := cfg
	c.Init, c.Dtype = nil, tensor.Dtype{}
	cj, err := json.Marshal(c)
	if err != nil {
		return nil, errors.Wrap(err, "convert: export: config")
	}
	out.Metadata[MetaVariant] = cfg.Variant
	out.Metadata[MetaConfig] = string(cj)
	for k, v := range map[string]any{MetaLabels: o.Labels, MetaMeans: o.Means, MetaStds: o.Stds} {
		if v == nil || fmt.Sprint(v) == "[]" {
			continue
		}
		b, err := json.Marshal(v)
		if err != nil {
			return nil, errors.Wrap(err, "convert: export: metadata")
		}
		out.Metadata[k] = string(b)
	}
	if o.Input != nil {
		if err := o.Input.Fits(cfg.InChannels, cfg.InputSize); err != nil {
			return nil, errors.Wrap(err, "convert: export")
		}
		if out.Metadata[MetaInput], err = o.Input.Encode(); err != nil {
			return nil, errors.Wrap(err, "convert: export")
		}
	}
	if err := out.Validate(); err != nil {
		return nil, errors.Wrap(err, "convert: export produced an invalid model")
	}
	return out, nil
}

type exporter struct {
	g       *G.ExprGraph
	out     *onnx.Graph
	names   map[int64]string
	bnNames map[*ops.BNStats]string
	inits   map[string]bool
	input   *G.Node
	count   int
}

func (e *exporter) children(n *G.Node) []*G.Node {
	it := e.g.From(n.ID())
	var cs []*G.Node
	for it.Next() {
		cs = append(cs, it.Node().(*G.Node))
	}
	return cs
}

// initializer adds v (float32 or float64 values) as a float32 initializer
// named name, once.
func (e *exporter) initializer(name string, shape []int, v any) error {
	if e.inits[name] {
		return nil
	}
	var f []float32
	switch d := v.(type) {
	case []float32:
		f = append([]float32(nil), d...)
	case []float64:
		f = make([]float32, len(d))
		for i, x := range d {
			f[i] = float32(x)
		}
	default:
		return errors.Errorf("tensor %q of type %T", name, v)
	}
	dims := make([]int64, len(shape))
	for i, d := range shape {
		dims[i] = int64(d)
	}
	e.out.Initializers = append(e.out.Initializers, &onnx.Tensor{Name: name, DataType: onnx.Float, Dims: dims, Floats: f})
	e.inits[name] = true
	return nil
}

func (e *exporter) fresh(kind string) string {
	e.count++
	return fmt.Sprintf("%s_%d", kind, e.count)
}

func (e *exporter) emit(op string, ins []string, attrs ...onnx.Attribute) string {
	out := e.fresh(strings.ToLower(op))
	e.out.Nodes = append(e.out.Nodes, &onnx.Node{Name: out, OpType: op, Inputs: ins, Outputs: []string{out}, Attrs: attrs})
	return out
}

func aInts(name string, v ...int) onnx.Attribute {
	a := onnx.Attribute{Name: name, Type: onnx.AttrInts}
	for _, x := range v {
		a.Ints = append(a.Ints, int64(x))
	}
	return a
}

func aInt(name string, v int) onnx.Attribute {
	return onnx.Attribute{Name: name, Type: onnx.AttrInt, I: int64(v)}
}

func aFloat(name string, v float64) onnx.Attribute {
	return onnx.Attribute{Name: name, Type: onnx.AttrFloat, F: float32(v)}
}

func (e *exporter) node(n *G.Node) error {
	if n.Op() == nil {
		// An input: the data or a parameter.
		if n.Name() == "data" {
			e.input = n
			e.names[n.ID()] = "data"
			return nil
		}
		if n.Value() == nil {
			return errors.Errorf("input node %q has no value", n.Name())
		}
		if err := e.initializer(n.Name(), n.Shape(), n.Value().Data()); err != nil {
			return err
		}
		e.names[n.ID()] = n.Name()
		return nil
	}
	cs := e.children(n)
	ins := make([]string, len(cs))
	for i, c := range cs {
		name, ok := e.names[c.ID()]
		if !ok {
			return errors.Errorf("input %q not exported yet", c.Name())
		}
		ins[i] = name
	}
	info, ok := ops.Describe(n.Op())
	if !ok {
		// Flatten is Gorgonia's reshape.
		if strings.HasPrefix(n.Op().String(), "Reshape") && len(cs) == 1 && n.Dims() == 2 && cs[0].Shape()[0] == n.Shape()[0] {
			e.names[n.ID()] = e.emit("Flatten", ins, aInt("axis", 1))
			return nil
		}
		return errors.Errorf("operation %v has no ONNX export", n.Op())
	}
	in := cs[0].Shape()
	var out string
	switch info.Kind {
	case "conv":
		ws := cs[1].Shape()
		c := info.Conv
		out = e.emit("Conv", ins, aInts("kernel_shape", ws[2], ws[3]), aInts("strides", c.StrideH, c.StrideW),
			aInts("pads", c.Pad.Top, c.Pad.Left, c.Pad.Bottom, c.Pad.Right), aInts("dilations", 1, 1), aInt("group", 1))
		if c.ReLU {
			out = e.emit("Relu", []string{out})
		}
	case "relu":
		out = e.emit("Relu", ins)
	case "maxpool", "avgpool":
		p := info.Pool
		attrs := []onnx.Attribute{aInts("kernel_shape", p.KernelH, p.KernelW), aInts("strides", p.StrideH, p.StrideW),
			aInts("pads", p.Pad.Top, p.Pad.Left, p.Pad.Bottom, p.Pad.Right), aInt("ceil_mode", b2i(p.CeilMode))}
		op := "MaxPool"
		if info.Kind == "avgpool" {
			op = "AveragePool"
			attrs = append(attrs, aInt("count_include_pad", b2i(p.CountIncludePad)))
		}
		out = e.emit(op, ins, attrs...)
	case "globalavgpool":
		out = e.emit("GlobalAveragePool", ins)
	case "adaptiveavgpool":
		switch {
		case info.OutH == 1 && info.OutW == 1:
			out = e.emit("GlobalAveragePool", ins)
		case in[2]%info.OutH == 0 && in[3]%info.OutW == 0:
			kh, kw := in[2]/info.OutH, in[3]/info.OutW
			out = e.emit("AveragePool", ins, aInts("kernel_shape", kh, kw), aInts("strides", kh, kw))
		default:
			return errors.Errorf("adaptive average pool %v -> %dx%d has no ONNX equivalent", in, info.OutH, info.OutW)
		}
	case "lrn":
		l := info.LRN
		out = e.emit("LRN", ins, aInt("size", l.Size), aFloat("alpha", l.Alpha), aFloat("beta", l.Beta), aFloat("bias", l.K))
	case "linear":
		out = e.emit("Gemm", ins, aInt("transB", 1))
	case "concat":
		out = e.emit("Concat", ins, aInt("axis", 1))
	case "softmax":
		out = e.emit("Softmax", ins, aInt("axis", 1))
	case "batchnorm":
		if info.Training {
			return errors.New("batch norm in training mode")
		}
		name, ok := e.bnNames[info.BN]
		if !ok {
			return errors.New("batch norm statistics that belong to no layer")
		}
		c := []int{len(info.BN.Mean)}
		mean, vr := name+"/running_mean", name+"/running_var"
		if err := e.initializer(mean, c, info.BN.Mean); err != nil {
			return err
		}
		if err := e.initializer(vr, c, info.BN.Var); err != nil {
			return err
		}
		eps := info.BN.Eps
		if eps == 0 {
			eps = ops.DefaultBNEps
		}
		out = e.emit("BatchNormalization", append(ins, mean, vr), aFloat("epsilon", eps))
	default:
		return errors.Errorf("operation %s has no ONNX export", info.Kind)
	}
	e.names[n.ID()] = out
	return nil
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
