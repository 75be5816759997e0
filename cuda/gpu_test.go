//go:build gpu

package cuda_test

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"gorgonia.org/tensor"

	"github.com/goinception/googlenet/cuda"
	"github.com/goinception/googlenet/cuda/cudatest"
	"github.com/goinception/googlenet/inception"
	"github.com/goinception/googlenet/ops"
	"github.com/goinception/googlenet/ops/opstest"
)

// These tests need an NVIDIA GPU and a driver: build them anywhere with
// `go test -c -tags gpu ./cuda/`, run the binary where the GPU is. The
// gorgonia.org/cu package exits the process at init when no driver or
// device is found.

// newEngine returns a GPU engine in strict FP32 (cuDNN FMA math, cuBLAS
// default math), as the accuracy bounds below assume.
func newEngine(t testing.TB) *cuda.Engine {
	t.Helper()
	e, err := cuda.NewEngineWith(cuda.EngineOptions{Lib: cuda.LibOptions{StrictFP32: true}})
	if err != nil {
		t.Fatalf("%+v", err)
	}
	t.Cleanup(func() {
		if err := e.Close(); err != nil {
			t.Error(err)
		}
	})
	return e
}

// TestGPUOpen opens and closes GPU 0 and checks that opening a device
// that does not exist is an error (which releases what it took), before
// anything launches a kernel: scripts/gpu-check.sh runs it first.
func TestGPUOpen(t *testing.T) {
	if _, err := cuda.NewGPU(1 << 20); err == nil {
		t.Error("NewGPU of a device that does not exist: no error")
	}
	g, err := cuda.NewGPU(0)
	if err != nil {
		t.Fatalf("%+v", err)
	}
	free, total, err := g.MemInfo()
	if err != nil {
		t.Fatalf("%+v", err)
	}
	t.Logf("%s: %.1f of %.1f GiB free", g.Name(), float64(free)/(1<<30), float64(total)/(1<<30))
	p, err := g.Alloc(1 << 20)
	if err != nil {
		t.Fatalf("%+v", err)
	}
	if err := g.Upload(p, []float32{1, 2, 3}); err != nil {
		t.Fatalf("%+v", err)
	}
	got := make([]float32, 3)
	if err := g.Download(got, p); err != nil || got[0] != 1 || got[2] != 3 {
		t.Fatalf("round trip: %v, %v", got, err)
	}
	if err := g.Free(p); err != nil {
		t.Fatalf("%+v", err)
	}
	if err := g.Close(); err != nil {
		t.Fatalf("%+v", err)
	}
	l := cuda.LoadLibraries()
	t.Logf("cuDNN %v (%s), cuBLAS %v (%s); notes: %v", l.DNN(), l.DNNPath, l.BLAS(), l.BLASPath, l.Notes)
}

// TestGPUEngine runs the ops.Engine conformance suite on the GPU.
func TestGPUEngine(t *testing.T) { opstest.TestEngine(t, newEngine(t)) }

// TestGPUDevice runs the kernel suite (pooling, LRN, softmax, SGD, ...).
func TestGPUDevice(t *testing.T) { cudatest.TestDevice(t, newEngine(t).Device()) }

// Acceptance bounds against the CPU path (issue 7): relative error, as
// max|gpu - cpu| / max|cpu| over a tensor.
const (
	fwdRel  = 1e-4
	gradRel = 1e-3
)

