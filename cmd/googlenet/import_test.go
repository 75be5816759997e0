package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gorgonia.org/tensor"

	"github.com/goinception/googlenet/checkpoint"
	"github.com/goinception/googlenet/inception"
	"github.com/goinception/googlenet/interchange/onnx"
	"github.com/goinception/googlenet/interchange/safetensors"
)

// miniCheckpoint saves a mini GoogLeNet with non-trivial batch-norm
// statistics as a checkpoint in dir and returns its path and model.
func miniCheckpoint(t *testing.T, dir string) (string, *inception.Model) {
	t.Helper()
	cfg := inception.Mini()
	cfg.BatchSize, cfg.Seed = 1, 3
	m, err := inception.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for i, e := range m.BNStats() {
		for j := range e.Stats.Mean {
			e.Stats.Mean[j] = 0.01 * float64((i+j)%5-2)
			e.Stats.Var[j] = 0.7 + 0.1*float64((i+j)%3)
		}
	}
	ck, err := checkpoint.FromModel(m, nil, checkpoint.Meta{Means: []float32{33}, Stds: []float32{78}})
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "mini.safetensors")
	if err := ck.Save(p); err != nil {
		t.Fatal(err)
	}
	return p, m
}

func forwardMini(t *testing.T, m *inception.Model) []float32 {
	t.Helper()
	v := make([]float32, 2*28*28)
	for i := range v {
		v[i] = float32(i%17)/8 - 1
	}
	y, err := m.Forward(tensor.New(tensor.WithShape(2, 1, 28, 28), tensor.WithBacking(v)))
	if err != nil {
		t.Fatal(err)
	}
	return y.Data().([]float32)
}

// entries lists a folder, to check that failed commands leave nothing behind.
func entries(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range es {
		names = append(names, e.Name())
	}
	return names
}

func TestExportImportCLI(t *testing.T) {
	dir := t.TempDir()
	ckPath, m := miniCheckpoint(t, dir)
	want := forwardMini(t, m)
	onnxPath := filepath.Join(dir, "mini.onnx")
	code, o, e := runArgs("export", "--format", "onnx", ckPath, "--out", onnxPath)
	if code != 0 {
		t.Fatalf("export: exit %d: %s", code, e)
	}
	if !strings.Contains(o, "ONNX opset 13, mini variant") {
		t.Errorf("export output %q", o)
	}
	om, err := onnx.ReadFile(onnxPath)
	if err != nil {
		t.Fatal(err)
	}
	if err := om.Validate(); err != nil {
		t.Fatal(err)
	}
	back := filepath.Join(dir, "back.safetensors")
	code, o, e = runArgs("import", "--from", "onnx", onnxPath, "--out", back, "--stds", "77")
	if code != 0 {
		t.Fatalf("import: exit %d: %s", code, e)
	}
	t.Log(strings.TrimSpace(o))
	ck, err := checkpoint.Load(back)
	if err != nil {
		t.Fatal(err)
	}
	if len(ck.Meta.Means) != 1 || ck.Meta.Means[0] != 33 {
		t.Errorf("means %v did not survive export and import", ck.Meta.Means)
	}
	if len(ck.Meta.Stds) != 1 || ck.Meta.Stds[0] != 77 {
		t.Errorf("stds %v, want --stds 77", ck.Meta.Stds)
	}
	m2, err := ck.NewModel(1)
	if err != nil {
		t.Fatal(err)
	}
	got := forwardMini(t, m2)
	for i := range got {
		if d := got[i] - want[i]; d > 1e-5 || d < -1e-5 {
			t.Fatalf("logit %d: %v after export and import, %v before", i, got[i], want[i])
		}
	}
	// Exporting with a softmax, then importing, keeps the logits.
	code, _, e = runArgs("export", "--softmax", "--out", filepath.Join(dir, "prob.onnx"), back)
	if code != 0 {
		t.Fatalf("export --softmax: exit %d: %s", code, e)
	}
}

