package inception_test

// The examples in this file, and its import block, are quoted verbatim by
// docs/custom-graphs.md; TestCustomGraphsDocInSync (package graph) keeps
// the two identical. Edit them here, then paste them into the guide (the
// test prints the first line that differs).

import (
	"fmt"
	"math/rand"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/goinception/googlenet/graph"
	"github.com/goinception/googlenet/inception"
	"github.com/goinception/googlenet/ops"
	"github.com/goinception/googlenet/solvers"
)

// A table of your own: each row is one Inception module, with the paper's
// column names. A module's output depth is the sum of its four branches,
// and it is the input depth of the next row.
func ExampleRow_OutChannels() {
	table := []inception.Row{
		{Name: "a", C1x1: 16, C3x3Reduce: 16, C3x3: 32, C5x5Reduce: 4, C5x5: 8, PoolProj: 8},
		{Name: "b", MaxPoolBefore: true, C1x1: 32, C3x3Reduce: 24, C3x3: 48, C5x5Reduce: 8, C5x5: 16, PoolProj: 16},
	}
	for _, r := range table {
		fmt.Printf("inception_%s: %d+%d+%d+%d = %d channels\n",
			r.Name, r.C1x1, r.C3x3, r.C5x5, r.PoolProj, r.OutChannels())
	}
	// Output:
	// inception_a: 16+32+8+8 = 64 channels
	// inception_b: 32+48+16+16 = 112 channels
}

// One module from a row, built shape-only: every layer it adds with its
// output shape (C, H, W), parameters and multiply-adds per image. No
// kernel runs, so this is instant even for the paper's widths.
func ExampleModule_layers() {
	row := inception.Row{Name: "a", C1x1: 16, C3x3Reduce: 16, C3x3: 32, C5x5Reduce: 4, C5x5: 8, PoolProj: 8}
	b := graph.New(graph.Options{ShapesOnly: true})
	x := b.Input("data", 1, 32, 16, 16)
	y := inception.Module(b, "inception_a", x, row, inception.ModuleOpts{})
	if err := b.Err(); err != nil {
		fmt.Println(err)
		return
	}
	for _, l := range b.Layers() {
		fmt.Printf("%-22s %-8s %-11s %5d params %8d MACs\n", l.Name, l.Type, fmt.Sprint(l.Output), l.Params, l.MACs)
	}
	fmt.Println("output", y.Shape, "total params", b.NumParams())
	// Output:
	// inception_a/1x1        conv     [16 16 16]    528 params   131072 MACs
	// inception_a/3x3_reduce conv     [16 16 16]    528 params   131072 MACs
	// inception_a/3x3        conv     [32 16 16]   4640 params  1179648 MACs
	// inception_a/5x5_reduce conv     [4 16 16]     132 params    32768 MACs
	// inception_a/5x5        conv     [8 16 16]     808 params   204800 MACs
	// inception_a/pool       maxpool  [32 16 16]      0 params        0 MACs
	// inception_a/pool_proj  conv     [8 16 16]     264 params    65536 MACs
	// inception_a/output     concat   [64 16 16]      0 params        0 MACs
	// output [1 64 16 16] total params 6900
}

