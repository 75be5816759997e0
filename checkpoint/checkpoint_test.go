package checkpoint

import (
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"gorgonia.org/tensor"

	"github.com/goinception/googlenet/inception"
	"github.com/goinception/googlenet/interchange/safetensors"
	"github.com/goinception/googlenet/preprocess"
	"github.com/goinception/googlenet/solvers"
)

// trained returns a mini model after two SGD steps with momentum and Polyak
// averaging, so that weights, statistics, velocities and averages are all
// non-trivial.
func trained(t testing.TB, seed uint64) (*inception.Model, *solvers.SGD) {
	t.Helper()
	c := inception.Mini()
	c.BatchSize = 4
	c.Seed = seed
	m, err := inception.New(c)
	if err != nil {
		t.Fatal(err)
	}
	opt, err := solvers.NewSGD(solvers.SGDConfig{LR: 0.01, WeightDecay: 1e-4,
		Averaging: solvers.AveragingConfig{Mode: solvers.AverageUniform}})
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(seed, 2))
	x := make([]float32, 4*28*28)
	for step := 0; step < 2; step++ {
		for i := range x {
			x[i] = float32(rng.NormFloat64())
		}
		if _, err := m.Step(tensor.New(tensor.WithShape(4, 1, 28, 28), tensor.WithBacking(x)), []int{1, 2, 3, 4}); err != nil {
			t.Fatal(err)
		}
		if _, err := opt.Step(m.Trainable()); err != nil {
			t.Fatal(err)
		}
	}
	return m, opt
}

func meta() Meta {
	return Meta{
		Classes: []string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"},
		Means:   []float32{33.3285}, Stds: []float32{78.5655},
		Epoch: 1, EpochStep: 7, Seed: 42, Extra: map[string]string{"note": "test"},
	}
}

func sameBits32(a, b []float32) bool {
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

func sameTensor(a, b solvers.Tensor) bool {
	return slices.Equal(a.Shape, b.Shape) && sameBits32(a.Float32, b.Float32) && sameBits64(a.Float64, b.Float64)
}

func TestRoundTrip(t *testing.T) {
	m, opt := trained(t, 1)
	ck, err := FromModel(m, opt, meta())
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "ck.safetensors")
	if err := ck.Save(path); err != nil {
		t.Fatal(err)
	}
	got, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if got.Meta.Step != 2 || got.Meta.Epoch != 1 || got.Meta.EpochStep != 7 || got.Meta.Seed != 42 ||
		len(got.Meta.Classes) != 10 || got.Meta.Classes[9] != "9" || got.Meta.Extra["note"] != "test" ||
		len(got.Meta.Means) != 1 || got.Meta.Means[0] != float32(33.3285) || got.Meta.Stds[0] != float32(78.5655) {
		t.Errorf("metadata: %+v", got.Meta)
	}
	gc, wc := got.Meta.Config, m.Config()
	if gc.Variant != wc.Variant || gc.Classes != wc.Classes || gc.InputSize != wc.InputSize || gc.Dtype != wc.Dtype ||
		len(gc.Table) != len(wc.Table) || gc.Table[2] != wc.Table[2] || gc.BNEps != wc.BNEps || gc.Init == nil {
		t.Errorf("config: %+v", gc)
	}
	if len(got.Weights) != len(m.Params()) || len(got.Stats) != 2*len(m.BNStats()) {
		t.Fatalf("%d weights, %d statistics; want %d, %d", len(got.Weights), len(got.Stats), len(m.Params()), 2*len(m.BNStats()))
	}
	for n, w := range ck.Weights {
		if !sameTensor(w, got.Weights[n]) {
			t.Errorf("weight %s differs after the round trip", n)
		}
	}
	for n, s := range ck.Stats {
		if !sameBits64(s, got.Stats[n]) {
			t.Errorf("statistic %s differs after the round trip", n)
		}
	}
	if got.Solver == nil || got.Solver.Step != 2 || len(got.Solver.Velocity) != len(m.Params()) ||
		len(got.Solver.Average) != len(m.Params()) || got.Solver.AverageCount["loss3/classifier/w"] != 2 {
		t.Fatalf("solver state: %+v", got.Solver)
	}
	for n, v := range ck.Solver.Velocity {
		if !sameTensor(v, got.Solver.Velocity[n]) || !sameTensor(ck.Solver.Average[n], got.Solver.Average[n]) {
			t.Errorf("solver buffers of %s differ after the round trip", n)
		}
	}

	// Apply into a differently initialised model: every value arrives.
	other, opt2 := trained(t, 9)
	if err := got.Apply(other); err != nil {
		t.Fatal(err)
	}
	if err := opt2.SetState(*got.Solver); err != nil {
		t.Fatal(err)
	}
	for _, p := range other.Params() {
		if !sameBits32(p.Value.Data().([]float32), ck.Weights[p.Name].Float32) {
			t.Errorf("%s not applied", p.Name)
		}
	}
	for _, e := range other.BNStats() {
		if !sameBits64(e.Stats.Mean, ck.Stats[e.Name+RunningMeanSuffix]) || !sameBits64(e.Stats.Var, ck.Stats[e.Name+RunningVarSuffix]) {
			t.Errorf("%s statistics not applied", e.Name)
		}
	}
	// The same model gives the same logits.
	x := tensor.New(tensor.WithShape(2, 1, 28, 28), tensor.WithBacking(make([]float32, 2*28*28)))
	for i := range x.Data().([]float32) {
		x.Data().([]float32)[i] = float32(i%17) / 17
	}
	a, err := m.Forward(x)
	if err != nil {
		t.Fatal(err)
	}
	nm, err := got.NewModel(2)
	if err != nil {
		t.Fatal(err)
	}
	b, err := nm.Forward(x)
	if err != nil {
		t.Fatal(err)
	}
	if !sameBits32(a.Data().([]float32), b.Data().([]float32)) {
		t.Errorf("logits differ: %v vs %v", a.Data(), b.Data())
	}

	avg, err := got.Averaged()
	if err != nil {
		t.Fatal(err)
	}
	if avg.Solver != nil || !sameTensor(avg.Weights["conv1/3x3_s1/w"], got.Solver.Average["conv1/3x3_s1/w"]) {
		t.Error("Averaged does not hold the averages")
	}
}

