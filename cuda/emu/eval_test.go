//go:build cgo

package emu_test

import (
	"context"
	"image"
	"image/color"
	"math"
	"testing"

	"github.com/goinception/googlenet/cuda"
	"github.com/goinception/googlenet/cuda/emu"
	"github.com/goinception/googlenet/data"
	"github.com/goinception/googlenet/eval"
	"github.com/goinception/googlenet/inception"
)

// tinyMini is the mini variant (batch norm, small stem, adaptive auxiliary
// pools) at toy widths, float32 as googlenet eval loads it.
func tinyMini(t *testing.T) *inception.Model {
	t.Helper()
	c := inception.Mini()
	c.InChannels, c.InputSize, c.Classes, c.BatchSize, c.Seed = 3, 16, 6, 4, 7
	c.Conv1, c.AuxConv, c.AuxFC = 4, 4, 8
	c.Table = tinyTable(c.Table)
	m, err := inception.New(c)
	if err != nil {
		t.Fatal(err)
	}
	// Batch norms with running statistics of their own, so that evaluation
	// mode (running statistics, not the batch's) is what is compared.
	for i, e := range m.BNStats() {
		for j := range e.Stats.Mean {
			e.Stats.Mean[j] = 0.05 * math.Sin(float64(i+3*j))
			e.Stats.Var[j] = 1 + 0.2*math.Cos(float64(2*i+j))
		}
	}
	return m
}

// TestEvaluateDevice: eval.Evaluate with Options.Device (googlenet eval
// --device gpu) gives the CPU graph's per-image probabilities, top-1 and
// top-5 scores for the center crops of five images of a small dataset
// (one model and an ensemble of two) and the 10 crops of two (the
// ensemble), with a batch size that leaves a padded last batch
// (TestPredictDevice covers the 144 crops).
func TestEvaluateDevice(t *testing.T) {
	m1, m2 := tinyMini(t), tinyMini(t)
	// The second member differs.
	for _, p := range m2.Params() {
		v := p.Value.Data().([]float32)
		for i := range v {
			v[i] *= 1.1
		}
	}
	splits, err := data.NewSynthetic(data.SyntheticOptions{Classes: 6, Train: 6, Val: 5, Size: 20, Channels: 3, Seed: 2})
	if err != nil {
		t.Fatal(err)
	}
	meta := eval.Meta{Means: []float32{120, 110, 100}, Stds: []float32{60, 60, 60}}
	d := cuda.NewDevice(emu.New())
	defer d.Close()
	for _, scheme := range []eval.Scheme{eval.Center, eval.Ten} {
		for _, members := range [][]eval.Member{{{Model: m1, Meta: meta}}, {{Model: m1, Meta: meta}, {Model: m2, Meta: meta}}} {
			images := 5
			if scheme == eval.Ten {
				// The emulation is slow: two images, and the ensemble
				// only (its result has each member's own score too).
				if len(members) == 1 {
					continue
				}
				images = 2
			}
			run := func(dev *cuda.Device) (*eval.Result, [][]float64) {
				var probs [][]float64
				o := eval.Options{Crops: scheme, BatchSize: 9, Limit: images, Workers: 2, Dedup: true, Device: dev,
					OnImage: func(_, _ int, p []float64) { probs = append(probs, append([]float64(nil), p...)) }}
				r, err := eval.Evaluate(context.Background(), members, splits.Val, o)
				if err != nil {
					t.Fatalf("%s crops, %d model(s), device %v: %+v", scheme, len(members), dev != nil, err)
				}
				return r, probs
			}
			want, wantP := run(nil)
			got, gotP := run(d)
			if len(gotP) != len(wantP) || got.Score.Images != images {
				t.Fatalf("%s: %d images on the device, %d on the CPU", scheme, len(gotP), len(wantP))
			}
			for i := range wantP {
				for k := range wantP[i] {
					if math.Abs(gotP[i][k]-wantP[i][k]) > 1e-5 {
						t.Fatalf("%s crops, %d model(s): image %d class %d: device %v, CPU %v", scheme, len(members), i, k, gotP[i][k], wantP[i][k])
					}
				}
			}
			if got.Score != want.Score || got.Forwards != want.Forwards {
				t.Errorf("%s crops, %d model(s): device %+v, CPU %+v", scheme, len(members), got.Score, want.Score)
			}
			for i := range want.PerModel {
				if got.PerModel[i].Score != want.PerModel[i].Score {
					t.Errorf("%s crops, model %d: device %+v, CPU %+v", scheme, i, got.PerModel[i].Score, want.PerModel[i].Score)
				}
			}
			t.Logf("%s crops, %d model(s): top-1 %d, top-5 %d of %d", scheme, len(members), got.Score.Top1, got.Score.Top5, got.Score.Images)
		}
	}
}

// TestPredictDevice: a Predictor on the device (googlenet predict
// --device gpu) gives the CPU's classes and probabilities for images of
// two sizes and the 1 and 10 crops and the whole image, and the 144 crops
// of one, reusing its device networks.
func TestPredictDevice(t *testing.T) {
	members := []eval.Member{{Model: tinyMini(t), Meta: eval.Meta{Means: []float32{120, 110, 100}, Stds: []float32{60, 60, 60}}}}
	d := cuda.NewDevice(emu.New())
	defer d.Close()
	p, err := eval.NewPredictor(members, d)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	for si, size := range [][2]int{{40, 30}, {29, 50}} {
		img := image.NewRGBA(image.Rect(0, 0, size[0], size[1]))
		for y := 0; y < size[1]; y++ {
			for x := 0; x < size[0]; x++ {
				img.Set(x, y, color.RGBA{uint8(7 * x), uint8(5 * y), uint8(3 * (x + y)), 255})
			}
		}
		for _, scheme := range []eval.Scheme{eval.Center, eval.Ten, eval.MultiScale, eval.Full} {
			if scheme == eval.MultiScale && (si > 0 || testing.Short()) {
				continue
			}
			want, err := eval.Predict(members, img, scheme, 6, nil)
			if err != nil {
				t.Fatal(err)
			}
			got, err := p.Predict(img, scheme, 6, nil)
			if err != nil {
				t.Fatalf("%+v", err)
			}
			for i := range want {
				if got[i].Index != want[i].Index || got[i].Label != want[i].Label || math.Abs(got[i].Prob-want[i].Prob) > 1e-5 {
					t.Fatalf("%v, %s crops: rank %d: device %+v, CPU %+v", size, scheme, i, got[i], want[i])
				}
			}
		}
	}
	if _, err := p.Predict(image.NewRGBA(image.Rect(0, 0, 30, 30)), eval.Center, 0, nil); err == nil {
		t.Error("top 0: no error")
	}
}
