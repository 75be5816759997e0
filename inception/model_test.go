package inception

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/goinception/googlenet/graph"
)

// Tolerances of the model-level finite-difference check (float64): a central
// difference with step fdStep; analytic and numeric derivatives agree when
// |a-n| <= fdAbs + fdRel*max(|a|,|n|).
const (
	fdStep = 1e-6
	fdAbs  = 1e-7
	fdRel  = 1e-5
	// scaleTol is the relative tolerance of gradients that should scale
	// exactly (doubling the aux weight doubles the aux heads' gradients).
	scaleTol = 1e-6
	// shareTol: adding 1 to a logit's bias moves it by 1 up to rounding.
	shareTol = 1e-12
)

func randInput(rng *rand.Rand, dt tensor.Dtype, shape ...int) *tensor.Dense {
	n := 1
	for _, d := range shape {
		n *= d
	}
	v := make([]float64, n)
	for i := range v {
		v[i] = 2*rng.Float64() - 1
	}
	return denseOf(dt, v, shape...)
}

func float64s(t testing.TB, d *tensor.Dense) []float64 {
	t.Helper()
	switch v := d.Data().(type) {
	case []float64:
		return append([]float64(nil), v...)
	case []float32:
		out := make([]float64, len(v))
		for i, x := range v {
			out[i] = float64(x)
		}
		return out
	}
	t.Fatalf("unexpected data %T", d.Data())
	return nil
}

// tinyConfigs are small float64 networks covering both module flavours:
// the paper's (LRN, biases, average-pool aux heads, 5x5) and torchvision's
// (batch norm, adaptive aux pool, 3x3), with dropout in both.
func tinyConfigs() []Config {
	rows := []Row{
		{Name: "3a", C1x1: 2, C3x3Reduce: 2, C3x3: 3, C5x5Reduce: 2, C5x5: 2, PoolProj: 2, Aux: 1},
		{Name: "3b", C1x1: 3, C3x3Reduce: 2, C3x3: 2, C5x5Reduce: 2, C5x5: 3, PoolProj: 2, Aux: 2},
	}
	p := Paper()
	p.Variant = "tiny-paper"
	p.Dtype = tensor.Float64
	p.InChannels, p.InputSize, p.Classes, p.BatchSize = 2, 64, 3, 2
	p.Conv1, p.Conv2Reduce, p.Conv2 = 3, 3, 4
	p.Table = rows
	p.AuxConv, p.AuxFC = 3, 4

	tv := Torchvision()
	tv.Variant = "tiny-torchvision"
	tv.Dtype = tensor.Float64
	tv.InChannels, tv.InputSize, tv.Classes, tv.BatchSize = 2, 32, 3, 3
	tv.Conv1, tv.Conv2Reduce, tv.Conv2 = 3, 3, 4
	tv.Table = append([]Row(nil), rows...)
	tv.Table[1].MaxPoolBefore = true
	tv.AuxConv, tv.AuxFC, tv.AuxAdaptivePool = 3, 4, 2
	tv.Init = graph.Torchvision{Std: 0.3} // larger weights: gradients well above rounding
	return []Config{p, tv}
}

// TestModelGradients compares the gradient of the total training loss
// (main + AuxWeight*(aux1+aux2)) with central finite differences, for a
// few elements of every parameter of small float64 models. Dropout masks
// are held fixed by resetting Rand().Step before every run.
func TestModelGradients(t *testing.T) {
	for _, c := range tinyConfigs() {
		t.Run(c.Variant, func(t *testing.T) {
			m, err := New(c)
			if err != nil {
				t.Fatal(err)
			}
			rng := rand.New(rand.NewPCG(1, 2))
			x := randInput(rng, tensor.Float64, c.BatchSize, c.InChannels, c.InputSize, c.InputSize)
			labels := make([]int, c.BatchSize)
			for i := range labels {
				labels[i] = i % c.Classes
			}
			loss := func() float64 {
				m.Rand().Step = 5
				ls, err := m.Step(x, labels)
				if err != nil {
					t.Fatal(err)
				}
				return ls.Total
			}
			base := loss()
			ls, _ := m.Step(x, labels) // Step 6: other masks, same API
			if math.IsNaN(base) || ls.Aux1 == 0 || ls.Aux2 == 0 {
				t.Fatalf("losses %v %+v", base, ls)
			}
			loss() // gradients at Step 5 again
			analytic := map[string][]float64{}
			for _, p := range m.Params() {
				analytic[p.Name] = float64s(t, p.Grad)
			}
			checked := 0
			for _, p := range m.Params() {
				w := p.Value.Data().([]float64)
				for _, i := range []int{0, len(w) / 2, len(w) - 1} {
					orig := w[i]
					w[i] = orig + fdStep
					up := loss()
					w[i] = orig - fdStep
					down := loss()
					w[i] = orig
					num := (up - down) / (2 * fdStep)
					a := analytic[p.Name][i]
					if math.Abs(a-num) > fdAbs+fdRel*math.Max(math.Abs(a), math.Abs(num)) {
						t.Errorf("%s[%d]: analytic %.9g, numeric %.9g", p.Name, i, a, num)
					}
					checked++
				}
			}
			t.Logf("%s: %d parameters, %d elements checked", c.Variant, len(m.Params()), checked)
		})
	}
}

