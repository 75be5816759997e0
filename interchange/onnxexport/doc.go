// Package onnxexport writes networks as ONNX models (package
// interchange/onnx) that ONNX Runtime, onnx.checker and our own readers run.
//
// Network walks a network description, the []graph.Layer that
// graph.Builder records as it builds (Source), so any network the builder
// makes exports: the GoogLeNet variants, an Inception table of your own, a
// network built layer by layer (docs/custom-graphs.md). The file computes
// the network's inference function: dropout is the identity, batch norm
// uses the running statistics, and the losses (with the auxiliary heads,
// which only they read) are left out. Convolutions, batch norm, ReLU, max,
// average, global and adaptive pools, LRN, flatten, linear layers and
// channel concatenation each become their ONNX operator at opset 13 (Opset).
// Initializers keep our parameter names, and each value is named after the
// layer that makes it.
//
// GoogLeNet exports an inception.Model and stores its configuration in the
// file's metadata (MetaConfig), so that package interchange/onnximport
// rebuilds the same model from the file. Options add a final Softmax, more
// outputs (feature layers), labels, the input normalisation and the input
// contract (package preprocess) as metadata.
//
// # Checks
//
// The tests run the exported files with our ONNX interpreter (package
// onnxnet) and with ONNX Runtime (onnxruntime-node) and compare them with
// the model's own forward pass: the paper, torchvision and mini variants
// and a custom network built with package graph agree within a relative L2
// error of 1e-4 (docs/interchange.md).
package onnxexport
