package main

import (
	"image"
	"image/color"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/goinception/googlenet/checkpoint"
	"github.com/goinception/googlenet/data"
	"github.com/goinception/googlenet/inception"
	"github.com/goinception/googlenet/train"
)

// TestTrainTransferExitCodes: bad --init-from files, prefixes that match
// nothing, multiplier syntax, unknown layers.
func TestTrainTransferExitCodes(t *testing.T) {
	dir := t.TempDir()
	ck := testCheckpoint(t, dir, 1)
	corrupt := filepath.Join(dir, "corrupt.safetensors")
	if err := os.WriteFile(corrupt, []byte("\x10\x00\x00\x00\x00\x00\x00\x00{\"a\": garbage!!}"), 0o644); err != nil {
		t.Fatal(err)
	}
	base := func(out string, extra ...string) []string {
		return append([]string{"train", "--data", trainSynth, "--out", filepath.Join(dir, out), "--epochs", "1", "--steps", "1",
			"--batch", "4", "--engine", "reference", "--progress", "none"}, extra...)
	}
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{base("a", "--init-from", filepath.Join(dir, "none.safetensors")), 1, "none.safetensors"},
		{base("b", "--init-from", corrupt), 1, "corrupt.safetensors"},
		{base("c", "--init-from", ck, "--freeze", "inception_9"), 1, `Freeze "inception_9"`},
		{base("d", "--init-from", ck, "--freeze-through", "inception_9z"), 1, `no layer "inception_9z"`},
		{base("e", "--lr-mult", "loss3/classifier"), 2, "is not PREFIX=M"},
		{base("f", "--lr-mult", "loss3/classifier=ten"), 2, "--lr-mult"},
		{base("g", "--lr-mult", "conv1/=0"), 2, "freeze the parameters instead"},
		{base("h", "--decay-mult", "=2"), 2, "--decay-mult"},
		{base("i", "--lr-mult", "nothing/=2"), 1, `LRMult "nothing/"`},
		{base("j", "--init-from", ck, "--variant", "paper"), 2, "holds a mini model"},
		{base("k", "--freeze", "conv1/,,x"), 2, "empty prefix"},
		{base("l", "--input", "imagenet"), 2, "give --init-from"},
		{base("m", "--init-from", ck, "--input", "torchvision"), 2, "gives 3 channels"},
		{base("n", "--init-from", ck, "--input-channels", "CMYK"), 2, "--input-channels"},
		{base("o", "--init-from", ck, "--input-std", "1,x"), 2, "--input-std"},
		{base("p", "--init-from", ck, "--input-resize", "whole"), 2, "not defined: -input-resize"},
	} {
		code, _, e := runArgs(c.args...)
		if code != c.code || !strings.Contains(e, c.want) {
			t.Errorf("%q: exit %d (want %d), stderr %q (want %q)", c.args[10:], code, c.code, e, c.want)
		}
		checkNoTrace(t, c.args, e)
	}
}

// TestTrainInitInput: the --input flags change the contract that
// --init-from's weights carry; the run normalises with the result and
// records it.
func TestTrainInitInput(t *testing.T) {
	dir := t.TempDir()
	ck := testCheckpoint(t, dir, 1)
	out := filepath.Join(dir, "run")
	code, _, e := runArgs("train", "--data", trainSynth, "--out", out, "--epochs", "1", "--steps", "1", "--batch", "4",
		"--engine", "reference", "--progress", "none", "--init-from", ck, "--input-mean", "100", "--input-std", "50")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, e)
	}
	if !strings.Contains(e, "input native (changed)") {
		t.Errorf("stderr does not say the input:\n%s", e)
	}
	got, err := checkpoint.Load(filepath.Join(out, train.ModelFile))
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Meta.Means) != 1 || math.Abs(float64(got.Meta.Means[0])-100) > 1e-4 || len(got.Meta.Stds) != 1 || math.Abs(float64(got.Meta.Stds[0])-50) > 1e-4 {
		t.Errorf("model means %v, stds %v; want [100] and [50]", got.Meta.Means, got.Meta.Stds)
	}
}

// fiveClasses makes a folder dataset of 5 classes, 2 images each in train
// and val, and returns its path and class names.
func fiveClasses(t *testing.T, dir string) (string, []string) {
	t.Helper()
	folder := filepath.Join(dir, "photos")
	classes := []string{"amber", "blue", "cyan", "dune", "ember"}
	for ci, c := range classes {
		for _, split := range []string{"train", "val"} {
			if err := os.MkdirAll(filepath.Join(folder, split, c), 0o755); err != nil {
				t.Fatal(err)
			}
			for k := 0; k < 2; k++ {
				img := image.NewRGBA(image.Rect(0, 0, 40+8*k, 36))
				for y := 0; y < 36; y++ {
					for x := 0; x < 40+8*k; x++ {
						img.Set(x, y, color.RGBA{uint8(50 * ci), uint8(x * 5), uint8(y*7 + 30*k), 255})
					}
				}
				writeImage(t, filepath.Join(folder, split, c, string(rune('a'+k))+".png"), img)
			}
		}
	}
	return folder, classes
}

