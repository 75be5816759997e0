package ops

import (
	"math"

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

// bnStats returns the per-channel mean and 1/sqrt(var+eps) used to
// normalise: batch statistics (biased variance) in training, running ones
// in eval. For training it also returns the biased batch variance.
func bnStats[T float](p bnParams, st *BNStats, x []T, mean, invstd, bvar []float64) {
	hw := p.H * p.W
	m := float64(p.N * hw)
	for c := 0; c < p.C; c++ {
		if !p.Training {
			mean[c] = st.Mean[c]
			invstd[c] = 1 / math.Sqrt(st.Var[c]+st.Eps)
			continue
		}
		var s float64
		for n := 0; n < p.N; n++ {
			for _, v := range x[(n*p.C+c)*hw : (n*p.C+c+1)*hw] {
				s += float64(v)
			}
		}
		mu := s / m
		var ss float64
		for n := 0; n < p.N; n++ {
			for _, v := range x[(n*p.C+c)*hw : (n*p.C+c+1)*hw] {
				d := float64(v) - mu
				ss += d * d
			}
		}
		mean[c], bvar[c] = mu, ss/m
		invstd[c] = 1 / math.Sqrt(ss/m+st.Eps)
	}
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
	mean, invstd, bvar := make([]float64, p.C), make([]float64, p.C), make([]float64, p.C)
	bnStats(p, st, x, mean, invstd, bvar)
	out, y := get[T](&op.out, tensor.Shape{p.N, p.C, p.H, p.W})
	hw := p.H * p.W
	for n := 0; n < p.N; n++ {
		for c := 0; c < p.C; c++ {
			a := T(float64(gamma[c]) * invstd[c])
			b := T(float64(beta[c]) - float64(gamma[c])*invstd[c]*mean[c])
			xs, ys := x[(n*p.C+c)*hw:(n*p.C+c+1)*hw], y[(n*p.C+c)*hw:(n*p.C+c+1)*hw]
			for i, v := range xs {
				ys[i] = a*v + b
			}
		}
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
	mean, invstd, bvar := make([]float64, p.C), make([]float64, p.C), make([]float64, p.C)
	bnStats(p, op.st, x, mean, invstd, bvar)
	hw := p.H * p.W
	m := float64(p.N * hw)
	// Per channel: Σdy and Σdy·x̂.
	sdy, sdyx := make([]float64, p.C), make([]float64, p.C)
	for n := 0; n < p.N; n++ {
		for c := 0; c < p.C; c++ {
			xs, ds := x[(n*p.C+c)*hw:(n*p.C+c+1)*hw], dy[(n*p.C+c)*hw:(n*p.C+c+1)*hw]
			var a, b float64
			for i, v := range xs {
				d := float64(ds[i])
				a += d
				b += d * (float64(v) - mean[c])
			}
			sdy[c] += a
			sdyx[c] += b * invstd[c]
		}
	}
	if op.p.Which == "gamma" {
		out, dg := get[T](&op.out, tensor.Shape{p.C})
		for c := range dg {
			dg[c] = T(sdyx[c])
		}
		return out, nil
	}
	out, dx := get[T](&op.out, tensor.Shape{p.N, p.C, p.H, p.W})
	for n := 0; n < p.N; n++ {
		for c := 0; c < p.C; c++ {
			xs, ds := x[(n*p.C+c)*hw:(n*p.C+c+1)*hw], dy[(n*p.C+c)*hw:(n*p.C+c+1)*hw]
			dxs := dx[(n*p.C+c)*hw : (n*p.C+c+1)*hw]
			g := float64(gamma[c]) * invstd[c]
			if !p.Training {
				for i, d := range ds {
					dxs[i] = T(g * float64(d))
				}
				continue
			}
			mdy, mdyx := sdy[c]/m, sdyx[c]/m
			for i, v := range xs {
				xh := (float64(v) - mean[c]) * invstd[c]
				dxs[i] = T(g * (float64(ds[i]) - mdy - xh*mdyx))
			}
		}
	}
	return out, nil
}
