//go:build cgo

package train

// These tests train on the CPU emulation of the device (package
// cuda/emu), which needs cgo.

import (
	"context"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pkg/errors"
	"gorgonia.org/tensor"

	"github.com/goinception/googlenet/cuda"
	"github.com/goinception/googlenet/cuda/emu"
	"github.com/goinception/googlenet/graph"
	"github.com/goinception/googlenet/inception"
)

// deviceConfig is smallConfig with the mini variant at toy widths, 2
// epochs of 2 steps of 2 images (the emulation is slow), Polyak averaging
// of the weights after steps 2 to 4, and per-layer learning-rate and
// weight-decay multipliers, so that every solver setting train exposes is
// on (TestDeviceFreeze adds a frozen layer).
func deviceConfig(out string) Config {
	cfg := smallConfig(out)
	m := inception.Mini()
	m.Conv1, m.AuxConv, m.AuxFC = 4, 4, 8
	rows := make([]inception.Row, len(m.Table))
	for i, r := range m.Table {
		r.C1x1, r.C3x3Reduce, r.C3x3, r.C5x5Reduce, r.C5x5, r.PoolProj = 2+i%2, 2, 3, 2, 2, 2
		rows[i] = r
	}
	m.Table = rows
	cfg.Model = m
	cfg.Batch, cfg.EvalLimit, cfg.StepsPerEpoch = 2, 6, 2
	cfg.Polyak, cfg.PolyakStart = true, 1
	cfg.LRMult = []Mult{{Prefix: "conv1/", Value: 2}}
	cfg.DecayMult = []Mult{{Prefix: "inception_3a/", Value: 0}}
	return cfg
}

// emuDevice returns a device on the CPU emulation, closed with the test.
func emuDevice(t *testing.T) *cuda.Device {
	d := cuda.NewDevice(emu.New())
	t.Cleanup(func() { d.Close() })
	return d
}

// relDiff is max|a-b| / max(max|b|, 1e-12) over two float32 arrays.
func relDiff(a, b []float32) float64 {
	var d, m float64
	for i := range b {
		d = math.Max(d, math.Abs(float64(a[i])-float64(b[i])))
		m = math.Max(m, math.Abs(float64(b[i])))
	}
	return d / math.Max(m, 1e-12)
}