// saved writes a checkpoint of a trained mini model and returns its path
// and the parsed file.
func saved(t *testing.T) (string, *safetensors.File) {
	t.Helper()
	m, opt := trained(t, 1)
	ck, err := FromModel(m, opt, meta())
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "ck.safetensors")
	if err := ck.Save(path); err != nil {
		t.Fatal(err)
	}
	f, err := safetensors.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return path, f
}

// rewrite writes f, changed by edit, and loads it.
func rewrite(t *testing.T, f *safetensors.File, edit func(ts []safetensors.Tensor, md map[string]string) []safetensors.Tensor) error {
	t.Helper()
	ts := append([]safetensors.Tensor(nil), f.Tensors...)
	for i := range ts {
		ts[i].Data = append([]byte(nil), ts[i].Data...)
	}
	md := map[string]string{}
	for k, v := range f.Metadata {
		md[k] = v
	}
	ts = edit(ts, md)
	path := filepath.Join(t.TempDir(), "bad.safetensors")
	if err := safetensors.WriteFile(path, ts, md); err != nil {
		t.Fatal(err)
	}
	_, err := Load(path)
	return err
}

func index(ts []safetensors.Tensor, name string) int {
	for i, t := range ts {
		if t.Name == name {
			return i
		}
	}
	panic("no tensor " + name)
}

