package inception_test

import (
	"fmt"

	"gorgonia.org/tensor"

	"github.com/goinception/googlenet/graph"
	"github.com/goinception/googlenet/inception"
)

// The totals of the paper's GoogLeNet at 224x224.
func ExampleSummarize() {
	s, err := inception.Summarize(inception.Paper())
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%s params, %.3f G multiply-adds\n", inception.Commas(s.Total.Params), float64(s.Total.MACs)/1e9)
	fmt.Printf("auxiliary heads: %s params\n", inception.Commas(s.AuxTot.Params))
	l, _ := s.Layer("inception_3a")
	fmt.Printf("inception 3a: output %v, %s params, %.1fM multiply-adds\n", l.Output, inception.Commas(l.Params), float64(l.MACs)/1e6)
	// Output:
	// 6,998,552 params, 1.583 G multiply-adds
	// auxiliary heads: 6,379,728 params
	// inception 3a: output [256 28 28], 163,696 params, 128.0M multiply-adds
}

// A module from a user's own table row, built shape-only.
func ExampleModule() {
	row := inception.Row{Name: "mine", C1x1: 32, C3x3Reduce: 16, C3x3: 32, C5x5Reduce: 8, C5x5: 16, PoolProj: 16}
	b := graph.New(graph.Options{ShapesOnly: true})
	x := b.Input("data", 1, 64, 16, 16)
	y := inception.Module(b, "inception_mine", x, row, inception.ModuleOpts{})
	if err := b.Err(); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("output", y.Shape, "params", b.NumParams())
	for _, p := range b.Params()[:3] {
		fmt.Println(p.Name, p.Shape)
	}
	// Output:
	// output [1 96 16 16] params 12536
	// inception_mine/1x1/w [32 64 1 1]
	// inception_mine/1x1/b [32]
	// inception_mine/3x3_reduce/w [16 64 1 1]
}

// Mapping parameter names to torchvision's state_dict keys.
func ExampleTorchvisionName() {
	for _, n := range []string{"conv1/7x7_s2/w", "inception_4a/3x3_reduce/bn/running_var", "loss3/classifier/b"} {
		tv, _ := inception.TorchvisionName(n)
		fmt.Println(n, "->", tv)
	}
	// Output:
	// conv1/7x7_s2/w -> conv1.conv.weight
	// inception_4a/3x3_reduce/bn/running_var -> inception4a.branch2.0.bn.running_var
	// loss3/classifier/b -> fc.bias
}

// Embeddings: the pooled features before the classifier, and an inner
// layer, from one pass that stops at pool5.
func ExampleModel_Features() {
	c := inception.Mini()
	c.BatchSize = 1
	m, err := inception.New(c)
	if err != nil {
		fmt.Println(err)
		return
	}
	x := tensor.New(tensor.WithShape(2, 1, 28, 28), tensor.WithBacking(make([]float32, 2*28*28)))
	fs, err := m.Features(x, "pool5", "inception_3a")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("pool5", fs[0].Shape(), "inception_3a", fs[1].Shape())
	l, _ := m.FeatureLayer("pool5")
	fmt.Println(l.Name)
	// Output:
	// pool5 (2, 112) inception_3a (2, 40, 14, 14)
	// pool5/drop_7x7_s1
}
