package train

import (
	"context"
	"encoding/json"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/pkg/errors"
	"gorgonia.org/tensor"

	G "gorgonia.org/gorgonia"

	"github.com/goinception/googlenet/checkpoint"
	"github.com/goinception/googlenet/cpu"
	"github.com/goinception/googlenet/data"
	"github.com/goinception/googlenet/graph"
	"github.com/goinception/googlenet/ops"
)

// synth is a tiny MNIST-shaped dataset: 4 classes of 28x28 gray images.
const synth = "synthetic:classes=4,train=96,val=32,size=28,channels=1,seed=3"

func smallConfig(out string) Config {
	return Config{
		Data: synth, Epochs: 2, Batch: 8, StepsPerEpoch: 6, LR: 0.05, WeightDecay: 5e-4,
		Schedule: SchedulePoly, WarmupEpochs: 0.5, WarmupStart: 0.1, Seed: 7, Out: out, Workers: 2,
	}
}

// stopAt is a Reporter that cancels the run after global step n.
type stopAt struct {
	Nop
	n      int64
	cancel context.CancelFunc
	steps  []int64
}

func (s *stopAt) Step(p Progress) {
	s.steps = append(s.steps, p.GlobalStep)
	if p.GlobalStep == s.n {
		s.cancel()
	}
}

func TestSmoke(t *testing.T) {
	out := t.TempDir()
	cfg := smallConfig(out)
	cfg.Epochs = 3
	cfg.KeepLast = 2
	res, err := Run(context.Background(), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	ms, err := ReadMetrics(filepath.Join(out, MetricsFile))
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != 3 || len(res.Metrics) != 3 || res.Steps != 18 {
		t.Fatalf("%d metrics lines, %d in the result, %d steps; want 3, 3, 18", len(ms), len(res.Metrics), res.Steps)
	}
	// The loss falls: the last epoch's mean loss is well below the first's.
	if first, last := ms[0].Loss, ms[2].Loss; !(last < 0.7*first) {
		t.Errorf("main loss %.4f -> %.4f: not falling", first, last)
	}
	for i, m := range ms {
		if m.Epoch != i+1 || m.Step != int64(6*(i+1)) || m.Steps != 6 || m.Images != 48 || m.ValImages != 32 {
			t.Errorf("epoch line %d: %+v", i, m)
		}
		for name, v := range map[string]float64{"train_top1": m.TrainTop1, "train_top5": m.TrainTop5, "val_top1": m.ValTop1, "val_top5": m.ValTop5} {
			if v < 0 || v > 1 {
				t.Errorf("epoch %d: %s %g outside [0, 1]", m.Epoch, name, v)
			}
		}
		if m.ValTop5 != 1 || m.LR <= 0 || m.ImgPerSec <= 0 || m.WallSeconds <= 0 || m.Time == "" {
			t.Errorf("epoch %d: %+v", m.Epoch, m)
		}
	}
	const lrTol = 1e-12
	// Poly schedule with power 1 over 3 epochs of 6 steps: the last step
	// (number 18, position 17) runs at 0.05 * (1 - 17/18).
	if want := 0.05 * (1 - 17.0/18); math.Abs(ms[2].LR-want) > lrTol {
		t.Errorf("last rate %g, want %g", ms[2].LR, want)
	}
	// The schema: exactly these keys on every line.
	b, err := os.ReadFile(filepath.Join(out, MetricsFile))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"aux1_loss", "aux2_loss", "epoch", "eval_s", "images", "img_per_s", "loss", "lr", "polyak", "step",
		"steps", "time", "total_loss", "train_top1", "train_top5", "val_images", "val_loss", "val_top1", "val_top5", "wall_s"}
	for i, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		var kv map[string]interface{}
		if err := json.Unmarshal([]byte(line), &kv); err != nil {
			t.Fatalf("line %d: %v", i+1, err)
		}
		var keys []string
		for k := range kv {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		if strings.Join(keys, ",") != strings.Join(want, ",") {
			t.Errorf("line %d keys %v, want %v", i+1, keys, want)
		}
	}
	f, err := os.Open(filepath.Join(out, CurvesFile))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if img, err := png.Decode(f); err != nil || img.Bounds().Dx() < 100 {
		t.Errorf("curves.png: %v", err)
	}
	labels, err := data.ReadLabels(filepath.Join(out, LabelsFile))
	if err != nil || strings.Join(labels, " ") != "class0 class1 class2 class3" {
		t.Errorf("labels %v, %v", labels, err)
	}
	cks, err := Checkpoints(out)
	if err != nil || len(cks) != 2 || filepath.Base(cks[1]) != CheckpointName(18) || cks[1] != res.Checkpoint {
		t.Errorf("checkpoints %v (want the last 2), result %s, %v", cks, res.Checkpoint, err)
	}
	final, err := checkpoint.Load(res.Model)
	if err != nil {
		t.Fatal(err)
	}
	if final.Solver != nil || final.Meta.Epoch != 3 || len(final.Meta.Classes) != 4 || final.Meta.Config.Classes != 4 {
		t.Errorf("final model: %+v", final.Meta)
	}
	// Without --resume the folder is refused; resuming a finished run
	// trains nothing more.
	if _, err := Run(context.Background(), cfg, nil); err == nil || !strings.Contains(err.Error(), "already holds checkpoints") {
		t.Errorf("second run into the same folder: %v", err)
	}
	cfg.Resume = true
	res2, err := Run(context.Background(), cfg, nil)
	if err != nil || res2.Steps != 18 || len(res2.Metrics) != 3 {
		t.Errorf("resuming a finished run: %v, %+v", err, res2)
	}
	// A damaged metrics file is an error, not a silently lost history.
	if err := os.WriteFile(filepath.Join(out, MetricsFile), []byte("{not json\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Run(context.Background(), cfg, nil); err == nil || !strings.Contains(err.Error(), "metrics.jsonl line 1") {
		t.Errorf("resume with a damaged metrics file: %v", err)
	}
}

// weightsOf loads the checkpoint at path.
func weightsOf(t *testing.T, path string) *checkpoint.Checkpoint {
	t.Helper()
	ck, err := checkpoint.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	return ck
}

func sameBits(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			return false
		}
	}
	return true
}

