package convert

import (
	"github.com/goinception/googlenet/inception"
	"github.com/goinception/googlenet/interchange/onnx"
	"github.com/goinception/googlenet/interchange/onnxexport"
	"github.com/goinception/googlenet/interchange/onnximport"
	"github.com/goinception/googlenet/interchange/onnxnet"
	"github.com/goinception/googlenet/interchange/safetensors"
	"github.com/goinception/googlenet/interchange/torchpth"
	"github.com/goinception/googlenet/interchange/torchvision"
	"github.com/goinception/googlenet/preprocess"
)

// This file keeps the API of the days when package convert also held the
// importers and the exporter. Each name forwards to the package that now
// does the job.

// Net is an ONNX model run as a Gorgonia graph.
//
// Deprecated: the ONNX interpreter is package onnxnet; use onnxnet.Net.
type Net = onnxnet.Net

// NewNet checks m and prepares it to run.
//
// Deprecated: use onnxnet.NewNet.
func NewNet(m *onnx.Model) (*Net, error) { return onnxnet.NewNet(m) }

// ExportOpset is the ONNX operator set version that ExportONNX writes.
//
// Deprecated: use onnxexport.Opset.
const ExportOpset = onnxexport.Opset

// Metadata keys of exported ONNX files.
//
// Deprecated: use the constants of package onnxexport.
const (
	MetaVariant = onnxexport.MetaVariant
	MetaConfig  = onnxexport.MetaConfig
	MetaLabels  = onnxexport.MetaLabels
	MetaMeans   = onnxexport.MetaMeans
	MetaStds    = onnxexport.MetaStds
	MetaInput   = onnxexport.MetaInput
)

// ExportOptions configures ExportONNX.
//
// Deprecated: use onnxexport.Options.
type ExportOptions = onnxexport.Options

// ExportONNX writes the inference graph of m as an ONNX model.
//
// Deprecated: use onnxexport.GoogLeNet (or onnxexport.Network for any
// network the builder makes).
func ExportONNX(m *inception.Model, o ExportOptions) (*onnx.Model, error) {
	return onnxexport.GoogLeNet(m, o)
}

// ONNXImport is the result of ImportONNX.
//
// Deprecated: use onnximport.Result.
type ONNXImport = onnximport.Result

// ImportONNX maps an ONNX GoogLeNet onto one of our configurations.
//
// Deprecated: use onnximport.GoogLeNet.
func ImportONNX(m *onnx.Model, inputSize int) (*ONNXImport, error) {
	return onnximport.GoogLeNet(m, inputSize)
}

// Tensor is one tensor of a state dict.
//
// Deprecated: use torchvision.Tensor.
type Tensor = torchvision.Tensor

// StateDict is a PyTorch state dict.
//
// Deprecated: use torchvision.StateDict.
type StateDict = torchvision.StateDict

// FromTorchPth converts a state dict read by package torchpth.
//
// Deprecated: use torchvision.FromTorchPth.
func FromTorchPth(sd *torchpth.StateDict) *StateDict { return torchvision.FromTorchPth(sd) }

// FromSafetensors converts a safetensors file holding a state dict.
//
// Deprecated: use torchvision.FromSafetensors.
func FromSafetensors(f *safetensors.File) (*StateDict, error) { return torchvision.FromSafetensors(f) }

// ImageNet normalisation of torchvision's pretrained models on the 0..255
// scale.
//
// Deprecated: use torchvision.Means and torchvision.Stds.
var (
	TorchvisionMeans = torchvision.Means
	TorchvisionStds  = torchvision.Stds
)

// TorchvisionOptions configures ImportTorchvision.
//
// Deprecated: use torchvision.Options.
type TorchvisionOptions = torchvision.Options

// ImportTorchvision builds our torchvision variant from a state dict of
// torchvision.models.googlenet.
//
// Deprecated: use torchvision.Import.
func ImportTorchvision(sd *StateDict, o TorchvisionOptions) (*inception.Model, error) {
	return torchvision.Import(sd, o)
}

// TorchvisionContract returns the input contract of a torchvision
// GoogLeNet state dict's model.
//
// Deprecated: use torchvision.Contract.
func TorchvisionContract(cfg inception.Config) *preprocess.Contract { return torchvision.Contract(cfg) }
