package onnxnet

import (
	"math"
	"testing"

	"gorgonia.org/tensor"

	"github.com/goinception/googlenet/interchange/onnx"
)

// opTol bounds float32 differences from the hand-computed values below.
const opTol = 1e-5

// oneNode is a graph of a single node on input "x" of the given shape with
// output "y" and the given initializers.
func oneNode(opset int64, shape []int64, nd *onnx.Node, inits ...*onnx.Tensor) *onnx.Model {
	dims := make([]onnx.Dim, len(shape))
	for i, d := range shape {
		dims[i] = onnx.Dim{Value: d}
	}
	nd.Outputs = []string{"y"}
	return &onnx.Model{IRVersion: 8, Opsets: []onnx.OpsetImport{{Version: opset}}, Graph: onnx.Graph{
		Nodes: []*onnx.Node{nd}, Initializers: inits,
		Inputs:  []onnx.ValueInfo{{Name: "x", ElemType: onnx.Float, Shape: dims}},
		Outputs: []onnx.ValueInfo{{Name: "y", ElemType: onnx.Float}},
	}}
}

func run1(t *testing.T, m *onnx.Model, shape []int, x []float32) []float32 {
	t.Helper()
	n, err := NewNet(m)
	if err != nil {
		t.Fatal(err)
	}
	ys, err := n.Forward(tensor.New(tensor.WithShape(shape...), tensor.WithBacking(x)))
	if err != nil {
		t.Fatal(err)
	}
	return ys[0].Data().([]float32)
}

func near(t *testing.T, what string, got, want []float32) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	for i := range got {
		if math.Abs(float64(got[i]-want[i])) > opTol*math.Max(1, math.Abs(float64(want[i]))) {
			t.Fatalf("%s: %v, want %v", what, got, want)
		}
	}
}

func ft(name string, dims []int64, v ...float32) *onnx.Tensor {
	return &onnx.Tensor{Name: name, DataType: onnx.Float, Dims: dims, Floats: v}
}

func TestGemmVariants(t *testing.T) {
	// A is 2x3 (or its transpose), B is 3x2 (or its transpose).
	a := []float32{1, 2, 3, 4, 5, 6}
	aT := []float32{1, 4, 2, 5, 3, 6}
	b := []float32{1, -1, 0, 2, 3, 1}  // 3x2
	bT := []float32{1, 0, 3, -1, 2, 1} // 2x3
	// A·B = [[1+0+9, -1+4+3], [4+0+18, -4+10+6]] = [[10, 6], [22, 12]]
	attrs := func(ta, tb int64, alpha, beta float32) []onnx.Attribute {
		return []onnx.Attribute{{Name: "transA", Type: onnx.AttrInt, I: ta}, {Name: "transB", Type: onnx.AttrInt, I: tb},
			{Name: "alpha", Type: onnx.AttrFloat, F: alpha}, {Name: "beta", Type: onnx.AttrFloat, F: beta}}
	}
	for _, tc := range []struct {
		name   string
		x      []float32
		xshape []int64
		b      *onnx.Tensor
		c      *onnx.Tensor
		attrs  []onnx.Attribute
		want   []float32
	}{
		{"plain", a, []int64{2, 3}, ft("b", []int64{3, 2}, b...), nil, nil, []float32{10, 6, 22, 12}},
		{"transB-alpha-rowC", a, []int64{2, 3}, ft("b", []int64{2, 3}, bT...), ft("c", []int64{2}, 1, 2), attrs(0, 1, 2, 0.5),
			[]float32{20.5, 13, 44.5, 25}},
		{"transA-scalarC", aT, []int64{3, 2}, ft("b", []int64{3, 2}, b...), ft("c", []int64{1}, 3), attrs(1, 0, 1, 1),
			[]float32{13, 9, 25, 15}},
		{"fullC", a, []int64{2, 3}, ft("b", []int64{3, 2}, b...), ft("c", []int64{2, 2}, 1, 2, 3, 4), attrs(0, 0, 1, 2),
			[]float32{12, 10, 28, 20}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ins := []string{"x", "b"}
			inits := []*onnx.Tensor{tc.b}
			if tc.c != nil {
				ins = append(ins, "c")
				inits = append(inits, tc.c)
			}
			m := oneNode(13, tc.xshape, &onnx.Node{Name: "g", OpType: "Gemm", Inputs: ins, Attrs: tc.attrs}, inits...)
			near(t, tc.name, run1(t, m, []int{int(tc.xshape[0]), int(tc.xshape[1])}, tc.x), tc.want)
		})
	}
}

