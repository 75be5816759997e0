package onnxexport

import (
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/goinception/googlenet/graph"
	"github.com/goinception/googlenet/inception"
	"github.com/goinception/googlenet/interchange/onnx"
	"github.com/goinception/googlenet/interchange/onnxnet"
	"github.com/goinception/googlenet/internal/peer"
	"github.com/goinception/googlenet/ops"
)

// customRows is an Inception table of our own (docs/custom-graphs.md).
var customRows = []inception.Row{
	{Name: "a", C1x1: 8, C3x3Reduce: 8, C3x3: 16, C5x5Reduce: 4, C5x5: 8, PoolProj: 8},
	{Name: "b", MaxPoolBefore: true, C1x1: 16, C3x3Reduce: 8, C3x3: 16, C5x5Reduce: 4, C5x5: 8, PoolProj: 8},
}

const customClasses = 5

// buildCustom builds, on [n,3,16,16] inputs, a network of the custom table
// that uses every layer kind the exporter writes: a stem convolution with
// batch norm and ReLU, a ceil-mode max pool, LRN, a plain and a
// batch-norm Inception module (the second with torchvision's 3x3 "5x5"
// branch), a batch norm and a ReLU of their own, a padded average pool, an
// adaptive and a global average pool, dropout, flatten, a linear layer with
// ReLU and one without bias. Training builds add an auxiliary head and the
// losses, which the export leaves out.
func buildCustom(b *graph.Builder, n int) (x, logits *graph.Tensor) {
	x = b.Input("data", n, 3, 16, 16)
	var h *graph.Tensor
	b.Scope("stem", func() {
		h = b.Conv("conv", x, 16, graph.ConvOpts{Kernel: 3, Pad: 1, BatchNorm: true, BN: graph.BNOpts{Eps: 1e-3}, ReLU: true})
		h = b.MaxPool("pool", h, graph.PoolOpts{Kernel: 3, Stride: 2, CeilMode: true})
		h = b.LRN("norm", h, ops.LRNOpts{Size: 5, Alpha: 1e-4, Beta: 0.75, K: 1})
	})
	h = inception.Module(b, "inception_a", h, customRows[0], inception.ModuleOpts{})
	h = b.BatchNorm("norm_a", h, graph.BNOpts{})
	h = b.ReLU("relu_a", h)
	h = b.AvgPool("smooth_a", h, graph.PoolOpts{Kernel: 3, Pad: 1})
	h = b.MaxPool("pool_b", h, graph.PoolOpts{Kernel: 3, Stride: 2, CeilMode: true})
	h = inception.Module(b, "inception_b", h, customRows[1], inception.ModuleOpts{BatchNorm: true, Branch3Kernel: 3})
	var aux *graph.Tensor
	if b.Training() {
		b.Scope("aux", func() {
			a := b.AvgPool("pool", h, graph.PoolOpts{Kernel: 2, Stride: 2, CountIncludePad: true})
			a = b.Flatten("flatten", a)
			a = b.Linear("fc", a, 16, graph.LinearOpts{ReLU: true})
			a = b.Dropout("drop", a, 0.5)
			aux = b.Linear("classifier", a, customClasses, graph.LinearOpts{})
		})
	}
	b.Scope("head", func() {
		h = b.AdaptiveAvgPool("adaptive", h, 2, 2)
		h = b.GlobalAvgPool("pool", h)
		h = b.Dropout("drop", h, 0.2)
		h = b.Flatten("flatten", h)
		h = b.Linear("fc", h, 32, graph.LinearOpts{ReLU: true})
		logits = b.Linear("classifier", h, customClasses, graph.LinearOpts{NoBias: true})
	})
	if b.Training() && b.Err() == nil {
		labels := G.NewVector(b.Graph(), tensor.Float32, G.WithShape(n), G.WithName("labels"))
		b.SoftmaxCrossEntropy("loss", logits, labels, graph.LossOpts{})
		b.SoftmaxCrossEntropy("aux_loss", aux, labels, graph.LossOpts{Aux: true})
	}
	return x, logits
}

// perturbStats gives batch-norm statistics non-trivial values.
func perturbStats(b *graph.Builder, r *rand.Rand) {
	for _, e := range b.BNStats() {
		for j := range e.Stats.Mean {
			e.Stats.Mean[j] = 0.1 * r.NormFloat64()
			e.Stats.Var[j] = 0.5 + r.Float64()
		}
	}
}

