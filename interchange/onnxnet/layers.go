package onnxnet

import (
	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/goinception/googlenet/interchange/onnx"
	"github.com/goinception/googlenet/ops"
)

// This file builds the layer operators: Conv, pooling, LRN, Concat,
// Flatten, Reshape, BatchNormalization and Pad.

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
