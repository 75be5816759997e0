// Package onnxnet is an ONNX interpreter: it builds a parsed ONNX model
// (package onnx) as a Gorgonia graph, operator by operator, with the
// kernels of package ops, and runs it in inference mode.
//
// # Operators
//
// Conv, Relu, MaxPool with ceil_mode and asymmetric pads, AveragePool,
// GlobalAveragePool, LRN, Concat, Dropout, Flatten, Reshape, Gemm with
// transA/transB/alpha/beta, MatMul, Add, Softmax, Pad, BatchNormalization,
// Identity and Constant (onnx.SupportedOps); initializers become constant
// nodes. Dropout is the identity and BatchNormalization uses the stored
// statistics. Any other operator, or an attribute value outside what the
// kernels implement (groups, dilations, auto_pad SAME_*), is an error naming
// the node.
//
// # Use
//
// NewNet validates a model (supported operators only, every input defined,
// no cycle, finite weights) and Net.Forward runs it on any batch size,
// building one graph per input shape on first use. Net.Graph exposes the
// Gorgonia graph, which package interchange/onnximport compares with our
// own inference graphs to recognise a GoogLeNet (onnximport.GoogLeNet).
//
// # Files
//
// net.go holds Net and the node dispatch, layers.go the layer operators,
// arith.go the arithmetic operators and their broadcasting, pad.go the Pad
// op.
package onnxnet
