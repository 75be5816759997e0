package ops

import (
	"github.com/chewxy/hm"
	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// convGeomFor validates shapes and options and returns the geometry.
func convGeomFor(xs, ws tensor.Shape, o ConvOpts) (ConvGeom, error) {
	sh, sw := o.StrideH, o.StrideW
	if sh == 0 {
		sh = 1
	}
	if sw == 0 {
		sw = 1
	}
	if sh < 0 || sw < 0 {
		return ConvGeom{}, errors.Errorf("negative stride %dx%d", o.StrideH, o.StrideW)
	}
	p := o.Pad
	if p.Top < 0 || p.Bottom < 0 || p.Left < 0 || p.Right < 0 {
		return ConvGeom{}, errors.Errorf("negative padding %+v", p)
	}
	g := ConvGeom{
		N: xs[0], C: xs[1], H: xs[2], W: xs[3],
		K: ws[0], R: ws[2], S: ws[3],
		StrideH: sh, StrideW: sw, PadTop: p.Top, PadLeft: p.Left,
	}
	if ws[1] != g.C {
		return ConvGeom{}, errors.Errorf("filter %v expects %d input channels, input %v has %d", ws, ws[1], xs, g.C)
	}
	if g.R <= 0 || g.S <= 0 || g.K <= 0 {
		return ConvGeom{}, errors.Errorf("empty filter %v", ws)
	}
	ph, pw := g.H+p.Top+p.Bottom, g.W+p.Left+p.Right
	if ph < g.R || pw < g.S {
		return ConvGeom{}, errors.Errorf("padded input %dx%d smaller than kernel %dx%d", ph, pw, g.R, g.S)
	}
	g.OutH = (ph-g.R)/sh + 1
	g.OutW = (pw-g.S)/sw + 1
	return g, nil
}

// convParams are the fields of a convolution that change its output.
type convParams struct {
	G           ConvGeom
	PadBottom   int
	PadRight    int
	Bias, ReLU  bool
	NoInputGrad bool
}

// convOp is y = conv(x, w) (+ b) (then ReLU). float32 runs on CurrentEngine()
// at run time, float64 on the generic reference kernels.
type convOp struct {
	opMeta
	p   convParams
	out outBuf
}

var (
	_ G.Op   = (*convOp)(nil)
	_ G.SDOp = (*convOp)(nil)
)

func newConv(x, w, b *G.Node, o ConvOpts) (*G.Node, error) {
	ins := []*G.Node{x, w}
	if b != nil {
		ins = append(ins, b)
	}
	if _, err := checkFloat(ins...); err != nil {
		return nil, errors.Wrap(err, "ops.Conv2D")
	}
	if err := checkRank(x, 4, "input"); err != nil {
		return nil, errors.Wrap(err, "ops.Conv2D")
	}
	if err := checkRank(w, 4, "filter"); err != nil {
		return nil, errors.Wrap(err, "ops.Conv2D")
	}
	g, err := convGeomFor(shapeOf(x), shapeOf(w), o)
	if err != nil {
		return nil, errors.Wrap(err, "ops.Conv2D")
	}
	if b != nil {
		if bs := shapeOf(b); len(bs) != 1 || bs[0] != g.K {
			return nil, errors.Errorf("ops.Conv2D: bias %v has shape %v, want [%d]", b.Name(), bs, g.K)
		}
	}
	p := convParams{G: g, PadBottom: o.Pad.Bottom, PadRight: o.Pad.Right, Bias: b != nil, ReLU: o.ReLU, NoInputGrad: o.NoInputGrad}
	return apply(&convOp{opMeta: newMeta("Conv2D", p), p: p}, ins...)
}

func (op *convOp) Arity() int {
	if op.p.Bias {
		return 3
	}
	return 2
}

func (op *convOp) Type() hm.Type {
	if op.p.Bias {
		return fnType(tt(4), tt(4), tt(1), tt(4))
	}
	return fnType(tt(4), tt(4), tt(4))
}

func (op *convOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	g := op.p.G
	return tensor.Shape{g.N, g.K, g.OutH, g.OutW}, nil
}

func (op *convOp) Do(vs ...G.Value) (G.Value, error) {
	return dispatch(vs[0], func() (G.Value, error) { return convDo[float32](op, vs) },
		func() (G.Value, error) { return convDo[float64](op, vs) })
}

func convDo[T float](op *convOp, vs []G.Value) (G.Value, error) {
	g := op.p.G
	x, err := floats[T](vs[0])
	if err != nil {
		return nil, errors.Wrap(err, "Conv2D input")
	}
	w, err := floats[T](vs[1])
	if err != nil {
		return nil, errors.Wrap(err, "Conv2D filter")
	}
	var b []T
	if op.p.Bias {
		if b, err = floats[T](vs[2]); err != nil {
			return nil, errors.Wrap(err, "Conv2D bias")
		}
		if err := checkLen("Conv2D bias", b, g.K); err != nil {
			return nil, err
		}
	}
	if err := checkLen("Conv2D input", x, g.N*g.C*g.H*g.W); err != nil {
		return nil, err
	}
	if err := checkLen("Conv2D filter", w, g.K*g.C*g.R*g.S); err != nil {
		return nil, err
	}
	out, y := get[T](&op.out, tensor.Shape{g.N, g.K, g.OutH, g.OutW})
	switch x := any(x).(type) {
	case []float32:
		var b32 []float32
		if b != nil {
			b32 = any(b).([]float32)
		}
		CurrentEngine().ConvForward(g, x, any(w).([]float32), b32, any(y).([]float32), op.p.ReLU)
	case []float64:
		var b64 []float64
		if b != nil {
			b64 = any(b).([]float64)
		}
		convForward(g, x, any(w).([]float64), b64, any(y).([]float64), op.p.ReLU)
	}
	return out, nil
}

func (op *convOp) DiffWRT(n int) []bool {
	d := make([]bool, n)
	for i := range d {
		d[i] = true
	}
	if op.p.NoInputGrad {
		d[0] = false
	}
	return d
}

func (op *convOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	dy := grad
	var err error
	if op.p.ReLU {
		if dy, err = apply(newReLUGrad(shapeOf(output)), output, grad); err != nil {
			return nil, err
		}
	}
	ret := make(G.Nodes, len(inputs))
	if !op.p.NoInputGrad {
		if ret[0], err = apply(&convDataGradOp{opMeta: newMeta("Conv2DGradData", op.p), p: op.p}, inputs[1], dy); err != nil {
			return nil, err
		}
	}
	if ret[1], err = apply(&convFilterGradOp{opMeta: newMeta("Conv2DGradFilter", op.p), p: op.p}, inputs[0], dy); err != nil {
		return nil, err
	}
	if op.p.Bias {
		if ret[2], err = channelSum(dy); err != nil {
			return nil, err
		}
	}
	return ret, nil
}

// convDataGradOp computes dx from (w, dy).
type convDataGradOp struct {
	opMeta
	p   convParams
	out outBuf
}

var _ G.Op = (*convDataGradOp)(nil)

func (op *convDataGradOp) Arity() int    { return 2 }
func (op *convDataGradOp) Type() hm.Type { return fnType(tt(4), tt(4), tt(4)) }
func (op *convDataGradOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	g := op.p.G
	return tensor.Shape{g.N, g.C, g.H, g.W}, nil
}

func (op *convDataGradOp) Do(vs ...G.Value) (G.Value, error) {
	return dispatch(vs[0], func() (G.Value, error) { return convDataGradDo[float32](op, vs) },
		func() (G.Value, error) { return convDataGradDo[float64](op, vs) })
}

func convDataGradDo[T float](op *convDataGradOp, vs []G.Value) (G.Value, error) {
	g := op.p.G
	w, err := floats[T](vs[0])
	if err != nil {
		return nil, err
	}
	dy, err := floats[T](vs[1])
	if err != nil {
		return nil, err
	}
	if err := checkLen("Conv2D output gradient", dy, g.N*g.K*g.OutH*g.OutW); err != nil {
		return nil, err
	}
	out, dx := get[T](&op.out, tensor.Shape{g.N, g.C, g.H, g.W})
	switch w := any(w).(type) {
	case []float32:
		CurrentEngine().ConvBackwardData(g, w, any(dy).([]float32), any(dx).([]float32))
	case []float64:
		convBackwardData(g, w, any(dy).([]float64), any(dx).([]float64))
	}
	return out, nil
}

// convFilterGradOp computes dw from (x, dy).
type convFilterGradOp struct {
	opMeta
	p   convParams
	out outBuf
}

var _ G.Op = (*convFilterGradOp)(nil)

func (op *convFilterGradOp) Arity() int    { return 2 }
func (op *convFilterGradOp) Type() hm.Type { return fnType(tt(4), tt(4), tt(4)) }
func (op *convFilterGradOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	g := op.p.G
	return tensor.Shape{g.K, g.C, g.R, g.S}, nil
}

func (op *convFilterGradOp) Do(vs ...G.Value) (G.Value, error) {
	return dispatch(vs[0], func() (G.Value, error) { return convFilterGradDo[float32](op, vs) },
		func() (G.Value, error) { return convFilterGradDo[float64](op, vs) })
}

func convFilterGradDo[T float](op *convFilterGradOp, vs []G.Value) (G.Value, error) {
	g := op.p.G
	x, err := floats[T](vs[0])
	if err != nil {
		return nil, err
	}
	dy, err := floats[T](vs[1])
	if err != nil {
		return nil, err
	}
	if err := checkLen("Conv2D output gradient", dy, g.N*g.K*g.OutH*g.OutW); err != nil {
		return nil, err
	}
	out, dw := get[T](&op.out, tensor.Shape{g.K, g.C, g.R, g.S})
	switch x := any(x).(type) {
	case []float32:
		CurrentEngine().ConvBackwardFilter(g, x, any(dy).([]float32), any(dw).([]float32), nil)
	case []float64:
		convBackwardFilter(g, x, any(dy).([]float64), any(dw).([]float64), nil)
	}
	return out, nil
}

// channelSumOp sums a [N, C, ...] tensor over every axis but 1, giving [C]:
// the gradient of a per-channel bias.
type channelSumOp struct {
	opMeta
	shape tensor.Shape
	out   outBuf
}

var _ G.Op = (*channelSumOp)(nil)

func channelSum(x *G.Node) (*G.Node, error) {
	s := shapeOf(x)
	if len(s) < 2 {
		return nil, errors.Errorf("channel sum of %v needs rank >= 2", s)
	}
	return apply(&channelSumOp{opMeta: newMeta("ChannelSum", s), shape: s.Clone()}, x)
}

func (op *channelSumOp) Arity() int    { return 1 }
func (op *channelSumOp) Type() hm.Type { return fnType(tt(len(op.shape)), tt(1)) }
func (op *channelSumOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return tensor.Shape{op.shape[1]}, nil
}

func (op *channelSumOp) Do(vs ...G.Value) (G.Value, error) {
	return dispatch(vs[0], func() (G.Value, error) { return channelSumDo[float32](op, vs) },
		func() (G.Value, error) { return channelSumDo[float64](op, vs) })
}

func channelSumDo[T float](op *channelSumOp, vs []G.Value) (G.Value, error) {
	x, err := floats[T](vs[0])
	if err != nil {
		return nil, err
	}
	if err := checkLen("channel sum input", x, op.shape.TotalSize()); err != nil {
		return nil, err
	}
	n, c := op.shape[0], op.shape[1]
	inner := op.shape.TotalSize() / max(1, n*c)
	out, s := get[T](&op.out, tensor.Shape{c})
	clear(s)
	for i := 0; i < n; i++ {
		for j := 0; j < c; j++ {
			var acc T
			for _, v := range x[(i*c+j)*inner : (i*c+j+1)*inner] {
				acc += v
			}
			s[j] += acc
		}
	}
	return out, nil
}
