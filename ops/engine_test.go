package ops_test

import (
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/goinception/googlenet/ops"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// countingEngine counts the calls that reach the engine.
type countingEngine struct {
	ops.Reference
	fwd, data, filter, gemm int
}

func (e *countingEngine) Name() string { return "counting" }
func (e *countingEngine) ConvForward(g ops.ConvGeom, x, w, b, y []float32, relu bool) error {
	e.fwd++
	return e.Reference.ConvForward(g, x, w, b, y, relu)
}
func (e *countingEngine) ConvBackwardData(g ops.ConvGeom, w, dy, dx []float32) error {
	e.data++
	return e.Reference.ConvBackwardData(g, w, dy, dx)
}
func (e *countingEngine) ConvBackwardFilter(g ops.ConvGeom, x, dy, dw, db []float32) error {
	e.filter++
	return e.Reference.ConvBackwardFilter(g, x, dy, dw, db)
}
func (e *countingEngine) Gemm(ta, tb bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) error {
	e.gemm++
	return e.Reference.Gemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// failingEngine fails every call, as a device out of memory would.
type failingEngine struct{ ops.Reference }

func (failingEngine) Name() string { return "failing" }
func (failingEngine) ConvForward(ops.ConvGeom, []float32, []float32, []float32, []float32, bool) error {
	return errors.New("device out of memory")
}

// TestFloat32UsesEngine checks that float32 convolutions and linear layers
// run on the engine their ops were built with (ops.With), backward ops
// included, and that NoInputGrad skips the data gradient of the first
// convolution.
func TestFloat32UsesEngine(t *testing.T) {
	e := &countingEngine{}
	if ops.With(e).Engine().Name() != "counting" || ops.With(nil).Engine().Name() != "reference" {
		t.Fatal("With does not bind the engine")
	}
	g, _, _, _ := smallNetOn(t, e, tensor.Float32, 2)
	runGraph(t, g)
	// 3 convolutions forward, 2 data gradients (the first conv has
	// NoInputGrad), 3 filter gradients; linear forward + 2 gradients.
	if e.fwd != 3 || e.data != 2 || e.filter != 3 || e.gemm != 3 {
		t.Errorf("engine calls: forward %d, data %d, filter %d, gemm %d; want 3, 2, 3, 3", e.fwd, e.data, e.filter, e.gemm)
	}
	// A graph built without an engine does not reach it.
	before := *e
	g2, _, _, _ := smallNet(t, tensor.Float32, 2)
	runGraph(t, g2)
	if *e != before {
		t.Errorf("a reference-engine graph called the counting engine")
	}
}

// TestEngineErrorReachesMachine: an engine failure is an error of the
// machine's run, naming the op and the engine, not a panic.
func TestEngineErrorReachesMachine(t *testing.T) {
	g, _, _, _ := smallNetOn(t, failingEngine{}, tensor.Float32, 2)
	m := G.NewTapeMachine(g)
	defer m.Close()
	err := m.RunAll()
	if err == nil || !strings.Contains(err.Error(), "device out of memory") || !strings.Contains(err.Error(), "failing") {
		t.Fatalf("run error %v, want the engine's failure", err)
	}
}

// TestFloat32MatchesFloat64 runs the same small training graph in float32
// (engine path) and float64 (generic path) and compares loss and gradients.
func TestFloat32MatchesFloat64(t *testing.T) {
	const tol = 2e-4 // float32 accumulation over a few hundred terms
	g32, l32, _, gr32 := smallNet(t, tensor.Float32, 3)
	g64, l64, _, gr64 := smallNet(t, tensor.Float64, 3)
	runGraph(t, g32)
	runGraph(t, g64)
	a, b := values(t, l32.Value()), values(t, l64.Value())
	if math.Abs(a[0]-b[0]) > tol*(1+math.Abs(b[0])) {
		t.Errorf("loss float32 %v, float64 %v", a[0], b[0])
	}
	for i := range gr32 {
		x, y := values(t, gr32[i].Value()), values(t, gr64[i].Value())
		scale := 0.0
		for _, v := range y {
			scale = math.Max(scale, math.Abs(v))
		}
		for j := range y {
			if math.Abs(x[j]-y[j]) > tol*(scale+1e-3) {
				t.Errorf("gradient %d[%d]: float32 %v, float64 %v", i, j, x[j], y[j])
				break
			}
		}
	}
}

// TestStatefulOpsNotMerged checks hash-consing: two dropouts or two batch
// norms on the same input are distinct nodes; two identical pure ops merge.
func TestStatefulOpsNotMerged(t *testing.T) {
	g := G.NewGraph()
	x := G.NewTensor(g, G.Float32, 4, G.WithShape(2, 2, 2, 2), G.WithName("x"))
	gamma := G.NewVector(g, G.Float32, G.WithShape(2), G.WithName("gamma"))
	beta := G.NewVector(g, G.Float32, G.WithShape(2), G.WithName("beta"))
	st := &ops.RandState{}
	d1, _ := ops.Dropout(x, 0.5, st, 0, true)
	d2, _ := ops.Dropout(x, 0.5, st, 0, true)
	if d1 == d2 {
		t.Error("two Dropout ops were merged")
	}
	b1, _ := ops.BatchNorm(x, gamma, beta, &ops.BNStats{}, true)
	b2, _ := ops.BatchNorm(x, gamma, beta, &ops.BNStats{}, true)
	if b1 == b2 {
		t.Error("two BatchNorm ops were merged")
	}
	p1, _ := ops.MaxPool2D(x, ops.PoolOpts{KernelH: 2, KernelW: 2})
	p2, _ := ops.MaxPool2D(x, ops.PoolOpts{KernelH: 2, KernelW: 2, CeilMode: true, StrideH: 2})
	if p1 == p2 {
		t.Error("max pools with different options were merged")
	}
	r1, _ := ops.ReLU(x)
	r2, _ := ops.ReLU(x)
	if r1 != r2 {
		t.Error("identical ReLUs were not merged")
	}
}