func TestLoadRejects(t *testing.T) {
	path, f := saved(t)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	trunc := filepath.Join(t.TempDir(), "trunc.safetensors")
	if err := os.WriteFile(trunc, b[:len(b)/2], 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(trunc); err == nil {
		t.Error("truncated file loaded")
	}
	if _, err := Load(filepath.Join(t.TempDir(), "none.safetensors")); err == nil {
		t.Error("missing file loaded")
	}
	for _, c := range []struct {
		name string
		want string
		edit func(ts []safetensors.Tensor, md map[string]string) []safetensors.Tensor
	}{
		{"foreign file", "not a GoogLeNet checkpoint", func(ts []safetensors.Tensor, md map[string]string) []safetensors.Tensor {
			delete(md, "format")
			return ts
		}},
		{"future version", "format version", func(ts []safetensors.Tensor, md map[string]string) []safetensors.Tensor {
			md["format_version"] = "99"
			return ts
		}},
		{"NaN weight", "NaN", func(ts []safetensors.Tensor, md map[string]string) []safetensors.Tensor {
			i := index(ts, "conv1/3x3_s1/w")
			copy(ts[i].Data[4:], []byte{0, 0, 0xc0, 0x7f})
			return ts
		}},
		{"Inf statistic", "Inf", func(ts []safetensors.Tensor, md map[string]string) []safetensors.Tensor {
			i := index(ts, "conv1/3x3_s1/bn/running_var")
			copy(ts[i].Data, []byte{0, 0, 0, 0, 0, 0, 0xf0, 0x7f})
			return ts
		}},
		{"bad config", "config", func(ts []safetensors.Tensor, md map[string]string) []safetensors.Tensor {
			md["config"] = `{"Variant":"mini","Bogus":1}`
			return ts
		}},
		{"bad step", "step", func(ts []safetensors.Tensor, md map[string]string) []safetensors.Tensor {
			md["step"] = "-3"
			return ts
		}},
		{"labels for other classes", "labels", func(ts []safetensors.Tensor, md map[string]string) []safetensors.Tensor {
			md["labels"] = `["a","b"]`
			return ts
		}},
		{"orphan velocity", "no weight", func(ts []safetensors.Tensor, md map[string]string) []safetensors.Tensor {
			v := ts[index(ts, VelocityPrefix+"conv1/3x3_s1/w")]
			v.Name = VelocityPrefix + "nowhere/w"
			return append(ts, v)
		}},
		{"F32 statistic", "want F64", func(ts []safetensors.Tensor, md map[string]string) []safetensors.Tensor {
			i := index(ts, "conv1/3x3_s1/bn/running_mean")
			n, _ := safetensors.NewF32(ts[i].Name, ts[i].Shape, make([]float32, ts[i].NumElements()))
			ts[i] = n
			return ts
		}},
		{"malformed input contract", "input_contract", func(ts []safetensors.Tensor, md map[string]string) []safetensors.Tensor {
			md["input_contract"] = `{"channels":"RGB"`
			return ts
		}},
		{"input contract for three channels", "input_contract", func(ts []safetensors.Tensor, md map[string]string) []safetensors.Tensor {
			md["input_contract"], _ = preprocess.Torchvision().Encode()
			return ts
		}},
		{"solver tensors without solver metadata", "without solver metadata", func(ts []safetensors.Tensor, md map[string]string) []safetensors.Tensor {
			delete(md, "solver_state_version")
			return ts
		}},
	} {
		err := rewrite(t, f, c.edit)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one containing %q", c.name, err, c.want)
		}
	}
}

