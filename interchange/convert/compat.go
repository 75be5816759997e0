package convert

import (
	"github.com/goinception/googlenet/interchange/onnx"
	"github.com/goinception/googlenet/interchange/onnxnet"
)

// Net is an ONNX model run as a Gorgonia graph.
//
// Deprecated: the ONNX interpreter is package onnxnet; use onnxnet.Net.
type Net = onnxnet.Net

// NewNet checks m and prepares it to run.
//
// Deprecated: use onnxnet.NewNet.
func NewNet(m *onnx.Model) (*Net, error) { return onnxnet.NewNet(m) }
