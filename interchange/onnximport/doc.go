// Package onnximport recognises a GoogLeNet in an ONNX model and returns it
// as our inception.Model, so that every tool of this project (evaluation,
// fine-tuning, export, serving) can use weights published as ONNX.
//
// GoogLeNet builds the file with the ONNX interpreter (package onnxnet,
// which runs any graph of the operators it supports) and compares its
// graph layer by layer, from the output back to the input, with the
// inference graph of a candidate configuration: the one that
// onnxexport.GoogLeNet stored in the file's metadata, else the paper,
// torchvision and mini presets. Layers match when they compute the same
// function, so exporter styles differ freely: torch.onnx at opset 13
// (ceil_mode pools, Flatten, batch norms folded into the convolutions), and
// the ONNX model zoo's style (opset 9, max pools with pads [0,0,1,1]
// instead of ceil_mode, a 7x7 AveragePool for the global pool, Dropout and
// Reshape before the classifier, a final Softmax, input "data_0"). A graph
// that is no GoogLeNet we can map is an error naming the first layer that
// differs; it can still run as an onnxnet.Net.
//
// The result also carries what the file says about its use: labels and
// normalisation from onnxexport's metadata, whether the output is
// probabilities, and the input contract of package preprocess (the stored
// one, or the ONNX model zoo's for a zoo-shaped file).
//
// Package interchange/convert reads any weight file by its format and
// calls GoogLeNet for ONNX files; its tests compare with PyTorch 1.13:
// torch.onnx's export of a paper-faithful GoogLeNet and its model-zoo-style
// rewrite agree with PyTorch's logits within a relative L2 error of about
// 1e-6 (docs/interchange.md).
package onnximport
