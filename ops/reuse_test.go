package ops_test

import (
	"math/rand/v2"
	"runtime"
	"testing"

	"github.com/goinception/googlenet/ops"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// smallNet builds conv -> maxpool -> LRN -> two branches (conv 1x1, conv
// 3x3) -> concat -> BN -> global pool -> dropout -> linear -> loss, with
// gradients for every parameter, in dtype dt.
func smallNet(t testing.TB, dt tensor.Dtype, batch int) (*G.ExprGraph, *G.Node, G.Nodes, G.Nodes) {
	t.Helper()
	return smallNetOn(t, nil, dt, batch)
}

// smallNetOn is smallNet with its ops bound to engine e.
func smallNetOn(t testing.TB, e ops.Engine, dt tensor.Dtype, batch int) (*G.ExprGraph, *G.Node, G.Nodes, G.Nodes) {
	t.Helper()
	o := ops.With(e)
	rng := rand.New(rand.NewPCG(3, 4))
	g := G.NewGraph()
	val := func(shape ...int) tensor.Tensor {
		n := tensor.Shape(shape).TotalSize()
		if dt == tensor.Float32 {
			v := make([]float32, n)
			for i := range v {
				v[i] = float32(rng.Float64() - 0.5)
			}
			return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(v))
		}
		v := make([]float64, n)
		for i := range v {
			v[i] = rng.Float64() - 0.5
		}
		return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(v))
	}
	param := func(name string, shape ...int) *G.Node {
		return G.NewTensor(g, dt, len(shape), G.WithShape(shape...), G.WithName(name), G.WithValue(val(shape...)))
	}
	x := param("x", batch, 3, 12, 12)
	labelData := make([]float64, batch)
	for i := range labelData {
		labelData[i] = float64(i % 5)
	}
	var lv tensor.Tensor = tensor.New(tensor.WithShape(batch), tensor.WithBacking(labelData))
	if dt == tensor.Float32 {
		l32 := make([]float32, batch)
		for i, v := range labelData {
			l32[i] = float32(v)
		}
		lv = tensor.New(tensor.WithShape(batch), tensor.WithBacking(l32))
	}
	labels := G.NewVector(g, dt, G.WithShape(batch), G.WithName("labels"), G.WithValue(lv))
	w1, b1 := param("w1", 8, 3, 3, 3), param("b1", 8)
	w2, b2 := param("w2", 4, 8, 1, 1), param("b2", 4)
	w3, b3 := param("w3", 4, 8, 3, 3), param("b3", 4)
	gamma, beta := param("gamma", 8), param("beta", 8)
	wl, bl := param("wl", 5, 8), param("bl", 5)
	params := G.Nodes{w1, b1, w2, b2, w3, b3, gamma, beta, wl, bl}
	st := &ops.BNStats{Momentum: 0.1, Eps: 1e-3}
	rs := &ops.RandState{Seed: 1}
	must := func(n *G.Node, err error) *G.Node {
		t.Helper()
		if err != nil {
			t.Fatalf("%+v", err)
		}
		return n
	}
	h := must(o.Conv2D(x, w1, b1, ops.ConvOpts{StrideH: 2, StrideW: 2, Pad: ops.Same(1), ReLU: true, NoInputGrad: true}))
	h = must(o.MaxPool2D(h, ops.PoolOpts{KernelH: 3, KernelW: 3, StrideH: 1, StrideW: 1, Pad: ops.Same(1), CeilMode: true}))
	h = must(o.LRN(h, ops.LRNOpts{Size: 5, Alpha: 1e-4, Beta: 0.75, K: 1}))
	a := must(o.Conv2D(h, w2, b2, ops.ConvOpts{ReLU: true}))
	c := must(o.Conv2D(h, w3, b3, ops.ConvOpts{Pad: ops.Same(1), ReLU: true}))
	h = must(o.ConcatChannels(a, c))
	h = must(o.BatchNorm(h, gamma, beta, st, true))
	h = must(o.GlobalAvgPool2D(h))
	h = must(o.Flatten(h))
	h = must(o.Dropout(h, 0.2, rs, 0, true))
	h = must(o.Linear(h, wl, bl))
	loss := must(o.SoftmaxCrossEntropy(h, labels))
	grads, err := G.Grad(loss, params...)
	if err != nil {
		t.Fatalf("%+v", err)
	}
	return g, loss, params, grads
}

// TestRepeatedRunsReuseBuffers checks that Reset+RunAll in a training loop
// does not allocate the op outputs afresh each run, and that a repeated run
// gives the same loss and gradients.
func TestRepeatedRunsReuseBuffers(t *testing.T) {
	g, loss, _, grads := smallNet(t, tensor.Float32, 4)
	m := G.NewTapeMachine(g)
	defer m.Close()
	run := func() {
		m.Reset()
		if err := m.RunAll(); err != nil {
			t.Fatalf("%+v", err)
		}
	}
	run()
	l0 := values(t, loss.Value())
	g0 := make([][]float64, len(grads))
	for i, gn := range grads {
		g0[i] = values(t, gn.Value())
	}
	run()
	assertClose(t, "loss on second run", values(t, loss.Value()), l0, 1e-6)
	for i, gn := range grads {
		assertClose(t, "gradient on second run", values(t, gn.Value()), g0[i], 1e-5)
	}

	// Bytes of all node values: what a machine that allocates every output
	// afresh would allocate per run, at least.
	var valueBytes int64
	for _, n := range g.AllNodes() {
		if v := n.Value(); v != nil {
			valueBytes += int64(v.MemSize())
		}
	}
	var before, after runtime.MemStats
	const runs = 20
	runtime.GC()
	runtime.ReadMemStats(&before)
	for i := 0; i < runs; i++ {
		run()
	}
	runtime.ReadMemStats(&after)
	perRun := int64(after.TotalAlloc-before.TotalAlloc) / runs
	t.Logf("allocated %d bytes per run; node values total %d bytes", perRun, valueBytes)
	if perRun > valueBytes/4 {
		t.Errorf("each run allocates %d bytes, more than a quarter of the %d bytes of node values: buffers are not reused", perRun, valueBytes)
	}
}

// TestTrainingLoopWithSolver runs a few SGD steps with Gorgonia's
// BindDualValues machine and VanillaSolver over the ops: the loss falls.
func TestTrainingLoopWithSolver(t *testing.T) {
	g, loss, params, _ := smallNet(t, tensor.Float64, 4)
	m := G.NewTapeMachine(g, G.BindDualValues(params...))
	defer m.Close()
	solver := G.NewVanillaSolver(G.WithLearnRate(0.1))
	var first, last float64
	for step := 0; step < 30; step++ {
		m.Reset()
		if err := m.RunAll(); err != nil {
			t.Fatalf("step %d: %+v", step, err)
		}
		l := values(t, loss.Value())[0]
		if step == 0 {
			first = l
		}
		last = l
		if err := solver.Step(G.NodesToValueGrads(params)); err != nil {
			t.Fatalf("step %d: %+v", step, err)
		}
	}
	t.Logf("loss %v -> %v", first, last)
	if !(last < 0.8*first) {
		t.Errorf("loss did not fall: %v -> %v", first, last)
	}
}
