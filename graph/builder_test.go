package graph

import (
	"math"
	"strings"
	"testing"

	"gorgonia.org/tensor"

	"github.com/goinception/googlenet/ops"
)

// Tolerances of the initialiser statistics (sample mean and standard
// deviation over tens of thousands of draws).
const (
	statTol = 0.05 // relative, on the standard deviation
	meanTol = 0.02 // relative to the bound or the standard deviation
	// constTol is for values set exactly (constants, defaults).
	constTol = 1e-15
	// sameTol: the same seed must reproduce values bit for bit.
	sameTol = 0
)

func near(a, b, tol float64) bool { return math.Abs(a-b) <= tol }

func TestFirstErrorKept(t *testing.T) {
	b := New(Options{ShapesOnly: true})
	x := b.Input("data", 1, 3, 8, 8)
	y := b.Conv("bad", x, 4, ConvOpts{Kernel: 0})
	if y != nil {
		t.Fatalf("Conv with kernel 0 returned %v, want nil", y)
	}
	// Every later call is a no-op returning nil, even with nil inputs.
	if z := b.MaxPool("pool", y, PoolOpts{Kernel: 2}); z != nil {
		t.Fatalf("MaxPool after an error returned %v", z)
	}
	if z := b.Linear("fc", nil, 3, LinearOpts{}); z != nil {
		t.Fatalf("Linear after an error returned %v", z)
	}
	ran := false
	b.Scope("s", func() { ran = true })
	if ran {
		t.Fatal("Scope ran its function after an error")
	}
	err := b.Err()
	if err == nil || !strings.Contains(err.Error(), "layer bad") {
		t.Fatalf("Err() = %v, want the first error naming layer bad", err)
	}
	if n := len(b.Layers()); n != 0 {
		t.Fatalf("%d layers recorded after a failed first layer", n)
	}
}

func TestScopesAndUniqueNames(t *testing.T) {
	b := New(Options{ShapesOnly: true})
	x := b.Input("data", 1, 3, 8, 8)
	b.Scope("inception_4a", func() {
		b.Scope("branch", func() {
			x = b.Conv("3x3_reduce", x, 4, ConvOpts{Kernel: 1, BatchNorm: true})
		})
		x = b.Conv("3x3_reduce", x, 4, ConvOpts{Kernel: 3, Pad: 1})
	})
	if err := b.Err(); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range b.Params() {
		names = append(names, p.Name)
	}
	want := []string{
		"inception_4a/branch/3x3_reduce/w",
		"inception_4a/branch/3x3_reduce/bn/scale",
		"inception_4a/branch/3x3_reduce/bn/shift",
		"inception_4a/3x3_reduce/w",
		"inception_4a/3x3_reduce/b",
	}
	if strings.Join(names, " ") != strings.Join(want, " ") {
		t.Fatalf("params %v, want %v", names, want)
	}
	kinds := []Kind{Weight, BNScale, BNShift, Weight, Bias}
	for i, p := range b.Params() {
		if p.Kind != kinds[i] || p.Decay != (kinds[i] == Weight) {
			t.Errorf("%s: kind %v decay %v, want %v decay %v", p.Name, p.Kind, p.Decay, kinds[i], kinds[i] == Weight)
		}
	}
	if p, ok := b.Param("inception_4a/3x3_reduce/w"); !ok || p.FanIn != 36 || p.Size() != 144 {
		t.Fatalf("lookup: %+v %v, want fan-in 36, 144 elements", p, ok)
	}
	st, ok := b.LookupBN("inception_4a/branch/3x3_reduce/bn/running_var")
	if !ok || len(st.Var) != 4 || !near(st.Var[0], 1, constTol) || !near(st.Mean[0], 0, constTol) || !near(st.Eps, 1e-5, constTol) || !near(st.Momentum, 0.1, constTol) {
		t.Fatalf("LookupBN: %+v %v, want 4 channels, var 1, mean 0, PyTorch defaults", st, ok)
	}
	if got := len(b.BNStats()); got != 1 {
		t.Fatalf("%d batch-norm entries, want 1", got)
	}

	// The same layer name twice in one scope is an error.
	b.Conv("conv", x, 4, ConvOpts{Kernel: 1})
	b.Conv("conv", x, 4, ConvOpts{Kernel: 1})
	if err := b.Err(); err == nil || !strings.Contains(err.Error(), "duplicate") {
		t.Fatalf("duplicate layer: err = %v", err)
	}
}

func TestBadNames(t *testing.T) {
	for _, name := range []string{"", "a/b", "a b"} {
		b := New(Options{ShapesOnly: true})
		b.Input(name, 1, 1, 2, 2)
		if b.Err() == nil {
			t.Errorf("name %q accepted", name)
		}
	}
}

