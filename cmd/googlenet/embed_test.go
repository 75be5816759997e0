package main

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gorgonia.org/tensor"

	"github.com/goinception/googlenet/eval"
)

// embedTol bounds float32 differences between the classifier applied by
// hand to the embeddings and the logits of a full forward pass.
const embedTol = 1e-4

// TestEmbedMatchesForward embeds image files with pool5 and checks that the
// classifier applied to the rows gives the logits of the full network on
// the same preprocessed images.
func TestEmbedMatchesForward(t *testing.T) {
	dir := t.TempDir()
	ck := testCheckpoint(t, dir, 2)
	imgs := testImages(t, dir)
	out := filepath.Join(dir, "e.npy")
	code, o, e := runArgs(append([]string{"embed", "--weights", ck, "--out", out, "--batch", "3", "--engine", "reference"}, imgs...)...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, e)
	}
	if !strings.Contains(o, "pool5/drop_7x7_s1") {
		t.Errorf("stdout %q", o)
	}
	emb, err := eval.ReadNpy(out)
	if err != nil {
		t.Fatal(err)
	}
	idx, err := os.ReadFile(filepath.Join(dir, "e.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Fields(string(idx)); strings.Join(got, " ") != strings.Join(imgs, " ") {
		t.Errorf("index %q, want the images in order %q", got, imgs)
	}
	m, meta, err := eval.LoadModel(ck, eval.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cfg := m.Config()
	w, _ := m.Param("loss3/classifier/w")
	b, _ := m.Param("loss3/classifier/b")
	d := w.Shape[1]
	if len(emb.Shape) != 2 || emb.Shape[0] != len(imgs) || emb.Shape[1] != d {
		t.Fatalf("embedding shape %v, want [%d %d]", emb.Shape, len(imgs), d)
	}
	wv, bv := w.Value.Data().([]float32), b.Value.Data().([]float32)
	plane := cfg.InChannels * cfg.InputSize * cfg.InputSize
	for i, p := range imgs {
		smp, err := eval.NewFiles([]string{p}, cfg.InChannels).Sample(0)
		if err != nil {
			t.Fatal(err)
		}
		bd := smp.Image.Bounds()
		crops, err := eval.Center.Crops(bd.Dx(), bd.Dy(), cfg.InputSize)
		if err != nil {
			t.Fatal(err)
		}
		x := make([]float32, plane)
		if err := eval.RenderContract(x, smp.Image, eval.Center, crops, eval.Member{Model: m, Meta: meta}.Contract()); err != nil {
			t.Fatal(err)
		}
		logits, err := m.Forward(tensor.New(tensor.WithShape(1, cfg.InChannels, cfg.InputSize, cfg.InputSize), tensor.WithBacking(x)))
		if err != nil {
			t.Fatal(err)
		}
		lv := logits.Data().([]float32)
		for k := 0; k < cfg.Classes; k++ {
			s := float64(bv[k])
			for j := 0; j < d; j++ {
				s += float64(emb.Data[i*d+j]) * float64(wv[k*d+j])
			}
			if math.Abs(s-float64(lv[k])) > embedTol {
				t.Errorf("%s class %d: embedding·W+b = %g, forward %g", p, k, s, lv[k])
			}
		}
	}
}

func TestEmbedData(t *testing.T) {
	dir := t.TempDir()
	ck := testCheckpoint(t, dir, 3)
	out := filepath.Join(dir, "e.npy")
	idx := filepath.Join(dir, "rows.tsv")
	code, o, e := runArgs("embed", "--weights", ck, "--out", out, "--index", idx, "--layer", "inception_3a",
		"--data", "synthetic:classes=4,train=6,val=5,size=28,channels=1,seed=3", "--engine", "reference")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, e)
	}
	emb, err := eval.ReadNpy(out)
	if err != nil {
		t.Fatal(err)
	}
	m, _, err := eval.LoadModel(ck, eval.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	row, _ := m.FeatureLayer("inception_3a")
	if want := row.Output[0] * row.Output[1] * row.Output[2]; len(emb.Shape) != 2 || emb.Shape[0] != 5 || emb.Shape[1] != want {
		t.Errorf("shape %v, want [5 %d]", emb.Shape, want)
	}
	b, err := os.ReadFile(idx)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) != 5 || len(strings.Split(lines[0], "\t")) != 3 {
		t.Errorf("index %q: want 5 lines of path, label, class", b)
	}
	if !strings.Contains(o, "[5 ") {
		t.Errorf("stdout %q", o)
	}
}

func TestEmbedExitCodes(t *testing.T) {
	dir := t.TempDir()
	ck := testCheckpoint(t, dir, 1)
	imgs := testImages(t, dir)
	broken := filepath.Join(dir, "broken.png")
	if err := os.WriteFile(broken, []byte("not a png"), 0o644); err != nil {
		t.Fatal(err)
	}
	corrupt := filepath.Join(dir, "corrupt.safetensors")
	if err := os.WriteFile(corrupt, []byte("\x08\x00\x00\x00\x00\x00\x00\x00{garbage"), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "e.npy")
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"embed", "--weights", ck, imgs[0]}, 2, "--out are required"},
		{[]string{"embed", "--weights", ck, "--out", out}, 2, "image files or --data"},
		{[]string{"embed", "--weights", ck, "--out", out, "--data", "mnist", imgs[0]}, 2, "not both"},
		{[]string{"embed", "--weights", ck, "--out", out, "--layer", "inception_9z", "--engine", "reference", imgs[0]}, 2, `no layer "inception_9z"`},
		{[]string{"embed", "--weights", filepath.Join(dir, "none.safetensors"), "--out", out, "--engine", "reference", imgs[0]}, 1, "none.safetensors"},
		{[]string{"embed", "--weights", corrupt, "--out", out, "--engine", "reference", imgs[0]}, 1, "corrupt.safetensors"},
		{[]string{"embed", "--weights", ck, "--out", out, "--strict", "--engine", "reference", broken}, 1, "broken.png"},
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
	// Without --strict the broken file is skipped, the others embedded, and
	// the exit status says that something was skipped.
	code, _, e := runArgs("embed", "--weights", ck, "--out", out, "--engine", "reference", imgs[0], broken, imgs[1])
	if code != 1 || !strings.Contains(e, "broken.png") {
		t.Errorf("skip: exit %d, stderr %q", code, e)
	}
	if emb, err := eval.ReadNpy(out); err != nil || emb.Shape[0] != 2 {
		t.Errorf("skip: %v, %v", emb, err)
	}
}

// TestExportOutputsCLI: export --outputs adds pool5 as a second output;
// unknown layers and a misplaced logits are usage errors.
func TestExportOutputsCLI(t *testing.T) {
	dir := t.TempDir()
	ck := testCheckpoint(t, dir, 2)
	out := filepath.Join(dir, "m.onnx")
	code, o, e := runArgs("export", "--format", "onnx", ck, "--out", out, "--outputs", "logits,pool5")
	if code != 0 || !strings.Contains(o, "output pool5 [N 112]") {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, o, e)
	}
	for _, bad := range []string{"logits,pool9", "pool5,logits", "logits,,pool5"} {
		code, _, e := runArgs("export", "--format", "onnx", ck, "--out", filepath.Join(dir, "x.onnx"), "--outputs", bad)
		if code != 2 || !strings.Contains(e, "--outputs") {
			t.Errorf("--outputs %s: exit %d, stderr %q", bad, code, e)
		}
		checkNoTrace(t, []string{bad}, e)
	}
}
