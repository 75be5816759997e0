package onnxexport_test

import (
	"fmt"

	"gorgonia.org/tensor"

	"github.com/goinception/googlenet/graph"
	"github.com/goinception/googlenet/inception"
	"github.com/goinception/googlenet/interchange/onnxexport"
	"github.com/goinception/googlenet/interchange/onnxnet"
)

// Export a network built layer by layer with package graph: the exporter
// walks the builder's description, so no model type is needed. Dropout is
// the identity in the file.
func ExampleNetwork() {
	b := graph.New(graph.Options{Seed: 1})
	x := b.Input("image", 1, 3, 8, 8)
	h := b.Conv("conv", x, 4, graph.ConvOpts{Kernel: 3, Pad: 1, BatchNorm: true, ReLU: true})
	h = b.MaxPool("pool", h, graph.PoolOpts{Kernel: 2, Stride: 2})
	h = b.GlobalAvgPool("gap", h)
	h = b.Dropout("drop", h, 0.5)
	h = b.Flatten("flatten", h)
	b.Linear("fc", h, 3, graph.LinearOpts{})
	if err := b.Err(); err != nil {
		panic(err)
	}
	om, err := onnxexport.Network(b, onnxexport.Options{Softmax: true, Outputs: []string{"pool"}})
	if err != nil {
		panic(err)
	}
	for _, n := range om.Graph.Nodes {
		fmt.Printf("%-18s %v -> %v\n", n.OpType, n.Inputs, n.Outputs)
	}
	fmt.Println("inputs", om.Graph.Inputs[0].Name, "outputs", om.Graph.Outputs[0].Name, om.Graph.Outputs[1].Name)

	net, err := onnxnet.NewNet(om) // run it operator by operator
	if err != nil {
		panic(err)
	}
	ys, err := net.Forward(tensor.New(tensor.WithShape(2, 3, 8, 8), tensor.WithBacking(make([]float32, 2*3*8*8))))
	if err != nil {
		panic(err)
	}
	fmt.Println(ys[0].Shape(), ys[1].Shape())
	// Output:
	// Conv               [image conv/w] -> [conv/conv]
	// BatchNormalization [conv/conv conv/bn/scale conv/bn/shift conv/bn/running_mean conv/bn/running_var] -> [conv/bn]
	// Relu               [conv/bn] -> [conv]
	// MaxPool            [conv] -> [pool]
	// GlobalAveragePool  [pool] -> [gap]
	// Flatten            [gap] -> [flatten]
	// Gemm               [flatten fc/w fc/b] -> [logits]
	// Softmax            [logits] -> [prob]
	// inputs image outputs prob pool
	// (2, 3) (2, 4, 4, 4)
}

// Export a mini GoogLeNet with its configuration as metadata, so that
// package interchange/onnximport rebuilds the same model from the file.
func ExampleGoogLeNet() {
	cfg := inception.Mini()
	cfg.BatchSize = 1
	m, err := inception.New(cfg)
	if err != nil {
		panic(err)
	}
	om, err := onnxexport.GoogLeNet(m, onnxexport.Options{Labels: []string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"}})
	if err != nil {
		panic(err)
	}
	g := om.Graph
	fmt.Println("opset", om.Opset(), "graph", g.Name, "input", g.Inputs[0].Name, "output", g.Outputs[0].Name)
	fmt.Println(len(g.Nodes), "nodes,", len(g.Initializers), "initializers, the first", g.Initializers[0].Name)
	fmt.Println("variant", om.Metadata[onnxexport.MetaVariant], "labels", om.Metadata[onnxexport.MetaLabels])
	// Output:
	// opset 13 graph googlenet_mini input data output logits
	// 88 nodes, 127 initializers, the first conv1/3x3_s1/w
	// variant mini labels ["0","1","2","3","4","5","6","7","8","9"]
}
