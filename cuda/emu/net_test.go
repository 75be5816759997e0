//go:build cgo

package emu_test

import (
	"math"
	"math/rand/v2"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/goinception/googlenet/cuda"
	"github.com/goinception/googlenet/cuda/emu"
	"github.com/goinception/googlenet/eval"
	"github.com/goinception/googlenet/graph"
	"github.com/goinception/googlenet/inception"
	"github.com/goinception/googlenet/solvers"
)

// tinyPaper is the paper topology (stem with LRN, modules with 5x5
// branches, ceil-mode pools, both auxiliary heads, global average pool,
// dropout 0.4 and 0.7, linear) at toy widths.
func tinyPaper() inception.Config {
	c := inception.Paper()
	c.InputSize, c.Classes, c.BatchSize = 64, 5, 2
	c.Dtype = tensor.Float64
	c.Seed = 11
	c.Conv1, c.Conv2Reduce, c.Conv2 = 4, 4, 6
	c.AuxConv, c.AuxFC = 4, 8
	c.Table = []inception.Row{
		{Name: "3a", C1x1: 3, C3x3Reduce: 2, C3x3: 4, C5x5Reduce: 2, C5x5: 3, PoolProj: 2, Aux: 1},
		{Name: "3b", C1x1: 2, C3x3Reduce: 2, C3x3: 3, C5x5Reduce: 2, C5x5: 2, PoolProj: 2, Aux: 2},
		{Name: "4a", MaxPoolBefore: true, C1x1: 4, C3x3Reduce: 3, C3x3: 3, C5x5Reduce: 2, C5x5: 2, PoolProj: 3},
	}
	return c
}

// TestDeviceStepMatchesCPU runs a whole training step (forward, the
// losses, backward, one SGD step) on the emulated device and compares the
// losses, every parameter gradient and every updated weight with the CPU
// Gorgonia graph (float64) of package inception and package solvers' SGD,
// from the same weights and dropout state:
//
//   - paper: the paper topology (LRN, 5x5 branches, both auxiliary heads,
//     dropout 0.4 and 0.7) at toy widths;
//   - custom: the table of docs/custom-graphs.md (step 6) on the paper's
//     stem and heads;
//   - mini and torchvision: both use batch norm, which has no device
//     kernel yet: the subtests check that NewNet refuses them naming batch
//     norm, then skip.
func TestDeviceStepMatchesCPU(t *testing.T) {
	t.Run("paper", func(t *testing.T) { checkNetVsCPU(t, tinyPaper()) })
	t.Run("custom", func(t *testing.T) {
		// docs/custom-graphs.md, step 6 (ExampleNew_customTable): Mini's
		// stem and heads with batch norm, a table of two rows.
		c := inception.Mini()
		c.InChannels, c.InputSize, c.Classes, c.BatchSize, c.Seed = 3, 16, 4, 8, 1
		c.Dtype = tensor.Float64
		c.Table = []inception.Row{
			{Name: "3a", C1x1: 8, C3x3Reduce: 8, C3x3: 16, C5x5Reduce: 4, C5x5: 8, PoolProj: 8, Aux: 1},
			{Name: "4a", MaxPoolBefore: true, C1x1: 16, C3x3Reduce: 8, C3x3: 16, C5x5Reduce: 4, C5x5: 8, PoolProj: 8},
		}
		checkNetVsCPU(t, c)
	})
	t.Run("mini", func(t *testing.T) {
		// The mini variant's stem, table shape and heads, at toy widths.
		c := inception.Mini()
		c.InputSize, c.Classes, c.BatchSize, c.Seed = 32, 5, 2, 3
		c.Dtype = tensor.Float64
		c.Conv1, c.AuxConv, c.AuxFC = 4, 4, 8
		c.Table = tinyTable(c.Table)
		checkNetVsCPU(t, c)
	})
	t.Run("torchvision", func(t *testing.T) {
		if testing.Short() {
			t.Skip("-short: the torchvision topology at 64x64 takes a while on the CPU")
		}
		// torchvision's topology (batch norm, 3x3 third branch, adaptive
		// pools, dropout 0.2 and 0.7) at toy widths; 64x64 keeps the
		// auxiliary heads' adaptive pools even (4x4 to 4x4).
		c := inception.Torchvision()
		c.InputSize, c.Classes, c.BatchSize, c.Seed = 64, 5, 2, 4
		c.Dtype = tensor.Float64
		c.Conv1, c.Conv2Reduce, c.Conv2, c.AuxConv, c.AuxFC = 4, 4, 6, 4, 8
		c.Table = tinyTable(c.Table)
		checkNetVsCPU(t, c)
	})
}