// A whole network of your own, trained: a custom stem, two Inception
// modules from your own rows (the second behind a stride-2 max pool), a
// classifier, the softmax cross-entropy loss, gradients from gorgonia.Grad,
// a Gorgonia TapeMachine, and SGD with momentum from package solvers. The
// batch is random but fixed, so the loss falls as the network memorises it.
func Example_customNetwork() {
	const batch, classes = 8, 4
	rows := []inception.Row{
		{Name: "a", C1x1: 8, C3x3Reduce: 8, C3x3: 16, C5x5Reduce: 4, C5x5: 8, PoolProj: 8},
		{Name: "b", MaxPoolBefore: true, C1x1: 16, C3x3Reduce: 8, C3x3: 16, C5x5Reduce: 4, C5x5: 8, PoolProj: 8},
	}

	// The graph: Training selects batch statistics and dropout masks.
	b := graph.New(graph.Options{Training: true, Seed: 1})
	x := b.Input("data", batch, 3, 16, 16)
	var h *graph.Tensor
	b.Scope("stem", func() {
		h = b.Conv("conv", x, 16, graph.ConvOpts{Kernel: 3, Pad: 1, BatchNorm: true, ReLU: true})
	})
	for _, r := range rows {
		if r.MaxPoolBefore {
			h = b.MaxPool("pool_"+r.Name, h, graph.PoolOpts{Kernel: 3, Stride: 2, CeilMode: true})
		}
		h = inception.Module(b, "inception_"+r.Name, h, r, inception.ModuleOpts{BatchNorm: true})
	}
	var logits *graph.Tensor
	b.Scope("head", func() {
		h = b.GlobalAvgPool("pool", h)
		h = b.Dropout("drop", h, 0.2)
		h = b.Flatten("flatten", h)
		logits = b.Linear("fc", h, classes, graph.LinearOpts{})
	})
	if err := b.Err(); err != nil {
		fmt.Println(err)
		return
	}

	// The loss and the gradient of every parameter.
	g := b.Graph()
	labels := G.NewVector(g, tensor.Float32, G.WithShape(batch), G.WithName("labels"))
	loss, err := ops.SoftmaxCrossEntropy(logits.Node, labels)
	if err != nil {
		fmt.Println(err)
		return
	}
	var nodes G.Nodes
	for _, p := range b.Params() {
		nodes = append(nodes, p.Node)
	}
	grads, err := G.Grad(loss, nodes...)
	if err != nil {
		fmt.Println(err)
		return
	}
	vm := G.NewTapeMachine(g)
	defer vm.Close()

	// One fixed batch of random images and labels.
	rng := rand.New(rand.NewSource(1))
	img := make([]float32, batch*3*16*16)
	for i := range img {
		img[i] = float32(rng.NormFloat64())
	}
	lab := make([]float32, batch)
	for i := range lab {
		lab[i] = float32(i % classes)
	}
	if err := G.Let(x.Node, tensor.New(tensor.WithShape(batch, 3, 16, 16), tensor.WithBacking(img))); err != nil {
		fmt.Println(err)
		return
	}
	if err := G.Let(labels, tensor.New(tensor.WithShape(batch), tensor.WithBacking(lab))); err != nil {
		fmt.Println(err)
		return
	}

	// The solver updates the builder's parameters in place from their
	// gradients (Param.Grad).
	sgd, err := solvers.NewSGD(solvers.SGDConfig{LR: 0.05, Momentum: 0.9})
	if err != nil {
		fmt.Println(err)
		return
	}
	ps := b.Params()
	var first, last float32
	for step := 1; step <= 10; step++ {
		b.Rand().Step = uint64(step) // fresh, reproducible dropout masks
		vm.Reset()
		if err := vm.RunAll(); err != nil {
			fmt.Println(err)
			return
		}
		for i, p := range ps {
			p.Grad = grads[i].Value().(*tensor.Dense)
		}
		if _, err := sgd.Step(ps); err != nil {
			fmt.Println(err)
			return
		}
		last = loss.Value().Data().(float32)
		if step == 1 {
			first = last
		}
	}
	fmt.Printf("%d parameters in %d tensors\n", b.NumParams(), len(ps))
	fmt.Printf("loss %.1f at step 1, below %.1f at step 10: %v\n", first, first/2, last < first/2)
	// Output:
	// 6676 parameters in 41 tensors
	// loss 1.4 at step 1, below 0.7 at step 10: true
}