func TestPadForms(t *testing.T) {
	x := []float32{1, 2, 3, 4} // [1,1,2,2]
	// One row on top, two columns on the left, one column on the right.
	want := []float32{
		7, 7, 7, 7, 7,
		7, 7, 1, 2, 7,
		7, 7, 3, 4, 7,
	}
	pads := []int64{0, 0, 1, 2, 0, 0, 0, 1}
	// Opset 13: pads and the value are inputs.
	m := oneNode(13, []int64{1, 1, 2, 2}, &onnx.Node{Name: "p", OpType: "Pad", Inputs: []string{"x", "pads", "v"}},
		&onnx.Tensor{Name: "pads", DataType: onnx.Int64, Dims: []int64{8}, Ints: pads}, ft("v", nil, 7))
	near(t, "opset 13", run1(t, m, []int{1, 1, 2, 2}, x), want)
	// Opset 2 to 10: attributes.
	m = oneNode(9, []int64{1, 1, 2, 2}, &onnx.Node{Name: "p", OpType: "Pad", Inputs: []string{"x"}, Attrs: []onnx.Attribute{
		{Name: "pads", Type: onnx.AttrInts, Ints: pads}, {Name: "value", Type: onnx.AttrFloat, F: 7}}})
	near(t, "opset 9", run1(t, m, []int{1, 1, 2, 2}, x), want)
}

func TestSoftmaxAxes(t *testing.T) {
	x := []float32{0, 1, 2, 3, 4, 5} // [1, 3, 1, 2]
	var all []float32
	s := 0.0
	for _, v := range x {
		s += math.Exp(float64(v))
	}
	for _, v := range x {
		all = append(all, float32(math.Exp(float64(v))/s))
	}
	// Before opset 13, axis 1 flattens [1,3,1,2] to [1,6].
	m := oneNode(11, []int64{1, 3, 1, 2}, &onnx.Node{Name: "s", OpType: "Softmax", Inputs: []string{"x"},
		Attrs: []onnx.Attribute{{Name: "axis", Type: onnx.AttrInt, I: 1}}})
	near(t, "opset 11 axis 1", run1(t, m, []int{1, 3, 1, 2}, x), all)
	// From opset 13, the default axis -1 of a [2, 3] input.
	m = oneNode(13, []int64{2, 3}, &onnx.Node{Name: "s", OpType: "Softmax", Inputs: []string{"x"}})
	e := func(a, b, c float64) []float32 {
		s := math.Exp(a) + math.Exp(b) + math.Exp(c)
		return []float32{float32(math.Exp(a) / s), float32(math.Exp(b) / s), float32(math.Exp(c) / s)}
	}
	near(t, "opset 13 rows", run1(t, m, []int{2, 3}, x), append(e(0, 1, 2), e(3, 4, 5)...))
	// Opset 13, axis 1 of [1,3,1,2] normalises across 3 values per
	// position: not supported (the later axes are not all 1).
	m = oneNode(13, []int64{1, 3, 1, 2}, &onnx.Node{Name: "s", OpType: "Softmax", Inputs: []string{"x"},
		Attrs: []onnx.Attribute{{Name: "axis", Type: onnx.AttrInt, I: 1}}})
	n, err := NewNet(m)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := n.Forward(tensor.New(tensor.WithShape(1, 3, 1, 2), tensor.WithBacking(x))); err == nil {
		t.Error("softmax along a middle axis accepted")
	}
}
