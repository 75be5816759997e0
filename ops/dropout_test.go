package ops_test

import (
	"fmt"
	"math"
	"testing"

	"github.com/goinception/googlenet/internal/gradcheck"
	"github.com/goinception/googlenet/ops"
	G "gorgonia.org/gorgonia"
)

func TestDropoutEvalIsIdentity(t *testing.T) {
	g := G.NewGraph()
	x := G.NewMatrix(g, G.Float32, G.WithShape(2, 3), G.WithName("x"))
	y, err := ops.Dropout(x, 0.4, &ops.RandState{}, 0, false)
	if err != nil || y != x {
		t.Fatalf("eval dropout: %v, %v; want x itself", y, err)
	}
}

func TestDropoutForward(t *testing.T) {
	const rate = 0.4
	st := &ops.RandState{Seed: 42, Step: 7}
	n := 10000
	_, y := forward(t, []int{n}, ones(n), func(x *G.Node) (*G.Node, error) { return ops.Dropout(x, rate, st, 3, true) })
	kept := 0
	for i, v := range y {
		keep := ops.DropoutKeep(st.Seed, st.Step, 3, i, rate)
		switch {
		case keep && math.Abs(v-1/(1-rate)) < closeTol:
			kept++
		case !keep && v == 0:
		default:
			t.Fatalf("y[%d] = %v, keep = %v", i, v, keep)
		}
	}
	// 4 standard deviations of a binomial(10000, 0.6) fraction: 0.0196.
	if f := float64(kept) / float64(n); math.Abs(f-(1-rate)) > 0.02 {
		t.Errorf("kept fraction %v, want about %v", f, 1-rate)
	}
	// Another step or another op index draws another mask.
	same := 0
	for i := 0; i < n; i++ {
		if ops.DropoutKeep(42, 8, 3, i, rate) == ops.DropoutKeep(42, 7, 3, i, rate) {
			same++
		}
	}
	if same > n*6/10 { // independent masks agree with probability 0.52
		t.Errorf("masks at steps 7 and 8 agree on %d of %d elements", same, n)
	}
}

// TestDropoutBackwardScaling pins Gorgonia v0.9.18's Dropout defect (its
// backward pass scales by 1/p instead of 1/(1-p)): our gradient of
// sum(dropout(x)) is exactly mask/(1-rate).
func TestDropoutBackwardScaling(t *testing.T) {
	const rate = 0.25
	st := &ops.RandState{Seed: 1, Step: 2}
	g := G.NewGraph()
	x := G.NewVector(g, G.Float64, G.WithShape(1000), G.WithName("x"), G.WithInit(G.Ones()))
	y, err := ops.Dropout(x, rate, st, 0, true)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := G.Sum(y)
	gs, err := G.Grad(c, x)
	if err != nil {
		t.Fatal(err)
	}
	runGraph(t, g)
	for i, v := range values(t, gs[0].Value()) {
		want := 0.0
		if ops.DropoutKeep(1, 2, 0, i, rate) {
			want = 1 / (1 - rate)
		}
		if math.Abs(v-want) > closeTol {
			t.Fatalf("dx[%d] = %v, want %v", i, v, want)
		}
	}

	// Gorgonia's built-in pins the defect: its backward pass scales the
	// kept gradients by 1/p (here 4) instead of 1/(1-p).
	g2 := G.NewGraph()
	x2 := G.NewVector(g2, G.Float64, G.WithShape(1000), G.WithName("x"), G.WithInit(G.Ones()))
	y2, err := G.Dropout(x2, rate)
	if err != nil {
		t.Fatalf("gorgonia.Dropout: %v", err)
	}
	c2, _ := G.Sum(y2)
	gs2, err := G.Grad(c2, x2)
	if err != nil {
		t.Fatalf("gorgonia.Dropout: Grad: %v", err)
	}
	m := G.NewTapeMachine(g2)
	defer m.Close()
	if err := m.RunAll(); err != nil {
		t.Fatalf("gorgonia.Dropout: run: %v", err)
	}
	wrong := false // a kept gradient of 1/p
	for _, v := range values(t, gs2[0].Value()) {
		if math.Abs(v-1/rate) < closeTol {
			wrong = true
		}
	}
	upstreamFixed(t, !wrong, "Dropout", "Dropout",
		fmt.Sprintf("rate %v: kept gradients are no longer 1/p = %v (correct: 1/(1-p) = %v)", rate, 1/rate, 1/(1-rate)))
}

func TestDropoutGradient(t *testing.T) {
	st := &ops.RandState{Seed: 5, Step: 1}
	gradcheck.Check(t, gradcheck.Case{
		Inputs: []gradcheck.Input{{Name: "x", Shape: []int{2, 3, 2, 2}}},
		Seed:   13,
		Build:  func(g *G.ExprGraph, in []*G.Node) (*G.Node, error) { return ops.Dropout(in[0], 0.5, st, 1, true) },
	})
}

func TestDropoutErrors(t *testing.T) {
	g := G.NewGraph()
	x := G.NewMatrix(g, G.Float32, G.WithShape(2, 3), G.WithName("x"))
	for _, r := range []float64{-0.1, 1, math.NaN()} {
		if _, err := ops.Dropout(x, r, &ops.RandState{}, 0, true); err == nil {
			t.Errorf("rate %v: no error", r)
		}
	}
	if _, err := ops.Dropout(x, 0.5, nil, 0, true); err == nil {
		t.Error("nil RandState in training: no error")
	}
}
