package cpu_test

import (
	"fmt"

	"github.com/goinception/googlenet/cpu"
	"github.com/goinception/googlenet/ops"
)

// A 1x1 convolution with bias and fused ReLU on a 1x2x2x2 input: output
// channel 0 adds the two input channels, channel 1 subtracts them.
func ExampleEngine_ConvForward() {
	e := cpu.New(cpu.Options{}) // OpenBLAS when installed, pure Go otherwise
	g := ops.ConvGeom{N: 1, C: 2, H: 2, W: 2, K: 2, R: 1, S: 1, StrideH: 1, StrideW: 1, OutH: 2, OutW: 2}
	x := []float32{
		1, 2, 3, 4, // channel 0
		4, 3, 2, 1, // channel 1
	}
	w := []float32{
		1, 1, // output 0 = x0 + x1
		1, -1, // output 1 = x0 - x1
	}
	b := []float32{0.5, 0}
	y := make([]float32, 8)
	e.ConvForward(g, x, w, b, y, true)
	fmt.Println(y[:4])
	fmt.Println(y[4:])
	// Output:
	// [5.5 5.5 5.5 5.5]
	// [0 0 1 3]
}

// The engine's GEMM: C = A·B for 2x3 and 3x2 matrices.
func ExampleEngine_Gemm() {
	e := cpu.New(cpu.Options{PureGo: true})
	a := []float32{1, 2, 3, 4, 5, 6}
	b := []float32{1, 0, 0, 1, 1, 1}
	c := make([]float32, 4)
	e.Gemm(false, false, 2, 2, 3, 1, a, 3, b, 2, 0, c, 2)
	fmt.Println(c, e.Name())
	// Output: [4 5 10 11] cpu/go
}
