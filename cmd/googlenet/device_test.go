package main

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/goinception/googlenet/cuda"
	"github.com/goinception/googlenet/eval"
	"github.com/goinception/googlenet/inception"
	"github.com/goinception/googlenet/interchange/safetensors"
)

// foreignTol bounds the difference between the logits of a foreign file
// loaded directly by --weights and those of the checkpoint `googlenet
// import` makes of it: the same float32 weights, so only the order of
// float32 sums may differ.
const foreignTol = 1e-4

// TestDeviceFlag checks --device on every command that computes: gpu is a
// usage error naming the gpu build in a default build, an unknown device
// is a usage error, and cpu runs (infer).
func TestDeviceFlag(t *testing.T) {
	dir := t.TempDir()
	ck := testCheckpoint(t, dir, 1)
	in, out := filepath.Join(dir, "x.npy"), filepath.Join(dir, "y.npy")
	if err := eval.WriteNpy(in, &eval.Array{Shape: []int{1, 1, 28, 28}, Data: make([]float32, 784)}); err != nil {
		t.Fatal(err)
	}
	cmds := map[string][]string{
		"train":   {"train", "--variant", "mini", "--data", "synthetic", "--out", filepath.Join(dir, "run")},
		"eval":    {"eval", "--weights", ck},
		"predict": {"predict", "--weights", ck},
		"infer":   {"infer", "--weights", ck, "--in", in, "--out", out},
		"bench":   {"bench", "--variant", "mini"},
	}
	for name, args := range cmds {
		if !cuda.Built {
			a := append(append([]string(nil), args...), "--device", "gpu")
			if name == "predict" {
				a = append(a, "img.png")
			}
			code, _, e := runArgs(a...)
			if code != 2 || !strings.Contains(e, "built without GPU support: go build -tags gpu ./cmd/googlenet, see docs/GPU.md") {
				t.Errorf("%s --device gpu: exit %d, stderr %q", name, code, e)
			}
		}
		a := append(append([]string(nil), args...), "--device", "tpu")
		if name == "predict" {
			a = append(a, "img.png")
		}
		code, _, e := runArgs(a...)
		if code != 2 || !strings.Contains(e, `--device "tpu" unknown`) {
			t.Errorf("%s --device tpu: exit %d, stderr %q", name, code, e)
		}
		if name == "bench" {
			continue
		}
		a = append(append([]string(nil), args...), "--strict-fp32")
		if name == "predict" {
			a = append(a, "img.png")
		}
		code, _, e = runArgs(a...)
		if code != 2 || !strings.Contains(e, "--strict-fp32 is for --device gpu") {
			t.Errorf("%s --strict-fp32 on the CPU: exit %d, stderr %q", name, code, e)
		}
	}
	if fileExists(filepath.Join(dir, "run")) {
		t.Error("train with a bad --device created its output folder")
	}
	code, _, e := runArgs("infer", "--weights", ck, "--in", in, "--out", out, "--device", "cpu", "--engine", "reference")
	if code != 0 {
		t.Fatalf("infer --device cpu: exit %d: %s", code, e)
	}
	if _, err := eval.ReadNpy(out); err != nil {
		t.Error(err)
	}
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// inferLogits runs `googlenet infer` on x with weights and returns the
// logits.
func inferLogits(t *testing.T, dir, weights string, x *eval.Array, extra ...string) []float32 {
	t.Helper()
	in, out := filepath.Join(dir, "in.npy"), filepath.Join(dir, "out.npy")
	if err := eval.WriteNpy(in, x); err != nil {
		t.Fatal(err)
	}
	args := append([]string{"infer", "--weights", weights, "--in", in, "--out", out}, extra...)
	code, _, e := runArgs(args...)
	if code != 0 {
		t.Fatalf("infer --weights %s: exit %d: %s", filepath.Base(weights), code, e)
	}
	y, err := eval.ReadNpy(out)
	if err != nil {
		t.Fatal(err)
	}
	return y.Data
}

func compareLogits(t *testing.T, what string, got, want []float32) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d logits, want %d", what, len(got), len(want))
	}
	for i := range got {
		if math.Abs(float64(got[i]-want[i])) > foreignTol {
			t.Fatalf("%s: logit %d = %v, want %v", what, i, got[i], want[i])
		}
	}
}