// TestDeviceTrainMatchesCPU: a run of 4 steps in 2 epochs on the device
// (Config.Device: forward, backward, SGD with momentum, weight decay, the
// warm-up and poly schedule, LRMult and DecayMult, Polyak averaging,
// validation with the averages) gives the CPU run's losses at every step,
// its validation losses, and its weights, batch-norm statistics,
// velocities and averages in the last checkpoint, within float32
// tolerances; the dropout stream ends at the same step.
func TestDeviceTrainMatchesCPU(t *testing.T) {
	if testing.Short() {
		t.Skip("two small training runs, one on the emulated device")
	}
	cfg := deviceConfig(t.TempDir())
	host, err := Run(context.Background(), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	dcfg := cfg
	dcfg.Out = t.TempDir()
	dcfg.Device = emuDevice(t)
	dev, err := Run(context.Background(), dcfg, nil)
	if err != nil {
		t.Fatalf("%+v", err)
	}
	hs, err := ReadSteps(filepath.Join(cfg.Out, StepsFile))
	if err != nil {
		t.Fatal(err)
	}
	ds, err := ReadSteps(filepath.Join(dcfg.Out, StepsFile))
	if err != nil {
		t.Fatal(err)
	}
	if len(hs) != 4 || len(ds) != 4 {
		t.Fatalf("%d and %d steps logged, want 4", len(hs), len(ds))
	}
	for i := range hs {
		h, d := hs[i], ds[i]
		if d.Step != h.Step || d.LR != h.LR || math.Abs(d.Loss-h.Loss) > 2e-3*math.Abs(h.Loss) || math.Abs(d.Total-h.Total) > 2e-3*math.Abs(h.Total) {
			t.Errorf("step %d: device %+v, CPU %+v", i+1, d, h)
		}
	}
	for i := range host.Metrics {
		h, d := host.Metrics[i], dev.Metrics[i]
		if !d.Polyak || d.ValImages != h.ValImages || math.Abs(d.ValLoss-h.ValLoss) > 2e-3*math.Abs(h.ValLoss) {
			t.Errorf("epoch %d: device validation loss %v on %d images (Polyak %v), CPU %v on %d", i+1, d.ValLoss, d.ValImages, d.Polyak, h.ValLoss, h.ValImages)
		}
	}
	a, b := weightsOf(t, host.Checkpoint), weightsOf(t, dev.Checkpoint)
	if b.Meta.Step != 4 || b.Trainer.Dropout != a.Trainer.Dropout {
		t.Fatalf("device checkpoint at step %d with dropout %+v; CPU %d, %+v", b.Meta.Step, b.Trainer.Dropout, a.Meta.Step, a.Trainer.Dropout)
	}
	const tol = 2e-3
	for n, w := range a.Weights {
		if r := relDiff(b.Weights[n].Float32, w.Float32); r > tol {
			t.Errorf("weight %s: relative difference %.3g", n, r)
		}
	}
	for n, s := range a.Stats {
		for i := range s {
			if math.Abs(b.Stats[n][i]-s[i]) > tol*(1+math.Abs(s[i])) {
				t.Fatalf("statistic %s[%d]: device %v, CPU %v", n, i, b.Stats[n][i], s[i])
			}
		}
	}
	if len(a.Solver.Velocity) == 0 || len(a.Solver.Average) == 0 || len(b.Solver.Velocity) != len(a.Solver.Velocity) || len(b.Solver.Average) != len(a.Solver.Average) {
		t.Fatalf("solver state: device %d velocities, %d averages; CPU %d, %d", len(b.Solver.Velocity), len(b.Solver.Average), len(a.Solver.Velocity), len(a.Solver.Average))
	}
	for n, v := range a.Solver.Velocity {
		if r := relDiff(b.Solver.Velocity[n].Float32, v.Float32); r > 10*tol {
			t.Errorf("velocity %s: relative difference %.3g", n, r)
		}
		if r := relDiff(b.Solver.Average[n].Float32, a.Solver.Average[n].Float32); r > tol || b.Solver.AverageCount[n] != a.Solver.AverageCount[n] {
			t.Errorf("average %s: relative difference %.3g, count %d (CPU %d)", n, r, b.Solver.AverageCount[n], a.Solver.AverageCount[n])
		}
	}
}

// TestDeviceResume: a run on the device interrupted twice (after the first
// step of epoch 1 and right at the end of epoch 2's training) and resumed onto the
// device ends bit for bit like the uninterrupted device run: weights,
// batch-norm statistics, velocities, Polyak averages and the metrics.
func TestDeviceResume(t *testing.T) {
	if testing.Short() {
		t.Skip("three small training runs on the emulated device")
	}
	cfg := deviceConfig(t.TempDir())
	cfg.Device = emuDevice(t)
	full, err := Run(context.Background(), cfg, nil)
	if err != nil {
		t.Fatalf("%+v", err)
	}
	resumed := runInterrupted(t, cfg, 1, 4)
	sameRun(t, full, resumed, 4)
	if final := weightsOf(t, resumed.Model); final.Solver != nil {
		t.Error("the final model has solver state")
	}
}

// TestDeviceFreeze: frozen parameters keep their weights on the device and
// have neither velocity nor average; batch norms whose scale and shift are
// frozen are refused at the start, naming the layer.
func TestDeviceFreeze(t *testing.T) {
	if testing.Short() {
		t.Skip("a small training run on the emulated device")
	}
	cfg := deviceConfig(t.TempDir())
	cfg.Device = emuDevice(t)
	cfg.Epochs = 1
	cfg.Freeze = []string{"loss3/classifier/"}
	res, err := Run(context.Background(), cfg, nil)
	if err != nil {
		t.Fatalf("%+v", err)
	}
	ck := weightsOf(t, res.Checkpoint)
	m, err := inception.NewWith(ck.Meta.Config, inception.Options{})
	if err != nil {
		t.Fatal(err)
	}
	p, _ := m.Param("loss3/classifier/w") // the initial weights: the same seed
	if !sameBits(p.Value.Data().([]float32), ck.Weights["loss3/classifier/w"].Float32) {
		t.Error("a frozen weight changed on the device")
	}
	if _, ok := ck.Solver.Velocity["loss3/classifier/w"]; ok {
		t.Error("a frozen weight has a velocity")
	}
	if _, ok := ck.Solver.Velocity["conv1/3x3_s1/w"]; !ok {
		t.Error("conv1/3x3_s1/w has no velocity")
	}

	cfg = deviceConfig(t.TempDir())
	cfg.Device = emuDevice(t)
	cfg.Freeze = []string{"conv1/"}
	if _, err := Run(context.Background(), cfg, nil); err == nil || !strings.Contains(err.Error(), "conv1/3x3_s1/bn") || !strings.Contains(err.Error(), "frozen") {
		t.Errorf("frozen batch norm: error %v", err)
	}
}

// TestDeviceRejects: what the device does not implement is an error at
// the start of the run, naming it.
func TestDeviceRejects(t *testing.T) {
	for _, c := range []struct {
		name string
		mod  func(*Config)
		want string
	}{
		{"grad hook", func(c *Config) {
			c.GradHook = func(int64, []*graph.Param) error { return nil }
		}, "gradient hook"},
		{"float64", func(c *Config) { c.Model.Dtype = tensor.Float64 }, "float64 model"},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg := deviceConfig(t.TempDir())
			cfg.Device = emuDevice(t)
			c.mod(&cfg)
			_, err := Run(context.Background(), cfg, nil)
			if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "device does not implement") {
				t.Errorf("error %v, want one naming %q", err, c.want)
			}
		})
	}
}

