package torchvision

import (
	"math"
	"strings"
	"testing"

	"github.com/goinception/googlenet/inception"
	"github.com/goinception/googlenet/interchange/safetensors"
	"github.com/goinception/googlenet/interchange/torchpth"
)

func newModel(t testing.TB, size, classes int) *inception.Model {
	t.Helper()
	cfg := inception.Torchvision()
	cfg.BatchSize, cfg.Seed = 1, 7
	if size > 0 {
		cfg.InputSize = size
	}
	if classes > 0 {
		cfg.Classes = classes
	}
	m, err := inception.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// perturbBN gives a model's batch-norm statistics non-trivial values so that
// a mapping error shows.
func perturbBN(m *inception.Model) {
	for i, e := range m.BNStats() {
		for j := range e.Stats.Mean {
			e.Stats.Mean[j] = 0.01 * float64((i+j)%7-3)
			e.Stats.Var[j] = 0.5 + 0.1*float64((i*3+j)%5)
		}
	}
}

// tvStateDict returns the torchvision state dict of our torchvision model m
// (every parameter and statistic by torchvision's key, plus the
// num_batches_tracked counters torchvision saves).
func tvStateDict(t testing.TB, m *inception.Model) *StateDict {
	t.Helper()
	sd := &StateDict{Tensors: map[string]Tensor{}}
	add := func(k string, shape []int, v []float32, isInt bool) {
		sd.Names = append(sd.Names, k)
		sd.Tensors[k] = Tensor{Shape: shape, Data: v, Int: isInt}
	}
	for _, p := range m.Params() {
		k, err := inception.TorchvisionName(p.Name)
		if err != nil {
			t.Fatal(err)
		}
		add(k, p.Shape, append([]float32(nil), p.Value.Data().([]float32)...), false)
	}
	for _, e := range m.BNStats() {
		for suffix, v := range map[string][]float64{"/running_mean": e.Stats.Mean, "/running_var": e.Stats.Var} {
			k, err := inception.TorchvisionName(e.Name + suffix)
			if err != nil {
				t.Fatal(err)
			}
			add(k, []int{len(v)}, float32s(v), false)
		}
		k, _ := inception.TorchvisionName(e.Name + "/running_mean")
		add(strings.TrimSuffix(k, "running_mean")+"num_batches_tracked", nil, []float32{1}, true)
	}
	return sd
}

func float32s(v []float64) []float32 {
	o := make([]float32, len(v))
	for i, x := range v {
		o[i] = float32(x)
	}
	return o
}

func (sd *StateDict) clone() *StateDict {
	c := &StateDict{Names: append([]string(nil), sd.Names...), Tensors: map[string]Tensor{}}
	for k, v := range sd.Tensors {
		c.Tensors[k] = Tensor{Shape: v.Shape, Data: append([]float32(nil), v.Data...), Int: v.Int}
	}
	return c
}

func TestImportRoundTrip(t *testing.T) {
	if testing.Short() {
		t.Skip("skipping torchvision-size model in -short mode")
	}
	m := newModel(t, 0, 10)
	perturbBN(m)
	sd := tvStateDict(t, m)
	got, err := Import(sd, Options{InputSize: 64})
	if err != nil {
		t.Fatal(err)
	}
	if c := got.Config(); c.Classes != 10 || c.InputSize != 64 || c.Variant != "torchvision" {
		t.Errorf("config %+v", c)
	}
	for _, p := range m.Params() {
		q, ok := got.Param(p.Name)
		if !ok {
			t.Fatalf("imported model lacks %s", p.Name)
		}
		a, b := q.Value.Data().([]float32), p.Value.Data().([]float32)
		for i := range a {
			if a[i] != b[i] { // copied, not computed: bit-identical
				t.Fatalf("%s[%d] = %v, want %v", p.Name, i, a[i], b[i])
			}
		}
	}
}

func TestImportErrors(t *testing.T) {
	if testing.Short() {
		t.Skip("skipping torchvision-size model in -short mode")
	}
	m := newModel(t, 0, 10)
	good := tvStateDict(t, m)
	for _, tc := range []struct {
		name   string
		change func(sd *StateDict)
		want   string
	}{
		{"missing", func(sd *StateDict) { delete(sd.Tensors, "inception4a.branch2.1.conv.weight") }, "lacks 1 tensors: inception4a.branch2.1.conv.weight"},
		{"missing-stat", func(sd *StateDict) { delete(sd.Tensors, "conv2.bn.running_var") }, "conv2.bn.running_var"},
		{"unexpected", func(sd *StateDict) { sd.Tensors["extra.weight"] = Tensor{Shape: []int{1}, Data: []float32{0}} }, "unexpected tensors: extra.weight"},
		{"partial-aux", func(sd *StateDict) { delete(sd.Tensors, "aux2.fc2.bias") }, "aux2.fc2.bias"},
		{"shape", func(sd *StateDict) {
			sd.Tensors["conv3.conv.weight"] = Tensor{Shape: []int{192, 64, 3, 1}, Data: make([]float32, 192*64*3)}
		}, "conv3.conv.weight has shape [192 64 3 1], want [192 64 3 3]"},
		{"int", func(sd *StateDict) {
			v := sd.Tensors["fc.bias"]
			v.Int = true
			sd.Tensors["fc.bias"] = v
		}, "fc.bias is an integer tensor"},
		{"nan", func(sd *StateDict) { sd.Tensors["inception5b.branch1.bn.weight"].Data[3] = float32(math.NaN()) }, `"inception5b.branch1.bn.weight" holds NaN at flat index 3`},
		{"inf", func(sd *StateDict) { sd.Tensors["fc.weight"].Data[0] = float32(math.Inf(-1)) }, `"fc.weight" holds -Inf`},
		{"no-fc", func(sd *StateDict) { delete(sd.Tensors, "fc.weight") }, "no 2-D fc.weight"},
		{"stray-counter", func(sd *StateDict) { sd.Tensors["fc.num_batches_tracked"] = Tensor{Data: []float32{1}, Int: true} }, "unexpected tensors: fc.num_batches_tracked"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sd := good.clone()
			tc.change(sd)
			_, err := Import(sd, Options{InputSize: 64})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
	if _, err := Import(&StateDict{}, Options{}); err == nil {
		t.Error("empty state dict accepted")
	}
}

// TestFromSafetensors: floating-point tensors become float32, I64 counters
// integer tensors, in file order; other dtypes are an error naming the
// tensor.
func TestFromSafetensors(t *testing.T) {
	w, err := safetensors.NewF32("fc.weight", []int{2, 2}, []float32{1, 2, 3, 4})
	if err != nil {
		t.Fatal(err)
	}
	n, err := safetensors.NewI64("bn.num_batches_tracked", nil, []int64{7})
	if err != nil {
		t.Fatal(err)
	}
	b, err := safetensors.Marshal([]safetensors.Tensor{w, n}, nil)
	if err != nil {
		t.Fatal(err)
	}
	f, err := safetensors.Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	sd, err := FromSafetensors(f)
	if err != nil {
		t.Fatal(err)
	}
	if len(sd.Names) != 2 || sd.Tensors["fc.weight"].Int || !sd.Tensors["bn.num_batches_tracked"].Int ||
		sd.Tensors["bn.num_batches_tracked"].Data[0] != 7 || sd.Tensors["fc.weight"].Data[3] != 4 {
		t.Errorf("state dict %+v", sd)
	}
	f.Tensors[0].DType = safetensors.DType("U8")
	if _, err := FromSafetensors(f); err == nil || !strings.Contains(err.Error(), `"fc.weight" has dtype U8`) {
		t.Errorf("a U8 tensor: %v", err)
	}
}

// TestFromTorchPth keeps names, shapes, values and the integer flag.
func TestFromTorchPth(t *testing.T) {
	in := &torchpth.StateDict{Names: []string{"a", "n"}, Tensors: map[string]torchpth.Tensor{
		"a": {DType: "float32", Shape: []int{2}, Data: []float32{1, 2}},
		"n": {DType: "int64", Data: []float32{3}, Ints: []int64{3}},
	}}
	sd := FromTorchPth(in)
	if strings.Join(sd.Names, ",") != "a,n" || sd.Tensors["a"].Int || !sd.Tensors["n"].Int || sd.Tensors["a"].Shape[0] != 2 {
		t.Errorf("state dict %+v", sd)
	}
}

// TestContract: the published 1000-class layout gets transform_input, other
// three-channel models the plain ImageNet normalisation, both at the
// model's input size; other channel counts none.
func TestContract(t *testing.T) {
	cfg := inception.Torchvision()
	if c := Contract(cfg); c == nil || c.Affine == nil || c.Crop != 224 || c.Size != 256 {
		t.Errorf("1000 classes: %v", c)
	}
	cfg.Classes, cfg.InputSize = 10, 64
	if c := Contract(cfg); c == nil || c.Affine != nil || c.Crop != 64 || c.Size != 73 {
		t.Errorf("10 classes at 64: %v", c)
	}
	cfg.InChannels = 1
	if c := Contract(cfg); c != nil {
		t.Errorf("one channel: %v", c)
	}
}