func TestApplyRejects(t *testing.T) {
	m, opt := trained(t, 1)
	fresh := func() *Checkpoint {
		ck, err := FromModel(m, opt, meta())
		if err != nil {
			t.Fatal(err)
		}
		return ck
	}
	target, _ := trained(t, 5)
	before := append([]float32(nil), target.Params()[0].Value.Data().([]float32)...)
	for _, c := range []struct {
		name string
		want string
		edit func(ck *Checkpoint)
	}{
		{"missing weight", "1 missing: loss3/classifier/b", func(ck *Checkpoint) { delete(ck.Weights, "loss3/classifier/b") }},
		{"missing statistic", "missing: conv1/3x3_s1/bn/running_var", func(ck *Checkpoint) { delete(ck.Stats, "conv1/3x3_s1/bn/running_var") }},
		{"unexpected weight", "1 unexpected: extra/w", func(ck *Checkpoint) {
			ck.Weights["extra/w"] = solvers.Tensor{Shape: []int{1}, Float32: []float32{1}}
		}},
		{"wrong shape", "loss3/classifier/b: shape [11]", func(ck *Checkpoint) {
			ck.Weights["loss3/classifier/b"] = solvers.Tensor{Shape: []int{11}, Float32: make([]float32, 11)}
		}},
		{"wrong dtype", "float64 values", func(ck *Checkpoint) {
			ck.Weights["loss3/classifier/b"] = solvers.Tensor{Shape: []int{10}, Float64: make([]float64, 10)}
		}},
		{"short statistic", "conv1/3x3_s1/bn/running_mean: 3 values", func(ck *Checkpoint) {
			ck.Stats["conv1/3x3_s1/bn/running_mean"] = make([]float64, 3)
		}},
	} {
		ck := fresh()
		ck.Weights["conv1/3x3_s1/w"] = solvers.Tensor{Shape: ck.Weights["conv1/3x3_s1/w"].Shape, Float32: make([]float32, len(before))}
		c.edit(ck)
		err := ck.Apply(target)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one containing %q", c.name, err, c.want)
		}
		if !sameBits32(before, target.Params()[0].Value.Data().([]float32)) {
			t.Errorf("%s: the model changed although Apply failed", c.name)
		}
	}
	// A model of another configuration.
	c := inception.Mini()
	c.Classes = 7
	c.BatchSize = 2
	other, err := inception.New(c)
	if err != nil {
		t.Fatal(err)
	}
	if err := fresh().Apply(other); err == nil || !strings.Contains(err.Error(), "shape") {
		t.Errorf("checkpoint of 10 classes applied to a 7-class model: %v", err)
	}
	if err := fresh().Apply(nil); err == nil {
		t.Error("Apply(nil) succeeded")
	}
	if _, err := FromModel(nil, nil, Meta{}); err == nil {
		t.Error("FromModel(nil) succeeded")
	}
	ck := fresh()
	ck.Meta.Extra = map[string]string{"step": "1"}
	if err := ck.Save(filepath.Join(t.TempDir(), "x.safetensors")); err == nil {
		t.Error("reserved extra key accepted")
	}
}

func TestSaveAtomic(t *testing.T) {
	m, opt := trained(t, 1)
	ck, err := FromModel(m, opt, meta())
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "ck.safetensors")
	if err := ck.Save(path); err != nil {
		t.Fatal(err)
	}
	// An invalid checkpoint fails to save and leaves the old file alone.
	ck.Weights["bad"] = solvers.Tensor{Shape: []int{2}, Float32: []float32{1}}
	if err := ck.Save(path); err == nil {
		t.Fatal("inconsistent tensor saved")
	}
	if _, err := Load(path); err != nil {
		t.Errorf("old checkpoint damaged: %v", err)
	}
	es, _ := os.ReadDir(dir)
	if len(es) != 1 {
		t.Errorf("folder holds %d entries, want only the checkpoint", len(es))
	}
}

// TestInputContractRoundTrip: a stored contract comes back field for field;
// without one, InputContract is the native contract of the checkpoint's
// means and stds.
func TestInputContractRoundTrip(t *testing.T) {
	m, _ := trained(t, 3)
	md := meta()
	ck, err := FromModel(m, nil, md)
	if err != nil {
		t.Fatal(err)
	}
	if got := ck.Meta.InputContract(); got.Name != "native" || got.Channels != preprocess.Gray || got.Crop != 28 || got.Size != 32 || got.Means[0] != 33.3285 {
		t.Errorf("native contract %v", got)
	}
	in := preprocess.ONNXZoo()
	in.Channels, in.Means, in.Crop, in.Size = preprocess.Gray, []float32{5}, 28, 28
	ck.Meta.Input = &in
	path := filepath.Join(t.TempDir(), "ck.safetensors")
	if err := ck.Save(path); err != nil {
		t.Fatal(err)
	}
	back, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if back.Meta.Input == nil || back.Meta.InputContract().String() != in.String() {
		t.Errorf("contract %v, want %v", back.Meta.Input, in)
	}
	bad := preprocess.Torchvision() // 3 channels, crop 224: not this model's input
	ck.Meta.Input = &bad
	if err := ck.Save(filepath.Join(t.TempDir(), "bad.safetensors")); err == nil || !strings.Contains(err.Error(), "channels") {
		t.Errorf("saving a contract that does not fit: %v", err)
	}
}
