// Package onnx reads, checks and writes ONNX models (.onnx files): the
// subset of the format that GoogLeNet-family networks need.
//
// # Messages
//
// The wire format is a field-number-compatible subset of onnx.proto (ONNX
// IR version 8), defined in internal/pb/onnx_subset.proto and compiled with
// protoc-gen-go: ModelProto, GraphProto, NodeProto, AttributeProto,
// TensorProto (raw_data and the typed float_data, int32_data, int64_data,
// double_data and uint64_data fields), ValueInfoProto with TypeProto tensor
// shapes, and OperatorSetIdProto. Fields outside the subset (sparse tensors,
// training info, functions) are skipped when reading.
//
// # Reading
//
// Parse and ReadFile return a Model: the imported operator sets, the graph's
// nodes (with typed attribute accessors such as Node.Ints("pads", nil)),
// initializers converted to float32 (FLOAT, DOUBLE, FLOAT16, BFLOAT16) or
// int64 (integer types) tensors, and the inputs and outputs with their
// shapes. Tensor data is checked against its type and dims; external data
// is rejected. Parse never panics on bad input (see FuzzONNX).
//
// # Checking
//
// Model.Validate checks the structure: a standard operator set is imported,
// every operator is one of SupportedOps (Conv, Relu, MaxPool, AveragePool,
// GlobalAveragePool, LRN, Concat, Dropout, Flatten, Reshape, Gemm, MatMul,
// Add, Softmax, Pad, BatchNormalization, Identity, Constant), every value
// is defined exactly once, every input is defined, and the graph is acyclic.
// Graph.TopoSort returns the nodes in execution order. Model.CheckFinite
// reports NaN and Inf weights.
//
// # Writing
//
// Marshal and WriteFile (atomic: temporary file and rename) encode a Model
// as a ModelProto that onnx.checker and ONNX runtimes accept; tensors are
// written as little-endian raw_data (FLOAT and INT64).
//
// # References
//
// ONNX IR specification and operator documentation: https://onnx.ai/onnx/
// (onnx/onnx.proto in github.com/onnx/onnx for the field numbers).
package onnx
