// Package caffe reads Caffe networks: .caffemodel files (binary
// NetParameter with weights) and deploy .prototxt files (text
// NetParameter), and maps Caffe's bvlc_googlenet, the paper authors'
// release, onto this project's paper variant.
//
// # Format
//
// The wire types come from caffe_subset.proto (internal/pb), a
// field-number-compatible subset of BVLC Caffe's caffe.proto generated with
// protoc-gen-go: NetParameter with both the current `layer` field and the
// legacy V1 `layers` field (enum layer types), BlobProto with `shape` or the
// legacy num/channels/height/width, float or double data, and the
// parameters of the layer types GoogLeNet has (convolution, pooling, LRN,
// inner product, dropout, concat). Other fields are skipped. Decode checks
// every blob (positive dimensions, as many values as the shape holds, finite
// values) and rejects duplicate or empty layer names; malformed files
// (truncated, wrong wire types, lengths beyond the end) are errors from the
// protobuf decoder, never panics (FuzzDecode).
//
// # GoogLeNet
//
// ImportGoogLeNet copies the blobs of each learnable layer into the
// parameter of the same name (our names are Caffe's: conv1/7x7_s2/w,
// inception_4a/3x3_reduce/b, loss3/classifier/w), strictly: every blob used,
// every parameter present, shapes equal, and the structure (strides, pads,
// LRN constants, pooling windows) GoogLeNet's. The auxiliary heads that
// Caffe's train_val weights carry (loss1/*, loss2/*) come along when
// present. Models imported this way take Caffe's input contract
// (preprocess.Caffe: BGR, 0..255, mean pixel 104/117/123, centre 224 crop of
// the image resized to 256x256).
//
// # Parity
//
// testdata/write_caffemodel.py writes a paper-faithful PyTorch GoogLeNet as
// a .caffemodel (both forms) with Debian's python3-protobuf and this
// package's .proto compiled by protoc; the imported model's logits agree
// with PyTorch's within a relative L2 error of 1e-4 (TestParity).
package caffe
