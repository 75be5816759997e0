//go:build cgo

package emu_test

import (
	"bytes"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/goinception/googlenet/cuda"
	"github.com/goinception/googlenet/cuda/emu"
	"github.com/goinception/googlenet/ops"
	"github.com/goinception/googlenet/ops/opstest"
)

// libEngine returns an engine on the emulation whose device uses the fake
// cuDNN and/or cuBLAS (fakelib.cc) through purego, and the log it writes.
func libEngine(t *testing.T, dnn, blas bool, o cuda.LibOptions) (*cuda.Engine, *bytes.Buffer) {
	t.Helper()
	libs, err := emu.FakeLibraries(dnn, blas)
	if err != nil {
		t.Fatal(err)
	}
	e := cuda.NewEngineOn(emu.New())
	t.Cleanup(func() {
		if err := e.Close(); err != nil {
			t.Error(err)
		}
	})
	var log bytes.Buffer
	o.Log = &log
	if err := e.Device().UseLibraries(libs, o); err != nil {
		t.Fatalf("%+v", err)
	}
	return e, &log
}

// TestCuDNNEngine runs the engine conformance suite (every convolution
// geometry forward, backward data, backward filter with and without bias)
// with convolutions through the fake cuDNN: descriptors, strides, algorithm
// choice, workspace and argument marshalling through purego. The asymmetric
// padding geometry must fall back to the PTX kernels, and say so.
func TestCuDNNEngine(t *testing.T) {
	before := emu.FakeCalls("cudnnConvolutionForward")
	e, log := libEngine(t, true, false, cuda.LibOptions{})
	opstest.TestEngine(t, e)
	if emu.FakeCalls("cudnnConvolutionForward") == before {
		t.Error("no convolution ran through cuDNN")
	}
	for _, call := range []string{"cudnnConvolutionBackwardData", "cudnnConvolutionBackwardFilter", "cudnnConvolutionBackwardBias", "cudnnAddTensor", "cudnnActivationForward"} {
		if emu.FakeCalls(call) == 0 {
			t.Errorf("%s never called", call)
		}
	}
	out := log.String()
	t.Logf("log:\n%s", out)
	if !strings.Contains(out, "cuda: fake cuDNN") && !strings.Contains(out, "fake cuDNN (emulation)") {
		t.Error("the log does not name the loaded cuDNN")
	}
	if n := strings.Count(out, ": PTX kernels (asymmetric padding"); n != 1 {
		t.Errorf("%d asymmetric-padding fallback lines, want 1", n)
	}
	// One line per shape: every geometry of the suite appears once.
	if n := strings.Count(out, "cuda: conv "); n != len(opstest.Geometries) {
		t.Errorf("%d conv lines for %d geometries", n, len(opstest.Geometries))
	}
	// The fake offers its fastest algorithm (7) with a workspace within
	// the default bound for these small shapes.
	if !strings.Contains(out, "forward algo 7") {
		t.Error("the fastest algorithm within the workspace bound was not chosen")
	}
}

// TestCuDNNWorkspaceBound: with a bound below what the faster algorithms
// need, the one without a workspace is chosen, and results still match.
func TestCuDNNWorkspaceBound(t *testing.T) {
	e, log := libEngine(t, true, false, cuda.LibOptions{WorkspaceBytes: 1})
	g := opstest.Geometries[5].G // 5x5/pad2
	checkConv(t, e, g)
	if !strings.Contains(log.String(), "forward algo 5, backward-data algo 5, backward-filter algo 5, workspace 0.0 MiB") {
		t.Errorf("log %q: want the zero-workspace algorithm 5", log.String())
	}
}