// forwardCustom runs x through an inference build of the custom network
// whose weights and statistics are those of src (shared by name), and
// returns the logits.
func forwardCustom(t *testing.T, src *graph.Builder, x *tensor.Dense) []float32 {
	t.Helper()
	b := graph.New(graph.Options{Seed: 1,
		Values: func(name string) *tensor.Dense {
			if p, ok := src.Param(name); ok {
				return p.Value
			}
			return nil
		},
		BNStats: func(name string) *ops.BNStats {
			s, _ := src.LookupBN(name)
			return s
		}})
	in, y := buildCustom(b, x.Shape()[0])
	if err := b.Err(); err != nil {
		t.Fatal(err)
	}
	if err := G.Let(in.Node, x); err != nil {
		t.Fatal(err)
	}
	vm := G.NewTapeMachine(b.Graph())
	defer vm.Close()
	if err := vm.RunAll(); err != nil {
		t.Fatal(err)
	}
	return append([]float32(nil), y.Node.Value().Data().([]float32)...)
}

// TestNetworkCustomTable exports a network built from a table of our own
// with package graph (no inception.Model), from its training description
// (auxiliary head and losses left out), and compares the file, run by our
// ONNX interpreter and by ONNX Runtime, with the network's own inference
// graph.
func TestNetworkCustomTable(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	b := graph.New(graph.Options{Training: true, Seed: 1})
	buildCustom(b, 4)
	if err := b.Err(); err != nil {
		t.Fatal(err)
	}
	perturbStats(b, r)
	om, err := Network(b, Options{Outputs: []string{"inception_a", "head/fc"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range om.Graph.Nodes {
		if strings.HasPrefix(n.Name, "aux") || n.OpType == "Dropout" {
			t.Errorf("node %s (%s) exported", n.Name, n.OpType)
		}
	}
	for _, in := range om.Graph.Initializers {
		if strings.HasPrefix(in.Name, "aux/") {
			t.Errorf("initializer %s exported", in.Name)
		}
	}
	path := filepath.Join(t.TempDir(), "custom.onnx")
	if err := onnx.WriteFile(path, om); err != nil {
		t.Fatal(err)
	}
	back, err := onnx.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	net, err := onnxnet.NewNet(back)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(net.OutputNames(), ","); got != "logits,inception_a,head/fc" {
		t.Fatalf("outputs %s", got)
	}
	const batch = 3
	xs := make([]float32, batch*3*16*16)
	for i := range xs {
		xs[i] = float32(r.NormFloat64())
	}
	shape := []int{batch, 3, 16, 16}
	want := forwardCustom(t, b, tensor.New(tensor.WithShape(shape...), tensor.WithBacking(append([]float32(nil), xs...))))
	if len(want) != batch*customClasses {
		t.Fatalf("%d logits", len(want))
	}
	ys, err := net.Forward(tensor.New(tensor.WithShape(shape...), tensor.WithBacking(append([]float32(nil), xs...))))
	if err != nil {
		t.Fatal(err)
	}
	if s := ys[1].Shape(); !s.Eq(tensor.Shape{batch, 40, 8, 8}) {
		t.Errorf("inception_a output shape %v", s)
	}
	if s := ys[2].Shape(); !s.Eq(tensor.Shape{batch, 32}) {
		t.Errorf("head/fc output shape %v", s)
	}
	if e := relL2(ys[0].Data().([]float32), want); e > parityTol {
		t.Errorf("onnxnet vs our inference graph: relative L2 %.3g > %g", e, parityTol)
	} else {
		t.Logf("onnxnet vs our inference graph: relative L2 %.2e", e)
	}

	peer.Node(t)
	got := peer.RunORT(t, path, xs, shape)
	if e := relL2(got, want); len(got) != len(want) || e > ortTol {
		t.Errorf("ONNX Runtime: %d values (want %d), relative L2 %.3g > %g", len(got), len(want), e, ortTol)
	} else {
		t.Logf("ONNX Runtime vs our inference graph: relative L2 %.2e", e)
	}
}

// TestNetworkOutputs: the main output found from the description, named
// outputs, Identity where a value is the input or another output, and the
// errors.
func TestNetworkOutputs(t *testing.T) {
	b := graph.New(graph.Options{Seed: 2})
	x := b.Input("x", 1, 2, 4, 4)
	d := b.Dropout("drop", x, 0.5)
	c := b.Conv("conv", d, 3, graph.ConvOpts{Kernel: 1, ReLU: true})
	f := b.Flatten("flat", c)
	b.Dropout("out", f, 0.1)
	if err := b.Err(); err != nil {
		t.Fatal(err)
	}
	// No loss: the last layer, a dropout, whose value is flat's.
	om, err := Network(b, Options{Outputs: []string{"flat", "drop"}, Softmax: true})
	if err != nil {
		t.Fatal(err)
	}
	var outs, ops []string
	for _, o := range om.Graph.Outputs {
		outs = append(outs, o.Name)
	}
	for _, n := range om.Graph.Nodes {
		ops = append(ops, n.OpType+":"+strings.Join(n.Outputs, ","))
	}
	if got := strings.Join(outs, " "); got != "prob flat drop" {
		t.Errorf("outputs %s", got)
	}
	if got := strings.Join(ops, " "); got != "Conv:conv/conv Relu:conv Flatten:logits Identity:flat Identity:drop Softmax:prob" {
		t.Errorf("nodes %s", got)
	}
	// onnxnet rejects an output that is the input itself; the rest runs.
	om, err = Network(b, Options{Outputs: []string{"flat"}, Softmax: true})
	if err != nil {
		t.Fatal(err)
	}
	net, err := onnxnet.NewNet(om)
	if err != nil {
		t.Fatal(err)
	}
	ys, err := net.Forward(tensor.New(tensor.WithShape(1, 2, 4, 4), tensor.WithBacking(make([]float32, 32))))
	if err != nil {
		t.Fatal(err)
	}
	if len(ys) != 2 || !ys[0].Shape().Eq(tensor.Shape{1, 48}) || !ys[1].Shape().Eq(tensor.Shape{1, 48}) {
		t.Errorf("outputs %v", ys)
	}
	for _, tc := range []struct {
		o    Options
		want string
	}{
		{Options{Outputs: []string{"nothing"}}, `no layer or scope "nothing"`},
		{Options{Outputs: []string{"out"}}, "is the main output"},
		{Options{Outputs: []string{"conv", "conv"}}, "used twice"},
		{Options{Output: "conv", Outputs: []string{"x"}}, "used twice"},
		{Options{Outputs: []string{"logits"}}, `no layer or scope "logits"`},
		{Options{Outputs: []string{"conv"}, Output: "flat"}, ""},
		{Options{Softmax: true, Output: "conv", Outputs: []string{"prob"}}, `no layer or scope "prob"`},
	} {
		_, err := Network(b, tc.o)
		if tc.want == "" {
			if err != nil {
				t.Errorf("%+v: %v", tc.o, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: error %v, want one containing %q", tc.o, err, tc.want)
		}
	}

	// The main output named; a layer after it is another output.
	if _, err := Network(b, Options{Output: "conv", Outputs: []string{"flat"}}); err != nil {
		t.Errorf("output conv, then flat: %v", err)
	}
	// A layer named like the Softmax output.
	p := graph.New(graph.Options{})
	p.Linear("prob", p.Flatten("flat", p.Input("x", 1, 2, 1, 1)), 2, graph.LinearOpts{})
	p.ReLU("relu", p.Flatten("flat2", p.Input("y", 1, 2, 1, 1)))
	if _, err := Network(p, Options{Output: "relu", Softmax: true}); err != nil {
		t.Errorf("a layer named prob that is not exported: %v", err)
	}
	q := graph.New(graph.Options{})
	h := q.Linear("prob", q.Flatten("flat", q.Input("x", 1, 2, 1, 1)), 2, graph.LinearOpts{})
	q.ReLU("relu", h)
	if _, err := Network(q, Options{Softmax: true}); err == nil || !strings.Contains(err.Error(), `named "prob"`) {
		t.Errorf("a layer named prob before the Softmax: %v", err)
	}
	// A shape-only build has no weights to write.
	s := graph.New(graph.Options{ShapesOnly: true})
	s.Linear("fc", s.Input("x", 1, 4), 2, graph.LinearOpts{})
	if _, err := Network(s, Options{}); err == nil || !strings.Contains(err.Error(), "no value") {
		t.Errorf("shape-only build: %v", err)
	}
	// Uneven adaptive windows have no ONNX operator.
	u := graph.New(graph.Options{})
	u.AdaptiveAvgPool("ad", u.Input("x", 1, 1, 5, 5), 2, 2)
	if _, err := Network(u, Options{}); err == nil || !strings.Contains(err.Error(), "uneven windows") {
		t.Errorf("uneven adaptive pool: %v", err)
	}
}
