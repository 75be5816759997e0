package ops

import (
	"math"

	"github.com/chewxy/hm"
	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// softmaxRow writes softmax(x) into y and returns log(sum(exp(x - max))) + max,
// the log-sum-exp of x.
func softmaxRow[T float](x, y []T) float64 {
	m := math.Inf(-1)
	for _, v := range x {
		m = math.Max(m, float64(v))
	}
	var s float64
	for i, v := range x {
		e := math.Exp(float64(v) - m)
		if y != nil {
			y[i] = T(e)
		}
		s += e
	}
	if y != nil {
		inv := 1 / s
		for i := range y {
			y[i] = T(float64(y[i]) * inv)
		}
	}
	return m + math.Log(s)
}

// softmaxOp is the row-wise softmax of [N,K] logits.
type softmaxOp struct {
	opMeta
	n, k int
	out  outBuf
}

var (
	_ G.Op   = (*softmaxOp)(nil)
	_ G.SDOp = (*softmaxOp)(nil)
)

func newSoftmax(eng Engine, x *G.Node) (*G.Node, error) {
	if _, err := checkFloat(x); err != nil {
		return nil, errors.Wrap(err, "ops.Softmax")
	}
	if err := checkRank(x, 2, "logits"); err != nil {
		return nil, errors.Wrap(err, "ops.Softmax")
	}
	s := shapeOf(x)
	return apply(&softmaxOp{opMeta: newMeta("Softmax", s).with(eng), n: s[0], k: s[1]}, x)
}

func (op *softmaxOp) Arity() int         { return 1 }
func (op *softmaxOp) Type() hm.Type      { return fnType(tt(2), tt(2)) }
func (op *softmaxOp) DiffWRT(int) []bool { return []bool{true} }
func (op *softmaxOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return tensor.Shape{op.n, op.k}, nil
}

func (op *softmaxOp) Do(vs ...G.Value) (G.Value, error) {
	return dispatch(vs[0], func() (G.Value, error) { return softmaxDo[float32](op, vs) },
		func() (G.Value, error) { return softmaxDo[float64](op, vs) })
}

func softmaxDo[T float](op *softmaxOp, vs []G.Value) (G.Value, error) {
	x, err := floats[T](vs[0])
	if err != nil {
		return nil, err
	}
	if err := checkLen("softmax input", x, op.n*op.k); err != nil {
		return nil, err
	}
	out, y := get[T](&op.out, tensor.Shape{op.n, op.k})
	for i := 0; i < op.n; i++ {
		softmaxRow(x[i*op.k:(i+1)*op.k], y[i*op.k:(i+1)*op.k])
	}
	return out, nil
}

func (op *softmaxOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	dx, err := apply(&softmaxGradOp{opMeta: newMeta("SoftmaxGrad", [2]int{op.n, op.k}).with(op.eng), n: op.n, k: op.k}, output, grad)
	if err != nil {
		return nil, err
	}
	return G.Nodes{dx}, nil
}

// softmaxGradOp is dx = y ⊙ (dy - sum(dy ⊙ y)) per row, from (y, dy).
type softmaxGradOp struct {
	opMeta
	n, k int
	out  outBuf
}

var _ G.Op = (*softmaxGradOp)(nil)

func (op *softmaxGradOp) Arity() int    { return 2 }
func (op *softmaxGradOp) Type() hm.Type { return fnType(tt(2), tt(2), tt(2)) }
func (op *softmaxGradOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return tensor.Shape{op.n, op.k}, nil
}

func (op *softmaxGradOp) Do(vs ...G.Value) (G.Value, error) {
	return dispatch(vs[0], func() (G.Value, error) { return softmaxGradDo[float32](op, vs) },
		func() (G.Value, error) { return softmaxGradDo[float64](op, vs) })
}

func softmaxGradDo[T float](op *softmaxGradOp, vs []G.Value) (G.Value, error) {
	y, err := floats[T](vs[0])
	if err != nil {
		return nil, err
	}
	dy, err := floats[T](vs[1])
	if err != nil {
		return nil, err
	}
	if err := checkLen("softmax output gradient", dy, op.n*op.k); err != nil {
		return nil, err
	}
	out, dx := get[T](&op.out, tensor.Shape{op.n, op.k})
	for i := 0; i < op.n; i++ {
		yr, dr, xr := y[i*op.k:(i+1)*op.k], dy[i*op.k:(i+1)*op.k], dx[i*op.k:(i+1)*op.k]
		var s T
		for j := range yr {
			s += yr[j] * dr[j]
		}
		for j := range yr {
			xr[j] = yr[j] * (dr[j] - s)
		}
	}
	return out, nil
}

// sceOp is the batch mean of -log softmax(logits)[label], from ([N,K]
// logits, [N] labels) to a scalar.
type sceOp struct {
	opMeta
	n, k int
}

var (
	_ G.Op   = (*sceOp)(nil)
	_ G.SDOp = (*sceOp)(nil)
)

func newSCE(eng Engine, logits, labels *G.Node) (*G.Node, error) {
	if _, err := checkFloat(logits, labels); err != nil {
		return nil, errors.Wrap(err, "ops.SoftmaxCrossEntropy")
	}
	if err := checkRank(logits, 2, "logits"); err != nil {
		return nil, errors.Wrap(err, "ops.SoftmaxCrossEntropy")
	}
	if err := checkRank(labels, 1, "labels"); err != nil {
		return nil, errors.Wrap(err, "ops.SoftmaxCrossEntropy")
	}
	s, ls := shapeOf(logits), shapeOf(labels)
	if ls[0] != s[0] {
		return nil, errors.Errorf("ops.SoftmaxCrossEntropy: %d labels for %d rows of logits", ls[0], s[0])
	}
	if s[0] == 0 || s[1] == 0 {
		return nil, errors.Errorf("ops.SoftmaxCrossEntropy: empty logits %v", s)
	}
	return apply(&sceOp{opMeta: newMeta("SoftmaxCrossEntropy", s).with(eng), n: s[0], k: s[1]}, logits, labels)
}

func (op *sceOp) Arity() int { return 2 }
func (op *sceOp) Type() hm.Type {
	return fnType(tt(2), tt(1), hm.TypeVariable('a'))
}
func (op *sceOp) InferShape(...G.DimSizer) (tensor.Shape, error) { return tensor.ScalarShape(), nil }
func (op *sceOp) DiffWRT(int) []bool                             { return []bool{true, false} }

// labelsOf converts float class indices to ints, rejecting anything that is
// not an integer in [0, k).
func labelsOf[T float](v G.Value, n, k int) ([]int, error) {
	l, err := floats[T](v)
	if err != nil {
		return nil, err
	}
	if err := checkLen("labels", l, n); err != nil {
		return nil, err
	}
	out := make([]int, n)
	for i, x := range l {
		c := int(x)
		if T(c) != x || c < 0 || c >= k {
			return nil, errors.Errorf("ops.SoftmaxCrossEntropy: label %d is %v, want an integer in [0, %d)", i, x, k)
		}
		out[i] = c
	}
	return out, nil
}

func (op *sceOp) Do(vs ...G.Value) (G.Value, error) {
	return dispatch(vs[0], func() (G.Value, error) { return sceDo[float32](op, vs) },
		func() (G.Value, error) { return sceDo[float64](op, vs) })
}

func sceDo[T float](op *sceOp, vs []G.Value) (G.Value, error) {
	x, err := floats[T](vs[0])
	if err != nil {
		return nil, err
	}
	if err := checkLen("logits", x, op.n*op.k); err != nil {
		return nil, err
	}
	labels, err := labelsOf[T](vs[1], op.n, op.k)
	if err != nil {
		return nil, err
	}
	var loss float64
	if x32, ok := any(x).([]float32); ok {
		e := op.engine()
		loss, err = e.SoftmaxCrossEntropyForward(op.n, op.k, x32, labels)
		if errors.Is(err, ErrNotSupported) {
			loss, err = Reference{}.SoftmaxCrossEntropyForward(op.n, op.k, x32, labels)
		}
		if err != nil {
			return nil, errors.Wrapf(err, "SoftmaxCrossEntropy on %s", e.Name())
		}
	} else {
		loss = sceForward(op.n, op.k, x, labels)
	}
	return scalarOut(T(loss)), nil
}

func (op *sceOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	dx, err := apply(&sceGradOp{opMeta: newMeta("SoftmaxCrossEntropyGrad", [2]int{op.n, op.k}).with(op.eng), n: op.n, k: op.k}, inputs[0], inputs[1], grad)
	if err != nil {
		return nil, err
	}
	return G.Nodes{dx, nil}, nil
}

// sceGradOp is dlogits = (softmax(logits) - onehot(label)) * dloss / N.
type sceGradOp struct {
	opMeta
	n, k int
	out  outBuf
}

var _ G.Op = (*sceGradOp)(nil)

func (op *sceGradOp) Arity() int { return 3 }
func (op *sceGradOp) Type() hm.Type {
	return fnType(tt(2), tt(1), hm.TypeVariable('a'), tt(2))
}
func (op *sceGradOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return tensor.Shape{op.n, op.k}, nil
}

func (op *sceGradOp) Do(vs ...G.Value) (G.Value, error) {
	return dispatch(vs[0], func() (G.Value, error) { return sceGradDo[float32](op, vs) },
		func() (G.Value, error) { return sceGradDo[float64](op, vs) })
}

func sceGradDo[T float](op *sceGradOp, vs []G.Value) (G.Value, error) {
	x, err := floats[T](vs[0])
	if err != nil {
		return nil, err
	}
	if err := checkLen("logits", x, op.n*op.k); err != nil {
		return nil, err
	}
	labels, err := labelsOf[T](vs[1], op.n, op.k)
	if err != nil {
		return nil, err
	}
	d, err := floats[T](vs[2])
	if err != nil {
		return nil, err
	}
	if len(d) != 1 {
		return nil, errors.Errorf("loss gradient has %d values, want 1", len(d))
	}
	out, dx := get[T](&op.out, tensor.Shape{op.n, op.k})
	if x32, ok := any(x).([]float32); ok {
		d32, dx32 := any(d[0]).(float32), any(dx).([]float32)
		e := op.engine()
		err := orReference(e.SoftmaxCrossEntropyBackward(op.n, op.k, x32, labels, d32, dx32), func() error {
			return Reference{}.SoftmaxCrossEntropyBackward(op.n, op.k, x32, labels, d32, dx32)
		})
		if err != nil {
			return nil, errors.Wrapf(err, "SoftmaxCrossEntropy gradient on %s", e.Name())
		}
		return out, nil
	}
	sceBackward(op.n, op.k, x, labels, d[0], dx)
	return out, nil
}
