package onnxnet

import (
	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/goinception/googlenet/interchange/onnx"
	"github.com/goinception/googlenet/ops"
)

// This file builds the arithmetic operators: Gemm, MatMul, Add and
// Softmax, with ONNX's broadcasting rules.

func floatConst(t *onnx.Tensor) ([]float32, []int, error) {
	if !t.DataType.IsFloat() {
		return nil, nil, errors.Errorf("constant %q is %v, want floating point", t.Name, t.DataType)
	}
	return t.Floats, t.Shape(), nil
}

// transpose2 returns the transpose of the row-major r x c matrix a.
func transpose2(a []float32, r, c int) []float32 {
	t := make([]float32, len(a))
	for i := 0; i < r; i++ {
		for j := 0; j < c; j++ {
			t[j*r+i] = a[i*c+j]
		}
	}
	return t
}

func (b *netBuilder) newConst(name string, shape []int, data []float32) *G.Node {
	d := tensor.New(tensor.WithShape(shape...), tensor.WithBacking(data))
	return G.NewTensor(b.g, tensor.Float32, len(shape), G.WithShape(shape...), G.WithName(name), G.WithValue(d))
}

// linear builds x·Wᵀ + bias with W [out, in] (bias may be nil).
func (b *netBuilder) linear(nd *onnx.Node, x *G.Node, w []float32, out, in int, bias []float32) error {
	wn := b.newConst("linear/"+nd.Outputs[0]+"/w", []int{out, in}, w)
	var bn *G.Node
	if bias != nil {
		bn = b.newConst("linear/"+nd.Outputs[0]+"/b", []int{out}, bias)
	}
	y, err := ops.Linear(x, wn, bn)
	if err != nil {
		return err
	}
	return b.set(nd, y)
}

// gemm builds alpha·op(A)·op(B) + beta·C with B (and C) constant: a Linear
// layer with weights alpha·op(B)ᵀ and bias beta·C.
func (b *netBuilder) gemm(nd *onnx.Node) error {
	a, err := b.input(nd, 0)
	if err != nil {
		return err
	}
	if len(nd.Inputs) < 2 {
		return errors.New("no B input")
	}
	bt, err := b.constant(nd.Inputs[1], "B")
	if err != nil {
		return err
	}
	alpha, err := nd.Float("alpha", 1)
	if err != nil {
		return err
	}
	beta, err := nd.Float("beta", 1)
	if err != nil {
		return err
	}
	transA, err := nd.Int("transA", 0)
	if err != nil {
		return err
	}
	transB, err := nd.Int("transB", 0)
	if err != nil {
		return err
	}
	bv, bs, err := floatConst(bt)
	if err != nil {
		return err
	}
	if len(bs) != 2 || a.Dims() != 2 {
		return errors.Errorf("Gemm of %v and %v: both must be matrices", a.Shape(), bs)
	}
	if transA != 0 {
		if a, err = G.Transpose(a, 1, 0); err != nil {
			return err
		}
	}
	// W is [out, in] = op(B)ᵀ scaled by alpha.
	var w []float32
	var out, in int
	if transB != 0 {
		out, in = bs[0], bs[1]
		w = append([]float32(nil), bv...)
	} else {
		in, out = bs[0], bs[1]
		w = transpose2(bv, in, out)
	}
	for i := range w {
		w[i] *= alpha
	}
	if a.Shape()[1] != in {
		return errors.Errorf("Gemm: A %v does not match B %v (transB %d)", a.Shape(), bs, transB)
	}
	var bias []float32
	var full *G.Node
	if c := optional(nd, 2); c != "" && beta != 0 {
		ct, err := b.constant(c, "C")
		if err != nil {
			return err
		}
		cv, cs, err := floatConst(ct)
		if err != nil {
			return err
		}
		m := a.Shape()[0]
		if bias, err = broadcastRow(cv, cs, out); err != nil {
			// A full [M, N] C is added after the product.
			if len(cs) != 2 || cs[0] != m || cs[1] != out {
				return errors.Errorf("Gemm: C of shape %v does not broadcast to [%d %d]", cs, m, out)
			}
			full = b.newConst("gemm/"+nd.Outputs[0]+"/c", []int{m, out}, scaled(cv, beta))
		} else {
			bias = scaled(bias, beta)
		}
	}
	if full == nil {
		return b.linear(nd, a, w, out, in, bias)
	}
	if err := b.linear(nd, a, w, out, in, nil); err != nil {
		return err
	}
	y, err := G.Add(b.vals[nd.Outputs[0]], full)
	if err != nil {
		return err
	}
	return b.set(nd, y)
}

func scaled(v []float32, s float32) []float32 {
	o := make([]float32, len(v))
	for i, x := range v {
		o[i] = x * s
	}
	return o
}

// broadcastRow expands a constant of shape [], [1], [n] or [1, n] to a row of
// n values.
func broadcastRow(v []float32, s []int, n int) ([]float32, error) {
	size := 1
	for _, d := range s {
		size *= d
	}
	switch {
	case size == 1 && len(v) == 1:
		r := make([]float32, n)
		for i := range r {
			r[i] = v[0]
		}
		return r, nil
	case (len(s) == 1 && s[0] == n) || (len(s) == 2 && s[0] == 1 && s[1] == n):
		return append([]float32(nil), v...), nil
	}
	return nil, errors.Errorf("shape %v is not a row of %d", s, n)
}