// tinyTable keeps a preset table's rows (names, pools, auxiliary heads)
// with widths of a few channels.
func tinyTable(rows []inception.Row) []inception.Row {
	out := make([]inception.Row, len(rows))
	for i, r := range rows {
		r.C1x1, r.C3x3Reduce, r.C3x3, r.C5x5Reduce, r.C5x5, r.PoolProj = 2+i%2, 2, 3, 2, 2, 2
		out[i] = r
	}
	return out
}

// TestNetVariantsVsCPU: the device network walks the model's description,
// so deviations from the paper that use only layers the device implements
// run there too: naive modules (Figure 2(a), whose pool branch is copied
// into the concatenation), no LRN, the small stem, auxiliary heads with an
// adaptive pool of even windows, and a 3x3 third branch.
func TestNetVariantsVsCPU(t *testing.T) {
	for name, mod := range map[string]func(*inception.Config){
		"naive":        func(c *inception.Config) { c.Naive = true },
		"no-lrn":       func(c *inception.Config) { c.NoLRN = true },
		"adaptive-aux": func(c *inception.Config) { c.AuxAdaptivePool = 2 },
		// 4x4 to 3x3: uneven, overlapping windows (the adaptive kernels).
		"adaptive-aux-uneven": func(c *inception.Config) { c.AuxAdaptivePool = 3 },
		"branch3-3x3":         func(c *inception.Config) { c.Branch3Kernel = 3 },
	} {
		t.Run(name, func(t *testing.T) {
			c := tinyPaper()
			c.Table = append([]inception.Row(nil), c.Table...)
			mod(&c)
			checkNetVsCPU(t, c)
		})
	}
}

// checkNetVsCPU compares one training step of cfg's model on the emulated
// device with the CPU graph's.
func checkNetVsCPU(t *testing.T, cfg inception.Config) { checkNetVsCPUOn(t, cfg, nil) }