// TestShapes checks the output sizes of the layers against hand-computed
// cases, including Caffe's ceil-mode pooling.
func TestShapes(t *testing.T) {
	cases := []struct {
		name string
		in   int
		o    PoolOpts
		want int
	}{
		{"paper pool1 112->56", 112, PoolOpts{Kernel: 3, Stride: 2, CeilMode: true}, 56},
		{"floor 112->55", 112, PoolOpts{Kernel: 3, Stride: 2}, 55},
		{"paper pool3 28->14", 28, PoolOpts{Kernel: 3, Stride: 2, CeilMode: true}, 14},
		{"paper pool4 14->7", 14, PoolOpts{Kernel: 3, Stride: 2, CeilMode: true}, 7},
		{"torchvision pool4 14->7", 14, PoolOpts{Kernel: 2, Stride: 2, CeilMode: true}, 7},
		{"aux 5x5/3 14->4", 14, PoolOpts{Kernel: 5, Stride: 3, CeilMode: true}, 4},
		{"ceil 2x2/2 7->4", 7, PoolOpts{Kernel: 2, Stride: 2, CeilMode: true}, 4},
		{"same 3x3/1 pad 1", 7, PoolOpts{Kernel: 3, Stride: 1, Pad: 1}, 7},
		// The last window would start in the padding: dropped.
		{"ceil drops padded window", 5, PoolOpts{Kernel: 2, Stride: 2, Pad: 1, CeilMode: true}, 3},
	}
	for _, c := range cases {
		b := New(Options{ShapesOnly: true})
		y := b.MaxPool("p", b.Input("x", 1, 2, c.in, c.in), c.o)
		if err := b.Err(); err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if y.Shape[2] != c.want || y.Shape[3] != c.want {
			t.Errorf("%s: got %v, want %d", c.name, y.Shape, c.want)
		}
	}

	b := New(Options{ShapesOnly: true})
	x := b.Input("x", 2, 3, 224, 224)
	y := b.Conv("conv1", x, 64, ConvOpts{Kernel: 7, Stride: 2, Pad: 3, ReLU: true})
	if got := y.Shape; got[0] != 2 || got[1] != 64 || got[2] != 112 || got[3] != 112 {
		t.Fatalf("conv1 shape %v, want [2 64 112 112]", got)
	}
	l := b.Layers()[0]
	if l.Params != 7*7*3*64+64 || l.MACs != 7*7*3*64*112*112 {
		t.Fatalf("conv1 params %d MACs %d", l.Params, l.MACs)
	}
	a := b.AdaptiveAvgPool("a", y, 4, 4)
	c := b.Concat("cat", a, a)
	f := b.Flatten("flat", c)
	o := b.Linear("fc", f, 10, LinearOpts{})
	if err := b.Err(); err != nil {
		t.Fatal(err)
	}
	if o.Shape[0] != 2 || o.Shape[1] != 10 || f.Shape[1] != 128*16 {
		t.Fatalf("fc %v flatten %v", o.Shape, f.Shape)
	}
	if got := b.Layers()[len(b.Layers())-1]; got.Params != 2048*10+10 || got.MACs != 20480 {
		t.Fatalf("linear record %+v", got)
	}
}

func TestTooSmall(t *testing.T) {
	b := New(Options{ShapesOnly: true})
	b.AvgPool("ave_pool", b.Input("x", 1, 8, 4, 4), PoolOpts{Kernel: 5, Stride: 3})
	if err := b.Err(); err == nil || !strings.Contains(err.Error(), "too small") || !strings.Contains(err.Error(), "ave_pool") {
		t.Fatalf("err = %v, want 'too small' naming the layer", err)
	}
}