func sameBits64(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Float64bits(a[i]) != math.Float64bits(b[i]) {
			return false
		}
	}
	return true
}

// TestResumeBitIdentical interrupts a run twice (in the middle of epoch 1
// and right at the end of epoch 2's training, before its evaluation) and
// resumes it; the result must equal an uninterrupted run bit for bit:
// weights, batch-norm statistics, velocities, Polyak averages and the
// per-epoch losses and accuracies.
func TestResumeBitIdentical(t *testing.T) {
	if testing.Short() {
		t.Skip("three small training runs")
	}
	checkResume(t)
}

// TestResumeBitIdenticalCPU is TestResumeBitIdentical on the engine the
// command uses by default (package cpu, OpenBLAS when present, also for
// Gorgonia's own matrix products).
func TestResumeBitIdenticalCPU(t *testing.T) {
	if testing.Short() {
		t.Skip("three small training runs")
	}
	prevBLAS := G.WhichBLAS()
	cpu.UseWithGorgonia()
	defer G.Use(prevBLAS)
	checkResumeOn(t, cpu.New(cpu.Options{}))
}

func checkResume(t *testing.T) { checkResumeOn(t, nil) }

func checkResumeOn(t *testing.T, e ops.Engine) {
	cfg := smallConfig(t.TempDir())
	cfg.Model.Engine = e
	cfg.Polyak = true
	cfg.PolyakStart = 2
	full, err := Run(context.Background(), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}

	sameRun(t, full, runInterrupted(t, cfg, 4, 12), 12)
}