func TestImportExportCLIErrors(t *testing.T) {
	dir := t.TempDir()
	ckPath, _ := miniCheckpoint(t, dir)
	onnxPath := filepath.Join(dir, "mini.onnx")
	if code, _, e := runArgs("export", ckPath, "--out", onnxPath); code != 0 {
		t.Fatalf("export: exit %d: %s", code, e)
	}
	good, err := os.ReadFile(onnxPath)
	if err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(dir, "bad")
	if err := os.Mkdir(bad, 0o755); err != nil {
		t.Fatal(err)
	}
	write := func(name string, b []byte) string {
		p := filepath.Join(bad, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	// A mini ONNX model with one unsupported operator.
	om, err := onnx.Parse(good)
	if err != nil {
		t.Fatal(err)
	}
	om.Graph.Nodes[3].OpType = "HardSigmoid"
	unsupported, err := onnx.Marshal(om)
	if err != nil {
		t.Fatal(err)
	}
	om.Graph.Nodes[3].OpType = "Relu"
	om.Graph.Nodes[0].Inputs[0] = om.Graph.Nodes[5].Outputs[0]
	cycle, err := onnx.Marshal(om)
	if err != nil {
		t.Fatal(err)
	}
	om, _ = onnx.Parse(good)
	om.Graph.Nodes[2].Inputs[0] = "undefined_value"
	undefined, err := onnx.Marshal(om)
	if err != nil {
		t.Fatal(err)
	}
	nanT, err := safetensors.NewF32("fc.weight", []int{1}, []float32{float32(0)})
	if err != nil {
		t.Fatal(err)
	}
	nanT.Data[3] = 0x7f // 0x7f000000: finite; make it NaN below
	nanT.Data[2] = 0xc0
	nanSD, err := safetensors.Marshal([]safetensors.Tensor{nanT}, nil)
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(bad, "out.safetensors")
	for _, tc := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no-out", []string{"import", "--from", "onnx", onnxPath}, 2, "--out is required"},
		{"no-file", []string{"import", "--from", "onnx", "--out", out}, 2, "exactly one input file"},
		{"bad-from", []string{"import", "--from", "keras", onnxPath, "--out", out}, 2, "--from"},
		{"wrong-from", []string{"import", "--from", "torchvision", onnxPath, "--out", out}, 1, "an ONNX model (--from onnx), not what --from torchvision reads"},
		{"missing", []string{"import", "--from", "onnx", filepath.Join(bad, "nope.onnx"), "--out", out}, 1, "no such file"},
		{"truncated", []string{"import", "--from", "onnx", write("t.onnx", good[:len(good)/3]), "--out", out}, 1, ""},
		{"unsupported", []string{"import", "--from", "onnx", write("u.onnx", unsupported), "--out", out}, 1, "HardSigmoid"},
		{"cycle", []string{"import", "--from", "onnx", write("c.onnx", cycle), "--out", out}, 1, "cycle"},
		{"undefined", []string{"import", "--from", "onnx", write("d.onnx", undefined), "--out", out}, 1, "undefined_value"},
		{"pickle-global", []string{"import", "--from", "torchvision", write("p.pt", []byte("\x80\x02cos\nsystem\nq\x00.")), "--out", out}, 1, "global os.system"},
		{"header-length", []string{"import", "--from", "torchvision", write("h.safetensors", []byte("\xff\xff\xff\x00\x00\x00\x00\x00{}")), "--out", out}, 1, "beyond"},
		{"magic", []string{"import", "--from", "torchvision", write("m.pth", []byte("PK\x03\x04garbage")), "--out", out}, 1, ""},
		{"nan", []string{"import", "--from", "torchvision", write("n.safetensors", nanSD), "--out", out}, 1, "NaN"},
		{"checkpoint", []string{"import", "--from", "torchvision", ckPath, "--out", out}, 1, "checkpoint"},
		{"bad-means", []string{"import", "--from", "onnx", onnxPath, "--out", out, "--means", "1,x"}, 2, "not a finite number"},
		{"means-count", []string{"import", "--from", "onnx", onnxPath, "--out", out, "--means", "1,2,3"}, 1, "--means has 3 values, the model takes 1 channels"},
		{"zero-std", []string{"import", "--from", "onnx", onnxPath, "--out", out, "--stds", "0"}, 2, "must be positive"},
		{"export-missing", []string{"export", filepath.Join(bad, "nope.safetensors"), "--out", filepath.Join(bad, "x.onnx")}, 1, "no such file"},
		{"export-format", []string{"export", "--format", "tflite", ckPath, "--out", filepath.Join(bad, "x.onnx")}, 2, "only onnx"},
		{"export-garbage", []string{"export", write("g.safetensors", []byte("12345678{garbage")), "--out", filepath.Join(bad, "x.onnx")}, 1, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := entries(t, bad)
			code, _, e := runArgs(tc.args...)
			if code != tc.code || !strings.Contains(e, tc.want) {
				t.Errorf("exit %d (want %d), stderr %q (want %q)", code, tc.code, e, tc.want)
			}
			if strings.Contains(e, "panic") {
				t.Errorf("panic: %s", e)
			}
			if after := entries(t, bad); len(after) != len(before) {
				t.Errorf("files left behind: %v -> %v", before, after)
			}
		})
	}
}
