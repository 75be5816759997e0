package main

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/goinception/googlenet/eval"
)

// inferTol bounds the difference between logits of the same images computed
// in batches of different sizes.
const inferTol = 1e-4

func TestInferRoundTrip(t *testing.T) {
	dir := t.TempDir()
	ck := testCheckpoint(t, dir, 3)
	x := &eval.Array{Shape: []int{3, 1, 28, 28}, Data: make([]float32, 3*784)}
	for i := range x.Data {
		x.Data[i] = float32(math.Cos(float64(i) / 9))
	}
	in, out := filepath.Join(dir, "x.npy"), filepath.Join(dir, "y.npy")
	if err := eval.WriteNpy(in, x); err != nil {
		t.Fatal(err)
	}
	code, o, e := runArgs("infer", "--weights", ck, "--in", in, "--out", out, "--batch", "2", "--engine", "reference")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, e)
	}
	if !strings.Contains(o, "logits [3 4]") {
		t.Errorf("stdout %q", o)
	}
	y, err := eval.ReadNpy(out)
	if err != nil {
		t.Fatal(err)
	}
	m, _, err := eval.LoadModel(ck, eval.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want, err := eval.Infer(m, x, 3)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(y.Shape) != "[3 4]" {
		t.Fatalf("shape %v", y.Shape)
	}
	for i := range want.Data {
		if math.Abs(float64(y.Data[i]-want.Data[i])) > inferTol {
			t.Errorf("logit %d: %v, want %v", i, y.Data[i], want.Data[i])
		}
	}
}

func TestInferExitCodes(t *testing.T) {
	dir := t.TempDir()
	ck := testCheckpoint(t, dir, 1)
	wrong := filepath.Join(dir, "wrong.npy")
	if err := eval.WriteNpy(wrong, &eval.Array{Shape: []int{2, 3, 28, 28}, Data: make([]float32, 2*3*784)}); err != nil {
		t.Fatal(err)
	}
	garbage := filepath.Join(dir, "garbage.npy")
	if err := os.WriteFile(garbage, []byte("hello"), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "y.npy")
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"infer", "--weights", ck, "--in", wrong}, 2, "--out are required"},
		{[]string{"infer", "--weights", ck, "--in", wrong, "--out", out, "--batch", "0"}, 2, "--batch 0"},
		{[]string{"infer", "--weights", ck, "--in", wrong, "--out", out, "x"}, 2, "unexpected arguments"},
		{[]string{"infer", "--weights", ck, "--in", wrong, "--out", out, "--engine", "reference"}, 1, "wrong.npy: eval: input of shape [2 3 28 28], the mini model takes NCHW [N, 1, 28, 28]"},
		{[]string{"infer", "--weights", ck, "--in", garbage, "--out", out, "--engine", "reference"}, 1, "garbage.npy: not a .npy file"},
		{[]string{"infer", "--weights", ck, "--in", filepath.Join(dir, "none.npy"), "--out", out, "--engine", "reference"}, 1, "none.npy"},
		{[]string{"infer", "--weights", ck, "--variant", "torchvision", "--in", wrong, "--out", out, "--engine", "reference"}, 1, `not "torchvision"`},
	} {
		code, _, e := runArgs(c.args...)
		if code != c.code || !strings.Contains(e, c.want) {
			t.Errorf("%q: exit %d (want %d), stderr %q (want %q)", c.args, code, c.code, e, c.want)
		}
		checkNoTrace(t, c.args, e)
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("a failed run left %s", out)
	}
}

// TestInferDeclaredOutput: for an ONNX file ending in Softmax, infer writes
// what the file computes (probabilities), and the logits with --logits.
func TestInferDeclaredOutput(t *testing.T) {
	dir := t.TempDir()
	ck := testCheckpoint(t, dir, 3)
	onnxPath := filepath.Join(dir, "prob.onnx")
	if code, _, e := runArgs("export", "--format", "onnx", ck, "--out", onnxPath, "--softmax"); code != 0 {
		t.Fatalf("export: exit %d: %s", code, e)
	}
	x := &eval.Array{Shape: []int{2, 1, 28, 28}, Data: make([]float32, 2*784)}
	for i := range x.Data {
		x.Data[i] = float32(math.Sin(float64(i) / 7))
	}
	in := filepath.Join(dir, "x.npy")
	if err := eval.WriteNpy(in, x); err != nil {
		t.Fatal(err)
	}
	run := func(extra ...string) (*eval.Array, string) {
		out := filepath.Join(dir, "y.npy")
		code, o, e := runArgs(append([]string{"infer", "--weights", onnxPath, "--in", in, "--out", out}, extra...)...)
		if code != 0 {
			t.Fatalf("infer %v: exit %d: %s", extra, code, e)
		}
		y, err := eval.ReadNpy(out)
		if err != nil {
			t.Fatal(err)
		}
		return y, o
	}
	p, o := run()
	if !strings.Contains(o, "probabilities") {
		t.Errorf("stdout %q", o)
	}
	l, o := run("--logits")
	if !strings.Contains(o, "logits [2 4]") {
		t.Errorf("stdout %q", o)
	}
	for r := 0; r < 2; r++ {
		var sum, z float64
		for _, v := range l.Data[r*4 : r*4+4] {
			z += math.Exp(float64(v))
		}
		for k := 0; k < 4; k++ {
			sum += float64(p.Data[r*4+k])
			if want := math.Exp(float64(l.Data[r*4+k])) / z; math.Abs(float64(p.Data[r*4+k])-want) > 1e-6 {
				t.Errorf("row %d class %d: probability %v, softmax of the logits %v", r, k, p.Data[r*4+k], want)
			}
		}
		if math.Abs(sum-1) > 1e-5 {
			t.Errorf("row %d sums to %v", r, sum)
		}
	}
}