// googlenetConvs are the distinct convolution shapes of GoogLeNet at
// batch 8 (the first row of each kind of Table 1).
var googlenetConvs = []struct {
	name string
	g    ops.ConvGeom
}{
	{"conv1 7x7/2", ops.ConvGeom{N: 8, C: 3, H: 224, W: 224, K: 64, R: 7, S: 7, StrideH: 2, StrideW: 2, PadTop: 3, PadLeft: 3, OutH: 112, OutW: 112}},
	{"conv2 reduce 1x1", ops.ConvGeom{N: 8, C: 64, H: 56, W: 56, K: 64, R: 1, S: 1, OutH: 56, OutW: 56}},
	{"conv2 3x3", ops.ConvGeom{N: 8, C: 64, H: 56, W: 56, K: 192, R: 3, S: 3, PadTop: 1, PadLeft: 1, OutH: 56, OutW: 56}},
	{"3a 1x1", ops.ConvGeom{N: 8, C: 192, H: 28, W: 28, K: 64, R: 1, S: 1, OutH: 28, OutW: 28}},
	{"3a 3x3", ops.ConvGeom{N: 8, C: 96, H: 28, W: 28, K: 128, R: 3, S: 3, PadTop: 1, PadLeft: 1, OutH: 28, OutW: 28}},
	{"3a 5x5", ops.ConvGeom{N: 8, C: 16, H: 28, W: 28, K: 32, R: 5, S: 5, PadTop: 2, PadLeft: 2, OutH: 28, OutW: 28}},
	{"4e 3x3", ops.ConvGeom{N: 8, C: 160, H: 14, W: 14, K: 320, R: 3, S: 3, PadTop: 1, PadLeft: 1, OutH: 14, OutW: 14}},
	{"5b 1x1", ops.ConvGeom{N: 8, C: 832, H: 7, W: 7, K: 384, R: 1, S: 1, OutH: 7, OutW: 7}},
}

func randoms(rng *rand.Rand, n int) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(rng.NormFloat64())
	}
	return v
}

func poisoned(n int) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(math.NaN())
	}
	return v
}

func relErr(t *testing.T, what string, got, want []float32, tol float64) {
	t.Helper()
	var maxDiff, maxRef float64
	for i := range want {
		g, w := float64(got[i]), float64(want[i])
		if math.IsNaN(g) {
			t.Errorf("%s[%d] is NaN (not written)", what, i)
			return
		}
		maxDiff = math.Max(maxDiff, math.Abs(g-w))
		maxRef = math.Max(maxRef, math.Abs(w))
	}
	rel := maxDiff / math.Max(maxRef, 1e-30)
	t.Logf("%s: relative error %.2e", what, rel)
	if rel > tol {
		t.Errorf("%s: relative error %.3g > %g", what, rel, tol)
	}
}

// TestGPUvsCPU compares the GPU with the CPU reference engine on
// GoogLeNet's convolution shapes: forward (bias, ReLU) and both gradients.
func TestGPUvsCPU(t *testing.T) {
	e := newEngine(t)
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 1))
	cpu := ops.Reference{}
	for _, tc := range googlenetConvs {
		t.Run(tc.name, func(t *testing.T) {
			g := tc.g
			nx, nw, ny := g.N*g.C*g.H*g.W, g.K*g.C*g.R*g.S, g.N*g.K*g.OutH*g.OutW
			x, w, b, dy := randoms(rng, nx), randoms(rng, nw), randoms(rng, g.K), randoms(rng, ny)
			must := func(err error) {
				t.Helper()
				if err != nil {
					t.Fatalf("%+v", err)
				}
			}
			want, got := make([]float32, ny), poisoned(ny)
			must(cpu.ConvForward(g, x, w, b, want, true))
			must(e.ConvForward(g, x, w, b, got, true))
			relErr(t, "y", got, want, fwdRel)

			wantDx, gotDx := make([]float32, nx), poisoned(nx)
			must(cpu.ConvBackwardData(g, w, dy, wantDx))
			must(e.ConvBackwardData(g, w, dy, gotDx))
			relErr(t, "dx", gotDx, wantDx, gradRel)

			wantDw, gotDw := make([]float32, nw), poisoned(nw)
			wantDb, gotDb := make([]float32, g.K), poisoned(g.K)
			must(cpu.ConvBackwardFilter(g, x, dy, wantDw, wantDb))
			must(e.ConvBackwardFilter(g, x, dy, gotDw, gotDb))
			relErr(t, "dw", gotDw, wantDw, gradRel)
			relErr(t, "db", gotDb, wantDb, gradRel)
		})
	}
}

// BenchmarkGPUConv measures device-resident forward convolutions (no host
// copies inside the loop) at batch 128, TF32 allowed and strict FP32, and
// reports GFLOP/s. Inputs, weights and bias are whole random buffers.
func BenchmarkGPUConv(b *testing.B) {
	for _, mode := range benchModes {
		d := benchEngine(b, mode.strict).Device()
		for _, tc := range googlenetConvs {
			g := tc.g
			g.N = 128
			b.Run(mode.name+"/"+tc.name, func(b *testing.B) { benchConv(b, d, g) })
		}
	}
}

