package opstest

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/goinception/googlenet/internal/gradcheck"
	"github.com/goinception/googlenet/ops"
)

// OpTol is the default tolerance of the op table: the largest difference
// between an engine's float32 result (forward value or gradient) and the
// float64 reference kernels', relative to the largest magnitude of the
// reference (float32 rounding through a few sums of up to a few hundred
// terms).
const OpTol = 2e-4

// OpCase is one row of the op conformance table: an op (or an op with the
// few Gorgonia nodes needed to feed it) over differentiable inputs.
type OpCase struct {
	Name   string
	Inputs [][]int // shapes of the differentiable inputs
	// Build makes the op with constructors o over the inputs, in graph g
	// (where it may add constant nodes of the inputs' dtype, such as
	// labels).
	Build func(o ops.Ops, g *G.ExprGraph, in []*G.Node) (*G.Node, error)
	Tol   float64 // 0 means OpTol
	// NoFiniteDiff skips the finite-difference check of the float64
	// reference (ops whose function is not smooth at the drawn inputs).
	NoFiniteDiff bool
}

func labels(g *G.ExprGraph, dt tensor.Dtype, v ...float64) *G.Node {
	var val tensor.Tensor = tensor.New(tensor.WithShape(len(v)), tensor.WithBacking(v))
	if dt == tensor.Float32 {
		f := make([]float32, len(v))
		for i, x := range v {
			f[i] = float32(x)
		}
		val = tensor.New(tensor.WithShape(len(v)), tensor.WithBacking(f))
	}
	return G.NewVector(g, dt, G.WithShape(len(v)), G.WithName("labels"), G.WithValue(val))
}

