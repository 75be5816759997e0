package convert

import (
	"strings"
	"testing"

	"github.com/goinception/googlenet/inception"
	"github.com/goinception/googlenet/interchange/onnxexport"
)

// TestDeprecatedForwarders: the names that moved out of this package still
// work and do what their new homes do.
func TestDeprecatedForwarders(t *testing.T) {
	cfg := inception.Mini()
	cfg.BatchSize = 1
	m, err := inception.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	old, err := ExportONNX(m, ExportOptions{Softmax: true})
	if err != nil {
		t.Fatal(err)
	}
	now, err := onnxexport.GoogLeNet(m, onnxexport.Options{Softmax: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(old.Graph.Nodes) != len(now.Graph.Nodes) || old.Metadata[MetaConfig] != now.Metadata[onnxexport.MetaConfig] || ExportOpset != old.Opset() {
		t.Errorf("ExportONNX: %d nodes, opset %d; onnxexport.GoogLeNet: %d nodes", len(old.Graph.Nodes), old.Opset(), len(now.Graph.Nodes))
	}
	imp, err := ImportONNX(old, 0)
	if err != nil {
		t.Fatal(err)
	}
	var _ *ONNXImport = imp
	if !imp.Softmax || imp.Model.Config().Variant != "mini" {
		t.Errorf("ImportONNX: softmax %v, variant %s", imp.Softmax, imp.Model.Config().Variant)
	}
	if _, err := ImportTorchvision(&StateDict{Tensors: map[string]Tensor{}}, TorchvisionOptions{}); err == nil || !strings.Contains(err.Error(), "empty state dict") {
		t.Errorf("ImportTorchvision of an empty state dict: %v", err)
	}
	if c := TorchvisionContract(inception.Torchvision()); c == nil || c.Crop != 224 || len(TorchvisionMeans) != 3 || len(TorchvisionStds) != 3 {
		t.Errorf("TorchvisionContract: %v", c)
	}
}
