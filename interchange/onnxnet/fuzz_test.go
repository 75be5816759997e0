package onnxnet

import (
	"testing"

	"gorgonia.org/tensor"

	"github.com/goinception/googlenet/interchange/onnx"
)

// smallZoo is a small graph using most supported operators, in the model
// zoo's style: x [N,2,4,4] -> Conv+bias -> Relu -> LRN -> MaxPool 2x2/2 with
// pads [0,0,1,1] -> BatchNormalization -> Concat(itself, itself) -> Pad ->
// AveragePool -> GlobalAveragePool -> Flatten -> Dropout -> Gemm -> Identity
// -> Reshape -> MatMul -> Add -> Softmax.
func smallZoo() *onnx.Model {
	f := func(name string, dims []int64, v ...float32) *onnx.Tensor {
		return &onnx.Tensor{Name: name, DataType: onnx.Float, Dims: dims, Floats: v}
	}
	i64 := func(name string, v ...int64) *onnx.Tensor {
		return &onnx.Tensor{Name: name, DataType: onnx.Int64, Dims: []int64{int64(len(v))}, Ints: v}
	}
	ints := func(name string, v ...int64) onnx.Attribute {
		return onnx.Attribute{Name: name, Type: onnx.AttrInts, Ints: v}
	}
	node := func(op string, ins []string, out string, attrs ...onnx.Attribute) *onnx.Node {
		return &onnx.Node{Name: out, OpType: op, Inputs: ins, Outputs: []string{out}, Attrs: attrs}
	}
	return &onnx.Model{
		IRVersion: 8, Opsets: []onnx.OpsetImport{{Version: 13}},
		Graph: onnx.Graph{
			Nodes: []*onnx.Node{
				node("Conv", []string{"data_0", "w", "b"}, "c", ints("kernel_shape", 1, 1)),
				node("Relu", []string{"c"}, "r"),
				node("LRN", []string{"r"}, "l", onnx.Attribute{Name: "size", Type: onnx.AttrInt, I: 3}),
				node("MaxPool", []string{"l"}, "p", ints("kernel_shape", 2, 2), ints("strides", 2, 2), ints("pads", 0, 0, 1, 1)),
				node("BatchNormalization", []string{"p", "s", "sh", "mu", "var"}, "bn"),
				node("Concat", []string{"bn", "bn"}, "cat", onnx.Attribute{Name: "axis", Type: onnx.AttrInt, I: 1}),
				node("Pad", []string{"cat", "pads"}, "pad"),
				node("AveragePool", []string{"pad"}, "ap", ints("kernel_shape", 2, 2), onnx.Attribute{Name: "count_include_pad", Type: onnx.AttrInt, I: 1}),
				node("GlobalAveragePool", []string{"ap"}, "gap"),
				node("Flatten", []string{"gap"}, "flat"),
				node("Dropout", []string{"flat"}, "drop"),
				node("Gemm", []string{"drop", "gw", "gb"}, "gemm", onnx.Attribute{Name: "transB", Type: onnx.AttrInt, I: 1},
					onnx.Attribute{Name: "alpha", Type: onnx.AttrFloat, F: 0.5}),
				node("Identity", []string{"gemm"}, "id"),
				node("Reshape", []string{"id", "shape"}, "rs"),
				node("MatMul", []string{"rs", "mm"}, "mat"),
				node("Add", []string{"mat", "bias"}, "add"),
				node("Softmax", []string{"add"}, "prob_1"),
			},
			Initializers: []*onnx.Tensor{
				f("w", []int64{2, 2, 1, 1}, 1, 0.5, -0.5, 1), f("b", []int64{2}, 0.1, -0.1),
				f("s", []int64{2}, 1, 2), f("sh", []int64{2}, 0, 1), f("mu", []int64{2}, 0.5, 0), f("var", []int64{2}, 1, 4),
				i64("pads", 0, 0, 1, 0, 0, 0, 0, 1),
				f("gw", []int64{3, 4}, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12), f("gb", []int64{3}, 1, 2, 3),
				i64("shape", 0, -1), f("mm", []int64{3, 2}, 1, -1, 2, -2, 3, -3), f("bias", []int64{2}, 0.5, -0.5),
			},
			Inputs:  []onnx.ValueInfo{{Name: "data_0", ElemType: onnx.Float, Shape: []onnx.Dim{{Value: 1}, {Value: 2}, {Value: 4}, {Value: 4}}}},
			Outputs: []onnx.ValueInfo{{Name: "prob_1", ElemType: onnx.Float}},
		},
	}
}

func TestSmallZoo(t *testing.T) {
	n, err := NewNet(smallZoo())
	if err != nil {
		t.Fatal(err)
	}
	ys, err := n.Forward(randInput(3, 2, 4, 5))
	if err != nil {
		t.Fatal(err)
	}
	y := ys[0].Data().([]float32)
	if s := ys[0].Shape(); len(s) != 2 || s[0] != 3 || s[1] != 2 {
		t.Fatalf("output shape %v", s)
	}
	for i := 0; i < 3; i++ {
		if d := y[2*i] + y[2*i+1] - 1; d > 1e-6 || d < -1e-6 {
			t.Errorf("probabilities %v do not sum to 1", y[2*i:2*i+2])
		}
	}
}

// FuzzNet builds and runs arbitrary ONNX bytes: anything Parse and NewNet
// accept must build and run or fail with an error, never panic.
func FuzzNet(f *testing.F) {
	for _, m := range []*onnx.Model{tinyONNX(), smallZoo()} {
		b, err := onnx.Marshal(m)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := onnx.Parse(b)
		if err != nil {
			return
		}
		n, err := NewNet(m)
		if err != nil {
			return
		}
		shape := n.InputShape()
		if len(shape) == 0 || len(shape) > 4 {
			return
		}
		size := 1
		for i, d := range shape {
			if d <= 0 {
				shape[i] = 1
			}
			size *= shape[i]
			if size > 1<<12 {
				return
			}
		}
		x := tensor.New(tensor.WithShape(shape...), tensor.WithBacking(make([]float32, size)))
		_, _ = n.Forward(x)
	})
}