// checkNetVsCPUOn is checkNetVsCPU with setup run on the device first
// (such as UseLibraries).
func checkNetVsCPUOn(t *testing.T, cfg inception.Config, setup func(*cuda.Device)) {
	t.Helper()
	m, err := inception.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(3, 4))
	n := cfg.BatchSize
	inCh := cfg.InChannels
	x := make([]float64, n*inCh*cfg.InputSize*cfg.InputSize)
	x32 := make([]float32, len(x))
	for i := range x {
		x32[i] = float32(rng.NormFloat64())
		x[i] = float64(x32[i])
	}
	labels, labels32 := make([]int, n), make([]int32, n)
	for i := range labels {
		labels[i] = (3*i + 1) % cfg.Classes
		labels32[i] = int32(labels[i])
	}
	d := cuda.NewDevice(emu.New())
	defer d.Close()
	if setup != nil {
		setup(d)
	}
	net, err := cuda.NewNet(d, m, n) // before m.Step: the same dropout step
	if err != nil {
		t.Fatalf("%+v", err)
	}
	defer net.Close()
	want, err := m.Step(tensor.New(tensor.WithShape(n, inCh, cfg.InputSize, cfg.InputSize), tensor.WithBacking(x)), labels)
	if err != nil {
		t.Fatal(err)
	}
	got, err := net.Step(x32, labels32)
	if err != nil {
		t.Fatalf("%+v", err)
	}
	for _, l := range [][3]interface{}{{"main", got.Main, want.Main}, {"aux1", got.Aux1, want.Aux1},
		{"aux2", got.Aux2, want.Aux2}, {"total", got.Total, want.Total}} {
		g, w := l[1].(float64), l[2].(float64)
		if math.Abs(g-w) > 1e-4*math.Abs(w) {
			t.Errorf("%s loss %v, CPU %v", l[0], g, w)
		}
	}
	if net.Rand() != *m.Rand() {
		t.Errorf("dropout state %+v after a step, CPU %+v", net.Rand(), *m.Rand())
	}
	names := net.ParamNames()
	t.Logf("%d parameters", len(names))
	if len(names) != len(m.Params()) {
		t.Errorf("device net has %d parameters, the model %d", len(names), len(m.Params()))
	}
	for _, name := range names {
		got, err := net.Grad(name)
		if err != nil {
			t.Fatal(err)
		}
		p, _ := m.Param(name)
		ref := p.Grad.Data().([]float64)
		var maxDiff, maxRef float64
		for i := range ref {
			if math.IsNaN(float64(got[i])) {
				t.Fatalf("%s: NaN gradient", name)
			}
			maxDiff = math.Max(maxDiff, math.Abs(float64(got[i])-ref[i]))
			maxRef = math.Max(maxRef, math.Abs(ref[i]))
		}
		if rel := maxDiff / math.Max(maxRef, 1e-12); maxDiff > 1e-3*maxRef+1e-9 {
			t.Errorf("%s: gradient relative error %.3g (max |ref| %.3g)", name, rel, maxRef)
		}
	}
	// Batch norms' running statistics after the step.
	for _, e := range m.BNStats() {
		mean, variance, err := net.BNRunning(e.Name)
		if err != nil {
			t.Fatal(err)
		}
		for i := range mean {
			for _, v := range [][2]float64{{float64(mean[i]), e.Stats.Mean[i]}, {float64(variance[i]), e.Stats.Var[i]}} {
				if math.Abs(v[0]-v[1]) > 1e-5*(1+math.Abs(v[1])) {
					t.Fatalf("%s running statistics [%d]: %v, CPU %v", e.Name, i, v[0], v[1])
				}
			}
		}
	}
	if len(m.BNStats()) > 0 {
		t.Logf("%d batch norms' running statistics match", len(m.BNStats()))
	}
	// One SGD step on the device and one of package solvers on the CPU
	// model (momentum, weight decay on the weights only) give the same
	// weights, every parameter.
	const lr, mu, wd = 0.1, 0.9, 1e-2
	sgd, err := solvers.NewSGD(solvers.SGDConfig{LR: lr, Momentum: mu, WeightDecay: wd})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sgd.Step(m.Trainable()); err != nil {
		t.Fatal(err)
	}
	if err := net.SGD(lr, mu, wd); err != nil {
		t.Fatal(err)
	}
	for _, p := range m.Params() {
		got, err := net.Weight(p.Name)
		if err != nil {
			t.Fatal(err)
		}
		want, g := p.Value.Data().([]float64), p.Grad.Data().([]float64)
		var maxDiff, maxW, maxG float64
		for i := range want {
			maxDiff = math.Max(maxDiff, math.Abs(float64(got[i])-want[i]))
			maxW, maxG = math.Max(maxW, math.Abs(want[i])), math.Max(maxG, math.Abs(g[i]))
		}
		// float32 weights, and the gradient's own tolerance times lr.
		if maxDiff > 1e-6*maxW+lr*(1e-3*maxG+1e-9) {
			t.Errorf("%s after SGD: max difference %.3g (max |w| %.3g, max |g| %.3g)", p.Name, maxDiff, maxW, maxG)
		}
	}
}