func benchConv(b *testing.B, d *cuda.Device, g ops.ConvGeom) {
	nx, nw, ny := g.N*g.C*g.H*g.W, g.K*g.C*g.R*g.S, g.N*g.K*g.OutH*g.OutW
	rng := rand.New(rand.NewPCG(7, 8))
	var ps []cuda.Ptr
	for i, n := range []int{nx, nw, g.K, ny} {
		p, err := d.Pool().GetFloats(n)
		if err != nil {
			b.Fatal(err)
		}
		ps = append(ps, p)
		if i < 3 {
			if err := d.Executor().Upload(p, randoms(rng, n)); err != nil {
				b.Fatal(err)
			}
		}
	}
	if err := d.ConvForward(g, ps[0], ps[1], ps[2], ps[3], true); err != nil { // plan, workspace
		b.Fatal(err)
	}
	if err := d.Sync(); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := d.ConvForward(g, ps[0], ps[1], ps[2], ps[3], true); err != nil {
			b.Fatal(err)
		}
	}
	if err := d.Sync(); err != nil {
		b.Fatal(err)
	}
	flops := 2 * float64(g.N*g.K*g.OutH*g.OutW*g.C*g.R*g.S)
	b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
	for _, p := range ps {
		_ = d.Pool().Put(p)
	}
}

// benchModes are the math modes the benchmarks run in, as the PyTorch
// peer's two runs.
var benchModes = []struct {
	name   string
	strict bool
}{{"tf32", false}, {"fp32", true}}

// benchEngines holds one engine per math mode for the whole process, so
// the benchmark functions (which testing calls more than once, first with
// b.N = 1) build nothing twice.
var benchEngines = map[bool]*cuda.Engine{}

func benchEngine(b *testing.B, strict bool) *cuda.Engine {
	if e, ok := benchEngines[strict]; ok {
		return e
	}
	e, err := cuda.NewEngineWith(cuda.EngineOptions{Lib: cuda.LibOptions{StrictFP32: strict}})
	if err != nil {
		b.Fatalf("%+v", err)
	}
	benchEngines[strict] = e
	return e
}

// TestGPUNetVsCPU runs a training step of a small paper-topology GoogLeNet
// on the GPU and compares the loss and gradients with the CPU graph.
func TestGPUNetVsCPU(t *testing.T) {
	cfg := inception.Paper()
	cfg.InputSize, cfg.Classes, cfg.BatchSize = 64, 7, 4
	cfg.Dtype = tensor.Float64
	cfg.Conv1, cfg.Conv2Reduce, cfg.Conv2 = 8, 8, 16
	cfg.AuxConv, cfg.AuxFC = 8, 16
	cfg.Table = []inception.Row{
		{Name: "3a", C1x1: 6, C3x3Reduce: 4, C3x3: 8, C5x5Reduce: 2, C5x5: 4, PoolProj: 4, Aux: 1},
		{Name: "3b", C1x1: 6, C3x3Reduce: 4, C3x3: 8, C5x5Reduce: 2, C5x5: 4, PoolProj: 4, Aux: 2},
		{Name: "4a", MaxPoolBefore: true, C1x1: 8, C3x3Reduce: 6, C3x3: 6, C5x5Reduce: 2, C5x5: 4, PoolProj: 6},
	}
	m, err := inception.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 2))
	n := cfg.BatchSize
	x32 := randoms(rng, n*3*cfg.InputSize*cfg.InputSize)
	x := make([]float64, len(x32))
	for i, v := range x32 {
		x[i] = float64(v)
	}
	labels := []int{1, 6, 0, 3}
	net, err := cuda.NewNet(newEngine(t).Device(), m, n) // before m.Step: same dropout step
	if err != nil {
		t.Fatalf("%+v", err)
	}
	defer net.Close()
	want, err := m.Step(tensor.New(tensor.WithShape(n, 3, cfg.InputSize, cfg.InputSize), tensor.WithBacking(x)), labels)
	if err != nil {
		t.Fatal(err)
	}
	got, err := net.Step(x32, []int32{1, 6, 0, 3})
	if err != nil {
		t.Fatalf("%+v", err)
	}
	for _, l := range []struct {
		name      string
		got, want float64
	}{{"main", got.Main, want.Main}, {"aux1", got.Aux1, want.Aux1}, {"aux2", got.Aux2, want.Aux2}, {"total", got.Total, want.Total}} {
		if math.Abs(l.got-l.want) > fwdRel*math.Abs(l.want) {
			t.Errorf("%s loss %v, CPU %v", l.name, l.got, l.want)
		}
	}
	for _, name := range net.ParamNames() {
		got, err := net.Grad(name)
		if err != nil {
			t.Fatal(err)
		}
		p, _ := m.Param(name)
		ref := p.Grad.Data().([]float64)
		want := make([]float32, len(ref))
		for i, v := range ref {
			want[i] = float32(v)
		}
		relErr(t, name, got, want, gradRel)
	}
}

