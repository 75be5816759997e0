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
	var err error
	if g.OutH, err = ConvOutSize(g.H, g.R, sh, p.Top, p.Bottom); err != nil {
		return ConvGeom{}, err
	}
	if g.OutW, err = ConvOutSize(g.W, g.S, sw, p.Left, p.Right); err != nil {
		return ConvGeom{}, err
	}
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

// convOp is y = conv(x, w) (+ b) (then ReLU). float32 runs on the op's engine, float64 on the generic reference kernels.
type convOp struct {
	opMeta
	p   convParams
	out outBuf
}

var (
	_ G.Op   = (*convOp)(nil)
	_ G.SDOp = (*convOp)(nil)
)

func newConv(eng Engine, x, w, b *G.Node, o ConvOpts) (*G.Node, error) {
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
	return apply(&convOp{opMeta: newMeta("Conv2D", p).with(eng), p: p}, ins...)
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
		if err := op.engine().ConvForward(g, x, any(w).([]float32), b32, any(y).([]float32), op.p.ReLU); err != nil {
			return nil, errors.Wrapf(err, "Conv2D on %s", op.engine().Name())
		}
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

// SymDiff builds the backward pass. With a fused ReLU the gradient ops read
// the forward output y and mask the incoming gradient themselves (dy = 0
// where y <= 0) into a transient buffer, so no network-sized masked copy
// is kept per convolution; the bias gradient comes out of the filter
// gradient's pass (the engine sums dy per channel while it has it).
func (op *convOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	// dyIn are the inputs that give dy: (y, grad) with ReLU, (grad) without.
	dyIn := G.Nodes{grad}
	if op.p.ReLU {
		dyIn = G.Nodes{output, grad}
	}
	ret := make(G.Nodes, len(inputs))
	var err error
	if !op.p.NoInputGrad {
		if ret[0], err = apply(&convDataGradOp{opMeta: newMeta("Conv2DGradData", op.p).with(op.eng), p: op.p}, append(G.Nodes{inputs[1]}, dyIn...)...); err != nil {
			return nil, err
		}
	}
	fop := &convFilterGradOp{opMeta: newMeta("Conv2DGradFilter", op.p).with(op.eng), p: op.p}
	if ret[1], err = apply(fop, append(G.Nodes{inputs[0]}, dyIn...)...); err != nil {
		return nil, err
	}
	if op.p.Bias {
		if ret[2], err = apply(&convBiasGradOp{opMeta: newMeta("Conv2DGradBias", op.p).with(op.eng), filter: fop}, ret[1]); err != nil {
			return nil, err
		}
	}
	return ret, nil
}

// outputGrad returns dy for a convolution's backward ops from their
// trailing inputs: grad itself without ReLU, or grad masked by y > 0 in a
// scratch buffer (release it with the returned function) with ReLU.
func outputGrad[T float](p convParams, vs []G.Value) ([]T, func(), error) {
	g := p.G
	n := g.N * g.K * g.OutH * g.OutW
	grad, err := floats[T](vs[len(vs)-1])
	if err != nil {
		return nil, nil, err
	}
	if err := checkLen("Conv2D output gradient", grad, n); err != nil {
		return nil, nil, err
	}
	if !p.ReLU {
		return grad, func() {}, nil
	}
	y, err := floats[T](vs[len(vs)-2])
	if err != nil {
		return nil, nil, err
	}
	if err := checkLen("Conv2D output", y, n); err != nil {
		return nil, nil, err
	}
	sc := scratchFor[T]()
	dy := sc.get(n)
	parallelFor(n, 1, func(lo, hi int) {
		reluGradInto(dy[lo:hi], y[lo:hi], grad[lo:hi])
	})
	return dy, func() { sc.put(dy) }, nil
}

// convDataGradOp computes dx from (w, [y,] grad).
type convDataGradOp struct {
	opMeta
	p   convParams
	out outBuf
}

var _ G.Op = (*convDataGradOp)(nil)

func (op *convDataGradOp) Arity() int {
	if op.p.ReLU {
		return 3
	}
	return 2
}
func (op *convDataGradOp) Type() hm.Type {
	if op.p.ReLU {
		return fnType(tt(4), tt(4), tt(4), tt(4))
	}
	return fnType(tt(4), tt(4), tt(4))
}
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
	if err := checkLen("Conv2D filter", w, g.K*g.C*g.R*g.S); err != nil {
		return nil, err
	}
	dy, release, err := outputGrad[T](op.p, vs)
	if err != nil {
		return nil, err
	}
	defer release()
	out, dx := get[T](&op.out, tensor.Shape{g.N, g.C, g.H, g.W})
	switch w := any(w).(type) {
	case []float32:
		if err := op.engine().ConvBackwardData(g, w, any(dy).([]float32), any(dx).([]float32)); err != nil {
			return nil, errors.Wrapf(err, "Conv2D backward data on %s", op.engine().Name())
		}
	case []float64:
		convBackwardData(g, w, any(dy).([]float64), any(dx).([]float64))
	}
	return out, nil
}

