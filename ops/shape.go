package ops

import (
	"github.com/chewxy/hm"
	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

func newFlatten(x *G.Node) (*G.Node, error) {
	if _, err := checkFloat(x); err != nil {
		return nil, errors.Wrap(err, "ops.Flatten")
	}
	s := shapeOf(x)
	if len(s) < 1 {
		return nil, errors.Errorf("ops.Flatten: %v is a scalar", x.Name())
	}
	if len(s) == 2 {
		return x, nil
	}
	rest := 1
	for _, d := range s[1:] {
		rest *= d
	}
	y, err := G.Reshape(x, tensor.Shape{s[0], rest})
	if err != nil {
		return nil, errors.Wrap(err, "ops.Flatten")
	}
	return y, nil
}

// concatOp concatenates [N, C_i, H, W] tensors along the channel axis.
type concatOp struct {
	opMeta
	n, h, w int
	cs      []int // channels of each input
	out     outBuf
}

var (
	_ G.Op   = (*concatOp)(nil)
	_ G.SDOp = (*concatOp)(nil)
)

func newConcat(eng Engine, xs ...*G.Node) (*G.Node, error) {
	if len(xs) == 0 {
		return nil, errors.New("ops.ConcatChannels: no inputs")
	}
	if _, err := checkFloat(xs...); err != nil {
		return nil, errors.Wrap(err, "ops.ConcatChannels")
	}
	s0 := shapeOf(xs[0])
	if len(s0) != 4 {
		return nil, errors.Errorf("ops.ConcatChannels: input 0 has shape %v, want rank 4", s0)
	}
	cs := make([]int, len(xs))
	for i, x := range xs {
		s := shapeOf(x)
		if len(s) != 4 || s[0] != s0[0] || s[2] != s0[2] || s[3] != s0[3] {
			return nil, errors.Errorf("ops.ConcatChannels: input %d has shape %v, incompatible with %v", i, s, s0)
		}
		cs[i] = s[1]
	}
	if len(xs) == 1 {
		return xs[0], nil
	}
	op := &concatOp{n: s0[0], h: s0[2], w: s0[3], cs: cs}
	op.opMeta = newMeta("ConcatChannels", struct {
		N, H, W int
		C       []int
	}{op.n, op.h, op.w, cs}).with(eng)
	return apply(op, xs...)
}

func (op *concatOp) total() int {
	t := 0
	for _, c := range op.cs {
		t += c
	}
	return t
}

func (op *concatOp) Arity() int { return len(op.cs) }
func (op *concatOp) Type() hm.Type {
	ts := make([]hm.Type, len(op.cs)+1)
	for i := range ts {
		ts[i] = tt(4)
	}
	return fnType(ts...)
}
func (op *concatOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return tensor.Shape{op.n, op.total(), op.h, op.w}, nil
}
func (op *concatOp) DiffWRT(n int) []bool {
	d := make([]bool, n)
	for i := range d {
		d[i] = true
	}
	return d
}

func (op *concatOp) Do(vs ...G.Value) (G.Value, error) {
	return dispatch(vs[0], func() (G.Value, error) { return concatDo[float32](op, vs) },
		func() (G.Value, error) { return concatDo[float64](op, vs) })
}

func concatDo[T float](op *concatOp, vs []G.Value) (G.Value, error) {
	if len(vs) != len(op.cs) {
		return nil, errors.Errorf("concat: %d inputs, want %d", len(vs), len(op.cs))
	}
	hw, ct := op.h*op.w, op.total()
	out, y := get[T](&op.out, tensor.Shape{op.n, ct, op.h, op.w})
	xs := make([][]T, len(vs))
	for i, v := range vs {
		x, err := floats[T](v)
		if err != nil {
			return nil, err
		}
		if err := checkLen("concat input", x, op.n*op.cs[i]*hw); err != nil {
			return nil, err
		}
		xs[i] = x
	}
	if xs32, ok := any(xs).([][]float32); ok {
		y32 := any(y).([]float32)
		e := op.engine()
		err := orReference(e.ConcatForward(op.n, hw, op.cs, xs32, y32), func() error {
			return Reference{}.ConcatForward(op.n, hw, op.cs, xs32, y32)
		})
		if err != nil {
			return nil, errors.Wrapf(err, "ConcatChannels on %s", e.Name())
		}
		return out, nil
	}
	concatForward(op.n, hw, op.cs, xs, y)
	return out, nil
}

func (op *concatOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	ret := make(G.Nodes, len(inputs))
	off := 0
	for i, c := range op.cs {
		p := sliceChParams{N: op.n, C: op.total(), H: op.h, W: op.w, From: off, To: off + c}
		var err error
		if ret[i], err = apply(&sliceChannelsOp{opMeta: newMeta("SliceChannels", p).with(op.eng), p: p}, grad); err != nil {
			return nil, err
		}
		off += c
	}
	return ret, nil
}

type sliceChParams struct {
	N, C, H, W int
	From, To   int
}

// sliceChannelsOp copies channels [From, To) of an NCHW tensor (the
// gradient of concatOp).
type sliceChannelsOp struct {
	opMeta
	p   sliceChParams
	out outBuf
}

var _ G.Op = (*sliceChannelsOp)(nil)

func (op *sliceChannelsOp) Arity() int    { return 1 }
func (op *sliceChannelsOp) Type() hm.Type { return fnType(tt(4), tt(4)) }
func (op *sliceChannelsOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return tensor.Shape{op.p.N, op.p.To - op.p.From, op.p.H, op.p.W}, nil
}

func (op *sliceChannelsOp) Do(vs ...G.Value) (G.Value, error) {
	return dispatch(vs[0], func() (G.Value, error) { return sliceChannelsDo[float32](op, vs) },
		func() (G.Value, error) { return sliceChannelsDo[float64](op, vs) })
}

func sliceChannelsDo[T float](op *sliceChannelsOp, vs []G.Value) (G.Value, error) {
	p := op.p
	x, err := floats[T](vs[0])
	if err != nil {
		return nil, err
	}
	if err := checkLen("slice input", x, p.N*p.C*p.H*p.W); err != nil {
		return nil, err
	}
	hw, c := p.H*p.W, p.To-p.From
	out, y := get[T](&op.out, tensor.Shape{p.N, c, p.H, p.W})
	if x32, ok := any(x).([]float32); ok {
		y32 := any(y).([]float32)
		e := op.engine()
		err := orReference(e.ConcatBackward(p.N, p.C, hw, p.From, p.To, x32, y32), func() error {
			return Reference{}.ConcatBackward(p.N, p.C, hw, p.From, p.To, x32, y32)
		})
		if err != nil {
			return nil, errors.Wrapf(err, "ConcatChannels gradient on %s", e.Name())
		}
		return out, nil
	}
	concatBackward(p.N, p.C, hw, p.From, p.To, x, y)
	return out, nil
}
