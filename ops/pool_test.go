package ops_test

import (
	"fmt"
	"math"
	"testing"

	"github.com/goinception/googlenet/internal/gradcheck"
	"github.com/goinception/googlenet/ops"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

func TestMaxPool2DCeilMode(t *testing.T) {
	// 4x4 input 1..16, 3x3 stride 2, ceil mode: out = ceil((4-3)/2)+1 = 2;
	// the second window per axis covers rows/cols 2..3 (one overhang).
	s, y := forward(t, []int{1, 1, 4, 4}, iota(16), func(x *G.Node) (*G.Node, error) {
		return ops.MaxPool2D(x, ops.PoolOpts{KernelH: 3, KernelW: 3, StrideH: 2, StrideW: 2, CeilMode: true})
	})
	if !s.Eq(tensor.Shape{1, 1, 2, 2}) {
		t.Fatalf("shape %v, want [1 1 2 2]", s)
	}
	assertClose(t, "maxpool", y, []float64{11, 12, 15, 16}, closeTol)

	// Floor mode drops the partial window.
	s, y = forward(t, []int{1, 1, 4, 4}, iota(16), func(x *G.Node) (*G.Node, error) {
		return ops.MaxPool2D(x, ops.PoolOpts{KernelH: 3, KernelW: 3, StrideH: 2, StrideW: 2})
	})
	if !s.Eq(tensor.Shape{1, 1, 1, 1}) {
		t.Fatalf("floor shape %v, want [1 1 1 1]", s)
	}
	assertClose(t, "maxpool floor", y, []float64{11}, closeTol)
}

func TestMaxPool2DCeilDropsWindowInPadding(t *testing.T) {
	// in 5, k 2, s 2, pad 1 each side: ceil((5+2-2)/2)+1 = 4, but window 3
	// would start at 6-1 = 5 = the after-padding, so it is dropped (PyTorch).
	s, _ := forward(t, []int{1, 1, 5, 5}, iota(25), func(x *G.Node) (*G.Node, error) {
		return ops.MaxPool2D(x, ops.PoolOpts{KernelH: 2, KernelW: 2, StrideH: 2, StrideW: 2, Pad: ops.Same(1), CeilMode: true})
	})
	if !s.Eq(tensor.Shape{1, 1, 3, 3}) {
		t.Fatalf("shape %v, want [1 1 3 3]", s)
	}
}

// TestMaxPool2DPaddingSide pins Gorgonia v0.9.18's MaxPool2D defect: its
// 4-value padding applies the bottom/right padding on the top/left.
func TestMaxPool2DPaddingSide(t *testing.T) {
	in := []float64{4, 3, 2, 1}
	build := func(x *G.Node) (*G.Node, error) {
		return ops.MaxPool2D(x, ops.PoolOpts{KernelH: 2, KernelW: 2, Pad: ops.Pad2D{Bottom: 1, Right: 1}})
	}
	// Windows start at the top-left corner; padding only extends bottom/right.
	_, y := forward(t, []int{1, 1, 2, 2}, in, build)
	assertClose(t, "ours", y, []float64{4, 3, 2, 1}, closeTol)

	_, yg := forward(t, []int{1, 1, 2, 2}, in, func(x *G.Node) (*G.Node, error) {
		return G.MaxPool2D(x, tensor.Shape{2, 2}, []int{0, 1, 0, 1}, []int{1, 1})
	})
	// The defect: Gorgonia pads top/left instead, so every window sees the 4.
	upstreamFixed(t, !closeAll(yg, []float64{4, 4, 4, 4}), "MaxPool2D", "MaxPool2D",
		fmt.Sprintf("pads [top=0 bottom=1 left=0 right=1] gave %v, defective [4 4 4 4], correct [4 3 2 1]", yg))
}

func TestAvgPool2D(t *testing.T) {
	// 6x6 ones, 3x3/2 pad 1 ceil: 4x4 output. Per axis, windows are
	// [-1,2) [1,4) [3,6) [5,8)->[5,7) (the ceil overhang beyond the padding
	// is not counted), valid counts 2 3 3 1, include-pad divisors 3 3 3 2.
	o := ops.PoolOpts{KernelH: 3, KernelW: 3, StrideH: 2, StrideW: 2, Pad: ops.Same(1), CeilMode: true}
	valid := []float64{2, 3, 3, 1}
	div := []float64{3, 3, 3, 2}
	for _, include := range []bool{false, true} {
		o.CountIncludePad = include
		s, y := forward(t, []int{1, 1, 6, 6}, ones(36), func(x *G.Node) (*G.Node, error) { return ops.AvgPool2D(x, o) })
		if !s.Eq(tensor.Shape{1, 1, 4, 4}) {
			t.Fatalf("shape %v, want [1 1 4 4]", s)
		}
		want := make([]float64, 16)
		for i := range 4 {
			for j := range 4 {
				want[i*4+j] = 1
				if include {
					want[i*4+j] = valid[i] * valid[j] / (div[i] * div[j])
				}
			}
		}
		assertClose(t, "avgpool", y, want, closeTol)
	}
	// Values: 4x4 1..16, 2x2/2 -> means of each quadrant.
	_, y := forward(t, []int{1, 1, 4, 4}, iota(16), func(x *G.Node) (*G.Node, error) {
		return ops.AvgPool2D(x, ops.PoolOpts{KernelH: 2, KernelW: 2, StrideH: 2, StrideW: 2})
	})
	assertClose(t, "avgpool values", y, []float64{3.5, 5.5, 11.5, 13.5}, closeTol)
}

// TestAveragePool2DOnesInOnesOut pins Gorgonia v0.9.18's AveragePool2D
// defect (it divides by the input width: ones in, 1.5 out).
func TestAveragePool2DOnesInOnesOut(t *testing.T) {
	_, y := forward(t, []int{2, 3, 6, 6}, ones(216), func(x *G.Node) (*G.Node, error) {
		return ops.AvgPool2D(x, ops.PoolOpts{KernelH: 3, KernelW: 3, StrideH: 1, StrideW: 1})
	})
	assertClose(t, "ours", y, ones(len(y)), closeTol)
	_, yg := forward(t, []int{2, 3, 6, 6}, ones(216), func(x *G.Node) (*G.Node, error) {
		return G.AveragePool2D(x, tensor.Shape{3, 3}, []int{0, 0}, []int{1, 1})
	})
	if len(yg) == 0 {
		t.Fatal("gorgonia.AveragePool2D: empty output")
	}
	// The defect: it divides by the input width (6/4 = 1.5 for ones).
	upstreamFixed(t, math.Abs(yg[0]-1.5) > closeTol, "AveragePool2D", "AvgPool2D",
		fmt.Sprintf("ones in gave %v out, defective 1.5, correct 1", yg[0]))
}

func TestAdaptiveAvgPool2D(t *testing.T) {
	// 5 -> 3: windows [0,2) [1,4) [3,5) (PyTorch's floor/ceil boundaries).
	_, y := forward(t, []int{1, 1, 1, 5}, iota(5), func(x *G.Node) (*G.Node, error) { return ops.AdaptiveAvgPool2D(x, 1, 3) })
	assertClose(t, "adaptive", y, []float64{1.5, 3, 4.5}, closeTol)
	// 14 -> 4 (torchvision aux head at 224: 14x14 -> 4x4): windows of 4 or 5.
	s, _ := forward(t, []int{1, 2, 14, 14}, ones(392), func(x *G.Node) (*G.Node, error) { return ops.AdaptiveAvgPool2D(x, 4, 4) })
	if !s.Eq(tensor.Shape{1, 2, 4, 4}) {
		t.Fatalf("shape %v", s)
	}
}

func TestGlobalAvgPool2D(t *testing.T) {
	s, y := forward(t, []int{1, 2, 2, 2}, iota(8), ops.GlobalAvgPool2D)
	if !s.Eq(tensor.Shape{1, 2, 1, 1}) {
		t.Fatalf("shape %v", s)
	}
	assertClose(t, "global", y, []float64{2.5, 6.5}, closeTol)
}

// TestGlobalAveragePool2DGradientExists pins Gorgonia v0.9.18's
// GlobalAveragePool2D defect: it has no gradient (Grad panics).
func TestGlobalAveragePool2DGradientExists(t *testing.T) {
	res := gradcheck.Check(t, gradcheck.Case{
		Inputs: []gradcheck.Input{{Name: "x", Shape: []int{2, 3, 3, 2}}},
		Seed:   3,
		Build:  func(g *G.ExprGraph, in []*G.Node) (*G.Node, error) { return ops.GlobalAvgPool2D(in[0]) },
	})
	if len(res.Analytic[0]) != 36 {
		t.Fatalf("no gradient")
	}
	// The defect: Grad through Gorgonia's op panics or fails.
	failure := func() (msg string) {
		defer func() {
			if r := recover(); r != nil {
				msg = fmt.Sprintf("Grad panics: %v", r)
			}
		}()
		g := G.NewGraph()
		x := G.NewTensor(g, G.Float64, 4, G.WithShape(1, 1, 2, 2), G.WithName("x"), G.WithInit(G.Ones()))
		y, err := G.GlobalAveragePool2D(x)
		if err != nil {
			return err.Error()
		}
		c, err := G.Sum(y)
		if err != nil {
			return err.Error()
		}
		if _, err := G.Grad(c, x); err != nil {
			return "Grad: " + err.Error()
		}
		return ""
	}()
	upstreamFixed(t, failure == "", "GlobalAveragePool2D", "GlobalAvgPool2D", "Grad now succeeds")
}

func TestPoolGradients(t *testing.T) {
	cases := []struct {
		name  string
		shape []int
		build func(x *G.Node) (*G.Node, error)
	}{
		{"max/3x3s2/ceil", []int{2, 2, 6, 5}, func(x *G.Node) (*G.Node, error) {
			return ops.MaxPool2D(x, ops.PoolOpts{KernelH: 3, KernelW: 3, StrideH: 2, StrideW: 2, CeilMode: true})
		}},
		{"max/3x3s1/pad1", []int{1, 2, 4, 4}, func(x *G.Node) (*G.Node, error) {
			return ops.MaxPool2D(x, ops.PoolOpts{KernelH: 3, KernelW: 3, Pad: ops.Same(1)})
		}},
		{"max/asym", []int{1, 1, 5, 4}, func(x *G.Node) (*G.Node, error) {
			return ops.MaxPool2D(x, ops.PoolOpts{KernelH: 2, KernelW: 3, StrideH: 2, Pad: ops.Pad2D{Top: 1, Right: 2}, CeilMode: true})
		}},
		{"avg/includepad/ceil", []int{2, 1, 6, 6}, func(x *G.Node) (*G.Node, error) {
			return ops.AvgPool2D(x, ops.PoolOpts{KernelH: 3, KernelW: 3, StrideH: 2, StrideW: 2, Pad: ops.Same(1), CeilMode: true, CountIncludePad: true})
		}},
		{"avg/excludepad", []int{1, 2, 5, 5}, func(x *G.Node) (*G.Node, error) {
			return ops.AvgPool2D(x, ops.PoolOpts{KernelH: 3, KernelW: 2, StrideH: 2, Pad: ops.Pad2D{Top: 1, Bottom: 2, Left: 1}})
		}},
		{"adaptive/5x7->3x4", []int{1, 2, 5, 7}, func(x *G.Node) (*G.Node, error) { return ops.AdaptiveAvgPool2D(x, 3, 4) }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			gradcheck.Check(t, gradcheck.Case{
				Inputs: []gradcheck.Input{{Name: "x", Shape: c.shape}},
				Seed:   11,
				Build:  func(g *G.ExprGraph, in []*G.Node) (*G.Node, error) { return c.build(in[0]) },
			})
		})
	}
}

func TestPoolErrors(t *testing.T) {
	g := G.NewGraph()
	x := G.NewTensor(g, G.Float32, 4, G.WithShape(1, 1, 4, 4), G.WithName("x"))
	bad := []ops.PoolOpts{
		{},
		{KernelH: 5, KernelW: 5},
		{KernelH: 2, KernelW: 2, Pad: ops.Same(2)},
		{KernelH: 2, KernelW: 2, StrideH: -1},
	}
	for _, o := range bad {
		if _, err := ops.MaxPool2D(x, o); err == nil {
			t.Errorf("MaxPool2D(%+v): no error", o)
		}
	}
	if _, err := ops.AdaptiveAvgPool2D(x, 5, 1); err == nil {
		t.Error("adaptive larger than input: no error")
	}
	if _, err := ops.GlobalAvgPool2D(nil); err == nil {
		t.Error("nil input: no error")
	}
}