// runInterrupted runs cfg into a new directory, cancelling it after each
// global step in stops (resuming after the first), then resumes it to the
// end and returns that last run's result.
func runInterrupted(t *testing.T, cfg Config, stops ...int64) *Result {
	t.Helper()
	cfg.Out = t.TempDir()
	for i, stop := range stops {
		ctx, cancel := context.WithCancel(context.Background())
		rep := &stopAt{n: stop, cancel: cancel}
		cfg.Resume = i > 0
		res, err := Run(ctx, cfg, rep)
		cancel()
		if !errors.Is(err, ErrInterrupted) {
			t.Fatalf("interruption %d: error %v, want ErrInterrupted", i, err)
		}
		if want := filepath.Join(cfg.Out, CheckpointName(stop)); res == nil || res.Checkpoint != want {
			t.Fatalf("interruption %d: result %+v, want checkpoint %s", i, res, want)
		}
		if got := rep.steps[len(rep.steps)-1]; got != stop {
			t.Fatalf("interruption %d: last step %d, want %d", i, got, stop)
		}
	}
	cfg.Resume = true
	resumed, err := Run(context.Background(), cfg, nil)
	if err != nil {
		t.Fatalf("%+v", err)
	}
	return resumed
}

// sameRun checks that two runs of steps steps in 2 epochs with Polyak
// averaging ended the same, bit for bit: weights, batch-norm statistics,
// velocities, averages and the per-epoch metrics.
func sameRun(t *testing.T, full, resumed *Result, steps int64) {
	t.Helper()
	a, b := weightsOf(t, full.Checkpoint), weightsOf(t, resumed.Checkpoint)
	if a.Meta.Step != steps || b.Meta.Step != steps {
		t.Fatalf("steps %d and %d, want %d", a.Meta.Step, b.Meta.Step, steps)
	}
	for n, w := range a.Weights {
		if !sameBits(w.Float32, b.Weights[n].Float32) {
			t.Errorf("weight %s differs between the uninterrupted and the resumed run", n)
		}
	}
	for n, s := range a.Stats {
		if !sameBits64(s, b.Stats[n]) {
			t.Errorf("statistic %s differs", n)
		}
	}
	if len(a.Solver.Velocity) == 0 || len(a.Solver.Average) == 0 {
		t.Fatal("no solver state to compare")
	}
	for n, v := range a.Solver.Velocity {
		if !sameBits(v.Float32, b.Solver.Velocity[n].Float32) || !sameBits(a.Solver.Average[n].Float32, b.Solver.Average[n].Float32) ||
			a.Solver.AverageCount[n] != b.Solver.AverageCount[n] {
			t.Errorf("solver state of %s differs", n)
		}
	}
	if len(full.Metrics) != 2 || len(resumed.Metrics) != 2 {
		t.Fatalf("%d and %d metrics lines, want 2", len(full.Metrics), len(resumed.Metrics))
	}
	for i := range full.Metrics {
		x, y := full.Metrics[i], resumed.Metrics[i]
		if x.Loss != y.Loss || x.TotalLoss != y.TotalLoss || x.TrainTop1 != y.TrainTop1 || x.ValLoss != y.ValLoss ||
			x.ValTop1 != y.ValTop1 || x.LR != y.LR || x.Images != y.Images || !x.Polyak || !y.Polyak {
			t.Errorf("epoch %d metrics differ:\n%+v\n%+v", i+1, x, y)
		}
	}
}

