package ops

import (
	"github.com/chewxy/hm"
	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// splitmix64 is the SplitMix64 finaliser: a bijective 64-bit mixer.
func splitmix64(z uint64) uint64 {
	z += 0x9e3779b97f4a7c15
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// DropoutKeep reports whether dropout op index keeps element i at the given
// seed and step with drop probability rate: the mask is a pure function of
// (seed, step, index, i), so it can be reproduced anywhere (a resumed run,
// another engine, a test).
func DropoutKeep(seed, step uint64, index, i int, rate float64) bool {
	return dropoutU(dropoutKey(seed, step, index), i) >= rate
}

// dropoutKey mixes seed, step and op index into one key.
func dropoutKey(seed, step uint64, index int) uint64 {
	return splitmix64(splitmix64(splitmix64(seed)^step) ^ uint64(index))
}

// dropoutU is the uniform [0,1) draw of element i under key k.
func dropoutU(k uint64, i int) float64 {
	return float64(splitmix64(k+uint64(i)*0x9e3779b97f4a7c15)>>11) / (1 << 53)
}

type dropoutParams struct {
	Shape tensor.Shape
	Rate  float64
	Index int
	ID    uint64 // unique per constructed op: never merged by hash-consing
}

// dropoutOp is y = x·mask/(1-rate). The mask is drawn from *st at run time.
type dropoutOp struct {
	opMeta
	p   dropoutParams
	st  *RandState
	out outBuf
}

var (
	_ G.Op   = (*dropoutOp)(nil)
	_ G.SDOp = (*dropoutOp)(nil)
)

func newDropout(eng Engine, x *G.Node, rate float64, st *RandState, index int, training bool) (*G.Node, error) {
	if _, err := checkFloat(x); err != nil {
		return nil, errors.Wrap(err, "ops.Dropout")
	}
	if !(rate >= 0 && rate < 1) {
		return nil, errors.Errorf("ops.Dropout: rate %v must be in [0, 1)", rate)
	}
	if !training || rate == 0 {
		return x, nil
	}
	if st == nil {
		return nil, errors.New("ops.Dropout: training needs a RandState")
	}
	s := shapeOf(x)
	p := dropoutParams{Shape: s.Clone(), Rate: rate, Index: index, ID: nextID()}
	return apply(&dropoutOp{opMeta: newMeta("Dropout", p).with(eng), p: p, st: st}, x)
}

func (op *dropoutOp) Arity() int         { return 1 }
func (op *dropoutOp) Type() hm.Type      { return fnType(tt(len(op.p.Shape)), tt(len(op.p.Shape))) }
func (op *dropoutOp) DiffWRT(int) []bool { return []bool{true} }
func (op *dropoutOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return op.p.Shape.Clone(), nil
}

func (op *dropoutOp) Do(vs ...G.Value) (G.Value, error) {
	e := op.engine()
	return dispatch(vs[0], func() (G.Value, error) { return dropoutApply[float32](e, false, op.p, op.st, &op.out, vs[0]) },
		func() (G.Value, error) { return dropoutApply[float64](e, false, op.p, op.st, &op.out, vs[0]) })
}

// dropoutApply computes out = v·mask/(1-rate): the forward pass on x and the
// backward pass on dy are the same map.
func dropoutApply[T float](e Engine, backward bool, p dropoutParams, st *RandState, b *outBuf, v G.Value) (G.Value, error) {
	x, err := floats[T](v)
	if err != nil {
		return nil, err
	}
	if err := checkLen("dropout input", x, p.Shape.TotalSize()); err != nil {
		return nil, err
	}
	out, y := get[T](b, p.Shape)
	m := DropoutMask{Seed: st.Seed, Step: st.Step, Index: p.Index, Rate: p.Rate}
	if x32, ok := any(x).([]float32); ok {
		y32 := any(y).([]float32)
		var err error
		if backward {
			err = orReference(e.DropoutBackward(m, x32, y32), func() error { return Reference{}.DropoutBackward(m, x32, y32) })
		} else {
			err = orReference(e.DropoutForward(m, x32, y32), func() error { return Reference{}.DropoutForward(m, x32, y32) })
		}
		if err != nil {
			return nil, errors.Wrapf(err, "Dropout on %s", e.Name())
		}
		return out, nil
	}
	dropoutMap(m, x, y)
	return out, nil
}

func (op *dropoutOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	// The backward op takes y as well as dy so that it runs after the
	// forward pass of the same step.
	g := &dropoutGradOp{opMeta: newMeta("DropoutGrad", op.p).with(op.eng), p: op.p, st: op.st}
	dx, err := apply(g, output, grad)
	if err != nil {
		return nil, err
	}
	return G.Nodes{dx}, nil
}

// dropoutGradOp is dx = dy·mask/(1-rate) from (y, dy), with the same mask as
// the forward pass (same RandState, same step).
type dropoutGradOp struct {
	opMeta
	p   dropoutParams
	st  *RandState
	out outBuf
}

var _ G.Op = (*dropoutGradOp)(nil)

func (op *dropoutGradOp) Arity() int { return 2 }
func (op *dropoutGradOp) Type() hm.Type {
	t := tt(len(op.p.Shape))
	return fnType(t, t, t)
}
func (op *dropoutGradOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return op.p.Shape.Clone(), nil
}

func (op *dropoutGradOp) Do(vs ...G.Value) (G.Value, error) {
	e := op.engine()
	return dispatch(vs[1], func() (G.Value, error) { return dropoutApply[float32](e, true, op.p, op.st, &op.out, vs[1]) },
		func() (G.Value, error) { return dropoutApply[float64](e, true, op.p, op.st, &op.out, vs[1]) })
}
