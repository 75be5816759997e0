// Package convert moves GoogLeNet weights between this project and other
// tools: torchvision state dicts (PyTorch .pth/.pt and .safetensors) and ONNX
// models in, ONNX models out.
//
// # Torchvision state dicts
//
// ImportTorchvision maps a torchvision.models.googlenet state dict onto our
// torchvision variant (package inception, Torchvision config) by
// torchvision's key names (inception.TorchvisionName): every convolution
// weight, batch-norm scale, shift, running mean and running variance, and the
// classifier. The auxiliary heads' tensors (aux1.*, aux2.*) are optional, all
// or nothing; num_batches_tracked counters are ignored. Input channels and
// classes are read from conv1.conv.weight and fc.weight. It is strict: a
// missing or unexpected key, a shape that differs from the variant's, an
// integer tensor where a weight belongs, or a NaN or Inf value is an error
// naming the tensors. FromTorchPth and FromSafetensors adapt the parsers of
// packages torchpth and safetensors.
//
// # ONNX models
//
// The ONNX interpreter is package onnxnet: it runs any graph of the
// operators it supports. ImportONNX builds the file with onnxnet.Net, then
// recognises a GoogLeNet and returns our
// inception.Model with the file's weights, so that every tool of this project
// (evaluation, fine-tuning, export) can use it. It compares the file's graph
// layer by layer, from the output back to the input, with the inference graph
// of a candidate configuration: the one that ExportONNX stored in the file's
// metadata, else the paper, torchvision and mini presets. Layers match when
// they compute the same function, so exporter styles differ freely: torch.onnx
// at opset 13 (ceil_mode pools, Flatten), and the ONNX model zoo's style (opset
// 9, max pools with pads [0,0,1,1] instead of ceil_mode, a 7x7 AveragePool for
// the global pool, Dropout and Reshape before the classifier, a final Softmax,
// input "data_0").
//
// # Export
//
// ExportONNX writes a model's inference graph (no auxiliary heads, dropout
// off, batch norm with running statistics) at opset 13, reading it from the
// Gorgonia graph op by op (ops.Describe), so the file computes exactly what
// inception.Model.Forward computes, for the paper, torchvision and mini
// variants and for any configuration. Initializers keep our parameter names;
// the configuration, labels and input normalisation go into the metadata, so
// that ImportONNX restores them.
//
// # Input contracts and Caffe
//
// Load also reports the input contract of package preprocess that the
// file's publisher uses (Loaded.Input): torchvision's for a 1000-class
// torchvision state dict (transform_input on), the ONNX zoo's for a
// zoo-shaped ONNX file (input data_0, output prob_N after a Softmax), the one
// ExportONNX stored (metadata key googlenet.input_contract), and Caffe's for
// a .caffemodel, which package interchange/caffe reads and maps onto the
// paper variant.
//
// # Files
//
// Sniff tells a weight file's format from its first bytes; Load reads any
// foreign format into a model, and LoadForeign lets a caller that also reads
// our checkpoints (package checkpoint) route everything else here.
//
// # Parity
//
// The tests compare with PyTorch 1.13 (Debian's python3-torch): torchvision
// GoogLeNet logits agree within a relative L2 error of about 1e-5, a
// paper-faithful GoogLeNet exported by torch.onnx and its model-zoo-style
// rewrite within about 1e-6 (testdata/make_models.py makes the models at test
// time; docs/interchange.md has the numbers).
package convert
