package ops_test

import (
	"encoding/json"
	"math"
	"os"
	"testing"

	"github.com/goinception/googlenet/ops"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// torchTol is the tolerance against PyTorch's float64 values, which the
// golden file stores to 12 significant digits.
const torchTol = 1e-9

type torchCase struct {
	Name   string
	Op     string
	Params struct {
		K, S, P        int
		Ceil, Include  bool
		OH, OW         int
		Size           int
		Alpha, Beta    float64
		LRNK           float64 `json:"lrn_k"`
		Relu, Training bool
		Mean0, Var0    []float64
		Momentum, Eps  float64
	}
	Inputs []struct {
		Shape []int
		Data  []float64
	}
	Weights []float64
	Output  struct {
		Shape []int
		Data  []float64
	}
	Grads       [][]float64
	RunningMean []float64 `json:"running_mean"`
	RunningVar  []float64 `json:"running_var"`
}

// TestAgainstPyTorch compares forward values and gradients with PyTorch
// 1.13 (ops/testdata/torch_golden.json, made by gen_torch_golden.py).
func TestAgainstPyTorch(t *testing.T) {
	raw, err := os.ReadFile("testdata/torch_golden.json")
	if err != nil {
		t.Fatal(err)
	}
	var golden struct{ Cases []torchCase }
	if err := json.Unmarshal(raw, &golden); err != nil {
		t.Fatal(err)
	}
	for _, c := range golden.Cases {
		t.Run(c.Name, func(t *testing.T) { runTorchCase(t, c) })
	}
}

func runTorchCase(t *testing.T, c torchCase) {
	g := G.NewGraph()
	in := make([]*G.Node, len(c.Inputs))
	for i, x := range c.Inputs {
		in[i] = G.NewTensor(g, G.Float64, len(x.Shape), G.WithShape(x.Shape...), G.WithName(string(rune('a'+i))),
			G.WithValue(tensorOf(x.Shape, x.Data)))
	}
	p := c.Params
	var st *ops.BNStats
	var y *G.Node
	var err error
	switch c.Op {
	case "maxpool":
		y, err = ops.MaxPool2D(in[0], ops.PoolOpts{KernelH: p.K, KernelW: p.K, StrideH: p.S, StrideW: p.S, Pad: ops.Same(p.P), CeilMode: p.Ceil})
	case "avgpool":
		y, err = ops.AvgPool2D(in[0], ops.PoolOpts{KernelH: p.K, KernelW: p.K, StrideH: p.S, StrideW: p.S, Pad: ops.Same(p.P), CeilMode: p.Ceil, CountIncludePad: p.Include})
	case "adaptive":
		y, err = ops.AdaptiveAvgPool2D(in[0], p.OH, p.OW)
	case "lrn":
		y, err = ops.LRN(in[0], ops.LRNOpts{Size: p.Size, Alpha: p.Alpha, Beta: p.Beta, K: p.LRNK})
	case "conv":
		y, err = ops.Conv2D(in[0], in[1], in[2], ops.ConvOpts{StrideH: p.S, StrideW: p.S, Pad: ops.Same(p.P), ReLU: p.Relu})
	case "batchnorm":
		st = &ops.BNStats{Mean: append([]float64(nil), p.Mean0...), Var: append([]float64(nil), p.Var0...), Momentum: p.Momentum, Eps: p.Eps}
		y, err = ops.BatchNorm(in[0], in[1], in[2], st, p.Training)
	case "sce":
		y, err = ops.SoftmaxCrossEntropy(in[0], in[1])
	case "softmax":
		y, err = ops.Softmax(in[0])
	case "linear":
		y, err = ops.Linear(in[0], in[1], in[2])
	default:
		t.Fatalf("unknown op %q", c.Op)
	}
	if err != nil {
		t.Fatalf("%+v", err)
	}
	cost := y
	if !y.IsScalar() {
		r := G.NewTensor(g, G.Float64, len(c.Output.Shape), G.WithShape(c.Output.Shape...), G.WithName("r"),
			G.WithValue(tensorOf(c.Output.Shape, c.Weights)))
		prod, err := G.HadamardProd(y, r)
		if err != nil {
			t.Fatal(err)
		}
		if cost, err = G.Sum(prod); err != nil {
			t.Fatal(err)
		}
	}
	var wrt G.Nodes
	for i, gr := range c.Grads {
		if gr != nil {
			wrt = append(wrt, in[i])
		}
	}
	grads, err := G.Grad(cost, wrt...)
	if err != nil {
		t.Fatalf("%+v", err)
	}
	runGraph(t, g)
	if !y.Shape().Eq(tensor.Shape(c.Output.Shape)) && !(y.IsScalar() && len(c.Output.Shape) == 0) {
		t.Fatalf("shape %v, PyTorch %v", y.Shape(), c.Output.Shape)
	}
	assertTorch(t, "output", values(t, y.Value()), c.Output.Data)
	k := 0
	for i, gr := range c.Grads {
		if gr == nil {
			continue
		}
		assertTorch(t, "gradient of input "+string(rune('a'+i)), values(t, grads[k].Value()), gr)
		k++
	}
	if st != nil && p.Training {
		assertTorch(t, "running mean", st.Mean, c.RunningMean)
		assertTorch(t, "running var", st.Var, c.RunningVar)
	}
}

func assertTorch(t *testing.T, what string, got, want []float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, PyTorch %d", what, len(got), len(want))
	}
	for i := range want {
		if math.IsNaN(got[i]) || math.Abs(got[i]-want[i]) > torchTol*(1+math.Abs(want[i])) {
			t.Errorf("%s[%d] = %.12g, PyTorch %.12g", what, i, got[i], want[i])
			return
		}
	}
}
