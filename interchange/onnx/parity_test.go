package onnx

import (
	"os/exec"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/goinception/googlenet/internal/peer"
)

func TestTorchvisionGoogLeNetExport(t *testing.T) {
	if testing.Short() {
		t.Skip("skipping PyTorch export test in -short mode")
	}
	debianPython := peer.Python(t, "torch", "torchvision")
	dir := t.TempDir()
	out, err := exec.Command(debianPython, filepath.Join("testdata", "googlenet_export.py"), dir).CombinedOutput()
	if err != nil {
		t.Fatalf("googlenet_export.py: %v\n%s", err, out)
	}
	m, err := ReadFile(filepath.Join(dir, "googlenet.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Validate(); err != nil {
		t.Fatal(err)
	}
	ops := map[string]int{}
	for _, n := range m.Graph.Nodes {
		ops[n.OpType]++
	}
	t.Logf("opset %d, %d nodes, %d initializers, ops %v", m.Opset(), len(m.Graph.Nodes), len(m.Graph.Initializers), ops)
	// Nine Inception modules with four branches each, plus the stem.
	if ops["Concat"] != 9 {
		t.Errorf("%d Concat nodes, want 9", ops["Concat"])
	}
	var params int64
	for _, init := range m.Graph.Initializers {
		if init.DataType == Float {
			params += init.NumElements()
		}
	}
	// For information: the exporter folds each batch norm into its
	// convolution, so this is below torchvision's 6,624,904 parameters.
	t.Logf("float parameters in initializers: %d", params)
	if got := m.Graph.Inputs[0]; got.Name != "input" || !reflect.DeepEqual(got.Shape, []Dim{{Value: 1}, {Value: 3}, {Value: 224}, {Value: 224}}) {
		t.Errorf("input %+v", got)
	}
	// The exported model survives our writer unchanged.
	b, err := Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	again, err := Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(m, again) {
		t.Error("GoogLeNet changed in the round trip")
	}
}
