package ops

import (
	"github.com/chewxy/hm"
	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// gemmParams describe C[M,N] = op(A)·op(B) (+ bias[N] on every row), with
// A stored [M,K] ([K,M] if TA) and B stored [K,N] ([N,K] if TB).
type gemmParams struct {
	TA, TB  bool
	M, N, K int
	Bias    bool
}

// gemmOp is a matrix product with an optional row-broadcast bias. Linear is
// gemmOp(x, w, b) with TB; its gradients are gemmOps too. float32 runs the
// engine's Gemm.
type gemmOp struct {
	opMeta
	p   gemmParams
	out outBuf
}

var (
	_ G.Op   = (*gemmOp)(nil)
	_ G.SDOp = (*gemmOp)(nil)
)

func newGemm(eng Engine, p gemmParams, ins ...*G.Node) (*G.Node, error) {
	return apply(&gemmOp{opMeta: newMeta("Gemm", p).with(eng), p: p}, ins...)
}

func newLinear(eng Engine, x, w, b *G.Node) (*G.Node, error) {
	ins := []*G.Node{x, w}
	if b != nil {
		ins = append(ins, b)
	}
	if _, err := checkFloat(ins...); err != nil {
		return nil, errors.Wrap(err, "ops.Linear")
	}
	if err := checkRank(x, 2, "input"); err != nil {
		return nil, errors.Wrap(err, "ops.Linear")
	}
	if err := checkRank(w, 2, "weight"); err != nil {
		return nil, errors.Wrap(err, "ops.Linear")
	}
	xs, ws := shapeOf(x), shapeOf(w)
	if xs[1] != ws[1] {
		return nil, errors.Errorf("ops.Linear: input %v has %d features, weight %v expects %d", xs, xs[1], ws, ws[1])
	}
	if b != nil {
		if bs := shapeOf(b); len(bs) != 1 || bs[0] != ws[0] {
			return nil, errors.Errorf("ops.Linear: bias shape %v, want [%d]", bs, ws[0])
		}
	}
	return newGemm(eng, gemmParams{TB: true, M: xs[0], N: ws[0], K: xs[1], Bias: b != nil}, ins...)
}

func (op *gemmOp) Arity() int {
	if op.p.Bias {
		return 3
	}
	return 2
}

func (op *gemmOp) Type() hm.Type {
	if op.p.Bias {
		return fnType(tt(2), tt(2), tt(1), tt(2))
	}
	return fnType(tt(2), tt(2), tt(2))
}

func (op *gemmOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return tensor.Shape{op.p.M, op.p.N}, nil
}

func (op *gemmOp) DiffWRT(n int) []bool {
	d := make([]bool, n)
	for i := range d {
		d[i] = true
	}
	return d
}

func (op *gemmOp) Do(vs ...G.Value) (G.Value, error) {
	return dispatch(vs[0], func() (G.Value, error) { return gemmDo[float32](op, vs) },
		func() (G.Value, error) { return gemmDo[float64](op, vs) })
}

func gemmDo[T float](op *gemmOp, vs []G.Value) (G.Value, error) {
	p := op.p
	a, err := floats[T](vs[0])
	if err != nil {
		return nil, err
	}
	b, err := floats[T](vs[1])
	if err != nil {
		return nil, err
	}
	if err := checkLen("matrix A", a, p.M*p.K); err != nil {
		return nil, err
	}
	if err := checkLen("matrix B", b, p.K*p.N); err != nil {
		return nil, err
	}
	lda, ldb := p.K, p.N
	if p.TA {
		lda = p.M
	}
	if p.TB {
		ldb = p.K
	}
	out, c := get[T](&op.out, tensor.Shape{p.M, p.N})
	var beta T
	if p.Bias {
		bias, err := floats[T](vs[2])
		if err != nil {
			return nil, err
		}
		if err := checkLen("bias", bias, p.N); err != nil {
			return nil, err
		}
		for i := 0; i < p.M; i++ {
			copy(c[i*p.N:(i+1)*p.N], bias)
		}
		beta = 1
	}
	switch a := any(a).(type) {
	case []float32:
		if err := op.engine().Gemm(p.TA, p.TB, p.M, p.N, p.K, 1, a, lda, any(b).([]float32), ldb, float32(beta), any(c).([]float32), p.N); err != nil {
			return nil, errors.Wrapf(err, "Gemm on %s", op.engine().Name())
		}
	case []float64:
		gemmBLAS(p.TA, p.TB, p.M, p.N, p.K, 1, a, lda, any(b).([]float64), ldb, float64(beta), any(c).([]float64), p.N)
	}
	return out, nil
}

func (op *gemmOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	p := op.p
	a, b := inputs[0], inputs[1]
	ret := make(G.Nodes, len(inputs))
	var err error
	// dA
	if !p.TA {
		ret[0], err = newGemm(op.eng, gemmParams{TA: false, TB: !p.TB, M: p.M, N: p.K, K: p.N}, grad, b)
	} else {
		ret[0], err = newGemm(op.eng, gemmParams{TA: p.TB, TB: true, M: p.K, N: p.M, K: p.N}, b, grad)
	}
	if err != nil {
		return nil, err
	}
	// dB
	if !p.TB {
		ret[1], err = newGemm(op.eng, gemmParams{TA: !p.TA, TB: false, M: p.K, N: p.N, K: p.M}, a, grad)
	} else {
		ret[1], err = newGemm(op.eng, gemmParams{TA: true, TB: p.TA, M: p.N, N: p.K, K: p.M}, grad, a)
	}
	if err != nil {
		return nil, err
	}
	if p.Bias {
		if ret[2], err = channelSum(op.eng, grad); err != nil {
			return nil, err
		}
	}
	return ret, nil
}
