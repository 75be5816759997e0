//go:build cgo

package emu_test

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/goinception/googlenet/cuda"
	"github.com/goinception/googlenet/cuda/cudatest"
	"github.com/goinception/googlenet/cuda/emu"
	"github.com/goinception/googlenet/ops"
	"github.com/goinception/googlenet/ops/opstest"
)

// TestEngine runs the ops.Engine conformance suite (convolutions forward and
// backward, Gemm) on the kernels through the emulation.
func TestEngine(t *testing.T) {
	e := cuda.NewEngineOn(emu.New())
	defer e.Close()
	opstest.TestEngine(t, e)
}

// TestOpTable runs every op of a training step, forward and gradient, with
// the cuda Engine on the emulated device against the float64 reference
// (opstest.OpTable).
func TestOpTable(t *testing.T) {
	e := cuda.NewEngineOn(emu.New())
	defer e.Close()
	opstest.TestOps(t, e)
}

// TestDevice runs every other kernel against float64 references.
func TestDevice(t *testing.T) {
	d := cuda.NewDevice(emu.New())
	defer d.Close()
	cudatest.TestDevice(t, d)
}

// TestConvChunks forces im2col to split the batch into several chunks.
func TestConvChunks(t *testing.T) {
	e := cuda.NewEngineOn(emu.New())
	e.Device().ScratchBytes = 1 // one image per chunk
	defer e.Close()
	opstest.TestEngine(t, e)
}

// TestGuardZones checks that the emulation catches a kernel writing past
// the end of its buffer.
func TestGuardZones(t *testing.T) {
	ex := emu.New()
	d := cuda.NewDevice(ex)
	p, err := ex.Alloc(4 * 10)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Fill(p, 1, 10); err != nil {
		t.Fatalf("in-bounds fill: %v", err)
	}
	if err := d.Fill(p, 1, 11); err == nil {
		t.Fatal("a fill one element past the end was not caught")
	}
}

// TestLaunchErrors checks that bad launches are errors, not crashes.
func TestLaunchErrors(t *testing.T) {
	ex := emu.New()
	for _, l := range []cuda.Launch{
		{Module: "misc", Kernel: "fill", Grid: cuda.Dim3{X: 1, Y: 1, Z: 1}, Block: cuda.Dim3{X: 2048, Y: 1, Z: 1}},
		{Module: "misc", Kernel: "nope", Grid: cuda.Dim3{X: 1, Y: 1, Z: 1}, Block: cuda.Dim3{X: 1, Y: 1, Z: 1}},
		{Module: "misc", Kernel: "fill", Grid: cuda.Dim3{X: 1, Y: 1, Z: 1}, Block: cuda.Dim3{X: 1, Y: 1, Z: 1},
			Args: []cuda.Arg{cuda.FloatArg(1)}},
		{Module: "misc", Kernel: "fill", Grid: cuda.Dim3{X: 1, Y: 1, Z: 1}, Block: cuda.Dim3{X: 1, Y: 1, Z: 1},
			Args: []cuda.Arg{cuda.PtrArg(12345 << 40), cuda.FloatArg(1), cuda.Int64Arg(1)}},
	} {
		if err := ex.Launch(l); err == nil {
			t.Errorf("%v: no error", l)
		}
	}
}

// Example runs a max pooling on the emulated device.
func Example() {
	ex := emu.New()
	d := cuda.NewDevice(ex)
	defer d.Close()
	x := []float32{
		1, 2, 3,
		4, 5, 6,
		7, 8, 9,
	}
	g, _ := cuda.NewPoolGeom(1, 1, 3, 3, cudaPool2x2Ceil)
	px, _ := d.Pool().GetFloats(9)
	py, _ := d.Pool().GetFloats(4)
	am, _ := d.Pool().GetFloats(4)
	_ = ex.Upload(px, x)
	if err := d.MaxPoolForward(g, px, py, am); err != nil {
		fmt.Println(err)
		return
	}
	y := make([]float32, g.OutH*g.OutW)
	_ = ex.Download(y, py)
	fmt.Println(g.OutH, g.OutW, y)
	// Output: 2 2 [5 6 8 9]
}