// builderSource is a network made with graph.Builder directly, as
// docs/custom-graphs.md builds one, as a cuda.Source.
type builderSource struct{ *graph.Builder }

func (builderSource) AuxWeight() float64 { return 0 }

// TestCustomNetVsCPU runs a network that package inception knows nothing
// of on the emulated device: a stem, a block of two branches (a 1x1
// convolution written into its channels, an average pool copied in) joined
// by a concatenation, a convolution without bias or ReLU, a global average
// pool and a classifier. Loss and gradients match the CPU graph's.
func TestCustomNetVsCPU(t *testing.T) {
	const n, classes = 2, 4
	b := graph.New(graph.Options{Dtype: tensor.Float64, Training: true, Seed: 5})
	x := b.Input("data", n, 3, 12, 12)
	h := b.Conv("stem", x, 6, graph.ConvOpts{Kernel: 3, Stride: 2, Pad: 1, ReLU: true})
	h = b.MaxPool("pool", h, graph.PoolOpts{Kernel: 3, Stride: 2, CeilMode: true})
	b.Scope("block", func() {
		a := b.Conv("1x1", h, 4, graph.ConvOpts{Kernel: 1, ReLU: true})
		p := b.AvgPool("pool", h, graph.PoolOpts{Kernel: 3, Pad: 1, CountIncludePad: true})
		h = b.Concat("concat", a, p)
	})
	h = b.Conv("mix", h, 5, graph.ConvOpts{Kernel: 3, Pad: 1, NoBias: true})
	h = b.GlobalAvgPool("gap", h)
	h = b.Flatten("flat", h)
	h = b.Linear("fc", h, classes, graph.LinearOpts{})
	labels := G.NewVector(b.Graph(), tensor.Float64, G.WithShape(n), G.WithName("labels"),
		G.WithValue(tensor.New(tensor.WithShape(n), tensor.WithBacking([]float64{1, 3}))))
	loss := b.SoftmaxCrossEntropy("loss", h, labels, graph.LossOpts{})
	if err := b.Err(); err != nil {
		t.Fatal(err)
	}
	params := b.Params()
	nodes := make(G.Nodes, len(params))
	for i, p := range params {
		nodes[i] = p.Node
	}
	grads, err := G.Grad(loss, nodes...)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(8, 9))
	xv := make([]float64, n*3*12*12)
	x32 := make([]float32, len(xv))
	for i := range xv {
		x32[i] = float32(rng.NormFloat64())
		xv[i] = float64(x32[i])
	}
	if err := G.Let(x.Node, tensor.New(tensor.WithShape(n, 3, 12, 12), tensor.WithBacking(xv))); err != nil {
		t.Fatal(err)
	}
	vm := G.NewTapeMachine(b.Graph())
	defer vm.Close()
	if err := vm.RunAll(); err != nil {
		t.Fatal(err)
	}
	d := cuda.NewDevice(emu.New())
	defer d.Close()
	net, err := cuda.NewNet(d, builderSource{b}, n)
	if err != nil {
		t.Fatalf("%+v", err)
	}
	defer net.Close()
	got, err := net.Step(x32, []int32{1, 3})
	if err != nil {
		t.Fatalf("%+v", err)
	}
	want := loss.Value().Data().(float64)
	if math.Abs(got.Main-want) > 1e-4*math.Abs(want) || math.Abs(got.Total-want) > 1e-4*math.Abs(want) {
		t.Errorf("loss %v (total %v), CPU %v", got.Main, got.Total, want)
	}
	if len(net.ParamNames()) != len(params) {
		t.Errorf("device net has %d parameters, the graph %d", len(net.ParamNames()), len(params))
	}
	for i, p := range params {
		g, err := net.Grad(p.Name)
		if err != nil {
			t.Fatal(err)
		}
		ref := grads[i].Value().Data().([]float64)
		var maxDiff, maxRef float64
		for j := range ref {
			maxDiff = math.Max(maxDiff, math.Abs(float64(g[j])-ref[j]))
			maxRef = math.Max(maxRef, math.Abs(ref[j]))
		}
		if rel := maxDiff / math.Max(maxRef, 1e-12); rel > 1e-3 {
			t.Errorf("%s: gradient relative error %.3g (max |ref| %.3g)", p.Name, rel, maxRef)
		}
	}
}

