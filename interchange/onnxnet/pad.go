package onnxnet

import (
	"fmt"
	"hash"
	"hash/fnv"
	"io"

	"github.com/chewxy/hm"
	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/goinception/googlenet/ops"
)

// padOp pads the spatial axes of a float32 NCHW tensor with a constant (ONNX
// Pad, mode "constant"). Inference only: it has no gradient.
type padOp struct {
	in    tensor.Shape
	pad   ops.Pad2D
	value float32
}

var _ G.Op = (*padOp)(nil)

func padNode(x *G.Node, p ops.Pad2D, value float32) (*G.Node, error) {
	if x.Dtype() != tensor.Float32 {
		return nil, errors.Errorf("Pad: dtype %v, want float32", x.Dtype())
	}
	s := x.Shape()
	if len(s) != 4 {
		return nil, errors.Errorf("Pad: input %v is not NCHW", s)
	}
	if p == (ops.Pad2D{}) {
		return x, nil
	}
	return G.ApplyOp(&padOp{in: s.Clone(), pad: p, value: value}, x)
}

func (op *padOp) out() tensor.Shape {
	return tensor.Shape{op.in[0], op.in[1], op.in[2] + op.pad.Top + op.pad.Bottom, op.in[3] + op.pad.Left + op.pad.Right}
}

func (op *padOp) Arity() int { return 1 }
func (op *padOp) Type() hm.Type {
	t := G.TensorType{Dims: 4, Of: hm.TypeVariable('a')}
	return hm.NewFnType(t, t)
}
func (op *padOp) InferShape(...G.DimSizer) (tensor.Shape, error) { return op.out(), nil }
func (op *padOp) ReturnsPtr() bool                               { return false }
func (op *padOp) CallsExtern() bool                              { return false }
func (op *padOp) OverwritesInput() int                           { return -1 }
func (op *padOp) String() string {
	return fmt.Sprintf("Pad%v%+v(%v)", []int(op.in), op.pad, op.value)
}
func (op *padOp) WriteHash(h hash.Hash) { io.WriteString(h, op.String()) }
func (op *padOp) Hashcode() uint32 {
	h := fnv.New32a()
	op.WriteHash(h)
	return h.Sum32()
}

func (op *padOp) Do(vs ...G.Value) (G.Value, error) {
	if len(vs) != 1 {
		return nil, errors.Errorf("Pad: %d inputs", len(vs))
	}
	x, ok := vs[0].Data().([]float32)
	if !ok || len(x) != op.in.TotalSize() {
		return nil, errors.Errorf("Pad: input is not %v float32", op.in)
	}
	os := op.out()
	y := make([]float32, os.TotalSize())
	for i := range y {
		y[i] = op.value
	}
	h, w, oh, ow := op.in[2], op.in[3], os[2], os[3]
	for nc := 0; nc < op.in[0]*op.in[1]; nc++ {
		for i := 0; i < h; i++ {
			copy(y[nc*oh*ow+(i+op.pad.Top)*ow+op.pad.Left:][:w], x[nc*h*w+i*w:][:w])
		}
	}
	return tensor.New(tensor.WithShape(os...), tensor.WithBacking(y)), nil
}