// The short way to the same kind of network: your table in an
// inception.Config. Start from a preset (Mini here: small stem, batch norm,
// auxiliary heads) and replace fields; Summarize describes it layer by layer
// (WriteText prints the same as a table laid out like Table 1).
func ExampleSummarize_customTable() {
	c := inception.Mini()
	c.Variant = "mine"
	c.InChannels, c.InputSize, c.Classes = 3, 32, 10
	c.Table = []inception.Row{
		{Name: "3a", C1x1: 16, C3x3Reduce: 16, C3x3: 32, C5x5Reduce: 4, C5x5: 8, PoolProj: 8, Aux: 1},
		{Name: "4a", MaxPoolBefore: true, C1x1: 32, C3x3Reduce: 24, C3x3: 48, C5x5Reduce: 8, C5x5: 16, PoolProj: 16},
	}
	s, err := inception.Summarize(c)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, l := range append(s.Layers, s.Aux...) {
		fmt.Printf("%-18s %-18s %-11s %6d params %8d MACs\n", l.Name, l.Type, fmt.Sprint(l.Output), l.Params, l.MACs)
	}
	fmt.Printf("main path: %d params, %.2f M MACs; auxiliary head: %d params\n",
		s.Total.Params, float64(s.Total.MACs)/1e6, s.AuxTot.Params)
	// Output:
	// conv1/3x3_s1       convolution        [16 32 32]     464 params   442368 MACs
	// pool1/3x3_s2       max pool           [16 16 16]       0 params        0 MACs
	// inception_3a       inception          [64 16 16]    6280 params  1564672 MACs
	// pool2/3x3_s2       max pool           [64 8 8]         0 params        0 MACs
	// inception_4a       inception          [112 8 8]    18976 params  1196032 MACs
	// pool5/7x7_s1       avg pool           [112 1 1]        0 params        0 MACs
	// pool5/drop_7x7_s1  dropout (20%)      [112 1 1]        0 params        0 MACs
	// loss3/classifier   linear             [10 1 1]      1130 params     1120 MACs
	// loss1/ave_pool     adaptive avg pool  [64 4 4]         0 params        0 MACs
	// loss1/conv         convolution        [32 4 4]      2112 params    32768 MACs
	// loss1/fc           linear             [64 1 1]     32832 params    32768 MACs
	// loss1/drop_fc      dropout (50%)      [64 1 1]         0 params        0 MACs
	// loss1/classifier   linear             [10 1 1]       650 params      640 MACs
	// main path: 26850 params, 3.20 M MACs; auxiliary head: 35594 params
}

// Training the configured network: Model.Step runs the training graph
// (auxiliary heads included, loss = main + 0.3 x aux) and leaves each
// gradient in Param.Grad; the solver updates the weights in place, and
// Forward (inference graph, no auxiliary heads) sees them at once.
func ExampleNew_customTable() {
	c := inception.Mini()
	c.InChannels, c.InputSize, c.Classes, c.BatchSize, c.Seed = 3, 16, 4, 8, 1
	c.Table = []inception.Row{
		{Name: "3a", C1x1: 8, C3x3Reduce: 8, C3x3: 16, C5x5Reduce: 4, C5x5: 8, PoolProj: 8, Aux: 1},
		{Name: "4a", MaxPoolBefore: true, C1x1: 16, C3x3Reduce: 8, C3x3: 16, C5x5Reduce: 4, C5x5: 8, PoolProj: 8},
	}
	m, err := inception.New(c)
	if err != nil {
		fmt.Println(err)
		return
	}
	rng := rand.New(rand.NewSource(1))
	img := make([]float32, 8*3*16*16)
	for i := range img {
		img[i] = float32(rng.NormFloat64())
	}
	x := tensor.New(tensor.WithShape(8, 3, 16, 16), tensor.WithBacking(img))
	labels := []int{0, 1, 2, 3, 0, 1, 2, 3}

	sgd, err := solvers.NewSGD(solvers.SGDConfig{LR: 0.05, Momentum: 0.9})
	if err != nil {
		fmt.Println(err)
		return
	}
	var first, last inception.StepOutput
	for step := 1; step <= 8; step++ {
		l, err := m.Step(x, labels)
		if err != nil {
			fmt.Println(err)
			return
		}
		// The solver updates the model's parameters in place.
		if _, err := sgd.Step(m.Trainable()); err != nil {
			fmt.Println(err)
			return
		}
		if step == 1 {
			first = l
		}
		last = l
	}
	logits, err := m.Forward(x)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("main loss fell: %v, aux loss fell: %v\n", last.Main < first.Main, last.Aux1 < first.Aux1)
	fmt.Println("logits", logits.Shape())
	// Output:
	// main loss fell: true, aux loss fell: true
	// logits (8, 4)
}