// TestPaper224 is the full paper GoogLeNet at 224x224, batch 2: finite
// logits [2,1000]; finite non-zero gradients for every parameter including
// both auxiliary heads; doubling the aux weight doubles the aux heads'
// gradients and leaves the main classifier's unchanged; the inference graph
// has no auxiliary nodes.
func TestPaper224(t *testing.T) {
	if testing.Short() {
		t.Skip("full GoogLeNet at 224x224 (about 10 s)")
	}
	start := time.Now()
	c := Paper()
	c.BatchSize = 2
	m, err := New(c)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(3, 4))
	x := randInput(rng, tensor.Float32, 2, 3, 224, 224)
	logits, err := m.Forward(x)
	if err != nil {
		t.Fatal(err)
	}
	if s := logits.Shape(); len(s) != 2 || s[0] != 2 || s[1] != 1000 {
		t.Fatalf("logits shape %v, want [2 1000]", s)
	}
	for i, v := range float64s(t, logits) {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			t.Fatalf("logit %d = %v", i, v)
		}
	}
	t.Logf("forward: %v", time.Since(start))

	labels := []int{3, 997}
	m.Rand().Step = 0
	ls, err := m.Step(x, labels)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("losses %+v after %v", ls, time.Since(start))
	for _, v := range []float64{ls.Main, ls.Aux1, ls.Aux2, ls.Total} {
		if math.IsNaN(v) || v <= 0 {
			t.Fatalf("losses %+v", ls)
		}
	}
	if want := ls.Main + 0.3*(ls.Aux1+ls.Aux2); math.Abs(ls.Total-want) > 1e-5*want {
		t.Fatalf("total %g, want main + 0.3*(aux1+aux2) = %g", ls.Total, want)
	}
	first := map[string][]float64{}
	heads := map[string]int{}
	for _, p := range m.Params() {
		g := float64s(t, p.Grad)
		var sum float64
		for _, v := range g {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				t.Fatalf("%s: gradient %v", p.Name, v)
			}
			sum += math.Abs(v)
		}
		if !(sum > 0) {
			t.Errorf("%s: gradient is all zeros", p.Name)
		}
		first[p.Name] = g
		heads[strings.SplitN(p.Name, "/", 2)[0]]++
	}
	if heads["loss1"] != 6 || heads["loss2"] != 6 {
		t.Fatalf("aux head parameters: %d and %d, want 6 each", heads["loss1"], heads["loss2"])
	}

	// Doubling the aux weight, same masks.
	if err := m.SetAuxWeight(0.6); err != nil {
		t.Fatal(err)
	}
	m.Rand().Step = 0
	ls2, err := m.Step(x, labels)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(ls2.Aux1-ls.Aux1) > scaleTol*ls.Aux1 || math.Abs(ls2.Main-ls.Main) > scaleTol*ls.Main {
		t.Fatalf("losses changed with the aux weight: %+v then %+v", ls, ls2)
	}
	for _, p := range m.Params() {
		head := strings.SplitN(p.Name, "/", 2)[0]
		factor := 0.0
		switch head {
		case "loss1", "loss2":
			factor = 2
		case "loss3":
			factor = 1
		default:
			continue
		}
		g := float64s(t, p.Grad)
		for i, v := range g {
			want := factor * first[p.Name][i]
			if math.Abs(v-want) > scaleTol*math.Abs(want)+1e-12 {
				t.Fatalf("%s[%d]: gradient %g with aux weight 0.6, want %g x %g", p.Name, i, v, factor, first[p.Name][i])
			}
		}
	}

	g, err := m.InferenceGraph(2)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range g.AllNodes() {
		if strings.Contains(n.Name(), "loss1") || strings.Contains(n.Name(), "loss2") || strings.Contains(n.Name(), "label") {
			t.Fatalf("inference graph has node %s", n.Name())
		}
	}
	if len(g.AllNodes()) >= len(m.TrainingGraph().AllNodes()) {
		t.Fatalf("inference graph has %d nodes, training graph %d", len(g.AllNodes()), len(m.TrainingGraph().AllNodes()))
	}
	t.Logf("total %v", time.Since(start))
}

