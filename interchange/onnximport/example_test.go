package onnximport_test

import (
	"fmt"
	"math"

	"gorgonia.org/tensor"

	"github.com/goinception/googlenet/inception"
	"github.com/goinception/googlenet/interchange/onnx"
	"github.com/goinception/googlenet/interchange/onnxexport"
	"github.com/goinception/googlenet/interchange/onnximport"
	"github.com/goinception/googlenet/interchange/onnxnet"
)

// Export a mini GoogLeNet to ONNX, read the bytes back, and run them both as
// an ONNX graph and, recognised by GoogLeNet, as our model again.
func ExampleGoogLeNet() {
	cfg := inception.Mini()
	cfg.BatchSize = 1
	m, err := inception.New(cfg)
	if err != nil {
		panic(err)
	}
	om, err := onnxexport.GoogLeNet(m, onnxexport.Options{})
	if err != nil {
		panic(err)
	}
	b, err := onnx.Marshal(om) // what onnx.WriteFile writes
	if err != nil {
		panic(err)
	}
	back, err := onnx.Parse(b)
	if err != nil {
		panic(err)
	}
	fmt.Println("opset", back.Opset(), "input", back.Graph.Inputs[0].Name, "output", back.Graph.Outputs[0].Name)

	x := tensor.New(tensor.WithShape(1, 1, 28, 28), tensor.WithBacking(make([]float32, 28*28)))
	want, _ := m.Forward(x)

	net, err := onnxnet.NewNet(back) // operator by operator
	if err != nil {
		panic(err)
	}
	ys, _ := net.Forward(x)

	imp, err := onnximport.GoogLeNet(back, 0) // recognised as our mini variant
	if err != nil {
		panic(err)
	}
	again, _ := imp.Model.Forward(x)

	fmt.Println("variant", imp.Model.Config().Variant)
	fmt.Println("net matches:", maxDiff(ys[0], want) < 1e-6, "import matches:", maxDiff(again, want) < 1e-6)
	// Output:
	// opset 13 input data output logits
	// variant mini
	// net matches: true import matches: true
}

func maxDiff(a, b *tensor.Dense) float64 {
	x, y := a.Data().([]float32), b.Data().([]float32)
	d := 0.0
	for i := range x {
		d = math.Max(d, math.Abs(float64(x[i]-y[i])))
	}
	return d
}
