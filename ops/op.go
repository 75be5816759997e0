package ops

// Shared machinery of the Gorgonia ops in this package: naming and hashing,
// type signatures, value access and output buffers reused across runs.

import (
	"fmt"
	"hash"
	"hash/fnv"
	"io"
	"sync/atomic"

	"github.com/chewxy/hm"
	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// opMeta implements the bookkeeping half of gorgonia.Op. name is the op's
// kind followed by every parameter that changes its output (built with %+v
// over the op's parameter struct), so hashing the name covers every field.
//
// eng is the engine the op's float32 kernels run on, fixed when the op is
// built (ops.With); a graph's backward ops inherit their forward op's.
type opMeta struct {
	name string
	eng  Engine
}

func newMeta(kind string, params any) opMeta {
	return opMeta{name: fmt.Sprintf("%s%+v", kind, params), eng: Reference{}}
}

// with returns m bound to engine e (nil: the reference engine).
func (m opMeta) with(e Engine) opMeta {
	if e != nil {
		m.eng = e
	}
	return m
}

// engine returns the op's engine.
func (m opMeta) engine() Engine {
	if m.eng == nil {
		return Reference{}
	}
	return m.eng
}

func (m opMeta) ReturnsPtr() bool      { return false }
func (m opMeta) CallsExtern() bool     { return false }
func (m opMeta) OverwritesInput() int  { return -1 }
func (m opMeta) WriteHash(h hash.Hash) { io.WriteString(h, m.name) }
func (m opMeta) String() string        { return m.name }
func (m opMeta) Hashcode() uint32 {
	h := fnv.New32a()
	m.WriteHash(h)
	return h.Sum32()
}

// opIDs numbers stateful ops so that hash-consing never merges two of them.
var opIDs atomic.Uint64

func nextID() uint64 { return opIDs.Add(1) }

// tt is a Gorgonia tensor type of the given rank over the type variable a.
func tt(dims int) hm.Type { return G.TensorType{Dims: dims, Of: hm.TypeVariable('a')} }

// fnType is a -> b -> ... -> result.
func fnType(ts ...hm.Type) hm.Type { return hm.NewFnType(ts...) }

// shapeOf returns the static shape of n (never nil).
func shapeOf(n *G.Node) tensor.Shape {
	s := n.Shape()
	if s == nil {
		return tensor.ScalarShape()
	}
	return s
}

// checkFloat rejects dtypes other than float32 and float64.
func checkFloat(ns ...*G.Node) (tensor.Dtype, error) {
	var dt tensor.Dtype
	for i, n := range ns {
		if n == nil {
			return dt, errors.Errorf("input %d is nil", i)
		}
		d := n.Dtype()
		if d != tensor.Float32 && d != tensor.Float64 {
			return dt, errors.Errorf("%v has dtype %v, want float32 or float64", n.Name(), d)
		}
		if i == 0 {
			dt = d
		} else if d != dt {
			return dt, errors.Errorf("%v has dtype %v, want %v like %v", n.Name(), d, dt, ns[0].Name())
		}
	}
	return dt, nil
}

// checkRank requires n to have the given rank.
func checkRank(n *G.Node, rank int, what string) error {
	if n == nil {
		return errors.Errorf("%s is nil", what)
	}
	if s := shapeOf(n); len(s) != rank {
		return errors.Errorf("%s %v has shape %v, want rank %d", what, n.Name(), s, rank)
	}
	return nil
}

// apply wraps G.ApplyOp with context.
func apply(op G.Op, children ...*G.Node) (*G.Node, error) {
	n, err := G.ApplyOp(op, children...)
	if err != nil {
		return nil, errors.Wrapf(err, "ops: applying %v", op)
	}
	return n, nil
}

// dense returns v as a contiguous dense tensor (materialising views).
func dense(v G.Value) (*tensor.Dense, error) {
	switch t := v.(type) {
	case *tensor.Dense:
		if t.IsMaterializable() {
			m, ok := t.Materialize().(*tensor.Dense)
			if !ok {
				return nil, errors.Errorf("cannot materialise %T", t)
			}
			return m, nil
		}
		return t, nil
	case tensor.Tensor:
		return nil, errors.Errorf("unsupported tensor type %T", v)
	default:
		return nil, errors.Errorf("expected a tensor, got %T", v)
	}
}

// floats returns the backing slice of a float32 or float64 value (tensor or
// scalar).
func floats[T float](v G.Value) ([]T, error) {
	switch s := v.(type) {
	case *G.F32:
		var z T
		if _, ok := any(z).(float32); ok {
			return []T{T(*s)}, nil
		}
		return nil, errors.Errorf("got float32 scalar, want %T", z)
	case *G.F64:
		var z T
		if _, ok := any(z).(float64); ok {
			return []T{T(*s)}, nil
		}
		return nil, errors.Errorf("got float64 scalar, want %T", z)
	}
	d, err := dense(v)
	if err != nil {
		return nil, err
	}
	data, ok := d.Data().([]T)
	if !ok {
		// A one-element tensor may hold its value as a scalar.
		if x, ok := d.Data().(T); ok {
			return []T{x}, nil
		}
		var z T
		return nil, errors.Errorf("tensor holds %T, want []%T", d.Data(), z)
	}
	return data, nil
}

// valueDtype returns the dtype of v.
func valueDtype(v G.Value) tensor.Dtype {
	switch v.(type) {
	case *G.F32:
		return tensor.Float32
	case *G.F64:
		return tensor.Float64
	}
	if t, ok := v.(tensor.Tensor); ok {
		return t.Dtype()
	}
	return tensor.Dtype{}
}

func dtypeFor[T float]() tensor.Dtype {
	var z T
	if _, ok := any(z).(float32); ok {
		return tensor.Float32
	}
	return tensor.Float64
}

// outBuf is an op-owned output buffer. Gorgonia's TapeMachine drops every
// value on Reset, so an op that allocated its result in Do would allocate
// on every run; ops keep their result tensor here and overwrite it instead.
// The value an op returns is therefore only valid until the op runs again.
// When a buffer plan gave it a slot (PlanBuffers), the tensor is a view of
// the slot's memory, which later ops of the same run overwrite.
type outBuf struct {
	t    *tensor.Dense
	slot *bufSlot
}

// get returns a buffer of dtype T and the given shape, reusing the previous
// one when it fits, and its data slice.
func get[T float](b *outBuf, shape tensor.Shape) (*tensor.Dense, []T) {
	dt := dtypeFor[T]()
	if b.slot != nil {
		data := slotData[T](b.slot, shape.TotalSize())
		if b.t == nil || b.t.Dtype() != dt || !b.t.Shape().Eq(shape) || &b.t.Data().([]T)[0] != &data[0] {
			b.t = tensor.New(tensor.WithShape(shape.Clone()...), tensor.WithBacking(data))
		}
		return b.t, data
	}
	if b.t == nil || b.t.Dtype() != dt || !b.t.Shape().Eq(shape) {
		b.t = tensor.New(tensor.Of(dt), tensor.WithShape(shape.Clone()...))
	}
	return b.t, b.t.Data().([]T)
}

// scalarOut returns a scalar value of type T holding x.
func scalarOut[T float](x T) G.Value {
	switch v := any(x).(type) {
	case float32:
		f := G.F32(v)
		return &f
	default:
		f := G.F64(any(x).(float64))
		return &f
	}
}

// dispatch runs f32 or f64 depending on the dtype of v.
func dispatch(v G.Value, f32, f64 func() (G.Value, error)) (G.Value, error) {
	switch valueDtype(v) {
	case tensor.Float32:
		return f32()
	case tensor.Float64:
		return f64()
	default:
		return nil, errors.Errorf("unsupported value %T (want float32 or float64)", v)
	}
}

// checkLen verifies that a value has the number of elements the op expects.
func checkLen[T float](what string, s []T, n int) error {
	if len(s) != n {
		return errors.Errorf("%s has %d elements, want %d", what, len(s), n)
	}
	return nil
}