// TestEngineNotSupported: the kernels the drop-in engine leaves to the CPU
// (the backward pass of a batch norm with running statistics, SGD with
// Nesterov momentum) return ops.ErrNotSupported naming the kernel, never
// panic; the ops then run them on ops.Reference (TestOpTable). Batch norm,
// dropout, concatenation, the softmax cross-entropy and the other SGD
// updates run on the device (TestEngine, TestEngineSGD).
func TestEngineNotSupported(t *testing.T) {
	e := cuda.NewEngineOn(emu.New())
	defer e.Close()
	f := []float32{1, 2, 3, 4}
	s := []float64{0, 1}
	for _, c := range []struct {
		kernel string
		err    error
	}{
		{"BatchNormBackward with running statistics", e.BatchNormBackward(ops.BNGeom{N: 1, C: 2, H: 2, W: 1, Eps: 1e-5}, f, f[:2], f, f, nil, s, s)},
		{"SGDUpdate with Nesterov", e.SGDUpdate(ops.SGDStep{LR: 1, Momentum: 0.9, Nesterov: true}, f, f, f)},
	} {
		if !errors.Is(c.err, ops.ErrNotSupported) || !strings.Contains(c.err.Error(), c.kernel) {
			t.Errorf("%s: error %v, want ops.ErrNotSupported naming the kernel", c.kernel, c.err)
		}
	}
}

// TestEngineSGD: the drop-in engine's SGD update on the device equals
// ops.Reference's for plain SGD, the first and later momentum steps with
// weight decay, and clipping (which opstest's suite does not reach past
// the Nesterov case the engine leaves to the CPU); bad sizes are errors.
func TestEngineSGD(t *testing.T) {
	e := cuda.NewEngineOn(emu.New())
	defer e.Close()
	const n = 1000
	w0, g, v0 := make([]float32, n), make([]float32, n), make([]float32, n)
	for i := range w0 {
		w0[i], g[i], v0[i] = float32(math.Sin(float64(i))), float32(math.Cos(0.3*float64(i))), float32(math.Sin(0.7*float64(i)))
	}
	for _, st := range []ops.SGDStep{
		{LR: 0.1},
		{LR: 0.1, WeightDecay: 1e-2},
		{LR: 0.05, WeightDecay: 1e-2, Momentum: 0.9, First: true},
		{LR: 0.05, WeightDecay: 1e-2, Momentum: 0.9},
		{LR: 0.2, Scale: 0.25, Clip: true, Momentum: 0.5, WeightDecay: 1e-3},
		{LR: 0.2, Scale: 0.25, Clip: true},
	} {
		w, v := append([]float32(nil), w0...), append([]float32(nil), v0...)
		rw, rv := append([]float32(nil), w0...), append([]float32(nil), v0...)
		if st.Momentum == 0 {
			v, rv = nil, nil
		}
		if err := e.SGDUpdate(st, w, g, v); err != nil {
			t.Fatalf("%+v: %+v", st, err)
		}
		if err := (ops.Reference{}).SGDUpdate(st, rw, g, rv); err != nil {
			t.Fatal(err)
		}
		for i := range w {
			if math.Abs(float64(w[i]-rw[i])) > 1e-6 || (v != nil && math.Abs(float64(v[i]-rv[i])) > 1e-6) {
				t.Fatalf("%+v: element %d: w %v v %v, reference %v %v", st, i, w[i], v[i], rw[i], rv[i])
			}
		}
	}
	if err := e.SGDUpdate(ops.SGDStep{LR: 1, Momentum: 0.9}, w0, g, v0[:3]); err == nil {
		t.Error("a short velocity: no error")
	}
	if _, err := e.SoftmaxCrossEntropyForward(2, 2, []float32{1, 2, 3, 4}, []int{0, 2}); err == nil || !strings.Contains(err.Error(), "label 1 is 2") {
		t.Errorf("a label out of range: %v", err)
	}
}

// TestAsyncLaunchError: with asynchronous launches (as on a GPU) a failed
// kernel is reported by the next synchronous call, an allocation here, as
// an earlier launch's failure naming the kernel; the pool keeps the buffer
// that allocation returned, and the error is reported once.
func TestAsyncLaunchError(t *testing.T) {
	ex := emu.New()
	ex.Async = true
	d := cuda.NewDevice(ex)
	defer d.Close()
	p, err := ex.Alloc(4 * 10)
	if err != nil {
		t.Fatal(err)
	}
	defer ex.Free(p)
	if err := d.Fill(p, 1, 11); err != nil { // one past the end: caught by the guard zone
		t.Fatalf("an asynchronous launch returned its failure: %v", err)
	}
	held := d.Pool().Held()
	_, err = d.Pool().GetFloats(5000)
	if !cuda.IsLaunchError(err) || !strings.Contains(err.Error(), "misc.fill") || !strings.Contains(err.Error(), "reported by Alloc") {
		t.Fatalf("allocation after a failed launch: %v", err)
	}
	if d.Pool().Held() <= held {
		t.Error("the buffer allocated with the error was dropped")
	}
	if err := d.Sync(); err != nil {
		t.Errorf("reported twice: %v", err)
	}
}
