package ops

import (
	"github.com/chewxy/hm"
	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// reluOp is y = max(0, x), elementwise, any rank.
type reluOp struct {
	opMeta
	shape tensor.Shape
	out   outBuf
}

var (
	_ G.Op   = (*reluOp)(nil)
	_ G.SDOp = (*reluOp)(nil)
)

func newReLU(eng Engine, x *G.Node) (*G.Node, error) {
	if _, err := checkFloat(x); err != nil {
		return nil, errors.Wrap(err, "ops.ReLU")
	}
	s := shapeOf(x)
	if len(s) == 0 {
		return nil, errors.Errorf("ops.ReLU: %v is a scalar, want a tensor", x.Name())
	}
	return apply(&reluOp{opMeta: newMeta("ReLU", s).with(eng), shape: s.Clone()}, x)
}

func (op *reluOp) Arity() int                                     { return 1 }
func (op *reluOp) Type() hm.Type                                  { return fnType(tt(len(op.shape)), tt(len(op.shape))) }
func (op *reluOp) InferShape(...G.DimSizer) (tensor.Shape, error) { return op.shape.Clone(), nil }
func (op *reluOp) DiffWRT(int) []bool                             { return []bool{true} }

func (op *reluOp) Do(vs ...G.Value) (G.Value, error) {
	return dispatch(vs[0], func() (G.Value, error) { return reluDo[float32](op, vs) },
		func() (G.Value, error) { return reluDo[float64](op, vs) })
}

func reluDo[T float](op *reluOp, vs []G.Value) (G.Value, error) {
	x, err := floats[T](vs[0])
	if err != nil {
		return nil, err
	}
	if err := checkLen("ReLU input", x, op.shape.TotalSize()); err != nil {
		return nil, err
	}
	out, y := get[T](&op.out, op.shape)
	parallelFor(len(x), 1, func(lo, hi int) {
		reluInto(y[lo:hi], x[lo:hi])
	})
	return out, nil
}

func (op *reluOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	dx, err := apply(newReLUGrad(op.eng, op.shape), output, grad)
	if err != nil {
		return nil, err
	}
	return G.Nodes{dx}, nil
}

// reluGradOp is dx = dy where y > 0, else 0, from (y, dy). It serves ReLU
// and the fused ReLU of Conv2D (y > 0 exactly where the pre-activation is).
type reluGradOp struct {
	opMeta
	shape tensor.Shape
	out   outBuf
}

var _ G.Op = (*reluGradOp)(nil)

func newReLUGrad(eng Engine, s tensor.Shape) *reluGradOp {
	return &reluGradOp{opMeta: newMeta("ReLUGrad", s).with(eng), shape: s.Clone()}
}

func (op *reluGradOp) Arity() int { return 2 }
func (op *reluGradOp) Type() hm.Type {
	t := tt(len(op.shape))
	return fnType(t, t, t)
}
func (op *reluGradOp) InferShape(...G.DimSizer) (tensor.Shape, error) { return op.shape.Clone(), nil }

func (op *reluGradOp) Do(vs ...G.Value) (G.Value, error) {
	return dispatch(vs[0], func() (G.Value, error) { return reluGradDo[float32](op, vs) },
		func() (G.Value, error) { return reluGradDo[float64](op, vs) })
}

func reluGradDo[T float](op *reluGradOp, vs []G.Value) (G.Value, error) {
	y, err := floats[T](vs[0])
	if err != nil {
		return nil, err
	}
	dy, err := floats[T](vs[1])
	if err != nil {
		return nil, err
	}
	n := op.shape.TotalSize()
	if err := checkLen("ReLU output", y, n); err != nil {
		return nil, err
	}
	if err := checkLen("ReLU output gradient", dy, n); err != nil {
		return nil, err
	}
	out, dx := get[T](&op.out, op.shape)
	parallelFor(n, 1, func(lo, hi int) {
		reluGradInto(dx[lo:hi], y[lo:hi], dy[lo:hi])
	})
	return out, nil
}

// reluIntoGo is reluInto in Go.
func reluIntoGo[T float](y, x []T) {
	x = x[:len(y)]
	for i, v := range x {
		if v > 0 {
			y[i] = v
		} else {
			y[i] = 0
		}
	}
}

// reluGradIntoGo is reluGradInto in Go.
func reluGradIntoGo[T float](dx, y, dy []T) {
	y, dy = y[:len(dx)], dy[:len(dx)]
	for i, v := range y {
		if v > 0 {
			dx[i] = dy[i]
		} else {
			dx[i] = 0
		}
	}
}