// checkConv compares a forward convolution with bias and ReLU on e with
// ops.Reference.
func checkConv(t *testing.T, e ops.Engine, g ops.ConvGeom) {
	t.Helper()
	rng := rand.New(rand.NewPCG(1, 2))
	rnd := func(n int) []float32 {
		v := make([]float32, n)
		for i := range v {
			v[i] = float32(rng.NormFloat64())
		}
		return v
	}
	x, w, b := rnd(g.N*g.C*g.H*g.W), rnd(g.K*g.C*g.R*g.S), rnd(g.K)
	want, got := make([]float32, g.N*g.K*g.OutH*g.OutW), make([]float32, g.N*g.K*g.OutH*g.OutW)
	if err := (ops.Reference{}).ConvForward(g, x, w, b, want, true); err != nil {
		t.Fatal(err)
	}
	if err := e.ConvForward(g, x, w, b, got, true); err != nil {
		t.Fatalf("%+v", err)
	}
	for i := range want {
		if d := math.Abs(float64(got[i] - want[i])); d > 1e-4*(1+math.Abs(float64(want[i]))) {
			t.Fatalf("y[%d] = %v, reference %v", i, got[i], want[i])
		}
	}
}

// TestCuDNNMathModes: TF32 is allowed by default (cuDNN default math,
// cuBLAS TF32 tensor-op math, as PyTorch), and StrictFP32 asks for FMA
// math and cuBLAS's default math; both libraries get the executor's
// stream.
func TestCuDNNMathModes(t *testing.T) {
	for _, strict := range []bool{false, true} {
		e, log := libEngine(t, true, true, cuda.LibOptions{StrictFP32: strict})
		checkConv(t, e, opstest.Geometries[3].G)
		dm, bm, ds, bs := emu.FakeModes()
		wantD, wantB, word := 0, 3, "TF32 allowed"
		if strict {
			wantD, wantB, word = 3, 0, "strict FP32"
		}
		if dm != wantD || bm != wantB {
			t.Errorf("strict=%v: cuDNN math %d, cuBLAS math %d; want %d, %d", strict, dm, bm, wantD, wantB)
		}
		if ds != e.Device().Executor().(cuda.LibraryHost).Stream() || bs != ds {
			t.Errorf("streams %#x, %#x: not the executor's", ds, bs)
		}
		if !strings.Contains(log.String(), word) {
			t.Errorf("log %q does not say %q", log.String(), word)
		}
	}
}

// TestCuBLASEngine runs the conformance suite with GEMMs through the fake
// cuBLAS (row-major calls mapped to column-major, all transposes, leading
// dimensions wider than the rows) and convolutions on the PTX kernels,
// whose plain batched GEMMs (backward filter) go to cuBLAS too.
func TestCuBLASEngine(t *testing.T) {
	before := emu.FakeCalls("cublasSgemm_v2") + emu.FakeCalls("cublasSgemmStridedBatched")
	e, log := libEngine(t, false, true, cuda.LibOptions{})
	opstest.TestEngine(t, e)
	if emu.FakeCalls("cublasSgemm_v2") == 0 || emu.FakeCalls("cublasSgemmStridedBatched") == 0 {
		t.Error("cuBLAS's sgemm or strided-batched sgemm never called")
	}
	if emu.FakeCalls("cublasSgemm_v2")+emu.FakeCalls("cublasSgemmStridedBatched") == before {
		t.Error("no GEMM ran through cuBLAS")
	}
	out := log.String()
	if !strings.Contains(out, "cuDNN not loaded") || !strings.Contains(out, "PTX kernels (cuDNN not loaded)") {
		t.Errorf("log %q does not say the convolutions run on the PTX kernels", out)
	}
}

// TestCuDNNErrors: a failing library call is an error naming the call and
// cuDNN's status (here a device pointer that is no allocation); with
// asynchronous launches it is reported by the next synchronous call as an
// earlier launch's failure.
func TestCuDNNErrors(t *testing.T) {
	e, _ := libEngine(t, true, true, cuda.LibOptions{})
	d := e.Device()
	g := opstest.Geometries[3].G
	x, err := d.Pool().GetFloats(g.N * g.C * g.H * g.W)
	if err != nil {
		t.Fatal(err)
	}
	w, _ := d.Pool().GetFloats(g.K * g.C * g.R * g.S)
	bogus := cuda.Ptr(999 << 40)
	err = d.ConvForward(g, x, w, 0, bogus, false)
	if err == nil || !strings.Contains(err.Error(), "cudnnConvolutionForward") || !strings.Contains(err.Error(), "CUDNN_STATUS_BAD_PARAM") {
		t.Errorf("bad output pointer: %v", err)
	}
	if err := d.Gemm(false, false, 2, 2, 2, 1, x, 2, bogus, 2, 0, w, 2); err == nil || !strings.Contains(err.Error(), "CUBLAS_STATUS_INVALID_VALUE") {
		t.Errorf("bad GEMM operand: %v", err)
	}

	ex := d.Executor().(*emu.Executor)
	ex.Async = true
	defer func() { ex.Async = false }()
	if err := d.ConvForward(g, x, w, 0, bogus, false); err != nil {
		t.Fatalf("an asynchronous failure was returned by the call itself: %v", err)
	}
	err = d.Sync()
	if !cuda.IsLaunchError(err) || !strings.Contains(err.Error(), "reported by Sync") || !strings.Contains(err.Error(), "cudnnConvolutionForward") {
		t.Errorf("Sync after a failed asynchronous cuDNN call: %v", err)
	}
	if err := d.Sync(); err != nil {
		t.Errorf("the failure was reported twice: %v", err)
	}
}

