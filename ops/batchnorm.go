package ops

import (
	"github.com/chewxy/hm"
	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Defaults applied by BatchNorm to zero fields of BNStats (PyTorch's).
const (
	DefaultBNMomentum = 0.1
	DefaultBNEps      = 1e-5
)

type bnParams struct {
	N, C, H, W int
	Training   bool
	ID         uint64 // unique per constructed op: never merged by hash-consing
}

// bnOp is batch normalisation over (N, H, W) per channel, from (x, gamma,
// beta). Running statistics live in *st, outside any machine.
type bnOp struct {
	opMeta
	p   bnParams
	st  *BNStats
	out outBuf
}

var (
	_ G.Op   = (*bnOp)(nil)
	_ G.SDOp = (*bnOp)(nil)
)

func newBatchNorm(eng Engine, x, gamma, beta *G.Node, st *BNStats, training bool) (*G.Node, error) {
	if _, err := checkFloat(x, gamma, beta); err != nil {
		return nil, errors.Wrap(err, "ops.BatchNorm")
	}
	if err := checkRank(x, 4, "input"); err != nil {
		return nil, errors.Wrap(err, "ops.BatchNorm")
	}
	s := shapeOf(x)
	c := s[1]
	for _, n := range []*G.Node{gamma, beta} {
		if ns := shapeOf(n); len(ns) != 1 || ns[0] != c {
			return nil, errors.Errorf("ops.BatchNorm: %v has shape %v, want [%d]", n.Name(), ns, c)
		}
	}
	if st == nil {
		return nil, errors.New("ops.BatchNorm: nil BNStats")
	}
	if st.Mean == nil && st.Var == nil {
		st.Mean = make([]float64, c)
		st.Var = make([]float64, c)
		for i := range st.Var {
			st.Var[i] = 1
		}
	}
	if len(st.Mean) != c || len(st.Var) != c {
		return nil, errors.Errorf("ops.BatchNorm: stats have %d means and %d variances, want %d", len(st.Mean), len(st.Var), c)
	}
	if st.Momentum == 0 {
		st.Momentum = DefaultBNMomentum
	}
	if st.Eps == 0 {
		st.Eps = DefaultBNEps
	}
	if !(st.Momentum > 0 && st.Momentum <= 1) || !(st.Eps > 0) {
		return nil, errors.Errorf("ops.BatchNorm: momentum %v must be in (0, 1] and eps %v positive", st.Momentum, st.Eps)
	}
	p := bnParams{N: s[0], C: c, H: s[2], W: s[3], Training: training, ID: nextID()}
	return apply(&bnOp{opMeta: newMeta("BatchNorm", p).with(eng), p: p, st: st}, x, gamma, beta)
}

func (op *bnOp) Arity() int         { return 3 }
func (op *bnOp) Type() hm.Type      { return fnType(tt(4), tt(1), tt(1), tt(4)) }
func (op *bnOp) DiffWRT(int) []bool { return []bool{true, true, true} }
func (op *bnOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return tensor.Shape{op.p.N, op.p.C, op.p.H, op.p.W}, nil
}

// geom returns the kernel geometry of the op.
func (p bnParams) geom(st *BNStats) BNGeom {
	return BNGeom{N: p.N, C: p.C, H: p.H, W: p.W, Training: p.Training, Eps: st.Eps}
}

func (op *bnOp) Do(vs ...G.Value) (G.Value, error) {
	return dispatch(vs[0], func() (G.Value, error) { return bnDo[float32](op, vs) },
		func() (G.Value, error) { return bnDo[float64](op, vs) })
}

func bnDo[T float](op *bnOp, vs []G.Value) (G.Value, error) {
	p, st := op.p, op.st
	x, err := floats[T](vs[0])
	if err != nil {
		return nil, err
	}
	gamma, err := floats[T](vs[1])
	if err != nil {
		return nil, err
	}
	beta, err := floats[T](vs[2])
	if err != nil {
		return nil, err
	}
	if err := checkLen("BatchNorm input", x, p.N*p.C*p.H*p.W); err != nil {
		return nil, err
	}
	if len(gamma) != p.C || len(beta) != p.C {
		return nil, errors.Errorf("BatchNorm: gamma/beta have %d/%d values, want %d", len(gamma), len(beta), p.C)
	}
	m := p.N * p.H * p.W
	if p.Training && m < 2 {
		return nil, errors.Errorf("BatchNorm: training needs more than one value per channel, got input [%d %d %d %d]", p.N, p.C, p.H, p.W)
	}
	// Training computes the batch's statistics into mean and bvar;
	// inference reads the running ones.
	mean, bvar := st.Mean, st.Var
	if p.Training {
		mean, bvar = make([]float64, p.C), make([]float64, p.C)
	}
	out, y := get[T](&op.out, tensor.Shape{p.N, p.C, p.H, p.W})
	g := p.geom(st)
	if x32, ok := any(x).([]float32); ok {
		g32, b32, y32 := any(gamma).([]float32), any(beta).([]float32), any(y).([]float32)
		e := op.engine()
		err := orReference(e.BatchNormForward(g, x32, g32, b32, y32, mean, bvar), func() error {
			return Reference{}.BatchNormForward(g, x32, g32, b32, y32, mean, bvar)
		})
		if err != nil {
			return nil, errors.Wrapf(err, "BatchNorm on %s", e.Name())
		}
	} else {
		bnForward(g, x, gamma, beta, y, mean, bvar)
	}
	if p.Training {
		mom := st.Momentum
		unbias := float64(m) / float64(m-1)
		for c := 0; c < p.C; c++ {
			st.Mean[c] = (1-mom)*st.Mean[c] + mom*mean[c]
			st.Var[c] = (1-mom)*st.Var[c] + mom*bvar[c]*unbias
		}
	}
	return out, nil
}

func (op *bnOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	x, gamma := inputs[0], inputs[1]
	ret := make(G.Nodes, 3)
	var err error
	for i, which := range []string{"x", "gamma"} {
		gp := bnGradParams{bnParams: op.p, Which: which}
		g := &bnGradOp{opMeta: newMeta("BatchNormGrad", gp).with(op.eng), p: gp, st: op.st}
		if ret[i], err = apply(g, x, gamma, grad); err != nil {
			return nil, err
		}
	}
	if ret[2], err = channelSum(op.eng, grad); err != nil {
		return nil, err
	}
	return ret, nil
}

type bnGradParams struct {
	bnParams
	Which string // "x" or "gamma"
}

// bnGradOp computes dx or dgamma from (x, gamma, dy). With x̂ the
// normalised input and M = N·H·W, training mode gives
//
//	dx = γ·invstd/M · (M·dy - Σdy - x̂·Σ(dy·x̂)),   dγ = Σ dy·x̂
//
// and eval mode (constant statistics) dx = γ·invstd·dy.
type bnGradOp struct {
	opMeta
	p   bnGradParams
	st  *BNStats
	out outBuf
}

var _ G.Op = (*bnGradOp)(nil)

func (op *bnGradOp) Arity() int { return 3 }
func (op *bnGradOp) Type() hm.Type {
	if op.p.Which == "x" {
		return fnType(tt(4), tt(1), tt(4), tt(4))
	}
	return fnType(tt(4), tt(1), tt(4), tt(1))
}
func (op *bnGradOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	if op.p.Which == "x" {
		return tensor.Shape{op.p.N, op.p.C, op.p.H, op.p.W}, nil
	}
	return tensor.Shape{op.p.C}, nil
}

func (op *bnGradOp) Do(vs ...G.Value) (G.Value, error) {
	return dispatch(vs[0], func() (G.Value, error) { return bnGradDo[float32](op, vs) },
		func() (G.Value, error) { return bnGradDo[float64](op, vs) })
}

func bnGradDo[T float](op *bnGradOp, vs []G.Value) (G.Value, error) {
	p := op.p.bnParams
	x, err := floats[T](vs[0])
	if err != nil {
		return nil, err
	}
	gamma, err := floats[T](vs[1])
	if err != nil {
		return nil, err
	}
	dy, err := floats[T](vs[2])
	if err != nil {
		return nil, err
	}
	size := p.N * p.C * p.H * p.W
	if err := checkLen("BatchNorm input", x, size); err != nil {
		return nil, err
	}
	if err := checkLen("BatchNorm output gradient", dy, size); err != nil {
		return nil, err
	}
	var out G.Value
	var dx, dgamma []T
	if op.p.Which == "gamma" {
		out, dgamma = get[T](&op.out, tensor.Shape{p.C})
	} else {
		out, dx = get[T](&op.out, tensor.Shape{p.N, p.C, p.H, p.W})
	}
	g := p.geom(op.st)
	mean, variance := op.st.Mean, op.st.Var // read in inference only
	if x32, ok := any(x).([]float32); ok {
		g32, dy32 := any(gamma).([]float32), any(dy).([]float32)
		dx32, dg32 := any(dx).([]float32), any(dgamma).([]float32)
		e := op.engine()
		err := orReference(e.BatchNormBackward(g, x32, g32, dy32, dx32, dg32, mean, variance), func() error {
			return Reference{}.BatchNormBackward(g, x32, g32, dy32, dx32, dg32, mean, variance)
		})
		if err != nil {
			return nil, errors.Wrapf(err, "BatchNorm gradient on %s", e.Name())
		}
		return out, nil
	}
	bnBackward(g, x, gamma, dy, dx, dgamma, mean, variance)
	return out, nil
}
