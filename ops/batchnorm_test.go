package ops_test

import (
	"math"
	"testing"

	"github.com/goinception/googlenet/internal/gradcheck"
	"github.com/goinception/googlenet/ops"
	G "gorgonia.org/gorgonia"
)

// bnGraph builds BatchNorm over a [2,1,1,2] input 1..4 with gamma 1, beta 0.
func bnGraph(t *testing.T, st *ops.BNStats, training bool) (*G.ExprGraph, *G.Node) {
	t.Helper()
	g := G.NewGraph()
	x := G.NewTensor(g, G.Float64, 4, G.WithShape(2, 1, 1, 2), G.WithName("x"), G.WithValue(tensorOf([]int{2, 1, 1, 2}, []float64{1, 2, 3, 4})))
	gamma := G.NewVector(g, G.Float64, G.WithShape(1), G.WithName("gamma"), G.WithInit(G.Ones()))
	beta := G.NewVector(g, G.Float64, G.WithShape(1), G.WithName("beta"), G.WithInit(G.Zeroes()))
	y, err := ops.BatchNorm(x, gamma, beta, st, training)
	if err != nil {
		t.Fatal(err)
	}
	return g, y
}

func TestBatchNormTraining(t *testing.T) {
	st := &ops.BNStats{Momentum: 0.1, Eps: 1e-5}
	g, y := bnGraph(t, st, true)
	runGraph(t, g)
	// mean 2.5, biased variance 1.25.
	sd := math.Sqrt(1.25 + 1e-5)
	assertClose(t, "y", values(t, y.Value()), []float64{-1.5 / sd, -0.5 / sd, 0.5 / sd, 1.5 / sd}, closeTol)
	// Running stats start at mean 0, var 1; the update uses the unbiased
	// variance 1.25*4/3.
	assertClose(t, "running mean", st.Mean, []float64{0.25}, closeTol)
	assertClose(t, "running var", st.Var, []float64{0.9 + 0.1*1.25*4/3}, closeTol)
}

func TestBatchNormEval(t *testing.T) {
	st := &ops.BNStats{Mean: []float64{1}, Var: []float64{3}, Eps: 1}
	g, y := bnGraph(t, st, false)
	runGraph(t, g)
	assertClose(t, "y", values(t, y.Value()), []float64{0, 0.5, 1, 1.5}, closeTol)
	assertClose(t, "running mean unchanged", st.Mean, []float64{1}, closeTol)
}

// TestBatchNormStatsSurviveNewMachine pins Gorgonia v0.9.18's BatchNorm
// defect (a new training machine wipes the running statistics): ours live
// in BNStats, outside every machine.
func TestBatchNormStatsSurviveNewMachine(t *testing.T) {
	st := &ops.BNStats{Momentum: 0.1, Eps: 1e-5}
	g, _ := bnGraph(t, st, true)
	runGraph(t, g) // mean 0 -> 0.25
	runGraph(t, g) // a second machine continues: 0.25 -> 0.475
	assertClose(t, "running mean after two machines", st.Mean, []float64{0.475}, closeTol)
	g2, _ := bnGraph(t, st, true) // a new graph sharing the stats
	runGraph(t, g2)
	assertClose(t, "running mean after a new graph", st.Mean, []float64{0.9*0.475 + 0.25}, closeTol)
}

func TestBatchNormGradient(t *testing.T) {
	for _, training := range []bool{true, false} {
		st := &ops.BNStats{Mean: []float64{0.1, -0.2, 0.3}, Var: []float64{0.5, 1.5, 2}, Momentum: 0.1, Eps: 1e-3}
		gradcheck.Check(t, gradcheck.Case{
			Inputs: []gradcheck.Input{
				{Name: "x", Shape: []int{2, 3, 2, 2}},
				{Name: "gamma", Shape: []int{3}, Low: 0.5, High: 1.5},
				{Name: "beta", Shape: []int{3}},
			},
			Seed: 14,
			Build: func(g *G.ExprGraph, in []*G.Node) (*G.Node, error) {
				return ops.BatchNorm(in[0], in[1], in[2], st, training)
			},
		})
	}
}

func TestBatchNormErrors(t *testing.T) {
	g := G.NewGraph()
	x := G.NewTensor(g, G.Float64, 4, G.WithShape(1, 2, 1, 1), G.WithName("x"), G.WithInit(G.Ones()))
	gamma := G.NewVector(g, G.Float64, G.WithShape(2), G.WithName("gamma"), G.WithInit(G.Ones()))
	beta := G.NewVector(g, G.Float64, G.WithShape(2), G.WithName("beta"), G.WithInit(G.Zeroes()))
	if _, err := ops.BatchNorm(x, gamma, beta, nil, true); err == nil {
		t.Error("nil stats: no error")
	}
	if _, err := ops.BatchNorm(x, gamma, beta, &ops.BNStats{Mean: []float64{0}, Var: []float64{1}}, true); err == nil {
		t.Error("wrong stats length: no error")
	}
	// One value per channel in training is a run-time error, not a panic.
	if _, err := ops.BatchNorm(x, gamma, beta, &ops.BNStats{}, true); err != nil {
		t.Fatal(err)
	}
	m := G.NewTapeMachine(g)
	defer m.Close()
	if err := m.RunAll(); err == nil {
		t.Error("training on one value per channel: no error")
	}
}
