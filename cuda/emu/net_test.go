//go:build cgo

package emu_test

import (
	"math"
	"math/rand/v2"
	"testing"

	"gorgonia.org/tensor"

	"github.com/goinception/googlenet/cuda"
	"github.com/goinception/googlenet/cuda/emu"
	"github.com/goinception/googlenet/inception"
)

// tinyPaper is the paper topology (stem with LRN, modules with 5x5
// branches, ceil-mode pools, both auxiliary heads, global average pool,
// dropout 0.4 and 0.7, linear) at toy widths.
func tinyPaper() inception.Config {
	c := inception.Paper()
	c.InputSize, c.Classes, c.BatchSize = 64, 5, 2
	c.Dtype = tensor.Float64
	c.Seed = 11
	c.Conv1, c.Conv2Reduce, c.Conv2 = 4, 4, 6
	c.AuxConv, c.AuxFC = 4, 8
	c.Table = []inception.Row{
		{Name: "3a", C1x1: 3, C3x3Reduce: 2, C3x3: 4, C5x5Reduce: 2, C5x5: 3, PoolProj: 2, Aux: 1},
		{Name: "3b", C1x1: 2, C3x3Reduce: 2, C3x3: 3, C5x5Reduce: 2, C5x5: 2, PoolProj: 2, Aux: 2},
		{Name: "4a", MaxPoolBefore: true, C1x1: 4, C3x3Reduce: 3, C3x3: 3, C5x5Reduce: 2, C5x5: 2, PoolProj: 3},
	}
	return c
}

// TestNetVsCPU runs a whole training step (forward, loss, backward) of a
// small paper-topology GoogLeNet on the emulated device and compares the
// loss and every parameter gradient with the CPU Gorgonia graph (float64)
// of package inception, from the same weights.
func TestNetVsCPU(t *testing.T) {
	cfg := tinyPaper()
	m, err := inception.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(3, 4))
	n := cfg.BatchSize
	x := make([]float64, n*3*cfg.InputSize*cfg.InputSize)
	x32 := make([]float32, len(x))
	for i := range x {
		x32[i] = float32(rng.NormFloat64())
		x[i] = float64(x32[i])
	}
	labels := []int{1, 4}
	d := cuda.NewDevice(emu.New())
	defer d.Close()
	net, err := cuda.NewNet(d, m, n) // before m.Step: the same dropout step
	if err != nil {
		t.Fatalf("%+v", err)
	}
	defer net.Close()
	want, err := m.Step(tensor.New(tensor.WithShape(n, 3, cfg.InputSize, cfg.InputSize), tensor.WithBacking(x)), labels)
	if err != nil {
		t.Fatal(err)
	}
	got, err := net.Step(x32, []int32{1, 4})
	if err != nil {
		t.Fatalf("%+v", err)
	}
	for _, l := range [][3]interface{}{{"main", got.Main, want.Main}, {"aux1", got.Aux1, want.Aux1},
		{"aux2", got.Aux2, want.Aux2}, {"total", got.Total, want.Total}} {
		g, w := l[1].(float64), l[2].(float64)
		if math.Abs(g-w) > 1e-4*math.Abs(w) {
			t.Errorf("%s loss %v, CPU %v", l[0], g, w)
		}
	}
	if net.Rand() != *m.Rand() {
		t.Errorf("dropout state %+v after a step, CPU %+v", net.Rand(), *m.Rand())
	}
	names := net.ParamNames()
	t.Logf("%d parameters", len(names))
	if len(names) != len(m.Params()) {
		t.Errorf("device net has %d parameters, the model %d", len(names), len(m.Params()))
	}
	for _, name := range names {
		got, err := net.Grad(name)
		if err != nil {
			t.Fatal(err)
		}
		p, _ := m.Param(name)
		ref := p.Grad.Data().([]float64)
		var maxDiff, maxRef float64
		for i := range ref {
			if math.IsNaN(float64(got[i])) {
				t.Fatalf("%s: NaN gradient", name)
			}
			maxDiff = math.Max(maxDiff, math.Abs(float64(got[i])-ref[i]))
			maxRef = math.Max(maxRef, math.Abs(ref[i]))
		}
		if rel := maxDiff / math.Max(maxRef, 1e-12); rel > 1e-3 {
			t.Errorf("%s: gradient relative error %.3g (max |ref| %.3g)", name, rel, maxRef)
		}
	}
	// One SGD step moves a weight by -lr*(g + wd*w) from zero momentum.
	w0, _ := net.Weight("conv1/7x7_s2/w")
	g0, _ := net.Grad("conv1/7x7_s2/w")
	if err := net.SGD(0.1, 0.9, 1e-4); err != nil {
		t.Fatal(err)
	}
	w1, _ := net.Weight("conv1/7x7_s2/w")
	for i := range w0 {
		want := float64(w0[i]) - 0.1*(float64(g0[i])+1e-4*float64(w0[i]))
		if math.Abs(float64(w1[i])-want) > 1e-6*(1+math.Abs(want)) {
			t.Fatalf("SGD: w[%d] = %v, want %v", i, w1[i], want)
		}
	}
}

// TestNetRejects checks that unsupported configurations are errors.
func TestNetRejects(t *testing.T) {
	for _, mod := range []func(*inception.Config){
		func(c *inception.Config) { c.BatchNorm, c.BNEps = true, 1e-3 },
		func(c *inception.Config) { c.AuxAdaptivePool = 1 },
		func(c *inception.Config) { c.NoLRN, c.BatchNorm, c.BNEps = true, true, 1e-3 },
	} {
		c := tinyPaper()
		c.Table = append([]inception.Row(nil), c.Table...)
		mod(&c)
		m, err := inception.New(c)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := cuda.NewNet(cuda.NewDevice(emu.New()), m, 2); err == nil {
			t.Errorf("config %+v: no error", c)
		}
	}
}
