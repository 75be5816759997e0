package onnx_test

import (
	"fmt"
	"log"

	"github.com/goinception/googlenet/interchange/onnx"
)

func Example() {
	m := &onnx.Model{
		IRVersion: 8,
		Opsets:    []onnx.OpsetImport{{Version: 13}},
		Graph: onnx.Graph{
			Name: "relu",
			Nodes: []*onnx.Node{
				{Name: "relu1", OpType: "Relu", Inputs: []string{"x"}, Outputs: []string{"y"}},
			},
			Inputs:  []onnx.ValueInfo{{Name: "x", ElemType: onnx.Float, Shape: []onnx.Dim{{Value: -1, Param: "N"}, {Value: 4}}}},
			Outputs: []onnx.ValueInfo{{Name: "y", ElemType: onnx.Float}},
		},
	}
	b, err := onnx.Marshal(m)
	if err != nil {
		log.Fatal(err)
	}
	back, err := onnx.Parse(b)
	if err != nil {
		log.Fatal(err)
	}
	if err := back.Validate(); err != nil {
		log.Fatal(err)
	}
	in := back.Graph.Inputs[0]
	fmt.Println(back.Opset(), back.Graph.Nodes[0].OpType, in.Name, in.Shape)

	back.Graph.Nodes[0].OpType = "LSTM"
	fmt.Println(back.Validate())
	// Output:
	// 13 Relu x [N 4]
	// onnx: unsupported operator(s): LSTM (node "relu1")
}
