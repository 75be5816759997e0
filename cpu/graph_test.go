package cpu_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/goinception/googlenet/cpu"
	"github.com/goinception/googlenet/graph"
	"github.com/goinception/googlenet/ops"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// convGraph runs loss = Σ r ⊙ conv(x, w, b) (stride 2 and 1x1 layers, fused
// ReLU) and its gradients on engine e, returning the loss and the
// gradients of x, w1, b1, w2.
func convGraph(t *testing.T, e ops.Engine, x, w1, b1, w2, r []float32) [][]float32 {
	t.Helper()
	g := G.NewGraph()
	node := func(name string, v []float32, shape ...int) *G.Node {
		return G.NewTensor(g, tensor.Float32, len(shape), G.WithShape(shape...), G.WithName(name),
			G.WithValue(tensor.New(tensor.WithShape(shape...), tensor.WithBacking(append([]float32(nil), v...)))))
	}
	xn := node("x", x, 2, 3, 9, 9)
	w1n := node("w1", w1, 8, 3, 3, 3)
	b1n := node("b1", b1, 8)
	w2n := node("w2", w2, 5, 8, 1, 1)
	rn := node("r", r, 2, 5, 5, 5)
	h, err := ops.With(e).Conv2D(xn, w1n, b1n, ops.ConvOpts{StrideH: 2, StrideW: 2, Pad: ops.Same(1), ReLU: true})
	if err != nil {
		t.Fatal(err)
	}
	y, err := ops.With(e).Conv2D(h, w2n, nil, ops.ConvOpts{})
	if err != nil {
		t.Fatal(err)
	}
	loss := G.Must(G.Sum(G.Must(G.HadamardProd(y, rn))))
	wrt := []*G.Node{xn, w1n, b1n, w2n}
	if _, err := G.Grad(loss, wrt...); err != nil {
		t.Fatal(err)
	}
	vm := G.NewTapeMachine(g)
	defer vm.Close()
	if err := vm.RunAll(); err != nil {
		t.Fatal(err)
	}
	out := [][]float32{{loss.Value().Data().(float32)}}
	for _, n := range wrt {
		gv, err := n.Grad()
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, append([]float32(nil), gv.Data().([]float32)...))
	}
	return out
}

// TestGorgoniaGraph runs a two-layer convolution graph with its gradients
// on cpu.New's engines (ops.With) and compares it with the reference
// engine.
func TestGorgoniaGraph(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	rs := func(n int) []float32 {
		v := make([]float32, n)
		for i := range v {
			v[i] = float32(rng.Float64()*2 - 1)
		}
		return v
	}
	x, w1, b1, w2, r := rs(2*3*9*9), rs(8*3*3*3), rs(8), rs(5*8), rs(2*5*5*5)
	want := convGraph(t, nil, x, w1, b1, w2, r)
	for _, o := range []cpu.Options{{}, {PureGo: true}} {
		e := cpu.New(o)
		got := convGraph(t, e, x, w1, b1, w2, r)
		// Two float32 layers summed in different orders: a few ulps of
		// the largest magnitudes.
		const tol = 1e-4
		for i, name := range []string{"loss", "dx", "dw1", "db1", "dw2"} {
			scale := 0.0
			for _, v := range want[i] {
				scale = math.Max(scale, math.Abs(float64(v)))
			}
			for j := range want[i] {
				if d := math.Abs(float64(got[i][j] - want[i][j])); d > tol*(1+scale) {
					t.Errorf("%s: %s[%d] = %v, reference %v", e.Name(), name, j, got[i][j], want[i][j])
					break
				}
			}
		}
	}
}

// The engine is a value given to the graphs that run on it: ops.With for
// single ops, graph.Options.Engine for a builder, inception.Config.Engine
// for a model.
func ExampleNew() {
	e := cpu.New(cpu.Options{})
	b := graph.New(graph.Options{Engine: e})
	fmt.Println(strings.HasPrefix(b.Engine().Name(), "cpu/"), ops.With(nil).Engine().Name())
	// Output: true reference
}