// TestForeignWeightsONNX checks that --weights reads an ONNX file the
// way `googlenet import` does, and that a truncated one is an error.
func TestForeignWeightsONNX(t *testing.T) {
	dir := t.TempDir()
	ckPath, _ := miniCheckpoint(t, dir)
	onnxPath := filepath.Join(dir, "mini.onnx")
	if code, _, e := runArgs("export", "--format", "onnx", ckPath, "--out", onnxPath); code != 0 {
		t.Fatalf("export: exit %d: %s", code, e)
	}
	imported := filepath.Join(dir, "imported.safetensors")
	if code, _, e := runArgs("import", "--from", "onnx", onnxPath, "--out", imported); code != 0 {
		t.Fatalf("import: exit %d: %s", code, e)
	}
	x := &eval.Array{Shape: []int{2, 1, 28, 28}, Data: make([]float32, 2*784)}
	for i := range x.Data {
		x.Data[i] = float32(math.Sin(float64(i) / 7))
	}
	want := inferLogits(t, dir, imported, x)
	got := inferLogits(t, dir, onnxPath, x)
	compareLogits(t, "infer --weights mini.onnx", got, want)

	b, err := os.ReadFile(onnxPath)
	if err != nil {
		t.Fatal(err)
	}
	trunc := filepath.Join(dir, "trunc.onnx")
	if err := os.WriteFile(trunc, b[:len(b)/2], 0o644); err != nil {
		t.Fatal(err)
	}
	in := filepath.Join(dir, "in.npy")
	code, _, e := runArgs("infer", "--weights", trunc, "--in", in, "--out", filepath.Join(dir, "never.npy"))
	if code != 1 || !strings.Contains(e, "eval: load weights") {
		t.Errorf("infer of a truncated .onnx: exit %d, stderr %q", code, e)
	}
	if fileExists(filepath.Join(dir, "never.npy")) {
		t.Error("a failed infer wrote its output")
	}
	// --variant still guards foreign files.
	code, _, e = runArgs("infer", "--weights", onnxPath, "--variant", "paper", "--in", in, "--out", filepath.Join(dir, "never.npy"))
	if code != 1 || !strings.Contains(e, `holds a "mini" model, not "paper"`) {
		t.Errorf("infer --variant paper of a mini .onnx: exit %d, stderr %q", code, e)
	}
}

// tvStateDictFile writes a torchvision GoogLeNet state dict of the given
// classes (with aux heads, made-up running statistics) to path as
// safetensors, keyed as torchvision names them.
func tvStateDictFile(t *testing.T, path string, classes int) {
	t.Helper()
	cfg := inception.Torchvision()
	cfg.Classes, cfg.BatchSize, cfg.Seed = classes, 1, 7
	m, err := inception.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var ts []safetensors.Tensor
	add := func(ours string, shape []int, v []float32) {
		k, err := inception.TorchvisionName(ours)
		if err != nil {
			t.Fatal(err)
		}
		st, err := safetensors.NewF32(k, shape, v)
		if err != nil {
			t.Fatal(err)
		}
		ts = append(ts, st)
	}
	for _, p := range m.Params() {
		add(p.Name, p.Shape, p.Value.Data().([]float32))
	}
	for i, e := range m.BNStats() {
		mean, vr := make([]float32, len(e.Stats.Mean)), make([]float32, len(e.Stats.Var))
		for j := range mean {
			mean[j] = 0.01 * float32((i+j)%5-2)
			vr[j] = 0.7 + 0.1*float32((i+j)%3)
		}
		add(e.Name+"/running_mean", []int{len(mean)}, mean)
		add(e.Name+"/running_var", []int{len(vr)}, vr)
	}
	if err := safetensors.WriteFile(path, ts, nil); err != nil {
		t.Fatal(err)
	}
}

// TestForeignWeightsStateDict checks that --weights reads a torchvision
// state dict saved as .safetensors the way `googlenet import --from
// torchvision` does (about a second: one 224x224 image).
func TestForeignWeightsStateDict(t *testing.T) {
	dir := t.TempDir()
	sdPath := filepath.Join(dir, "tv.safetensors")
	tvStateDictFile(t, sdPath, 5)
	imported := filepath.Join(dir, "imported.safetensors")
	if code, _, e := runArgs("import", "--from", "torchvision", sdPath, "--out", imported, "--input-size", "224"); code != 0 {
		t.Fatalf("import: exit %d: %s", code, e)
	}
	x := &eval.Array{Shape: []int{1, 3, 224, 224}, Data: make([]float32, 3*224*224)}
	for i := range x.Data {
		x.Data[i] = float32(math.Cos(float64(i) / 11))
	}
	want := inferLogits(t, dir, imported, x)
	got := inferLogits(t, dir, sdPath, x)
	compareLogits(t, "infer --weights tv.safetensors", got, want)
}