// TestForwardSharesWeights: the inference graph sees in-place updates of
// the training parameters: its nodes are bound to the same tensors.
func TestForwardSharesWeights(t *testing.T) {
	c := tinyConfigs()[0]
	m, err := New(c)
	if err != nil {
		t.Fatal(err)
	}
	x := randInput(rand.New(rand.NewPCG(5, 6)), tensor.Float64, 1, c.InChannels, c.InputSize, c.InputSize)
	y1, err := m.Forward(x)
	if err != nil {
		t.Fatal(err)
	}
	p, _ := m.Param("loss3/classifier/b")
	b := p.Value.Data().([]float64)
	b[0] += 1 // in place
	y2, err := m.Forward(x)
	if err != nil {
		t.Fatal(err)
	}
	d1, d2 := float64s(t, y1), float64s(t, y2)
	if math.Abs(d2[0]-d1[0]-1) > shareTol || math.Abs(d2[1]-d1[1]) > shareTol {
		t.Fatalf("logits %v then %v after adding 1 to bias 0", d1, d2)
	}
	// Every graph binds the parameter's one tensor: the training node, the
	// inference node, the feature graph's node.
	ig, err := m.inference(1)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range ig.b.Params() {
		tp, _ := m.Param(q.Name)
		if q.Value != tp.Value || q.Node.Value() != G.Value(tp.Value) || tp.Node.Value() != G.Value(tp.Value) {
			t.Fatalf("%s: the inference graph's tensor is not the training parameter's", q.Name)
		}
	}
}

// TestMiniTrains is a smoke test: the mini variant fits a tiny synthetic
// batch (a bright square whose position encodes the label) with plain SGD
// and the loss falls.
func TestMiniTrains(t *testing.T) {
	const (
		steps = 25
		lr    = 0.1
	)
	c := Mini()
	c.BatchSize = 16
	m, err := New(c)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(7, 8))
	v := make([]float64, c.BatchSize*28*28)
	labels := make([]int, c.BatchSize)
	for n := range labels {
		labels[n] = n % 4
		oy, ox := 4+14*(labels[n]/2), 4+14*(labels[n]%2)
		for i := 0; i < 28*28; i++ {
			v[n*784+i] = 0.1 * rng.Float64()
		}
		for y := oy; y < oy+8; y++ {
			for x := ox; x < ox+8; x++ {
				v[n*784+y*28+x] = 1
			}
		}
	}
	x := denseOf(tensor.Float32, v, c.BatchSize, 1, 28, 28)
	start := time.Now()
	var first, last float64
	for s := 0; s < steps; s++ {
		ls, err := m.Step(x, labels)
		if err != nil {
			t.Fatal(err)
		}
		if s == 0 {
			first = ls.Total
		}
		last = ls.Total
		for _, p := range m.Params() {
			w := p.Value.Data().([]float32)
			g := p.Grad.Data().([]float32)
			for i := range w {
				w[i] -= lr * g[i]
			}
		}
	}
	per := time.Since(start) / time.Duration(steps*c.BatchSize)
	t.Logf("loss %.4f -> %.4f in %d steps; %v per image forward+backward", first, last, steps, per)
	if !(last < 0.5*first) {
		t.Fatalf("loss %.4f -> %.4f: did not fall by half", first, last)
	}
}