// OpTable is every op of package ops that a training step uses, forward and
// gradient: convolutions (strided, padded, 1x1, with and without bias and
// ReLU), the linear layer (GEMM), max, average, adaptive and global pools,
// LRN, batch norm (training and inference), ReLU, dropout, channel
// concatenation, flatten, softmax and softmax cross-entropy.
var OpTable = []OpCase{
	{Name: "conv3x3/2+pad+bias+relu", Inputs: [][]int{{2, 3, 9, 9}, {4, 3, 3, 3}, {4}},
		Build: func(o ops.Ops, g *G.ExprGraph, in []*G.Node) (*G.Node, error) {
			return o.Conv2D(in[0], in[1], in[2], ops.ConvOpts{StrideH: 2, StrideW: 2, Pad: ops.Same(1), ReLU: true})
		}, NoFiniteDiff: true},
	{Name: "conv3x3/2+pad+bias", Inputs: [][]int{{2, 3, 9, 9}, {4, 3, 3, 3}, {4}},
		Build: func(o ops.Ops, g *G.ExprGraph, in []*G.Node) (*G.Node, error) {
			return o.Conv2D(in[0], in[1], in[2], ops.ConvOpts{StrideH: 2, StrideW: 2, Pad: ops.Same(1)})
		}},
	{Name: "conv1x1", Inputs: [][]int{{2, 5, 4, 4}, {3, 5, 1, 1}},
		Build: func(o ops.Ops, g *G.ExprGraph, in []*G.Node) (*G.Node, error) {
			return o.Conv2D(in[0], in[1], nil, ops.ConvOpts{})
		}},
	{Name: "conv5x5+asymmetric-pad", Inputs: [][]int{{1, 2, 7, 6}, {3, 2, 5, 5}, {3}},
		Build: func(o ops.Ops, g *G.ExprGraph, in []*G.Node) (*G.Node, error) {
			return o.Conv2D(in[0], in[1], in[2], ops.ConvOpts{Pad: ops.Pad2D{Top: 2, Bottom: 1, Left: 1, Right: 2}})
		}},
	{Name: "linear", Inputs: [][]int{{3, 7}, {5, 7}, {5}},
		Build: func(o ops.Ops, g *G.ExprGraph, in []*G.Node) (*G.Node, error) { return o.Linear(in[0], in[1], in[2]) }},
	{Name: "maxpool3x3/2-ceil", Inputs: [][]int{{2, 3, 9, 9}},
		Build: func(o ops.Ops, g *G.ExprGraph, in []*G.Node) (*G.Node, error) {
			return o.MaxPool2D(in[0], ops.PoolOpts{KernelH: 3, KernelW: 3, StrideH: 2, StrideW: 2, CeilMode: true})
		}},
	{Name: "maxpool3x3/1-pad", Inputs: [][]int{{2, 3, 6, 6}},
		Build: func(o ops.Ops, g *G.ExprGraph, in []*G.Node) (*G.Node, error) {
			return o.MaxPool2D(in[0], ops.PoolOpts{KernelH: 3, KernelW: 3, Pad: ops.Same(1)})
		}},
	{Name: "avgpool5x5/3-ceil-includepad", Inputs: [][]int{{2, 3, 14, 14}},
		Build: func(o ops.Ops, g *G.ExprGraph, in []*G.Node) (*G.Node, error) {
			return o.AvgPool2D(in[0], ops.PoolOpts{KernelH: 5, KernelW: 5, StrideH: 3, StrideW: 3, CeilMode: true, CountIncludePad: true})
		}},
	{Name: "avgpool3x3/2-pad", Inputs: [][]int{{1, 2, 7, 7}},
		Build: func(o ops.Ops, g *G.ExprGraph, in []*G.Node) (*G.Node, error) {
			return o.AvgPool2D(in[0], ops.PoolOpts{KernelH: 3, KernelW: 3, StrideH: 2, StrideW: 2, Pad: ops.Same(1)})
		}},
	{Name: "adaptiveavgpool", Inputs: [][]int{{2, 3, 7, 5}},
		Build: func(o ops.Ops, g *G.ExprGraph, in []*G.Node) (*G.Node, error) {
			return o.AdaptiveAvgPool2D(in[0], 3, 2)
		}},
	{Name: "globalavgpool", Inputs: [][]int{{2, 4, 5, 5}},
		Build: func(o ops.Ops, g *G.ExprGraph, in []*G.Node) (*G.Node, error) { return o.GlobalAvgPool2D(in[0]) }},
	{Name: "lrn", Inputs: [][]int{{2, 7, 3, 3}},
		Build: func(o ops.Ops, g *G.ExprGraph, in []*G.Node) (*G.Node, error) {
			return o.LRN(in[0], ops.LRNOpts{Size: 5, Alpha: 1e-1, Beta: 0.75, K: 1})
		}},
	{Name: "batchnorm-training", Inputs: [][]int{{3, 4, 3, 3}, {4}, {4}},
		Build: func(o ops.Ops, g *G.ExprGraph, in []*G.Node) (*G.Node, error) {
			return o.BatchNorm(in[0], in[1], in[2], &ops.BNStats{Eps: 1e-3}, true)
		}},
	{Name: "batchnorm-inference", Inputs: [][]int{{2, 3, 2, 2}, {3}, {3}},
		Build: func(o ops.Ops, g *G.ExprGraph, in []*G.Node) (*G.Node, error) {
			st := &ops.BNStats{Mean: []float64{0.1, -0.2, 0.3}, Var: []float64{0.5, 1.5, 2}, Eps: 1e-3}
			return o.BatchNorm(in[0], in[1], in[2], st, false)
		}},
	{Name: "relu", Inputs: [][]int{{2, 3, 4}},
		Build: func(o ops.Ops, g *G.ExprGraph, in []*G.Node) (*G.Node, error) { return o.ReLU(in[0]) }},
	{Name: "dropout", Inputs: [][]int{{2, 3, 4, 4}},
		Build: func(o ops.Ops, g *G.ExprGraph, in []*G.Node) (*G.Node, error) {
			return o.Dropout(in[0], 0.4, &ops.RandState{Seed: 3, Step: 2}, 1, true)
		}},
	{Name: "concat", Inputs: [][]int{{2, 2, 3, 3}, {2, 3, 3, 3}, {2, 1, 3, 3}},
		Build: func(o ops.Ops, g *G.ExprGraph, in []*G.Node) (*G.Node, error) { return o.ConcatChannels(in...) }},
	{Name: "flatten+linear", Inputs: [][]int{{2, 3, 2, 2}, {4, 12}, {4}},
		Build: func(o ops.Ops, g *G.ExprGraph, in []*G.Node) (*G.Node, error) {
			f, err := o.Flatten(in[0])
			if err != nil {
				return nil, err
			}
			return o.Linear(f, in[1], in[2])
		}},
	{Name: "softmax", Inputs: [][]int{{3, 5}},
		Build: func(o ops.Ops, g *G.ExprGraph, in []*G.Node) (*G.Node, error) { return o.Softmax(in[0]) }},
	{Name: "softmax-cross-entropy", Inputs: [][]int{{3, 5}},
		Build: func(o ops.Ops, g *G.ExprGraph, in []*G.Node) (*G.Node, error) {
			return o.SoftmaxCrossEntropy(in[0], labels(g, in[0].Dtype(), 4, 0, 2))
		}},
}

// opRun is one evaluation of a case: the output and each input's gradient
// of sum(y ⊙ r) (r fixed), in float64.
type opRun struct {
	out   []float64
	grads [][]float64
}

