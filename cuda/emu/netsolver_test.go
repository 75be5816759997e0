//go:build cgo

package emu_test

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"gorgonia.org/tensor"

	"github.com/goinception/googlenet/cuda"
	"github.com/goinception/googlenet/cuda/emu"
	"github.com/goinception/googlenet/graph"
	"github.com/goinception/googlenet/inception"
	"github.com/goinception/googlenet/solvers"
)

// TestNetAverageMatchesSolvers: Net.Average folds the weights into Polyak
// averages as solvers.Averager does, uniform and exponential, over steps
// that change the weights (Step, then SGD with momentum and weight decay,
// a learning-rate multiplier on one layer and a frozen one); SwapAverages
// puts the averages in the weights' place and back; SetAverage and
// SetVelocity restore what Averaged and Velocity read.
func TestNetAverageMatchesSolvers(t *testing.T) {
	for _, mode := range []solvers.AveragingMode{solvers.AverageUniform, solvers.AverageExponential} {
		t.Run(mode.String(), func(t *testing.T) {
			cfg := tinyPaper()
			cfg.Dtype = tensor.Float32
			m, err := inception.NewWith(cfg, inception.Options{Frozen: func(name string) bool { return name == "loss3/classifier/b" }})
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range m.Trainable() {
				if p.Name == "conv1/7x7_s2/w" {
					p.LRMult = 3
				}
			}
			d := cuda.NewDevice(emu.New())
			defer d.Close()
			net, err := cuda.NewNet(d, m, cfg.BatchSize)
			if err != nil {
				t.Fatalf("%+v", err)
			}
			defer net.Close()
			rng := rand.New(rand.NewPCG(1, 2))
			x := make([]float32, cfg.BatchSize*3*cfg.InputSize*cfg.InputSize)
			for i := range x {
				x[i] = float32(rng.NormFloat64())
			}
			labels := []int32{1, 3}
			ac := solvers.AveragingConfig{Mode: mode}
			if mode == solvers.AverageExponential {
				ac.Decay = 0.7
			}
			avg, err := solvers.NewAverager(ac)
			if err != nil {
				t.Fatal(err)
			}
			host := map[string]*graph.Param{}
			var params []*graph.Param
			for _, name := range net.ParamNames() {
				p, _ := m.Param(name)
				hp := &graph.Param{Name: name, Frozen: p.Frozen, Value: tensor.New(tensor.WithShape(p.Value.Shape().Clone()...), tensor.WithBacking(make([]float32, p.Value.Shape().TotalSize())))}
				host[name] = hp
				params = append(params, hp)
			}
			before, _ := net.Weight("loss3/classifier/b")
			for step := int64(1); step <= 3; step++ {
				if _, err := net.Step(x, labels); err != nil {
					t.Fatal(err)
				}
				if err := net.SGD(0.05, 0.9, 0.01); err != nil {
					t.Fatal(err)
				}
				if err := net.Average(mode == solvers.AverageUniform, 0.7); err != nil {
					t.Fatal(err)
				}
				for name, hp := range host {
					w, err := net.Weight(name)
					if err != nil {
						t.Fatal(err)
					}
					copy(hp.Value.Data().([]float32), w)
				}
				if err := avg.Update(params, step); err != nil {
					t.Fatal(err)
				}
			}
			if after, _ := net.Weight("loss3/classifier/b"); !equal32(before, after) {
				t.Error("a frozen parameter changed")
			}
			for _, name := range net.ParamNames() {
				got, count, err := net.Averaged(name)
				if err != nil {
					t.Fatal(err)
				}
				if net.Frozen(name) {
					if got != nil {
						t.Errorf("frozen %s has an average", name)
					}
					continue
				}
				want, err := avg.Average(name)
				if err != nil {
					t.Fatal(err)
				}
				w := want.Data().([]float32)
				for i := range w {
					if math.Abs(float64(got[i]-w[i])) > 1e-6*(1+math.Abs(float64(w[i]))) {
						t.Fatalf("%s[%d]: device average %v, solvers %v", name, i, got[i], w[i])
					}
				}
				if count != avg.Count(name) {
					t.Errorf("%s: count %d, solvers %d", name, count, avg.Count(name))
				}
			}
			// Swap in, swap out.
			const name = "conv1/7x7_s2/w"
			a, _, err := net.Averaged(name)
			if err != nil || a == nil {
				t.Fatalf("no average of %s: %v", name, err)
			}
			w, _ := net.Weight(name)
			if err := net.SwapAverages(); err != nil {
				t.Fatal(err)
			}
			if in, _ := net.Weight(name); !equal32(in, a) {
				t.Error("SwapAverages did not put the average in the weights' place")
			}
			if err := net.SwapAverages(); err != nil {
				t.Fatal(err)
			}
			if out, _ := net.Weight(name); !equal32(out, w) {
				t.Error("the second SwapAverages did not restore the weights")
			}
			// Set and read back.
			v, _ := net.Velocity(name)
			for i := range v {
				v[i] = float32(i)
			}
			if err := net.SetVelocity(name, v); err != nil {
				t.Fatal(err)
			}
			if err := net.SetAverage(name, v, 9); err != nil {
				t.Fatal(err)
			}
			gv, _ := net.Velocity(name)
			ga, c, _ := net.Averaged(name)
			if !equal32(gv, v) || !equal32(ga, v) || c != 9 {
				t.Error("SetVelocity/SetAverage did not round-trip")
			}
			if err := net.SetVelocity(name, v[:3]); err == nil {
				t.Error("a velocity of the wrong size: no error")
			}
		})
	}
}

