package onnxexport

import (
	"fmt"

	"github.com/pkg/errors"

	"github.com/goinception/googlenet/graph"
	"github.com/goinception/googlenet/interchange/onnx"
	"github.com/goinception/googlenet/ops"
)

// exporter writes the layers of a description into an ONNX graph.
type exporter struct {
	src    Source
	g      *onnx.Graph
	byName map[string]graph.Layer
	// value is the ONNX value holding each exported layer's output.
	value map[string]string
	// taken are the names in use: layers, parameters, statistics and
	// intermediate values.
	taken map[string]bool
	bn    map[string]*ops.BNStats
	inits map[string]bool
}

// fresh returns an unused value name made from base.
func (e *exporter) fresh(base string) string {
	name := base
	for i := 2; e.taken[name]; i++ {
		name = fmt.Sprintf("%s_%d", base, i)
	}
	e.taken[name] = true
	return name
}

// emit appends a node computing op of ins into the value out.
func (e *exporter) emit(op string, ins []string, out string, attrs ...onnx.Attribute) string {
	e.g.Nodes = append(e.g.Nodes, &onnx.Node{Name: out, OpType: op, Inputs: ins, Outputs: []string{out}, Attrs: attrs})
	return out
}

// param adds the parameter name as an initializer (once) and returns its
// value name.
func (e *exporter) param(name string) (string, error) {
	p, ok := e.src.Param(name)
	if !ok {
		return "", errors.Errorf("parameter %s is not in the network", name)
	}
	v := p.Value
	if v == nil {
		return "", errors.Errorf("parameter %s has no value (a shape-only build?)", name)
	}
	return name, e.initializer(name, p.Shape, v.Data())
}

