// Package safetensors reads and writes the safetensors file format used by
// Hugging Face and PyTorch tooling: a flat table of named tensors.
//
// # Format
//
// A file is an 8-byte little-endian header length N, N bytes of JSON, and a
// data buffer. The JSON object maps each tensor name to
//
//	{"dtype": "F32", "shape": [64, 3, 7, 7], "data_offsets": [begin, end]}
//
// where the offsets are relative to the start of the data buffer, plus an
// optional "__metadata__" object of string keys and string values. Tensor
// data is little-endian and row-major (C order).
//
// # Strictness
//
// Parse rejects, with an error naming the offending tensor: a header length
// beyond the file, a header that is not a JSON object, duplicate names,
// unknown fields or dtypes, negative dimensions, a shape whose byte size does
// not equal its data_offsets range, offsets out of range, and tensors that
// overlap or leave holes in the data buffer. It never panics on bad input
// (see FuzzSafetensors).
//
// # Conversions
//
// Tensor.Float32s converts F32, F64, F16 and BF16 data to float32;
// Tensor.Int64s reads I64 data (for example batch norm's
// num_batches_tracked). CheckFinite reports NaN or Inf values.
//
// # Writing
//
// WriteFile writes atomically: a temporary file in the destination directory
// renamed over the destination, so readers never see a partial file. Files
// written here load with Python's safetensors.torch.load_file.
//
// # Why not a library
//
// The one Go implementation found (github.com/nlpodyssey/safetensors) has no
// tagged release and neither atomic writes nor half-precision conversion;
// the format is small enough to implement here with strict checks.
//
// # References
//
// https://github.com/huggingface/safetensors (format description in README).
package safetensors