func TestRejectsBadSettings(t *testing.T) {
	for name, build := range map[string]func(b *Builder, x *Tensor){
		"dropout rate 1":  func(b *Builder, x *Tensor) { b.Dropout("d", x, 1) },
		"even LRN":        func(b *Builder, x *Tensor) { b.LRN("n", x, ops.LRNOpts{Size: 4}) },
		"linear on NCHW":  func(b *Builder, x *Tensor) { b.Linear("fc", x, 3, LinearOpts{}) },
		"pad >= kernel":   func(b *Builder, x *Tensor) { b.MaxPool("p", x, PoolOpts{Kernel: 2, Pad: 2}) },
		"negative stride": func(b *Builder, x *Tensor) { b.Conv("c", x, 3, ConvOpts{Kernel: 1, Stride: -1}) },
		"concat mismatch": func(b *Builder, x *Tensor) {
			b.Concat("cat", x, b.MaxPool("p", x, PoolOpts{Kernel: 2, Stride: 2}))
		},
	} {
		b := New(Options{ShapesOnly: true})
		build(b, b.Input("x", 1, 2, 6, 6))
		if b.Err() == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if New(Options{Dtype: tensor.Int}).Err() == nil {
		t.Error("int dtype accepted")
	}
}

func stats(d []float64) (mean, std float64) {
	for _, v := range d {
		mean += v
	}
	mean /= float64(len(d))
	for _, v := range d {
		std += (v - mean) * (v - mean)
	}
	return mean, math.Sqrt(std / float64(len(d)))
}

func TestCaffeInit(t *testing.T) {
	info := ParamInfo{Name: "w", Kind: Weight, Shape: []int{64, 48, 5, 5}, FanIn: 48 * 25}
	d := make([]float64, 64*48*25)
	Caffe{BiasValue: 0.2}.Init(info, paramRand(1, "w"), d)
	bound := math.Sqrt(3.0 / 1200)
	for _, v := range d {
		if math.Abs(v) > bound {
			t.Fatalf("xavier draw %g outside ±%g", v, bound)
		}
	}
	mean, std := stats(d)
	// Uniform on ±a has standard deviation a/sqrt(3) = sqrt(1/fan_in).
	if want := bound / math.Sqrt(3); math.Abs(std-want) > statTol*want || math.Abs(mean) > meanTol*bound {
		t.Fatalf("xavier mean %g std %g, want 0 and %g", mean, std, want)
	}
	bias := make([]float64, 8)
	Caffe{BiasValue: 0.2}.Init(ParamInfo{Kind: Bias}, paramRand(1, "b"), bias)
	for _, v := range bias {
		if math.Abs(v-0.2) > 1e-15 {
			t.Fatalf("bias %g, want 0.2", v)
		}
	}
}

func TestTorchvisionInit(t *testing.T) {
	d := make([]float64, 50000)
	Torchvision{}.Init(ParamInfo{Kind: Weight, FanIn: 100}, paramRand(2, "w"), d)
	for _, v := range d {
		if math.Abs(v) > 0.02 {
			t.Fatalf("draw %g outside ±2σ", v)
		}
	}
	mean, std := stats(d)
	// A normal truncated at ±2σ has standard deviation 0.8796σ.
	if want := 0.008796; math.Abs(std-want) > statTol*want || math.Abs(mean) > meanTol*0.01 {
		t.Fatalf("mean %g std %g, want 0 and %g", mean, std, want)
	}
	g := make([]float64, 4)
	Torchvision{}.Init(ParamInfo{Kind: BNScale}, paramRand(2, "g"), g)
	if !near(g[0], 1, constTol) || !near(g[3], 1, constTol) {
		t.Fatalf("BN scale %v, want ones", g)
	}
}

// TestInitDeterministic: values depend on the seed and the parameter name,
// not on the build order.
func TestInitDeterministic(t *testing.T) {
	build := func(seed uint64, order bool) *Builder {
		b := New(Options{Seed: seed, Dtype: tensor.Float64})
		x := b.Input("x", 1, 2, 4, 4)
		if order {
			b.Conv("a", x, 3, ConvOpts{Kernel: 1})
			b.Conv("b", x, 3, ConvOpts{Kernel: 3})
		} else {
			b.Conv("b", x, 3, ConvOpts{Kernel: 3})
			b.Conv("a", x, 3, ConvOpts{Kernel: 1})
		}
		if err := b.Err(); err != nil {
			t.Fatal(err)
		}
		return b
	}
	val := func(b *Builder, name string) []float64 {
		p, ok := b.Param(name)
		if !ok {
			t.Fatalf("no param %s", name)
		}
		return p.Value.Data().([]float64)
	}
	b1, b2, b3 := build(7, true), build(7, false), build(8, true)
	for _, name := range []string{"a/w", "b/w"} {
		v1, v2, v3 := val(b1, name), val(b2, name), val(b3, name)
		same := true
		for i := range v1 {
			if !near(v1[i], v2[i], sameTol) {
				t.Fatalf("%s differs with build order", name)
			}
			same = same && near(v1[i], v3[i], sameTol)
		}
		if same {
			t.Fatalf("%s identical for seeds 7 and 8", name)
		}
	}
}

func TestSharedValues(t *testing.T) {
	src := New(Options{})
	src.Conv("c", src.Input("x", 1, 2, 4, 4), 3, ConvOpts{Kernel: 1, BatchNorm: true})
	if err := src.Err(); err != nil {
		t.Fatal(err)
	}
	dst := New(Options{
		Values: func(name string) *tensor.Dense {
			p, _ := src.Param(name)
			return p.Value
		},
		BNStats: func(name string) *ops.BNStats { s, _ := src.LookupBN(name); return s },
	})
	dst.Conv("c", dst.Input("x", 5, 2, 4, 4), 3, ConvOpts{Kernel: 1, BatchNorm: true})
	if err := dst.Err(); err != nil {
		t.Fatal(err)
	}
	for _, p := range dst.Params() {
		q, _ := src.Param(p.Name)
		if p.Value != q.Value {
			t.Errorf("%s not shared", p.Name)
		}
	}
	a, _ := src.LookupBN("c/bn")
	b, _ := dst.LookupBN("c/bn")
	if a != b {
		t.Error("batch-norm statistics not shared")
	}
}
