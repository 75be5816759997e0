package inception_test

import (
	"math"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"

	"gorgonia.org/tensor"

	"github.com/goinception/googlenet/cpu"
	"github.com/goinception/googlenet/inception"
	"github.com/goinception/googlenet/ops"
)

// countingEngine counts the convolutions that reach the engine it wraps.
type countingEngine struct {
	ops.Engine
	convs atomic.Int64
}

func (e *countingEngine) ConvForward(g ops.ConvGeom, x, w, b, y []float32, relu bool) error {
	e.convs.Add(1)
	return e.Engine.ConvForward(g, x, w, b, y, relu)
}

// engineTol bounds the difference of losses computed by the reference and
// the CPU engine: float32 sums in different orders through a few layers.
const engineTol = 1e-4

// TestTwoEnginesConcurrently trains two models of the same configuration
// and seed, one on the reference engine and one on the CPU engine, in two
// goroutines at once: each runs only on its own engine, and they compute
// the same losses. Nothing about the engine is process-wide.
func TestTwoEnginesConcurrently(t *testing.T) {
	const steps, batch = 3, 2
	ref := &countingEngine{Engine: ops.Reference{}}
	fast := &countingEngine{Engine: cpu.New(cpu.Options{})}
	engines := []*countingEngine{ref, fast}
	rng := rand.New(rand.NewPCG(5, 6))
	xs := make([]*tensor.Dense, steps)
	for i := range xs {
		v := make([]float32, batch*28*28)
		for j := range v {
			v[j] = float32(rng.NormFloat64())
		}
		xs[i] = tensor.New(tensor.WithShape(batch, 1, 28, 28), tensor.WithBacking(v))
	}
	losses := make([][]float64, len(engines))
	errs := make([]error, len(engines))
	var wg sync.WaitGroup
	for i, e := range engines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := inception.Mini()
			c.BatchSize, c.Seed, c.Engine = batch, 3, e
			m, err := inception.New(c)
			if err != nil {
				errs[i] = err
				return
			}
			for s := range steps {
				l, err := m.Step(xs[s], []int{s % 10, (s + 3) % 10})
				if err != nil {
					errs[i] = err
					return
				}
				losses[i] = append(losses[i], l.Total)
			}
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("model on %s: %+v", engines[i].Name(), err)
		}
	}
	for i, e := range engines {
		if e.convs.Load() == 0 {
			t.Errorf("engine %d (%s) ran no convolution", i, e.Name())
		}
	}
	// The same graph on each engine: the same number of convolutions.
	if a, b := ref.convs.Load(), fast.convs.Load(); a != b {
		t.Errorf("convolutions: %d on the reference engine, %d on the CPU engine", a, b)
	}
	for s := range steps {
		a, b := losses[0][s], losses[1][s]
		if math.Abs(a-b) > engineTol*(1+math.Abs(a)) {
			t.Errorf("step %d: loss %v on the reference engine, %v on the CPU engine", s, a, b)
		}
	}
}