// BenchmarkGPUTrainStep measures the device-resident training step
// (forward, the three losses, backward, SGD) of the paper GoogLeNet with
// dropout and both auxiliary heads at batch 128, 224x224, TF32 allowed and
// strict FP32, and reports images per second and device memory: the
// pool's peak in use (PyTorch's max_memory_allocated counts the same
// thing), the pool's peak held, and the device's total minus free.
func BenchmarkGPUTrainStep(b *testing.B) {
	for _, mode := range benchModes {
		b.Run(mode.name, func(b *testing.B) { benchNet(b, mode.strict, true) })
	}
}

// BenchmarkGPUInference measures the device-resident inference forward
// (evaluation mode: no dropout, no auxiliary heads) at batch 128.
func BenchmarkGPUInference(b *testing.B) {
	for _, mode := range benchModes {
		b.Run(mode.name, func(b *testing.B) { benchNet(b, mode.strict, false) })
	}
}

const benchBatch = 128

// benchNets holds one paper network per math mode for the process.
var benchNets = map[bool]*cuda.Net{}

func benchNetFor(b *testing.B, strict bool) *cuda.Net {
	if n, ok := benchNets[strict]; ok {
		return n
	}
	cfg := inception.Paper()
	cfg.BatchSize = 1 // the CPU graph only provides the initial weights
	m, err := inception.New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	net, err := cuda.NewNet(benchEngine(b, strict).Device(), m, benchBatch)
	if err != nil {
		b.Fatalf("%+v", err)
	}
	benchNets[strict] = net
	return net
}

func benchNet(b *testing.B, strict, train bool) {
	const batch = benchBatch
	e := benchEngine(b, strict)
	net := benchNetFor(b, strict)
	rng := rand.New(rand.NewPCG(1, 2))
	x := randoms(rng, batch*3*224*224)
	labels := make([]int32, batch)
	for i := range labels {
		labels[i] = int32(rng.IntN(1000))
	}
	step := func() {
		if train {
			if _, err := net.Step(x, labels); err != nil {
				b.Fatalf("%+v", err)
			}
			if err := net.SGD(0.01, 0.9, 2e-4); err != nil {
				b.Fatalf("%+v", err)
			}
		} else if _, err := net.Logits(x); err != nil {
			b.Fatalf("%+v", err)
		}
	}
	step() // warm-up: JIT of the PTX, cuDNN plans, pool allocations
	if err := e.Device().Sync(); err != nil {
		b.Fatalf("%+v", err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		step()
	}
	if err := e.Device().Sync(); err != nil {
		b.Fatalf("%+v", err)
	}
	b.StopTimer()
	b.ReportMetric(float64(batch*b.N)/b.Elapsed().Seconds(), "img/s")
	st := e.Device().Pool().Stats()
	b.ReportMetric(float64(st.PeakInUse)/(1<<20), "MiB-peak-in-use")
	b.ReportMetric(float64(st.PeakHeld)/(1<<20), "MiB-peak-held")
	if g, ok := e.Device().Executor().(*cuda.GPU); ok {
		if free, total, err := g.MemInfo(); err == nil {
			b.ReportMetric(float64(total-free)/(1<<20), "MiB-used")
		}
	}
}
