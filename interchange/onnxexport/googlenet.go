package onnxexport

import (
	"encoding/json"

	"github.com/pkg/errors"
	"gorgonia.org/tensor"

	"github.com/goinception/googlenet/inception"
	"github.com/goinception/googlenet/interchange/onnx"
)

// GoogLeNet writes the inference function of m (no auxiliary heads,
// dropout off, batch norm with running statistics) as an ONNX model at
// opset 13: input "data" [N, C, H, W] (N symbolic), output "logits"
// [N, classes], or "prob" with Options.Softmax. It is Network on m's
// description, plus the configuration as metadata (MetaVariant,
// MetaConfig) so that package interchange/onnximport rebuilds the same
// model from the file, for the paper, torchvision and mini variants and any
// configuration (a table of your own included). Options.Outputs take the
// names inception.Model.Features takes; Options.Output is ignored.
func GoogLeNet(m *inception.Model, o Options) (*onnx.Model, error) {
	if m == nil {
		return nil, errors.New("onnxexport: nil model")
	}
	for _, name := range o.Outputs {
		// The rows of the main path, as Features resolves them; Network
		// resolves the same name to the row's last layer.
		if _, err := m.FeatureLayer(name); err != nil {
			return nil, errors.Wrap(err, "onnxexport: output")
		}
	}
	cfg := m.Config()
	c := cfg
	c.Init, c.Dtype, c.Engine = nil, tensor.Dtype{}, nil
	cj, err := json.Marshal(c)
	if err != nil {
		return nil, errors.Wrap(err, "onnxexport: config")
	}
	o.Output = ""
	return export(m, o, "googlenet_"+cfg.Variant, map[string]string{MetaVariant: cfg.Variant, MetaConfig: string(cj)})
}
