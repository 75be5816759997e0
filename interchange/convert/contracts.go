package convert

import (
	"math"
	"strings"

	"github.com/pkg/errors"

	"github.com/goinception/googlenet/inception"
	"github.com/goinception/googlenet/interchange/caffe"
	"github.com/goinception/googlenet/interchange/onnx"
	"github.com/goinception/googlenet/preprocess"
)

// MetaInput is the ONNX metadata key (ModelProto.metadata_props) under which
// ExportONNX stores the model's input contract (preprocess.Contract.Encode)
// and ImportONNX reads it back.
const MetaInput = "googlenet.input_contract"

// fitContract scales a published contract to another input size: the crop
// becomes input and the resize size keeps its ratio to the crop.
func fitContract(c preprocess.Contract, input int) *preprocess.Contract {
	if c.Crop != input {
		c.Size = max(input, int(math.Round(float64(c.Size)*float64(input)/float64(c.Crop))))
		c.Crop = input
	}
	return &c
}

// TorchvisionContract returns the input contract of a torchvision GoogLeNet
// state dict's model, recognised by its structure: a three-channel model
// with 1000 classes is laid out like the published IMAGENET1K_V1 weights,
// which torchvision runs with transform_input on (preprocess.Torchvision);
// other three-channel ones (fine-tuned on other classes, built with
// transform_input=False) get torchvision's ImageNet normalisation without
// it (preprocess.TorchvisionNormalize). nil for other channel counts.
func TorchvisionContract(cfg inception.Config) *preprocess.Contract {
	if cfg.InChannels != 3 {
		return nil
	}
	if cfg.Classes == 1000 {
		return fitContract(preprocess.Torchvision(), cfg.InputSize)
	}
	return fitContract(preprocess.TorchvisionNormalize(), cfg.InputSize)
}

// onnxContract returns the input contract of an imported ONNX file: the one
// ExportONNX stored in its metadata, or the ONNX model zoo's preprocess for
// a file shaped like the zoo's GoogLeNet (three-channel input "data_0",
// output "prob_0" after a final Softmax; Caffe2's exports of other opsets
// name it "prob_1"), else nil (unknown).
func onnxContract(m *onnx.Model, input string, outputs []string, cfg inception.Config, softmax bool) (*preprocess.Contract, error) {
	if s, ok := m.Metadata[MetaInput]; ok {
		c, err := preprocess.Decode(s)
		if err != nil {
			return nil, errors.Wrapf(err, "convert: ONNX metadata %s", MetaInput)
		}
		if err := c.Fits(cfg.InChannels, cfg.InputSize); err != nil {
			return nil, errors.Wrapf(err, "convert: ONNX metadata %s", MetaInput)
		}
		return &c, nil
	}
	if cfg.InChannels == 3 && softmax && input == "data_0" && len(outputs) == 1 && strings.HasPrefix(outputs[0], "prob_") {
		return fitContract(preprocess.ONNXZoo(), cfg.InputSize), nil
	}
	return nil, nil
}

// loadCaffe reads a .caffemodel (and the optional deploy.prototxt of o)
// and maps it onto GoogLeNet (package interchange/caffe).
func loadCaffe(path string, o LoadOptions) (*inception.Model, error) {
	n, err := caffe.ReadFile(path)
	if err != nil {
		return nil, err
	}
	co := caffe.Options{InputSize: o.InputSize}
	if o.Prototxt != "" {
		if co.Deploy, err = caffe.ReadPrototxt(o.Prototxt); err != nil {
			return nil, err
		}
	}
	m, err := caffe.ImportGoogLeNet(n, co)
	if err != nil {
		return nil, errors.Wrap(err, path)
	}
	return m, nil
}
