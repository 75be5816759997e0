package inception

import (
	"math"
	"math/rand/v2"
	"sync"
	"testing"

	"gorgonia.org/tensor"
)

// runnerTol: a Runner and Forward run the same float64 graph on the same
// input, so they agree up to rounding.
const runnerTol = 1e-12

// TestRunnersConcurrent runs two runners of one model in parallel
// goroutines many times and checks every result against Forward, and that
// the features are Features' pool5, the classifier's input (logits =
// W*f + b).
func TestRunnersConcurrent(t *testing.T) {
	c := tinyConfigs()[1] // batch norm: running statistics are shared too
	m, err := New(c)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(7, 8))
	xs := make([]*tensor.Dense, 2)
	want := make([][]float64, 2)
	wantF := make([][]float64, 2)
	for i := range xs {
		xs[i] = randInput(rng, tensor.Float64, 2, c.InChannels, c.InputSize, c.InputSize)
		y, err := m.Forward(xs[i])
		if err != nil {
			t.Fatal(err)
		}
		want[i] = float64s(t, y)
		f, err := m.Features(xs[i])
		if err != nil {
			t.Fatal(err)
		}
		wantF[i] = float64s(t, f[0])
	}
	runners := make([]*Runner, 2)
	for i := range runners {
		if runners[i], err = m.NewRunner(2); err != nil {
			t.Fatal(err)
		}
	}
	w, _ := m.Param("loss3/classifier/w")
	b, _ := m.Param("loss3/classifier/b")
	W, B := float64s(t, w.Value), float64s(t, b.Value)
	var wg sync.WaitGroup
	errs := make(chan error, 2)
	for i, r := range runners {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for it := range 5 {
				x := xs[(i+it)%2]
				out, err := r.Run(x)
				if err != nil {
					errs <- err
					return
				}
				got, f := float64s(t, out.Logits), float64s(t, out.Features)
				for j, v := range wantF[(i+it)%2] {
					if math.Abs(f[j]-v) > runnerTol {
						t.Errorf("runner %d iteration %d: feature %d = %g, Features gave %g", i, it, j, f[j], v)
						return
					}
				}
				for j, v := range want[(i+it)%2] {
					if math.Abs(got[j]-v) > runnerTol {
						t.Errorf("runner %d iteration %d: logit %d = %g, Forward gave %g", i, it, j, got[j], v)
						return
					}
				}
				// logits[n,k] = sum_d f[n,d]*W[?] + b[k]; W is [D,K] or [K,D].
				d := len(f) / 2
				k := c.Classes
				for n := range 2 {
					for j := range k {
						s1, s2 := B[j], B[j]
						for e := range d {
							s1 += f[n*d+e] * W[e*k+j]
							if len(W) == k*d {
								s2 += f[n*d+e] * W[j*d+e]
							}
						}
						if math.Abs(s1-got[n*k+j]) > 1e-9 && math.Abs(s2-got[n*k+j]) > 1e-9 {
							t.Errorf("features do not give the logits: %g or %g, logit %g", s1, s2, got[n*k+j])
							return
						}
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if _, err := runners[0].Run(randInput(rng, tensor.Float64, 1, c.InChannels, c.InputSize, c.InputSize)); err == nil {
		t.Error("a batch of 1 on a runner of 2 did not fail")
	}
}