func (b *netBuilder) matmul(nd *onnx.Node) error {
	a, err := b.input(nd, 0)
	if err != nil {
		return err
	}
	if len(nd.Inputs) < 2 {
		return errors.New("no B input")
	}
	if bt, ok := b.consts[nd.Inputs[1]]; ok {
		bv, bs, err := floatConst(bt)
		if err != nil {
			return err
		}
		if len(bs) != 2 || a.Dims() != 2 || a.Shape()[1] != bs[0] {
			return errors.Errorf("MatMul of %v and %v: only [M K]·[K N] is supported", a.Shape(), bs)
		}
		return b.linear(nd, a, transpose2(bv, bs[0], bs[1]), bs[1], bs[0], nil)
	}
	c, err := b.input(nd, 1)
	if err != nil {
		return err
	}
	if a.Dims() != 2 || c.Dims() != 2 {
		return errors.Errorf("MatMul of %v and %v: only matrices are supported", a.Shape(), c.Shape())
	}
	y, err := G.Mul(a, c)
	if err != nil {
		return err
	}
	return b.set(nd, y)
}

// add builds a + b: two computed values of one shape, or a computed value
// and a constant that broadcasts to its shape (numpy rules).
func (b *netBuilder) add(nd *onnx.Node) error {
	if len(nd.Inputs) != 2 {
		return errors.Errorf("%d inputs, want 2", len(nd.Inputs))
	}
	_, c0 := b.consts[nd.Inputs[0]]
	_, c1 := b.consts[nd.Inputs[1]]
	if c0 && c1 {
		return errors.New("adding two constants is not supported")
	}
	xi, ci := 0, 1
	if c0 {
		xi, ci = 1, 0
	}
	x, err := b.input(nd, xi)
	if err != nil {
		return err
	}
	var y *G.Node
	if c0 || c1 {
		t := b.consts[nd.Inputs[ci]]
		v, s, err := floatConst(t)
		if err != nil {
			return err
		}
		full, err := broadcastTo(v, s, x.Shape())
		if err != nil {
			return err
		}
		cn := b.newConst("add/"+nd.Outputs[0]+"/c", x.Shape(), full)
		y, err = G.Add(x, cn)
		if err != nil {
			return err
		}
	} else {
		z, err := b.input(nd, ci)
		if err != nil {
			return err
		}
		if !x.Shape().Eq(z.Shape()) {
			return errors.Errorf("adding %v and %v: computed values must have equal shapes", x.Shape(), z.Shape())
		}
		if y, err = G.Add(x, z); err != nil {
			return err
		}
	}
	return b.set(nd, y)
}

// broadcastTo expands v of shape s to shape to (numpy broadcasting, s not
// longer than to).
func broadcastTo(v []float32, s []int, to []int) ([]float32, error) {
	if len(s) > len(to) {
		return nil, errors.Errorf("constant of shape %v does not broadcast to %v", s, to)
	}
	// Align s on the right.
	ps := make([]int, len(to))
	for i := range ps {
		ps[i] = 1
	}
	copy(ps[len(to)-len(s):], s)
	for i := range to {
		if ps[i] != 1 && ps[i] != to[i] {
			return nil, errors.Errorf("constant of shape %v does not broadcast to %v", s, to)
		}
	}
	total := 1
	for _, d := range to {
		total *= d
	}
	out := make([]float32, total)
	idx := make([]int, len(to))
	for k := range out {
		off := 0
		for i := range to {
			j := idx[i]
			if ps[i] == 1 {
				j = 0
			}
			off = off*ps[i] + j
		}
		out[k] = v[off]
		for i := len(to) - 1; i >= 0; i-- {
			idx[i]++
			if idx[i] < to[i] {
				break
			}
			idx[i] = 0
		}
	}
	return out, nil
}

func (b *netBuilder) softmax(nd *onnx.Node) error {
	x, err := b.input(nd, 0)
	if err != nil {
		return err
	}
	opset := b.net.model.Opset()
	def := int64(-1)
	if opset < 13 {
		def = 1
	}
	axis, err := nd.Int("axis", def)
	if err != nil {
		return err
	}
	s := x.Shape()
	r := int64(len(s))
	if axis < 0 {
		axis += r
	}
	// Before opset 13 Softmax flattens to [prod(s[:axis]), prod(s[axis:])];
	// from 13 it normalises along one axis, the same when the later axes
	// have size 1.
	ok := axis == r-1
	if opset < 13 && axis >= 0 && axis < r {
		ok = true
	}
	if !ok {
		for _, d := range s[axis+1:] {
			ok = d == 1
			if !ok {
				break
			}
		}
		if axis < 0 || axis >= r {
			ok = false
		}
	}
	if !ok {
		return errors.Errorf("softmax along axis %d of %v is not supported", axis, s)
	}
	outer, inner := 1, 1
	for i, d := range s {
		if int64(i) < axis {
			outer *= d
		} else {
			inner *= d
		}
	}
	y := x
	if r != 2 || s[0] != outer {
		if y, err = G.Reshape(x, tensor.Shape{outer, inner}); err != nil {
			return err
		}
	}
	if y, err = ops.Softmax(y); err != nil {
		return err
	}
	if r != 2 || s[0] != outer {
		if y, err = G.Reshape(y, s.Clone()); err != nil {
			return err
		}
	}
	return b.set(nd, y)
}
