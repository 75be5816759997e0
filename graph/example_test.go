package graph_test

import (
	"fmt"

	"github.com/goinception/googlenet/graph"
)

// A shape-only build: output shapes, parameters and multiply-adds of the
// paper's stem without running any kernel.
func ExampleBuilder() {
	b := graph.New(graph.Options{ShapesOnly: true})
	x := b.Input("data", 1, 3, 224, 224)
	b.Scope("conv1", func() {
		x = b.Conv("7x7_s2", x, 64, graph.ConvOpts{Kernel: 7, Stride: 2, Pad: 3, ReLU: true})
	})
	b.Scope("pool1", func() {
		x = b.MaxPool("3x3_s2", x, graph.PoolOpts{Kernel: 3, Stride: 2, CeilMode: true})
	})
	if err := b.Err(); err != nil {
		fmt.Println(err)
		return
	}
	for _, l := range b.Layers() {
		fmt.Println(l.Name, l.Output, l.Params, l.MACs)
	}
	for _, p := range b.Params() {
		fmt.Println(p.Name, p.Shape, p.Kind)
	}
	// Output:
	// conv1/7x7_s2 [64 112 112] 9472 118013952
	// pool1/3x3_s2 [64 56 56] 0 0
	// conv1/7x7_s2/w [64 3 7 7] weight
	// conv1/7x7_s2/b [64] bias
}

// The builder keeps the first error and names the layer.
func ExampleBuilder_Err() {
	b := graph.New(graph.Options{ShapesOnly: true})
	x := b.Input("data", 1, 3, 4, 4)
	x = b.Conv("conv", x, 8, graph.ConvOpts{Kernel: 7})
	x = b.ReLU("relu", x) // no-op: x is nil after the error
	fmt.Println(x == nil, b.Err())
	// Output:
	// true layer conv: input 4x4 too small for a 7x7 kernel with pad 0
}
