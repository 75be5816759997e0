// Package convert is the front door for weight files made by other tools:
// it tells a file's format from its bytes and loads it into our
// inception.Model with whatever the file says about its use.
//
// Sniff tells the format from the first bytes (and, for safetensors, the
// metadata): a torch.save file (.pth, .pt), a safetensors state dict, one
// of our checkpoints, an ONNX model or a Caffe .caffemodel. Load reads a
// foreign file with the package whose job it is:
//
//   - torchvision state dicts (.pth, .pt, .safetensors): parsed by packages
//     torchpth and safetensors, mapped by package interchange/torchvision;
//   - ONNX models: recognised as a GoogLeNet by package
//     interchange/onnximport (the interpreter that runs any ONNX graph is
//     package onnxnet);
//   - Caffe .caffemodel files (with an optional deploy.prototxt): package
//     interchange/caffe.
//
// Loaded carries the model, labels and normalisation when the file has
// them, whether the output is probabilities, and the input contract of
// package preprocess that the file's publisher uses: torchvision's for a
// torchvision state dict, the ONNX model zoo's for a zoo-shaped ONNX file,
// the one an exported file stored, and Caffe's for a .caffemodel.
//
// Our own checkpoints are package checkpoint's: Load refuses them, and
// LoadForeign returns (nil, nil) for them so that a caller reading both
// (eval.LoadModel, the googlenet command) routes everything else here. This
// package never imports checkpoint: the arrow points one way, from
// checkpoint to the file formats of package interchange
// (CheckpointFormatName is checkpoint.FormatName, kept equal by a test
// there).
//
// Writing ONNX is package interchange/onnxexport's job. The importer and
// exporter functions that used to live here (ImportTorchvision, ImportONNX,
// ExportONNX, ...) still forward to their new packages, marked deprecated.
//
// # Parity
//
// The tests load files made by PyTorch 1.13 (Debian's python3-torch) and
// compare with PyTorch's logits: torchvision GoogLeNet state dicts (.pth and
// .safetensors, with and without the auxiliary heads) agree within a
// relative L2 error of about 1e-5, a paper-faithful GoogLeNet exported by
// torch.onnx and its model-zoo-style rewrite within about 1e-6, and our own
// export of the imported torchvision model passes onnx.checker
// (testdata/make_models.py makes the models at test time;
// docs/interchange.md has the numbers). With GOOGLENET_REQUIRE_PEERS=1 a
// missing PyTorch fails the tests instead of skipping them.
package convert
