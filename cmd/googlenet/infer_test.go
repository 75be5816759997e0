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