// TestCuDNNNetStep runs a whole training step of the small paper network
// with convolutions through the fake cuDNN (branch outputs written into
// channel views of the module outputs through strided descriptors) and
// the GEMMs through the fake cuBLAS, against the CPU graph.
func TestCuDNNNetStep(t *testing.T) {
	libs, err := emu.FakeLibraries(true, true)
	if err != nil {
		t.Fatal(err)
	}
	var log bytes.Buffer
	checkNetVsCPUOn(t, tinyPaper(), func(d *cuda.Device) {
		if err := d.UseLibraries(libs, cuda.LibOptions{Log: &log}); err != nil {
			t.Fatal(err)
		}
	})
	if !strings.Contains(log.String(), ": cuDNN (forward algo") {
		t.Errorf("no layer ran on cuDNN:\n%s", log.String())
	}
}

// TestLibrarySearch checks where the loader looks: the directories of
// GOOGLENET_CUDA_LIBS first, then Python wheels' nvidia/*/lib folders; a
// file that is not a loadable library is reported with its path and the
// loader's error, and nothing is bound; "none" loads nothing.
func TestLibrarySearch(t *testing.T) {
	dir := t.TempDir()
	venv := t.TempDir()
	wheel := filepath.Join(venv, "lib", "python3.11", "site-packages", "nvidia", "cudnn", "lib")
	if err := os.MkdirAll(wheel, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{filepath.Join(dir, "libcudnn.so.9"), filepath.Join(wheel, "libcudnn.so.9")} {
		if err := os.WriteFile(p, []byte("not a library"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv(cuda.EnvLibs, dir)
	t.Setenv("VIRTUAL_ENV", venv)
	dirs := cuda.LibraryDirs()
	if len(dirs) < 2 || dirs[0] != dir || !contains(dirs, wheel) {
		t.Fatalf("LibraryDirs = %v: want %s first and %s", dirs, dir, wheel)
	}
	l := cuda.FindLibraries()
	if l.DNN() {
		t.Fatal("a file that is not a library was bound as cuDNN")
	}
	notes := strings.Join(l.Notes, "\n")
	for _, p := range []string{filepath.Join(dir, "libcudnn.so.9"), filepath.Join(wheel, "libcudnn.so.9")} {
		if !strings.Contains(notes, p) {
			t.Errorf("notes do not name %s:\n%s", p, notes)
		}
	}
	t.Setenv(cuda.EnvLibs, "none")
	if l := cuda.FindLibraries(); l.DNN() || l.BLAS() || !strings.Contains(strings.Join(l.Notes, ""), "none") {
		t.Errorf("%s=none: %+v", cuda.EnvLibs, l)
	}
}

// TestLibraryMissingEntryPoint: a library without an entry point we call
// is refused with the name of the entry point.
func TestLibraryMissingEntryPoint(t *testing.T) {
	var l cuda.Libraries
	err := l.BindDNN("partial", func(name string) (uintptr, error) {
		if name == "cudnnConvolutionBackwardBias" {
			return 0, os.ErrNotExist
		}
		return 1, nil // never called: binding stops at the missing one
	})
	if err == nil || !strings.Contains(err.Error(), "cudnnConvolutionBackwardBias") || l.DNN() {
		t.Errorf("BindDNN with a missing entry point: %v", err)
	}
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}