// convFilterGradOp computes dw from (x, [y,] grad), and with a bias also
// db, which it keeps for convBiasGradOp.
type convFilterGradOp struct {
	opMeta
	p   convParams
	out outBuf
	db  outBuf // bias gradient of the last run (p.Bias only)
}

var _ G.Op = (*convFilterGradOp)(nil)

func (op *convFilterGradOp) Arity() int {
	if op.p.ReLU {
		return 3
	}
	return 2
}
func (op *convFilterGradOp) Type() hm.Type {
	if op.p.ReLU {
		return fnType(tt(4), tt(4), tt(4), tt(4))
	}
	return fnType(tt(4), tt(4), tt(4))
}
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
	if err := checkLen("Conv2D input", x, g.N*g.C*g.H*g.W); err != nil {
		return nil, err
	}
	dy, release, err := outputGrad[T](op.p, vs)
	if err != nil {
		return nil, err
	}
	defer release()
	out, dw := get[T](&op.out, tensor.Shape{g.K, g.C, g.R, g.S})
	var db []T
	if op.p.Bias {
		_, db = get[T](&op.db, tensor.Shape{g.K})
	}
	switch x := any(x).(type) {
	case []float32:
		var db32 []float32
		if db != nil {
			db32 = any(db).([]float32)
		}
		if err := op.engine().ConvBackwardFilter(g, x, any(dy).([]float32), any(dw).([]float32), db32); err != nil {
			return nil, errors.Wrapf(err, "Conv2D backward filter on %s", op.engine().Name())
		}
	case []float64:
		var db64 []float64
		if db != nil {
			db64 = any(db).([]float64)
		}
		convBackwardFilter(g, x, any(dy).([]float64), any(dw).([]float64), db64)
	}
	return out, nil
}

// convBiasGradOp returns the bias gradient that its input's filter
// gradient op computed in the same pass. Its input (the filter gradient
// node) orders it after that op; it copies db into its own buffer.
type convBiasGradOp struct {
	opMeta
	filter *convFilterGradOp
	out    outBuf
}

var _ G.Op = (*convBiasGradOp)(nil)

func (op *convBiasGradOp) Arity() int    { return 1 }
func (op *convBiasGradOp) Type() hm.Type { return fnType(tt(4), tt(1)) }
func (op *convBiasGradOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return tensor.Shape{op.filter.p.G.K}, nil
}

func (op *convBiasGradOp) Do(vs ...G.Value) (G.Value, error) {
	return dispatch(vs[0], func() (G.Value, error) { return convBiasGradDo[float32](op) },
		func() (G.Value, error) { return convBiasGradDo[float64](op) })
}

func convBiasGradDo[T float](op *convBiasGradOp) (G.Value, error) {
	src := op.filter.db.t
	if src == nil || src.Dtype() != dtypeFor[T]() {
		return nil, errors.New("Conv2D bias gradient: the filter gradient has not run")
	}
	out, db := get[T](&op.out, tensor.Shape{op.filter.p.G.K})
	copy(db, src.Data().([]T))
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

func channelSum(eng Engine, x *G.Node) (*G.Node, error) {
	s := shapeOf(x)
	if len(s) < 2 {
		return nil, errors.Errorf("channel sum of %v needs rank >= 2", s)
	}
	return apply(&channelSumOp{opMeta: newMeta("ChannelSum", s).with(eng), shape: s.Clone()}, x)
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
