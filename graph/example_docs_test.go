package graph_test

// The examples in this file are quoted verbatim by docs/custom-graphs.md;
// TestCustomGraphsDocInSync (package inception) keeps the two identical.

import (
	"fmt"

	"github.com/goinception/googlenet/graph"
)

// A stem of your own for 32x32 colour images: the paper's stem reduces the
// input 16x before the first module (224 -> 14 would leave 2x2 maps here),
// so this one keeps more resolution: conv 3x3 with batch norm and ReLU,
// then one ceil-mode max pool 3x3/2. Scope names the layers "stem/...".
func ExampleBuilder_Scope_stem() {
	b := graph.New(graph.Options{ShapesOnly: true})
	x := b.Input("data", 1, 3, 32, 32)
	b.Scope("stem", func() {
		x = b.Conv("conv1", x, 32, graph.ConvOpts{Kernel: 3, Pad: 1, BatchNorm: true, ReLU: true})
		x = b.MaxPool("pool1", x, graph.PoolOpts{Kernel: 3, Stride: 2, CeilMode: true})
	})
	if err := b.Err(); err != nil {
		fmt.Println(err)
		return
	}
	for _, l := range b.Layers() {
		fmt.Printf("%-14s %-9s %-11s %4d params %7d MACs\n", l.Name, l.Type, fmt.Sprint(l.Output), l.Params, l.MACs)
	}
	for _, p := range b.Params() {
		fmt.Println(p.Name, p.Shape, p.Kind, "decay:", p.Decay)
	}
	for _, s := range b.BNStats() {
		fmt.Println("running statistics:", s.Name)
	}
	// Output:
	// stem/conv1     conv      [32 32 32]   928 params  884736 MACs
	// stem/pool1     maxpool   [32 16 16]     0 params       0 MACs
	// stem/conv1/w [32 3 3 3] weight decay: true
	// stem/conv1/bn/scale [32] bn_scale decay: false
	// stem/conv1/bn/shift [32] bn_shift decay: false
	// running statistics: stem/conv1/bn
}

// A classifier head: global average pool, dropout, flatten and a linear
// layer to the classes, as at the top of Table 1. Dropout is the identity
// in an inference build; in a training build (Options.Training) it draws
// masks from the builder's RandState.
func ExampleBuilder_Linear_classifier() {
	b := graph.New(graph.Options{ShapesOnly: true})
	x := b.Input("features", 1, 112, 8, 8)
	b.Scope("head", func() {
		x = b.GlobalAvgPool("pool", x)
		x = b.Dropout("drop", x, 0.4)
		x = b.Flatten("flatten", x)
		x = b.Linear("fc", x, 10, graph.LinearOpts{})
	})
	if err := b.Err(); err != nil {
		fmt.Println(err)
		return
	}
	for _, l := range b.Layers() {
		fmt.Printf("%-12s %-13s %-9s %4d params\n", l.Name, l.Type, fmt.Sprint(l.Output), l.Params)
	}
	fmt.Println("logits", x.Shape)
	// Output:
	// head/pool    globalavgpool [112 1 1]    0 params
	// head/drop    dropout       [112 1 1]    0 params
	// head/flatten flatten       [112]        0 params
	// head/fc      linear        [10]      1130 params
	// logits [1 10]
}
