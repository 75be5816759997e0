package train

import (
	"context"
	"fmt"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/goinception/googlenet/checkpoint"
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
	cfg.LRMult = []Mult{{"loss3/classifier", 10}}
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
		{func(c *Config) { c.LRMult = []Mult{{"nothing/", 2}} }, `"nothing/"`},
		{func(c *Config) { c.LRMult = []Mult{{"conv1/", 0}} }, "freeze parameters instead"},
		{func(c *Config) { c.FreezeThrough = "inception_9z" }, `no layer "inception_9z"`},
		{func(c *Config) { c.Model.Variant = "paper" }, `holds a "mini" model`},
		{func(c *Config) { c.Data = "synthetic:classes=3,train=48,val=12,size=28,channels=3,seed=9" }, "the dataset has 3"},
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