// countingEmu counts kernel launches.
type countingEmu struct {
	*emu.Executor
	launches int
}

func (c *countingEmu) Launch(l cuda.Launch) error {
	c.launches++
	return c.Executor.Launch(l)
}

// TestNetLogitsEval: Logits is inference in evaluation mode: it equals the
// CPU model's Forward (no dropout), is the same on every call, leaves the
// dropout step alone, and does not compute the auxiliary heads (it
// launches as many kernels as the same network without them).
func TestNetLogitsEval(t *testing.T) {
	logits := func(cfg inception.Config) ([]float32, []float64, int, *cuda.Net) {
		m, err := inception.New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		rng := rand.New(rand.NewPCG(5, 6))
		n := cfg.BatchSize
		x := make([]float64, n*3*cfg.InputSize*cfg.InputSize)
		x32 := make([]float32, len(x))
		for i := range x {
			x32[i] = float32(rng.NormFloat64())
			x[i] = float64(x32[i])
		}
		ex := &countingEmu{Executor: emu.New()}
		d := cuda.NewDevice(ex)
		t.Cleanup(func() { d.Close() })
		net, err := cuda.NewNet(d, m, n)
		if err != nil {
			t.Fatalf("%+v", err)
		}
		t.Cleanup(func() { net.Close() })
		before := ex.launches
		got, err := net.Logits(x32)
		if err != nil {
			t.Fatalf("%+v", err)
		}
		launches := ex.launches - before
		again, err := net.Logits(x32)
		if err != nil {
			t.Fatal(err)
		}
		for i := range got {
			if got[i] != again[i] {
				t.Fatalf("Logits differs between calls at %d: %v, %v", i, got[i], again[i])
			}
		}
		want, err := m.Forward(tensor.New(tensor.WithShape(n, 3, cfg.InputSize, cfg.InputSize), tensor.WithBacking(x)))
		if err != nil {
			t.Fatal(err)
		}
		return got, want.Data().([]float64), launches, net
	}
	cfg := tinyPaper()
	got, want, withAux, net := logits(cfg)
	close := func(what string, got []float32, want []float64) {
		var maxDiff, maxRef float64
		for i := range want {
			maxDiff = math.Max(maxDiff, math.Abs(float64(got[i])-want[i]))
			maxRef = math.Max(maxRef, math.Abs(want[i]))
		}
		if rel := maxDiff / maxRef; rel > 1e-4 {
			t.Errorf("%s: Logits vs the CPU model's Forward: relative error %.3g", what, rel)
		}
	}
	close("paper", got, want)
	// Infer: three images in batches of two (the last padded) give the
	// same rows as Logits on the first two.
	per := 3 * cfg.InputSize * cfg.InputSize
	x3 := make([]float32, 3*per)
	for i := range x3 {
		x3[i] = float32(math.Sin(float64(i)))
	}
	rows, err := net.Infer(x3, 3)
	if err != nil {
		t.Fatalf("%+v", err)
	}
	first, err := net.Logits(x3[:2*per])
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 3*cfg.Classes {
		t.Fatalf("Infer returned %d values for 3 images of %d classes", len(rows), cfg.Classes)
	}
	for i := range first {
		if rows[i] != first[i] {
			t.Fatalf("Infer row value %d = %v, Logits %v", i, rows[i], first[i])
		}
	}
	third, err := net.Logits(append(append([]float32(nil), x3[2*per:]...), make([]float32, per)...))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < cfg.Classes; i++ {
		if rows[2*cfg.Classes+i] != third[i] {
			t.Fatalf("Infer's padded batch: class %d = %v, Logits %v", i, rows[2*cfg.Classes+i], third[i])
		}
	}
	if _, err := net.Infer(x3[:per+1], 1); err == nil {
		t.Error("Infer of a ragged input: no error")
	}
	// Batch norm in evaluation mode normalises with the running statistics.
	mini := inception.Mini()
	mini.InChannels, mini.InputSize, mini.Classes, mini.BatchSize = 3, 32, 5, 2
	mini.Dtype = tensor.Float64
	mini.Conv1, mini.AuxConv, mini.AuxFC = 4, 4, 8
	mini.Table = tinyTable(mini.Table)
	gotBN, wantBN, _, _ := logits(mini)
	close("mini", gotBN, wantBN)
	if st := net.Rand(); st.Step != 0 {
		t.Errorf("Logits advanced the dropout step to %d", st.Step)
	}
	noAux := tinyPaper()
	noAux.Table = append([]inception.Row(nil), noAux.Table...)
	for i := range noAux.Table {
		noAux.Table[i].Aux = 0
	}
	if _, _, without, _ := logits(noAux); without != withAux {
		t.Errorf("Logits launched %d kernels with auxiliary heads, %d without: the heads ran", withAux, without)
	}
}

