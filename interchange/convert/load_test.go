package convert

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/goinception/googlenet/interchange/onnx"
	"github.com/goinception/googlenet/interchange/safetensors"
)

// parityTol is the largest relative L2 error accepted between two float32
// computations of the same network (the acceptance bound against PyTorch).
const parityTol = 1e-4

// relL2 returns ||a-b|| / ||b||.
func relL2(a, b []float32) float64 {
	var num, den float64
	for i := range a {
		d := float64(a[i]) - float64(b[i])
		num += d * d
		den += float64(b[i]) * float64(b[i])
	}
	return math.Sqrt(num / den)
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
