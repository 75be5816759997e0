package solvers

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"os/exec"
	"path/filepath"
	"testing"

	"gorgonia.org/tensor"

	"github.com/goinception/googlenet/internal/peer"
)

// Tolerances against PyTorch. In float64 both sides do the same operations
// in the same order, so only the gradients (autograd versus closed form)
// differ, by rounding: measured differences are about 1e-16. In float32 our
// gradients are computed in float64 and rounded once, PyTorch's in float32;
// measured differences stay below 2e-7 (under 2 ulps) over 20 steps.
const (
	torchF64Tol = 1e-12
	torchF32Tol = 1e-6
	torchLRTol  = 1e-12 // PyTorch's chained schedulers multiply factors step by step
)

type torchBatch struct {
	X [][]float64 `json:"x"`
	Y [][]float64 `json:"y"`
}

type torchCase struct {
	Name        string         `json:"name"`
	Dtype       string         `json:"dtype"`
	Steps       int            `json:"steps"`
	LR          float64        `json:"lr"`
	Momentum    float64        `json:"momentum"`
	Nesterov    bool           `json:"nesterov"`
	WeightDecay float64        `json:"weight_decay"`
	Clip        float64        `json:"clip"`
	Schedule    map[string]any `json:"schedule"`
	AvgStart    int64          `json:"avg_start"` // -1: no averaging
	W0          [][]float64    `json:"W0"`
	B0          []float64      `json:"b0"`
	Batches     []torchBatch   `json:"batches"`

	cfg SGDConfig // the same settings for our solver
}

type torchResult struct {
	Name string      `json:"name"`
	LR   []float64   `json:"lr"`
	W    [][]float64 `json:"W"`
	B    [][]float64 `json:"b"`
	AvgW []float64   `json:"avgW"`
	AvgB []float64   `json:"avgb"`
}

// problem fills the weights and data of c: a 3x4 linear layer, three
// minibatches of 5.
func (c *torchCase) problem(seed uint64) {
	const in, out, batch, nb = 4, 3, 5, 3
	r := rand.New(rand.NewPCG(seed, 1))
	u := func() float64 { return 2*r.Float64() - 1 }
	c.W0 = make([][]float64, out)
	c.B0 = make([]float64, out)
	for o := range c.W0 {
		c.W0[o] = make([]float64, in)
		for i := range c.W0[o] {
			c.W0[o][i] = u()
		}
		c.B0[o] = u()
	}
	for k := 0; k < nb; k++ {
		var b torchBatch
		for n := 0; n < batch; n++ {
			x, y := make([]float64, in), make([]float64, out)
			for i := range x {
				x[i] = u()
			}
			for o := range y {
				y[o] = 2 * u()
			}
			b.X, b.Y = append(b.X, x), append(b.Y, y)
		}
		c.Batches = append(c.Batches, b)
	}
}

func torchCases() []*torchCase {
	cases := []*torchCase{
		{Name: "momentum+decay", Dtype: "float64", Steps: 20, LR: 0.05, Momentum: 0.9, WeightDecay: 1e-2,
			Schedule: map[string]any{"kind": "constant"}, AvgStart: 5,
			cfg: SGDConfig{LR: 0.05, Momentum: 0.9, WeightDecay: 1e-2,
				Averaging: AveragingConfig{Mode: AverageUniform, Start: 5}}},
		// StepLR every 4 steps is StepDecay every 2 epochs of 2 steps.
		{Name: "nesterov+step", Dtype: "float64", Steps: 20, LR: 0.1, Momentum: 0.8, Nesterov: true, WeightDecay: 5e-3,
			Schedule: map[string]any{"kind": "step", "step_size": 4, "gamma": 0.5}, AvgStart: -1,
			cfg: SGDConfig{LR: 0.1, Momentum: 0.8, Nesterov: true, WeightDecay: 5e-3, StepsPerEpoch: 2,
				Schedule: StepDecay{Gamma: 0.5, Period: 2}}},
		{Name: "clip+poly", Dtype: "float64", Steps: 20, LR: 0.2, Momentum: 0.9, WeightDecay: 2e-4, Clip: 0.3,
			Schedule: map[string]any{"kind": "poly", "total": 15, "power": 0.5}, AvgStart: 0,
			cfg: SGDConfig{LR: 0.2, Momentum: 0.9, WeightDecay: 2e-4, ClipNorm: 0.3,
				Schedule:  Poly{Max: 15, Power: 0.5, Unit: Steps},
				Averaging: AveragingConfig{Mode: AverageUniform}}},
		{Name: "plain+decay", Dtype: "float64", Steps: 10, LR: 0.3, WeightDecay: 0.1,
			Schedule: map[string]any{"kind": "constant"}, AvgStart: -1,
			cfg: SGDConfig{LR: 0.3, NoMomentum: true, WeightDecay: 0.1}},
		{Name: "float32 warm-up+clip", Dtype: "float32", Steps: 20, LR: 0.1, Momentum: 0.9, WeightDecay: 1e-3, Clip: 0.5,
			Schedule: map[string]any{"kind": "warmup_step", "start": 0.25, "warm": 4, "step_size": 6, "gamma": 0.7}, AvgStart: 3,
			cfg: SGDConfig{LR: 0.1, Momentum: 0.9, WeightDecay: 1e-3, ClipNorm: 0.5,
				Schedule:  Warmup{Length: 4, Start: 0.25, Unit: Steps, Then: StepDecay{Gamma: 0.7, Period: 6, Unit: Steps}},
				Averaging: AveragingConfig{Mode: AverageUniform, Start: 3}}},
	}
	for i, c := range cases {
		c.problem(uint64(i + 1))
	}
	return cases
}