func TestStepErrors(t *testing.T) {
	c := tinyConfigs()[0]
	m, err := New(c)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 1))
	good := randInput(rng, tensor.Float64, c.BatchSize, c.InChannels, c.InputSize, c.InputSize)
	for name, f := range map[string]func() error{
		"batch":      func() error { _, err := m.Step(randInput(rng, tensor.Float64, 1, 2, 64, 64), []int{0}); return err },
		"label":      func() error { _, err := m.Step(good, []int{0, 3}); return err },
		"labels":     func() error { _, err := m.Step(good, []int{0}); return err },
		"shape":      func() error { _, err := m.Forward(randInput(rng, tensor.Float64, 1, 3, 64, 64)); return err },
		"dtype":      func() error { _, err := m.Forward(randInput(rng, tensor.Float32, 1, 2, 64, 64)); return err },
		"nil":        func() error { _, err := m.Forward(nil); return err },
		"aux weight": func() error { return m.SetAuxWeight(-1) },
		"grad":       func() error { _, err := m.Grad("nope"); return err },
	} {
		if f() == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// BenchmarkMiniStep is one training step (forward and backward with both
// auxiliary heads) of the mini variant on MNIST-sized input; it reports
// images per second.
func BenchmarkMiniStep(b *testing.B) {
	for _, batch := range []int{16, 64} {
		b.Run(fmt.Sprintf("batch%d", batch), func(b *testing.B) {
			c := Mini()
			c.BatchSize = batch
			m, err := New(c)
			if err != nil {
				b.Fatal(err)
			}
			x := randInput(rand.New(rand.NewPCG(1, 1)), tensor.Float32, batch, 1, 28, 28)
			labels := make([]int, batch)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := m.Step(x, labels); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "img/s")
		})
	}
}

// BenchmarkMiniForward is inference of the mini variant.
func BenchmarkMiniForward(b *testing.B) {
	c := Mini()
	m, err := New(c)
	if err != nil {
		b.Fatal(err)
	}
	x := randInput(rand.New(rand.NewPCG(1, 1)), tensor.Float32, 64, 1, 28, 28)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := m.Forward(x); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*64)/b.Elapsed().Seconds(), "img/s")
}

// TestBatchNormStatsShared: a training step updates the running statistics
// that inference graphs (built before or after the step) read.
func TestBatchNormStatsShared(t *testing.T) {
	c := tinyConfigs()[1]
	m, err := New(c)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(9, 9))
	x := randInput(rng, tensor.Float64, c.BatchSize, c.InChannels, c.InputSize, c.InputSize)
	before, err := m.Forward(x)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.BNStats()) == 0 {
		t.Fatal("no batch-norm statistics")
	}
	st := m.BNStats()[0].Stats
	if _, err := m.Step(x, make([]int, c.BatchSize)); err != nil {
		t.Fatal(err)
	}
	if math.Abs(st.Mean[0]) < 1e-15 && math.Abs(st.Var[0]-1) < 1e-15 {
		t.Fatalf("%s: running statistics not updated by Step: %+v", m.BNStats()[0].Name, st)
	}
	after, err := m.Forward(x)
	if err != nil {
		t.Fatal(err)
	}
	b, a := float64s(t, before), float64s(t, after)
	diff := 0.0
	for i := range b {
		diff = math.Max(diff, math.Abs(a[i]-b[i]))
	}
	if diff < 1e-9 {
		t.Fatal("inference output did not change after the running statistics did")
	}
	// A new inference graph (another batch size) shares the same statistics.
	if _, err := m.InferenceGraph(1); err != nil {
		t.Fatal(err)
	}
	if s, _ := m.infer[1].b.LookupBN(m.BNStats()[0].Name); s != st {
		t.Fatal("a new inference graph has its own statistics")
	}
}

func TestTrainingNodes(t *testing.T) {
	c := tinyConfigs()[0]
	m, err := New(c)
	if err != nil {
		t.Fatal(err)
	}
	n := m.TrainingNodes()
	for name, node := range map[string]interface{ Name() string }{
		"input": n.Input, "labels": n.Labels, "logits": n.Logits, "aux1": n.Aux1, "aux2": n.Aux2,
		"loss": n.Loss, "aux loss 1": n.AuxLoss1, "aux loss 2": n.AuxLoss2, "total": n.Total, "aux weight": n.AuxWeight,
	} {
		if node == (*G.Node)(nil) || node == nil {
			t.Errorf("%s node missing", name)
		}
	}
	if s := n.Logits.Shape(); s[0] != c.BatchSize || s[1] != c.Classes {
		t.Errorf("logits shape %v", s)
	}
	if g, ok := m.GradNode("loss1/fc/w"); !ok || g == nil {
		t.Error("no gradient node for loss1/fc/w")
	}
	if _, ok := m.GradNode("nope"); ok {
		t.Error("gradient node for an unknown name")
	}
}