func equal32(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			return false
		}
	}
	return true
}

// TestNetInferenceOnly: a Net built with NetOptions.Inference gives the
// training Net's logits bit for bit, in less than 60% of its device
// memory (no gradients, momentum or backward scratch), and refuses the
// training calls.
func TestNetInferenceOnly(t *testing.T) {
	cfg := tinyPaper()
	cfg.Dtype = tensor.Float32
	m, err := inception.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	x := make([]float32, cfg.BatchSize*3*cfg.InputSize*cfg.InputSize)
	for i := range x {
		x[i] = float32(math.Sin(0.1 * float64(i)))
	}
	logits := func(o cuda.NetOptions) ([]float32, int64, *cuda.Net) {
		d := cuda.NewDevice(emu.New())
		t.Cleanup(func() { d.Close() })
		net, err := cuda.NewNetWith(d, m, cfg.BatchSize, o)
		if err != nil {
			t.Fatalf("%+v", err)
		}
		t.Cleanup(func() { net.Close() })
		bytes := d.Pool().Stats().InUse
		y, err := net.Logits(x)
		if err != nil {
			t.Fatalf("%+v", err)
		}
		return y, bytes, net
	}
	want, trainBytes, _ := logits(cuda.NetOptions{})
	got, inferBytes, net := logits(cuda.NetOptions{Inference: true})
	if !equal32(got, want) {
		t.Error("the inference-only Net's logits differ from the training Net's")
	}
	t.Logf("device memory: training Net %d bytes, inference-only %d", trainBytes, inferBytes)
	if float64(inferBytes) > 0.6*float64(trainBytes) {
		t.Errorf("inference-only Net holds %d bytes, the training Net %d", inferBytes, trainBytes)
	}
	name := net.ParamNames()[0]
	_, stepErr := net.Step(x, []int32{0, 1})
	_, gradErr := net.Grad(name)
	_, velErr := net.Velocity(name)
	for what, err := range map[string]error{"Step": stepErr, "SGD": net.SGD(0.1, 0.9, 0), "Grad": gradErr,
		"Velocity": velErr, "Average": net.Average(true, 0), "SetAverage": net.SetAverage(name, nil, 1)} {
		if err == nil || !strings.Contains(err.Error(), "inference only") {
			t.Errorf("%s on an inference-only Net: %v", what, err)
		}
	}
}