// TestResumeAcrossDevices: a checkpoint written by a CPU run resumes onto
// the device (weights, momentum, Polyak averages, statistics and dropout
// state uploaded), and the run ends where the uninterrupted CPU run ends,
// within float32 tolerances.
func TestResumeAcrossDevices(t *testing.T) {
	if testing.Short() {
		t.Skip("two small training runs, one partly on the emulated device")
	}
	cfg := deviceConfig(t.TempDir())
	full, err := Run(context.Background(), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	cfg2 := cfg
	cfg2.Out = t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	_, err = Run(ctx, cfg2, &stopAt{n: 3, cancel: cancel})
	cancel()
	if !errors.Is(err, ErrInterrupted) {
		t.Fatalf("error %v, want ErrInterrupted", err)
	}
	cfg2.Resume, cfg2.Device = true, emuDevice(t)
	resumed, err := Run(context.Background(), cfg2, nil)
	if err != nil {
		t.Fatalf("%+v", err)
	}
	a, b := weightsOf(t, full.Checkpoint), weightsOf(t, resumed.Checkpoint)
	if b.Meta.Step != 4 || b.Trainer.Dropout != a.Trainer.Dropout {
		t.Fatalf("resumed run at step %d with dropout %+v; CPU %d, %+v", b.Meta.Step, b.Trainer.Dropout, a.Meta.Step, a.Trainer.Dropout)
	}
	for n, w := range a.Weights {
		if r := relDiff(b.Weights[n].Float32, w.Float32); r > 2e-3 {
			t.Errorf("weight %s: relative difference %.3g", n, r)
		}
	}
	for n, v := range a.Solver.Average {
		if r := relDiff(b.Solver.Average[n].Float32, v.Float32); r > 2e-3 || b.Solver.AverageCount[n] != a.Solver.AverageCount[n] {
			t.Errorf("average %s: relative difference %.3g, count %d (CPU %d)", n, r, b.Solver.AverageCount[n], a.Solver.AverageCount[n])
		}
	}
}