// runTorch runs testdata/torch_sgd.py with the peer interpreter (see
// internal/peer: skipped when it lacks torch, failed under
// GOOGLENET_REQUIRE_PEERS=1).
func runTorch(t *testing.T, cases []*torchCase) []torchResult {
	t.Helper()
	torchPython := peer.Python(t, "torch")
	in, err := json.Marshal(map[string]any{"cases": cases})
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(torchPython, filepath.Join("testdata", "torch_sgd.py"))
	cmd.Stdin = bytes.NewReader(in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("torch_sgd.py: %v\n%s", err, stderr.String())
	}
	var res struct {
		Torch string        `json:"torch"`
		Cases []torchResult `json:"cases"`
	}
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("torch_sgd.py output: %v", err)
	}
	if len(res.Cases) != len(cases) {
		t.Fatalf("torch_sgd.py returned %d cases, want %d", len(res.Cases), len(cases))
	}
	t.Logf("PyTorch %s", res.Torch)
	return res.Cases
}

// lossGrads sets the gradients of 0.5*sum((x W^T + b - y)^2)/batch, in
// closed form: with r = x W^T + b - y, dW = r^T x / batch, db = sum(r)/batch.
func lossGrads(w, b *Param, bt torchBatch) {
	W, B := values(w.Value), values(b.Value)
	out, in := len(B), len(W)/len(B)
	dW, dB := make([]float64, len(W)), make([]float64, len(B))
	n := float64(len(bt.X))
	for k, x := range bt.X {
		for o := 0; o < out; o++ {
			r := B[o] - bt.Y[k][o]
			for i := 0; i < in; i++ {
				r += W[o*in+i] * x[i]
			}
			for i := 0; i < in; i++ {
				dW[o*in+i] += r * x[i] / n
			}
			dB[o] += r / n
		}
	}
	setGrad(w, dW...)
	setGrad(b, dB...)
}

func denseOf(dtype string, shape []int, xs []float64) *tensor.Dense {
	if dtype == "float32" {
		f := make([]float32, len(xs))
		for i, x := range xs {
			f[i] = float32(x)
		}
		return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(f))
	}
	return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(append([]float64(nil), xs...)))
}

// TestAgainstPyTorch compares whole trajectories (the rate of every step, the
// weights after it, and the final Polyak averages) with PyTorch's SGD,
// clip_grad_norm_, StepLR, PolynomialLR, LinearLR and AveragedModel.
func TestAgainstPyTorch(t *testing.T) {
	cases := torchCases()
	results := runTorch(t, cases)
	for ci, c := range cases {
		ref := results[ci]
		t.Run(c.Name, func(t *testing.T) {
			tol := torchF64Tol
			if c.Dtype == "float32" {
				tol = torchF32Tol
			}
			out, in := len(c.W0), len(c.W0[0])
			var flat []float64
			for _, row := range c.W0 {
				flat = append(flat, row...)
			}
			w := &Param{Name: "weight", Value: denseOf(c.Dtype, []int{out, in}, flat),
				Grad: denseOf(c.Dtype, []int{out, in}, make([]float64, out*in)), Decay: true}
			b := &Param{Name: "bias", Value: denseOf(c.Dtype, []int{out}, c.B0),
				Grad: denseOf(c.Dtype, []int{out}, make([]float64, out))}
			s := mustSGD(t, c.cfg)
			clipped := 0
			for step := 0; step < c.Steps; step++ {
				lossGrads(w, b, c.Batches[step%len(c.Batches)])
				info := mustStep(t, s, []*Param{w, b})
				if info.Clipped {
					clipped++
				}
				if !near(info.LR, ref.LR[step], torchLRTol) {
					t.Errorf("step %d: lr %.15g, PyTorch %.15g", step+1, info.LR, ref.LR[step])
				}
				assertValues(t, "weight after step", w.Value, ref.W[step], tol)
				assertValues(t, "bias after step", b.Value, ref.B[step], tol)
				if t.Failed() {
					t.Fatalf("diverged at step %d", step+1)
				}
			}
			if c.Clip > 0 && clipped == 0 {
				t.Errorf("clipping never engaged; the case does not test it")
			}
			if c.AvgStart >= 0 {
				avgW, err := s.Averager().Average("weight")
				if err != nil {
					t.Fatal(err)
				}
				avgB, _ := s.Averager().Average("bias")
				assertValues(t, "averaged weight", avgW, ref.AvgW, tol)
				assertValues(t, "averaged bias", avgB, ref.AvgB, tol)
			}
		})
	}
}
