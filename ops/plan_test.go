package ops_test

import (
	"math/rand/v2"
	"testing"

	"github.com/goinception/googlenet/ops"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// moduleNet builds a forward-only network shaped like GoogLeNet's stem and
// one Inception module: conv, max pool, LRN, then four branches (1x1;
// 1x1 -> 3x3; 1x1 -> 5x5; 3x3 pool -> 1x1) concatenated, batch norm,
// a second module reading the first, global pool, flatten, linear and
// softmax. It returns the graph, the output and the first concatenation.
func moduleNet(t testing.TB, dt tensor.Dtype, batch int) (*G.ExprGraph, *G.Node, *G.Node) {
	t.Helper()
	rng := rand.New(rand.NewPCG(5, 6))
	g := G.NewGraph()
	val := func(shape ...int) tensor.Tensor {
		n := tensor.Shape(shape).TotalSize()
		if dt == tensor.Float32 {
			v := make([]float32, n)
			for i := range v {
				v[i] = float32(rng.Float64() - 0.4)
			}
			return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(v))
		}
		v := make([]float64, n)
		for i := range v {
			v[i] = rng.Float64() - 0.4
		}
		return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(v))
	}
	param := func(name string, shape ...int) *G.Node {
		return G.NewTensor(g, dt, len(shape), G.WithShape(shape...), G.WithName(name), G.WithValue(val(shape...)))
	}
	must := func(n *G.Node, err error) *G.Node {
		t.Helper()
		if err != nil {
			t.Fatalf("%+v", err)
		}
		return n
	}
	conv := func(x *G.Node, name string, k, c, r int) *G.Node {
		return must(ops.Conv2D(x, param(name+"/w", k, c, r, r), param(name+"/b", k), ops.ConvOpts{Pad: ops.Same(r / 2), ReLU: true}))
	}
	pool3 := ops.PoolOpts{KernelH: 3, KernelW: 3, StrideH: 1, StrideW: 1, Pad: ops.Same(1), CeilMode: true}
	module := func(x *G.Node, name string, c int) *G.Node {
		a := conv(x, name+"/1x1", 4, c, 1)
		b := conv(conv(x, name+"/3x3_reduce", 3, c, 1), name+"/3x3", 6, 3, 3)
		d := conv(conv(x, name+"/5x5_reduce", 2, c, 1), name+"/5x5", 3, 2, 5)
		p := conv(must(ops.MaxPool2D(x, pool3)), name+"/pool_proj", 3, c, 1)
		return must(ops.ConcatChannels(a, b, d, p))
	}
	x := param("x", batch, 3, 17, 17)
	h := must(ops.Conv2D(x, param("conv1/w", 8, 3, 7, 7), param("conv1/b", 8), ops.ConvOpts{StrideH: 2, StrideW: 2, Pad: ops.Same(3), ReLU: true}))
	h = must(ops.MaxPool2D(h, ops.PoolOpts{KernelH: 3, KernelW: 3, StrideH: 2, StrideW: 2, CeilMode: true}))
	h = must(ops.LRN(h, ops.LRNOpts{Size: 5, Alpha: 1e-4, Beta: 0.75, K: 1}))
	m1 := module(h, "a", 8)
	st := &ops.BNStats{Momentum: 0.1, Eps: 1e-3}
	h = must(ops.BatchNorm(m1, param("gamma", 16), param("beta", 16), st, false))
	h = module(h, "b", 16)
	h = must(ops.GlobalAvgPool2D(h))
	h = must(ops.Flatten(h))
	h = must(ops.Linear(h, param("fc/w", 5, 16), param("fc/b", 5)))
	return g, must(ops.Softmax(h)), m1
}

func runOnce(t *testing.T, g *G.ExprGraph) G.VM {
	t.Helper()
	m := G.NewTapeMachine(g)
	if err := m.RunAll(); err != nil {
		t.Fatalf("%+v", err)
	}
	return m
}

// TestPlanBuffersExact checks that a planned graph computes bit for bit
// what the same graph with a buffer per op computes, on repeated runs, that
// kept nodes stay valid, and that the plan shares memory.
func TestPlanBuffersExact(t *testing.T) {
	for _, dt := range []tensor.Dtype{tensor.Float32, tensor.Float64} {
		g0, y0, k0 := moduleNet(t, dt, 3)
		vm0 := runOnce(t, g0)
		defer vm0.Close()
		want, wantKept := values(t, y0.Value()), values(t, k0.Value())

		g1, y1, k1 := moduleNet(t, dt, 3)
		st, err := ops.PlanBuffers(g1, k1)
		if err != nil {
			t.Fatalf("%+v", err)
		}
		t.Logf("%v: %+v", dt, st)
		if st.Outputs < 15 || st.Slots >= st.Outputs || !(st.Bytes < st.FreeBytes) {
			t.Errorf("%v: plan %+v shares too little", dt, st)
		}
		vm1 := G.NewTapeMachine(g1)
		defer vm1.Close()
		for run := 0; run < 2; run++ {
			vm1.Reset()
			if err := vm1.RunAll(); err != nil {
				t.Fatalf("%+v", err)
			}
			assertExact(t, dt.String()+" output", values(t, y1.Value()), want)
			assertExact(t, dt.String()+" kept node", values(t, k1.Value()), wantKept)
		}
	}
}

func assertExact(t *testing.T, what string, got, want []float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("%s[%d] = %v, want %v (bit for bit)", what, i, got[i], want[i])
		}
	}
}

func TestPlanBuffersNil(t *testing.T) {
	if _, err := ops.PlanBuffers(nil); err == nil {
		t.Fatal("nil graph: no error")
	}
}

// TestPlanBuffersTraining plans a training graph (forward, loss, Gorgonia's
// symbolic gradients with their fan-out sums, dropout, batch norm) keeping
// the loss and the parameter gradients: they equal the unplanned graph's
// bit for bit, on repeated runs.
func TestPlanBuffersTraining(t *testing.T) {
	for _, dt := range []tensor.Dtype{tensor.Float32, tensor.Float64} {
		g0, loss0, _, grads0 := smallNet(t, dt, 4)
		vm0 := G.NewTapeMachine(g0)
		defer vm0.Close()
		g1, loss1, _, grads1 := smallNet(t, dt, 4)
		st, err := ops.PlanBuffers(g1, append(G.Nodes{loss1}, grads1...)...)
		if err != nil {
			t.Fatalf("%+v", err)
		}
		t.Logf("%v: %+v", dt, st)
		if st.Outputs < 10 || st.Slots >= st.Outputs {
			t.Errorf("%v: plan %+v shares too little", dt, st)
		}
		vm1 := G.NewTapeMachine(g1)
		defer vm1.Close()
		for run := 0; run < 2; run++ {
			for _, vm := range []G.VM{vm0, vm1} {
				vm.Reset()
				if err := vm.RunAll(); err != nil {
					t.Fatalf("%+v", err)
				}
			}
			assertExact(t, dt.String()+" loss", values(t, loss1.Value()), values(t, loss0.Value()))
			for i := range grads0 {
				assertExact(t, dt.String()+" gradient of "+grads0[i].Name(), values(t, grads1[i].Value()), values(t, grads0[i].Value()))
			}
		}
	}
}
