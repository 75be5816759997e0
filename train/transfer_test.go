package train

import (
	"context"
	"fmt"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/goinception/googlenet/checkpoint"
	"github.com/goinception/googlenet/preprocess"
	"github.com/goinception/googlenet/solvers"
)

// pretrained trains a small source model on synth (4 classes) and returns
// its model file.
func pretrained(t *testing.T) string {
	t.Helper()
	out := t.TempDir()
	cfg := smallConfig(out)
	cfg.Epochs = 1
	res, err := Run(context.Background(), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	return res.Model
}

type logs struct {
	Nop
	lines []string
}

func (l *logs) Logf(format string, a ...interface{}) {
	l.lines = append(l.lines, fmt.Sprintf(format, a...))
}

// TestFreezeBitIdentical fine-tunes with the stem and the first module
// frozen, momentum, weight decay and Polyak averaging on, and checks that
// the frozen weights and their batch-norm statistics are bit-identical to
// the source's in the last checkpoint and in the (averaged) final model,
// while every other weight moved.
func TestFreezeBitIdentical(t *testing.T) {
	src := pretrained(t)
	out := t.TempDir()
	cfg := smallConfig(out)
	cfg.Data = "synthetic:classes=3,train=48,val=12,size=28,channels=1,seed=9"
	cfg.InitFrom, cfg.Epochs, cfg.StepsPerEpoch = src, 1, 4
	cfg.Freeze = []string{"conv1/", "inception_3a/"}
	cfg.LRMult = []Mult{{Prefix: "loss3/classifier", Value: 10}}
	cfg.Polyak = true
	rep := &logs{}
	res, err := Run(context.Background(), cfg, rep)
	if err != nil {
		t.Fatal(err)
	}
	joined := strings.Join(rep.lines, "\n")
	if !strings.Contains(joined, "re-initialised") || !strings.Contains(joined, "new classes") {
		t.Errorf("no init summary line in %q", joined)
	}
	before, err := checkpoint.Load(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{res.Checkpoint, res.Model} {
		after, err := checkpoint.Load(path)
		if err != nil {
			t.Fatal(err)
		}
		frozen, moved := 0, 0
		for name, w := range after.Weights {
			b, ok := before.Weights[name]
			isFrozen := strings.HasPrefix(name, "conv1/") || strings.HasPrefix(name, "inception_3a/")
			if !ok || len(b.Float32) != len(w.Float32) {
				if isFrozen || !strings.Contains(name, "classifier") {
					t.Errorf("%s: %s missing or reshaped", path, name)
				}
				continue
			}
			same := true
			for i := range w.Float32 {
				if math.Float32bits(w.Float32[i]) != math.Float32bits(b.Float32[i]) {
					same = false
					break
				}
			}
			switch {
			case isFrozen && !same:
				t.Errorf("%s: frozen %s changed", filepath.Base(path), name)
			case isFrozen:
				frozen++
			case same:
				t.Errorf("%s: trainable %s did not move", filepath.Base(path), name)
			default:
				moved++
			}
		}
		for name, v := range after.Stats {
			b := before.Stats[name]
			isFrozen := strings.HasPrefix(name, "conv1/") || strings.HasPrefix(name, "inception_3a/")
			same := len(b) == len(v)
			for i := range v {
				same = same && math.Float64bits(v[i]) == math.Float64bits(b[i])
			}
			if isFrozen != same {
				t.Errorf("%s: statistic %s unchanged = %v, frozen = %v", filepath.Base(path), name, same, isFrozen)
			}
		}
		if frozen == 0 || moved == 0 {
			t.Errorf("%s: %d frozen, %d moved", path, frozen, moved)
		}
		if len(after.Meta.Frozen) != frozen {
			t.Errorf("%s: metadata names %d frozen tensors, %d found", path, len(after.Meta.Frozen), frozen)
		}
	}
	// Resuming a finished run with more epochs keeps the frozen set.
	cfg.Epochs, cfg.Resume = 2, true
	if _, err := Run(context.Background(), cfg, nil); err != nil {
		t.Fatalf("resume: %v", err)
	}
	cfg.Freeze = []string{"conv1/"}
	if _, err := Run(context.Background(), cfg, nil); err == nil || !strings.Contains(err.Error(), "Freeze") {
		t.Errorf("resume with another freeze set: %v", err)
	}
}

// TestInitFromErrors covers the bad inputs of InitFrom, Freeze and the
// multipliers: each fails before training with an error that names it.
func TestInitFromErrors(t *testing.T) {
	src := pretrained(t)
	for _, c := range []struct {
		edit func(*Config)
		want string
	}{
		{func(c *Config) { c.InitFrom = filepath.Join(t.TempDir(), "none.safetensors") }, "none.safetensors"},
		{func(c *Config) { c.Freeze = []string{"inception_9"} }, `"inception_9"`},
		{func(c *Config) { c.LRMult = []Mult{{Prefix: "nothing/", Value: 2}} }, `"nothing/"`},
		{func(c *Config) { c.LRMult = []Mult{{Prefix: "conv1/", Value: 0}} }, "freeze parameters instead"},
		{func(c *Config) { c.FreezeThrough = "inception_9z" }, `no layer "inception_9z"`},
		{func(c *Config) { c.Model.Variant = "paper" }, `holds a "mini" model`},
		{func(c *Config) { c.Data = "synthetic:classes=3,train=48,val=12,size=28,channels=3,seed=9" }, "the dataset has 3"},
		{func(c *Config) { in := preprocess.Torchvision(); c.Input = &in }, "has 3 channels, the dataset 1"},
		{func(c *Config) { in := gray(100, 0); c.Input = &in }, "Input"},
		{func(c *Config) {
			in := preprocess.Caffe()
			c.InitFrom, c.Input = "", &in
		}, "takes BGR"},
	} {
		cfg := smallConfig(t.TempDir())
		cfg.InitFrom = src
		c.edit(&cfg)
		_, err := Run(context.Background(), cfg, nil)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("error %v, want one containing %s", err, c.want)
		}
	}
}

// TestInitFromSameClasses keeps the classifier when the classes are the
// source's and drops the auxiliary heads with NoAux.
func TestInitFromSameClasses(t *testing.T) {
	src := pretrained(t)
	cfg := smallConfig(t.TempDir())
	cfg.InitFrom, cfg.Epochs, cfg.StepsPerEpoch, cfg.NoAux = src, 1, 1, true
	rep := &logs{}
	if _, err := Run(context.Background(), cfg, rep); err != nil {
		t.Fatal(err)
	}
	var line string
	for _, l := range rep.lines {
		if strings.HasPrefix(l, "init from") {
			line = l
		}
	}
	if !strings.Contains(line, " 0 re-initialised") || strings.Contains(line, " 0 dropped") || strings.Contains(line, "new classes") {
		t.Errorf("init line %q: want nothing re-initialised and the aux heads dropped", line)
	}
}

// gray is a one-channel contract on the 0..255 scale.
func gray(mean, std float32) preprocess.Contract {
	return preprocess.Contract{Name: "test", Channels: preprocess.Gray, Scale: 255, Means: []float32{mean},
		Stds: []float32{std}, Resize: preprocess.Whole, Size: 28, Crop: 28, Interp: preprocess.Bilinear}
}

// TestInitFromInput: Config.Input replaces the source's input contract
// (the run normalises with it and records it), with or without InitFrom.
func TestInitFromInput(t *testing.T) {
	src := pretrained(t)
	for _, init := range []string{src, ""} {
		cfg := smallConfig(t.TempDir())
		cfg.InitFrom, cfg.Epochs, cfg.StepsPerEpoch = init, 1, 1
		in := gray(100, 50)
		cfg.Input = &in
		rep := &logs{}
		res, err := Run(context.Background(), cfg, rep)
		if err != nil {
			t.Fatal(err)
		}
		ck, err := checkpoint.Load(res.Model)
		if err != nil {
			t.Fatal(err)
		}
		if len(ck.Meta.Means) != 1 || math.Abs(float64(ck.Meta.Means[0])-100) > contractTol ||
			len(ck.Meta.Stds) != 1 || math.Abs(float64(ck.Meta.Stds[0])-50) > contractTol {
			t.Errorf("init %q: means %v, stds %v; want [100] and [50]", init, ck.Meta.Means, ck.Meta.Stds)
		}
		if !strings.Contains(strings.Join(rep.lines, "\n"), "input test:") {
			t.Errorf("init %q: no line says the input: %q", init, rep.lines)
		}
	}
	// A resumed run must keep the input.
	cfg := smallConfig(t.TempDir())
	cfg.InitFrom, cfg.Epochs, cfg.StepsPerEpoch = src, 1, 1
	if _, err := Run(context.Background(), cfg, nil); err != nil {
		t.Fatal(err)
	}
	in := gray(100, 50)
	cfg.Input, cfg.Resume, cfg.Epochs = &in, true, 2
	if _, err := Run(context.Background(), cfg, nil); err == nil || !strings.Contains(err.Error(), "Input") {
		t.Errorf("resume with another input: error %v, want one naming Input", err)
	}
}

// contractTol bounds float32 differences between a contract's encoding and
// (pixel - mean) / std with the folded statistics.
const contractTol = 1e-5

// TestContractStats checks that the folded means and stds encode pixels as
// each named contract does, channel orders included.
func TestContractStats(t *testing.T) {
	for _, c := range []preprocess.Contract{preprocess.Torchvision(), preprocess.TorchvisionNormalize(),
		preprocess.ONNXZoo(), preprocess.Caffe(), preprocess.Native(1, 28, []float32{33.3}, []float32{78.6}),
		preprocess.Native(3, 224, []float32{120, 115, 100}, []float32{60, 61, 62})} {
		means, stds, bgr, err := contractStats(c)
		if err != nil {
			t.Fatalf("%s: %v", c.Name, err)
		}
		if bgr != (c.Channels == preprocess.BGR) {
			t.Errorf("%s: bgr %v", c.Name, bgr)
		}
		n := c.Channels.Channels()
		const plane = 4
		rgb := make([]float32, n*plane)
		for i := range rgb {
			rgb[i] = float32((i * 37) % 256)
		}
		enc := append([]float32(nil), rgb...)
		if err := c.FromRGB(enc); err != nil {
			t.Fatal(err)
		}
		for ch := 0; ch < n; ch++ {
			src := ch // the encoded plane ch holds RGB plane src
			if bgr {
				src = 2 - ch
			}
			for i := 0; i < plane; i++ {
				// folded stats are in RGB order: the plane of RGB channel src
				got := (rgb[src*plane+i] - means[src]) / stds[src]
				if want := enc[ch*plane+i]; math.Abs(float64(got-want)) > contractTol*math.Max(1, math.Abs(float64(want))) {
					t.Errorf("%s: channel %d pixel %d: folded %v, contract %v", c.Name, ch, i, got, want)
				}
			}
		}
	}
}

// TestSwapInputChannels: a filter applied to BGR planes with the original
// weights equals the swapped filter applied to RGB planes.
func TestSwapInputChannels(t *testing.T) {
	const o, k = 2, 2
	w := make([]float32, o*3*k*k)
	for i := range w {
		w[i] = float32(i) - 5.5
	}
	ck := &checkpoint.Checkpoint{Weights: map[string]solvers.Tensor{"conv1/w": {Shape: []int{o, 3, k, k}, Float32: append([]float32(nil), w...)}}}
	if err := swapInputChannels(ck, "conv1/w"); err != nil {
		t.Fatal(err)
	}
	sw := ck.Weights["conv1/w"].Float32
	rgb := []float32{1, 2, 3, 4, 10, 20, 30, 40, 100, 200, 300, 400} // R, G, B planes of 2x2
	bgr := append(append(append([]float32(nil), rgb[8:]...), rgb[4:8]...), rgb[:4]...)
	dot := func(w, x []float32, f int) float32 {
		var s float32
		for i := 0; i < 3*k*k; i++ {
			s += w[f*3*k*k+i] * x[i]
		}
		return s
	}
	for f := 0; f < o; f++ {
		if a, b := dot(w, bgr, f), dot(sw, rgb, f); a != b {
			t.Errorf("filter %d: %v on BGR, %v swapped on RGB", f, a, b)
		}
	}
	if err := swapInputChannels(ck, "none"); err == nil {
		t.Error("missing tensor accepted")
	}
}