// TestBenchNet times a training step and an inference of the small
// paper network on the emulated device and checks what it reports.
func TestBenchNet(t *testing.T) {
	cfg := tinyPaper()
	cfg.Dtype = tensor.Float32
	m, err := inception.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	d := cuda.NewDevice(emu.New())
	defer d.Close()
	for _, train := range []bool{true, false} {
		r, err := cuda.BenchNet(d, m, cuda.NetBenchOptions{Batch: 2, Train: train, Iters: 1})
		if err != nil {
			t.Fatalf("%+v", err)
		}
		t.Logf("%+v", r)
		if !(r.ImgPerSec > 0) || !(r.MsPerBatch > 0) || r.PeakInUse <= 0 || r.PeakInUse > r.PeakHeld || r.Train != train {
			t.Errorf("train=%v: %+v", train, r)
		}
	}
	if _, err := cuda.BenchNet(d, m, cuda.NetBenchOptions{Batch: 2, Iters: 0}); err == nil {
		t.Error("no iterations: no error")
	}
}

// TestInferDevice: eval.InferDevice (googlenet infer --device gpu) gives
// the CPU's eval.Infer logits for five images in batches of two.
func TestInferDevice(t *testing.T) {
	cfg := tinyPaper()
	cfg.Dtype = tensor.Float32
	m, err := inception.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	const n = 5
	x := &eval.Array{Shape: []int{n, 3, cfg.InputSize, cfg.InputSize}, Data: make([]float32, n*3*cfg.InputSize*cfg.InputSize)}
	for i := range x.Data {
		x.Data[i] = float32(math.Cos(float64(i) * 0.37))
	}
	want, err := eval.Infer(m, x, 2)
	if err != nil {
		t.Fatal(err)
	}
	d := cuda.NewDevice(emu.New())
	defer d.Close()
	got, err := eval.InferDevice(d, m, x, 2)
	if err != nil {
		t.Fatalf("%+v", err)
	}
	if len(got.Data) != len(want.Data) || got.Shape[0] != n || got.Shape[1] != cfg.Classes {
		t.Fatalf("shape %v, want %v", got.Shape, want.Shape)
	}
	for i := range want.Data {
		if d := math.Abs(float64(got.Data[i] - want.Data[i])); d > 1e-4*(1+math.Abs(float64(want.Data[i]))) {
			t.Fatalf("logit %d: device %v, CPU %v", i, got.Data[i], want.Data[i])
		}
	}
	x.Data[7] = float32(math.NaN())
	if _, err := eval.InferDevice(d, m, x, 2); err == nil {
		t.Error("a NaN input: no error")
	}
}