// initializer adds v (float32 or float64 values) as a float32 initializer
// named name, once.
func (e *exporter) initializer(name string, shape []int, v any) error {
	if e.inits == nil {
		e.inits = map[string]bool{}
	}
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
	e.g.Initializers = append(e.g.Initializers, &onnx.Tensor{Name: name, DataType: onnx.Float, Dims: dims, Floats: f})
	e.inits[name] = true
	e.taken[name] = true
	return nil
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

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

func orOne(v int) int {
	if v == 0 {
		return 1
	}
	return v
}

// layer writes the nodes of one described layer; its output value is
// named after the layer.
func (e *exporter) layer(l graph.Layer) error {
	ins := make([]string, len(l.Inputs))
	for i, in := range l.Inputs {
		v, ok := e.value[in]
		if !ok {
			return errors.Errorf("input %q is not exported before it", in)
		}
		ins[i] = v
	}
	if len(ins) == 0 {
		return errors.New("no input")
	}
	if l.Type != graph.KindConcat && len(ins) != 1 {
		return errors.Errorf("%d inputs, want 1", len(ins))
	}
	out := l.Name
	var err error
	switch l.Type {
	case graph.KindConv:
		out, err = e.conv(l, ins[0])
	case graph.KindBatchNorm:
		if len(l.ParamNames) != 2 {
			return errors.Errorf("parameters %v, want scale and shift", l.ParamNames)
		}
		out, err = e.batchNorm(l.Name, ins[0], l.ParamNames[0], l.ParamNames[1], l.Name)
	case graph.KindReLU:
		e.emit("Relu", ins, out)
	case graph.KindMaxPool, graph.KindAvgPool:
		p := l.Pool.Ops()
		attrs := []onnx.Attribute{aInts("kernel_shape", p.KernelH, p.KernelW), aInts("strides", p.StrideH, p.StrideW),
			aInts("pads", p.Pad.Top, p.Pad.Left, p.Pad.Bottom, p.Pad.Right), aInt("ceil_mode", b2i(p.CeilMode))}
		op := "MaxPool"
		if l.Type == graph.KindAvgPool {
			op = "AveragePool"
			attrs = append(attrs, aInt("count_include_pad", b2i(p.CountIncludePad)))
		}
		e.emit(op, ins, out, attrs...)
	case graph.KindGlobalAvgPool:
		e.emit("GlobalAveragePool", ins, out)
	case graph.KindAdaptiveAvgPool:
		in, a := l.InShapes[0], l.Adaptive
		switch {
		case a.OutH == 1 && a.OutW == 1:
			e.emit("GlobalAveragePool", ins, out)
		case len(in) == 4 && in[2]%a.OutH == 0 && in[3]%a.OutW == 0:
			kh, kw := in[2]/a.OutH, in[3]/a.OutW
			e.emit("AveragePool", ins, out, aInts("kernel_shape", kh, kw), aInts("strides", kh, kw))
		default:
			return errors.Errorf("adaptive average pool %v -> %dx%d has uneven windows, which ONNX cannot express", in, a.OutH, a.OutW)
		}
	case graph.KindLRN:
		r := l.LRN
		e.emit("LRN", ins, out, aInt("size", r.Size), aFloat("alpha", r.Alpha), aFloat("beta", r.Beta), aFloat("bias", r.K))
	case graph.KindDropout:
		// The identity at inference: the layer's output is its input.
		out = ins[0]
	case graph.KindFlatten:
		e.emit("Flatten", ins, out, aInt("axis", 1))
	case graph.KindLinear:
		out, err = e.linear(l, ins[0])
	case graph.KindConcat:
		e.emit("Concat", ins, out, aInt("axis", 1))
	default:
		return errors.Errorf("kind %q has no ONNX export", l.Type)
	}
	if err != nil {
		return err
	}
	e.value[l.Name] = out
	return nil
}

// conv writes a convolution with its optional bias, batch norm and ReLU.
func (e *exporter) conv(l graph.Layer, x string) (string, error) {
	c := l.Conv
	bias := !c.NoBias && !c.BatchNorm
	want := 1 + b2i(bias) + 2*b2i(c.BatchNorm)
	if len(l.ParamNames) != want {
		return "", errors.Errorf("parameters %v, want %d", l.ParamNames, want)
	}
	ins := []string{x}
	for _, p := range l.ParamNames[:1+b2i(bias)] {
		v, err := e.param(p)
		if err != nil {
			return "", err
		}
		ins = append(ins, v)
	}
	k, s, p := c.Kernel, orOne(c.Stride), c.Pad
	attrs := []onnx.Attribute{aInts("kernel_shape", k, k), aInts("strides", s, s), aInts("pads", p, p, p, p),
		aInts("dilations", 1, 1), aInt("group", 1)}
	last := !c.BatchNorm && !c.ReLU
	y := e.emit("Conv", ins, e.name(l.Name, "conv", last), attrs...)
	if c.BatchNorm {
		var err error
		ps := l.ParamNames[1+b2i(bias):]
		if y, err = e.batchNorm(e.name(l.Name, "bn", !c.ReLU), y, ps[0], ps[1], l.Name+"/bn"); err != nil {
			return "", err
		}
	}
	if c.ReLU {
		y = e.emit("Relu", []string{y}, l.Name)
	}
	return y, nil
}

// name returns the layer's own name for its last node, else a fresh name
// for an intermediate value.
func (e *exporter) name(layer, part string, last bool) string {
	if last {
		return layer
	}
	return e.fresh(layer + "/" + part)
}

// batchNorm writes BatchNormalization of x into out with the parameters
// scale and shift and the running statistics registered as stats.
func (e *exporter) batchNorm(out, x, scale, shift, stats string) (string, error) {
	st, ok := e.bn[stats]
	if !ok {
		return "", errors.Errorf("no running statistics %s", stats)
	}
	ins := []string{x}
	for _, p := range []string{scale, shift} {
		v, err := e.param(p)
		if err != nil {
			return "", err
		}
		ins = append(ins, v)
	}
	c := []int{len(st.Mean)}
	mean, vr := stats+"/running_mean", stats+"/running_var"
	if err := e.initializer(mean, c, st.Mean); err != nil {
		return "", err
	}
	if err := e.initializer(vr, c, st.Var); err != nil {
		return "", err
	}
	eps := st.Eps
	if eps == 0 {
		eps = ops.DefaultBNEps
	}
	return e.emit("BatchNormalization", append(ins, mean, vr), out, aFloat("epsilon", eps)), nil
}

// linear writes x·Wᵀ + b as a Gemm, then its optional ReLU.
func (e *exporter) linear(l graph.Layer, x string) (string, error) {
	o := l.Linear
	want := 2 - b2i(o.NoBias)
	if len(l.ParamNames) != want {
		return "", errors.Errorf("parameters %v, want %d", l.ParamNames, want)
	}
	ins := []string{x}
	for _, p := range l.ParamNames {
		v, err := e.param(p)
		if err != nil {
			return "", err
		}
		ins = append(ins, v)
	}
	y := e.emit("Gemm", ins, e.name(l.Name, "gemm", !o.ReLU), aInt("transB", 1))
	if o.ReLU {
		y = e.emit("Relu", []string{y}, l.Name)
	}
	return y, nil
}