// paperCheckpointFile writes a paper GoogLeNet (224x224, the paper's
// architecture: LRN, no batch norm) of classes classes as our checkpoint.
func paperCheckpointFile(t *testing.T, path string, classes int) {
	t.Helper()
	cfg := inception.Paper()
	cfg.Classes, cfg.BatchSize, cfg.Seed = classes, 1, 7
	m, err := inception.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ck, err := checkpoint.FromModel(m, nil, checkpoint.Meta{Means: data.ImageNetMeans, Stds: data.ImageNetStds})
	if err != nil {
		t.Fatal(err)
	}
	if err := ck.Save(path); err != nil {
		t.Fatal(err)
	}
}

// TestTrainFineTune224 fine-tunes the 224x224 networks end to end onto a
// folder of 5 classes, trunk frozen through inception_4e: the torchvision
// network from a torchvision-layout state dict, and the paper's network
// from our checkpoint (both of 10 classes). It checks the new classifier,
// that frozen weights are bit-identical and that trained ones moved.
func TestTrainFineTune224(t *testing.T) {
	for _, c := range []struct {
		variant, file string
		write         func(*testing.T, string, int)
		frozen        []string
	}{
		{"torchvision", "tv.safetensors", tvStateDictFile, []string{"conv1/7x7_s2/w", "inception_4e/5x5/w", "inception_4e/pool_proj/bn/scale"}},
		{"paper", "paper.safetensors", paperCheckpointFile, []string{"conv1/7x7_s2/w", "conv2/3x3/w", "inception_4e/5x5/w", "inception_4e/pool_proj/b"}},
	} {
		t.Run(c.variant, func(t *testing.T) {
			dir := t.TempDir()
			sd := filepath.Join(dir, c.file)
			c.write(t, sd, 10)
			folder, classes := fiveClasses(t, dir)
			out := filepath.Join(dir, "run")
			code, o, e := runArgs("train", "--init-from", sd, "--data", "folder:"+folder, "--freeze-through", "inception_4e",
				"--lr-mult", "loss3/classifier=10", "--out", out, "--epochs", "1", "--steps", "1", "--batch", "2",
				"--eval-limit", "2", "--progress", "log", "--verbose")
			if code != 0 {
				t.Fatalf("exit %d: %s", code, e)
			}
			for _, want := range []string{"init from " + sd + ": ", " re-initialised", "new classes", "loaded conv1/7x7_s2/w", "re-initialised loss3/classifier/w", "training " + c.variant} {
				if !strings.Contains(e, want) {
					t.Errorf("stderr lacks %q:\n%s", want, e)
				}
			}
			if !strings.Contains(o, "model: ") {
				t.Errorf("stdout %q", o)
			}
			src, err := train.LoadInit(sd)
			if err != nil {
				t.Fatal(err)
			}
			got, err := checkpoint.Load(filepath.Join(out, train.ModelFile))
			if err != nil {
				t.Fatal(err)
			}
			if got.Meta.Config.Variant != c.variant || got.Meta.Config.Classes != 5 || got.Meta.Config.InputSize != 224 || strings.Join(got.Meta.Classes, ",") != strings.Join(classes, ",") {
				t.Errorf("model: %s, %d classes %v, input %d", got.Meta.Config.Variant, got.Meta.Config.Classes, got.Meta.Classes, got.Meta.Config.InputSize)
			}
			for _, name := range c.frozen {
				a, b := got.Weights[name].Float32, src.Weights.Weights[name].Float32
				if len(a) == 0 || len(a) != len(b) {
					t.Fatalf("%s: %d and %d values", name, len(a), len(b))
				}
				for i := range a {
					if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
						t.Fatalf("frozen %s[%d] changed: %v -> %v", name, i, b[i], a[i])
					}
				}
			}
			a, b := got.Weights["inception_5b/1x1/w"].Float32, src.Weights.Weights["inception_5b/1x1/w"].Float32
			moved := false
			for i := range a {
				moved = moved || a[i] != b[i]
			}
			if !moved {
				t.Error("inception_5b/1x1/w did not move")
			}
		})
	}
}