func TestRunRejects(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		name string
		edit func(*Config)
		want string
	}{
		{"no data", func(c *Config) { c.Data = "" }, "no dataset"},
		{"no out", func(c *Config) { c.Out = "" }, "no output folder"},
		{"bad schedule", func(c *Config) { c.Schedule = "cosine" }, `Schedule "cosine" unknown`},
		{"negative lr", func(c *Config) { c.LR = -1 }, "LR -1"},
		{"momentum 1", func(c *Config) { c.Momentum = 1 }, "Momentum 1"},
		{"bad warm-up", func(c *Config) { c.WarmupStart = 1 }, "WarmupStart"},
		{"unknown dataset", func(c *Config) { c.Data = "bogus:x" }, "dataset"},
		{"missing folder", func(c *Config) { c.Data = "folder:" + filepath.Join(dir, "none") }, "dataset"},
		{"batch larger than the data", func(c *Config) { c.Batch = 200; c.StepsPerEpoch = 0 }, "leaves no batch"},
		{"nothing to resume", func(c *Config) { c.Resume = true }, "nothing to resume"},
	} {
		cfg := smallConfig(filepath.Join(dir, c.name))
		c.edit(&cfg)
		_, err := Run(context.Background(), cfg, nil)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one containing %q", c.name, err, c.want)
		}
	}
	// Resuming with another recipe is refused, naming the setting.
	cfg := smallConfig(filepath.Join(dir, "recipe"))
	cfg.Epochs = 1
	cfg.StepsPerEpoch = 2
	if _, err := Run(context.Background(), cfg, nil); err != nil {
		t.Fatal(err)
	}
	cfg.Resume = true
	cfg.LR = 0.1
	if _, err := Run(context.Background(), cfg, nil); err == nil || !strings.Contains(err.Error(), "LR 0.1 (checkpoint 0.05)") {
		t.Errorf("resume with another rate: %v", err)
	}
}

func TestGradHook(t *testing.T) {
	cfg := smallConfig(t.TempDir())
	cfg.Epochs, cfg.StepsPerEpoch, cfg.EvalLimit = 1, 3, 8
	var calls []int64
	cfg.GradHook = func(step int64, params []*graph.Param) error {
		calls = append(calls, step)
		if len(params) == 0 || params[0].Grad == nil {
			return errors.New("no gradients")
		}
		return nil
	}
	res, err := Run(context.Background(), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(calls) != 3 || calls[0] != 0 || calls[2] != 2 {
		t.Errorf("hook called at steps %v, want [0 1 2]", calls)
	}
	if res.Metrics[0].ValImages != 8 {
		t.Errorf("EvalLimit 8: evaluated %d images", res.Metrics[0].ValImages)
	}
	cfg.Out = t.TempDir()
	cfg.GradHook = func(int64, []*graph.Param) error { return errors.New("boom") }
	if _, err := Run(context.Background(), cfg, nil); err == nil || !strings.Contains(err.Error(), "gradient hook: boom") {
		t.Errorf("failing hook: %v", err)
	}
}

func TestTopK(t *testing.T) {
	// Three rows of six classes; labels ranked 1st, 3rd and 6th.
	logits := tensor.New(tensor.WithShape(3, 6), tensor.WithBacking([]float32{
		0.1, 0.9, 0.2, 0.3, 0.0, 0.0, // label 1: top-1
		0.5, 0.4, 0.3, 0.2, 0.9, 0.1, // label 1: two greater (0.5, 0.9), top-5
		0.5, 0.4, 0.3, 0.2, 0.9, 0.1, // label 5: five greater, not top-5
	}))
	var v G.Value = logits
	t1, t5, err := topK(v, []int{1, 1, 5})
	if err != nil {
		t.Fatal(err)
	}
	if t1 != 1 || t5 != 2 {
		t.Errorf("top-1 %g, top-5 %g; want 1, 2", t1, t5)
	}
	if _, _, err := topK(v, []int{1}); err == nil {
		t.Error("label count mismatch accepted")
	}
	const ceTol = 1e-9
	ce, err := crossEntropySum(tensor.New(tensor.WithShape(1, 2), tensor.WithBacking([]float64{0, 0})), []int{0})
	if err != nil || math.Abs(ce-math.Ln2) > ceTol {
		t.Errorf("cross-entropy of uniform logits over 2 classes: %g, want ln 2", ce)
	}
}

func TestPadBatch(t *testing.T) {
	b := &data.Batch{X: []float32{1, 2, 3, 4}, Labels: []int{7, 8}, N: 2, C: 1, H: 1, W: 2}
	p := padBatch(b, 5)
	lab, _ := json.Marshal(p.Labels)
	x, _ := json.Marshal(p.X)
	if p.N != 5 || string(lab) != "[7,8,7,8,7]" || string(x) != "[1,2,3,4,1,2,3,4,1,2]" {
		t.Errorf("padded batch: N %d, labels %s, X %s", p.N, lab, x)
	}
}
