package convert

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/goinception/googlenet/inception"
	"github.com/goinception/googlenet/interchange/onnx"
	"github.com/goinception/googlenet/interchange/safetensors"
)

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

func TestImportTorchvisionRoundTrip(t *testing.T) {
	if testing.Short() {
		t.Skip("skipping torchvision-size model in -short mode")
	}
	m := newModel(t, "torchvision", 0, 10)
	perturbBN(m)
	sd := tvStateDict(t, m)
	got, err := ImportTorchvision(sd, TorchvisionOptions{InputSize: 64})
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

func TestImportTorchvisionErrors(t *testing.T) {
	if testing.Short() {
		t.Skip("skipping torchvision-size model in -short mode")
	}
	m := newModel(t, "torchvision", 0, 10)
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
			_, err := ImportTorchvision(sd, TorchvisionOptions{InputSize: 64})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
	if _, err := ImportTorchvision(&StateDict{}, TorchvisionOptions{}); err == nil {
		t.Error("empty state dict accepted")
	}
}

// tinyONNX is a two-node graph: y = Relu(Conv(x, w)).
func tinyONNX() *onnx.Model {
	return &onnx.Model{
		IRVersion: 8, Opsets: []onnx.OpsetImport{{Version: 13}},
		Graph: onnx.Graph{
			Nodes: []*onnx.Node{
				{Name: "c", OpType: "Conv", Inputs: []string{"x", "w"}, Outputs: []string{"h"}},
				{Name: "r", OpType: "Relu", Inputs: []string{"h"}, Outputs: []string{"y"}},
			},
			Initializers: []*onnx.Tensor{{Name: "w", DataType: onnx.Float, Dims: []int64{2, 1, 1, 1}, Floats: []float32{1, -1}}},
			Inputs:       []onnx.ValueInfo{{Name: "x", ElemType: onnx.Float, Shape: []onnx.Dim{{Value: -1, Param: "N"}, {Value: 1}, {Value: 2}, {Value: 2}}}},
			Outputs:      []onnx.ValueInfo{{Name: "y", ElemType: onnx.Float}},
		},
	}
}

// TestImportONNXNotGoogLeNet: a graph that runs (see package onnxnet) but
// is not a GoogLeNet cannot become an inception model.
func TestImportONNXNotGoogLeNet(t *testing.T) {
	if _, err := ImportONNX(tinyONNX(), 0); err == nil || !strings.Contains(err.Error(), "want [1 classes]") {
		t.Errorf("ImportONNX of a tiny graph: %v", err)
	}
}

func TestLoadBadFiles(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good, err := onnx.Marshal(tinyONNX())
	if err != nil {
		t.Fatal(err)
	}
	st, err := safetensors.NewF32("fc.weight", []int{2, 2}, []float32{1, 2, 3, 4})
	if err != nil {
		t.Fatal(err)
	}
	sb, err := safetensors.Marshal([]safetensors.Tensor{st}, nil)
	if err != nil {
		t.Fatal(err)
	}
	huge := append([]byte(nil), sb...)
	huge[0], huge[1], huge[2] = 0xff, 0xff, 0x0f // header length beyond the file
	for _, tc := range []struct {
		name string
		data []byte
		want string
	}{
		{"empty.onnx", nil, ""},
		{"truncated.onnx", good[:len(good)/2], ""},
		{"garbage.bin", []byte("hello, world, not weights"), "unknown weight format"},
		{"tiny.onnx", good, "want [1 classes]"},
		{"sd.safetensors", sb, "conv1.conv.weight"},
		{"header.safetensors", huge, "beyond the end"},
		{"trunc.safetensors", sb[:len(sb)-3], ""},
		{"bad.pth", []byte("PK\x03\x04 truncated zip"), ""},
		{"pickle.pt", []byte{0x80, 0x02, 'c', 'o', 's', '\n', 's', 'y', 's', 't', 'e', 'm', '\n'}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load(write(tc.name, tc.data), LoadOptions{})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}