// runOp builds c with o in dtype dt on the given input values and weights
// r (nil: the output is a scalar loss, differentiated as is).
func runOp(c OpCase, o ops.Ops, dt tensor.Dtype, vals [][]float64, r []float64) (opRun, error) {
	g := G.NewGraph()
	in := make([]*G.Node, len(c.Inputs))
	for i, s := range c.Inputs {
		in[i] = G.NewTensor(g, dt, len(s), G.WithShape(s...), G.WithName(fmt.Sprintf("in%d", i)),
			G.WithValue(denseOf(dt, s, vals[i])))
	}
	y, err := c.Build(o, g, in)
	if err != nil {
		return opRun{}, err
	}
	cost := y
	if !y.IsScalar() {
		rn := G.NewTensor(g, dt, y.Shape().Dims(), G.WithShape(y.Shape()...), G.WithName("r"),
			G.WithValue(denseOf(dt, y.Shape(), r[:y.Shape().TotalSize()])))
		if cost, err = G.Sum(G.Must(G.HadamardProd(y, rn))); err != nil {
			return opRun{}, err
		}
	}
	grads, err := G.Grad(cost, in...)
	if err != nil {
		return opRun{}, err
	}
	m := G.NewTapeMachine(g)
	defer m.Close()
	if err := m.RunAll(); err != nil {
		return opRun{}, err
	}
	res := opRun{out: float64s(y.Value())}
	for _, gr := range grads {
		res.grads = append(res.grads, float64s(gr.Value()))
	}
	return res, nil
}

func denseOf(dt tensor.Dtype, shape []int, v []float64) *tensor.Dense {
	if dt == tensor.Float32 {
		f := make([]float32, len(v))
		for i, x := range v {
			f[i] = float32(x)
		}
		return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(f))
	}
	return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(append([]float64(nil), v...)))
}

func float64s(v G.Value) []float64 {
	switch d := v.Data().(type) {
	case []float64:
		return append([]float64(nil), d...)
	case []float32:
		r := make([]float64, len(d))
		for i, x := range d {
			r[i] = float64(x)
		}
		return r
	case float64:
		return []float64{d}
	case float32:
		return []float64{float64(d)}
	}
	return nil
}

// closeTo reports the largest difference of got from want relative to
// want's largest magnitude (at least 1e-3).
func closeTo(got, want []float64) float64 {
	if len(got) != len(want) {
		return math.Inf(1)
	}
	scale, worst := 1e-3, 0.0
	for _, w := range want {
		scale = math.Max(scale, math.Abs(w))
	}
	for i := range got {
		worst = math.Max(worst, math.Abs(got[i]-want[i]))
	}
	return worst / scale
}

// TestOps runs every row of OpTable on engine e: the op is built with
// ops.With(e) in float32, run forward and differentiated (the gradient of
// sum(y ⊙ r) for a fixed random r), and its output and every input's
// gradient are compared with the float64 reference kernels' (the
// specification) within the row's tolerance. On the reference engine it
// also checks each row's float64 gradient against central finite
// differences (package internal/gradcheck), which ties the specification
// to the function itself.
func TestOps(t *testing.T, e ops.Engine) {
	for i, c := range OpTable {
		t.Run(c.Name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(uint64(i)+1, 77))
			vals := make([][]float64, len(c.Inputs))
			for j, s := range c.Inputs {
				n := 1
				for _, d := range s {
					n *= d
				}
				vals[j] = make([]float64, n)
				for k := range vals[j] {
					// Values float32 holds exactly, so both dtypes see the
					// same inputs.
					vals[j][k] = float64(float32(rng.Float64()*2 - 1))
				}
			}
			r := make([]float64, 4096)
			for k := range r {
				r[k] = float64(float32(rng.Float64()*2 - 1))
			}
			want, err := runOp(c, ops.With(nil), tensor.Float64, vals, r)
			if err != nil {
				t.Fatalf("reference float64: %+v", err)
			}
			got, err := runOp(c, ops.With(e), tensor.Float32, vals, r)
			if err != nil {
				t.Fatalf("%s float32: %+v", e.Name(), err)
			}
			tol := c.Tol
			if tol == 0 {
				tol = OpTol
			}
			if d := closeTo(got.out, want.out); d > tol {
				t.Errorf("%s: forward differs from the reference by %.3g (relative), tolerance %.3g", e.Name(), d, tol)
			}
			for j := range want.grads {
				if d := closeTo(got.grads[j], want.grads[j]); d > tol {
					t.Errorf("%s: gradient of input %d differs from the reference by %.3g (relative), tolerance %.3g", e.Name(), j, d, tol)
				}
			}
			if _, isRef := e.(ops.Reference); !isRef || c.NoFiniteDiff {
				return
			}
			inputs := make([]gradcheck.Input, len(c.Inputs))
			for j, s := range c.Inputs {
				inputs[j] = gradcheck.Input{Name: fmt.Sprintf("in%d", j), Shape: s, Value: vals[j]}
			}
			gradcheck.Check(t, gradcheck.Case{Inputs: inputs, Seed: uint64(i) + 1,
				Build: func(g *G.ExprGraph, in []*G.Node) (*G.Node, error) { return c.Build(ops.With(nil), g, in) }})
		})
	}
}
