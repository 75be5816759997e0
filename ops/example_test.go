package ops_test

import (
	"fmt"

	"github.com/goinception/googlenet/ops"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Max pooling 3x3/2 in ceil mode (Caffe's GoogLeNet pools) on a 4x4 input:
// the output is 2x2, the second window of each axis overhanging the input.
func ExampleMaxPool2D() {
	g := G.NewGraph()
	x := G.NewTensor(g, G.Float64, 4, G.WithShape(1, 1, 4, 4), G.WithName("x"),
		G.WithValue(tensor.New(tensor.WithShape(1, 1, 4, 4), tensor.WithBacking([]float64{
			1, 2, 3, 4,
			5, 6, 7, 8,
			9, 10, 11, 12,
			13, 14, 15, 16,
		}))))
	y, err := ops.MaxPool2D(x, ops.PoolOpts{KernelH: 3, KernelW: 3, StrideH: 2, StrideW: 2, CeilMode: true})
	if err != nil {
		fmt.Println(err)
		return
	}
	m := G.NewTapeMachine(g)
	defer m.Close()
	if err := m.RunAll(); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(y.Shape(), y.Value().Data())
	// Output: (1, 1, 2, 2) [11 12 15 16]
}

// Average pooling with count_include_pad on a 6x6 image of ones, 3x3/2,
// padding 1, ceil mode: border windows count the padding but not the
// ceil-mode overhang beyond it.
func ExampleAvgPool2D() {
	g := G.NewGraph()
	x := G.NewTensor(g, G.Float64, 4, G.WithShape(1, 1, 6, 6), G.WithName("x"), G.WithInit(G.Ones()))
	y, err := ops.AvgPool2D(x, ops.PoolOpts{KernelH: 3, KernelW: 3, StrideH: 2, StrideW: 2, Pad: ops.Same(1), CeilMode: true, CountIncludePad: true})
	if err != nil {
		fmt.Println(err)
		return
	}
	m := G.NewTapeMachine(g)
	defer m.Close()
	if err := m.RunAll(); err != nil {
		fmt.Println(err)
		return
	}
	v := y.Value().Data().([]float64)
	for i := 0; i < 4; i++ {
		fmt.Printf("%.3f\n", v[i*4:(i+1)*4])
	}
	// Output:
	// [0.444 0.667 0.667 0.333]
	// [0.667 1.000 1.000 0.500]
	// [0.667 1.000 1.000 0.500]
	// [0.333 0.500 0.500 0.250]
}

// A convolution with bias and fused ReLU, its loss and gradients.
func ExampleConv2D() {
	g := G.NewGraph()
	x := G.NewTensor(g, G.Float64, 4, G.WithShape(1, 1, 3, 3), G.WithName("x"), G.WithInit(G.Ones()))
	w := G.NewTensor(g, G.Float64, 4, G.WithShape(2, 1, 3, 3), G.WithName("w"),
		G.WithValue(tensor.New(tensor.WithShape(2, 1, 3, 3), tensor.WithBacking([]float64{
			1, 1, 1, 1, 1, 1, 1, 1, 1, // sums the window
			-1, 0, 0, 0, 0, 0, 0, 0, 0, // minus the top-left element
		}))))
	b := G.NewVector(g, G.Float64, G.WithShape(2), G.WithName("b"), G.WithInit(G.Zeroes()))
	y, err := ops.Conv2D(x, w, b, ops.ConvOpts{Pad: ops.Same(1), ReLU: true})
	if err != nil {
		fmt.Println(err)
		return
	}
	m := G.NewTapeMachine(g)
	defer m.Close()
	if err := m.RunAll(); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(y.Shape())
	fmt.Println(y.Value().Data().([]float64)[:9])
	// The second filter gives -1 or 0 everywhere, which ReLU clips to 0.
	fmt.Println(y.Value().Data().([]float64)[9:])
	// Output:
	// (1, 2, 3, 3)
	// [4 6 4 6 9 6 4 6 4]
	// [0 0 0 0 0 0 0 0 0]
}

// Dropout masks are a pure function of seed, step, op index and element.
func ExampleDropoutKeep() {
	for i := 0; i < 8; i++ {
		if ops.DropoutKeep(42, 0, 0, i, 0.5) {
			fmt.Print("1")
		} else {
			fmt.Print("0")
		}
	}
	fmt.Println()
	fmt.Println(ops.DropoutKeep(42, 0, 0, 3, 0.5) == ops.DropoutKeep(42, 0, 0, 3, 0.5))
	// Output:
	// 10010010
	// true
}
