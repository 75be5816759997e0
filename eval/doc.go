// Package eval evaluates and applies trained GoogLeNet models: the paper's
// test-time crops (Szegedy et al. 2014, Section 7 and Table 3), ensembles,
// top-1/top-5 scores, predictions for image files and batch inference on
// .npy tensors. The `googlenet eval`, `predict` and `infer` commands are thin
// front ends to it; a notebook or a Go program calls the same functions.
//
// # Crops
//
// A Crop is one view of an image, given exactly: the size the whole image is
// scaled to, the box taken from the scaled image, and whether it is mirrored.
// The box is then scaled to the network's input size S when it has another
// size. A Scheme lists the crops of an image of a given size:
//
//   - Center ("1"): the central square covering S/Scales(S)[0] of the
//     shorter side (224/256), scaled to S. This is exactly data.EvalTransform,
//     the validation transform of augmented training runs.
//   - Full ("full"): the whole image scaled to S x S, what training validates
//     on without augmentation (fixed-size images such as MNIST), so
//     evaluating a checkpoint this way reproduces its run's validation
//     accuracy.
//   - Ten ("10"): the image scaled so that its shorter side is Scales(S)[0]
//     (256 for 224), its four S x S corners and center, and the same five
//     mirrored.
//   - MultiScale ("144"): the paper's scheme. The shorter side is scaled to
//     each of Scales(S) (256, 288, 320 and 352 for S = 224); the left,
//     center and right squares of side the shorter side (top, center and
//     bottom for portrait images) are taken; from each square its four
//     corner and its center S x S crops and the whole square scaled to S;
//     each plain and mirrored: 4 x 3 x 6 x 2 = 144.
//
// Scales are proportional to the input size, rounded to the nearest pixel:
// MNIST's S = 28 gives 32, 36, 40 and 44. So for tiny images the schemes do
// the same thing relative to the input as for ImageNet: every image,
// whatever its size, is first resampled (bilinear) to the scale, then
// cropped. A 28x28 digit is upscaled to at most 44x44, and a corner crop of
// 28x28 from it keeps 64% of each side, cutting off the digit's edges; the
// whole-square views keep the digit at a slightly smaller scale than the
// full-image input training saw. A square image's three squares coincide,
// so its 144 crops are 48 distinct ones, each three times (Distinct;
// Options.Dedup forwards each once, weighted, with the same result).
// Images smaller than the input are upscaled; an empty image is an error,
// and so is an aspect ratio so extreme that a scaled image would exceed 64M
// pixels.
//
// # Averaging and ensembles
//
// As in the paper, a model's softmax probabilities (not its logits) are
// averaged over an image's crops (AverageCrops), then the models'
// averages over the models of an ensemble, with equal weights
// (AverageModels); top-1 and top-5 predictions come from that average
// (TopK; ties go to the smaller class index). Evaluate batches the crops of
// several images through each model in fixed-size batches (the last one
// padded, so one inference graph serves a whole run), decodes and crops
// images in parallel goroutines, reports progress, and returns a Result: one
// row of Table 3 (models, crops, cost = forward passes per image, top-1 and
// top-5 error) with each member's own score from the same pass. WriteTable
// and WriteJSON print rows.
//
// # Loading models
//
// LoadModel is the one place where commands turn a --weights path into a
// model and its Meta (labels, input normalisation, configuration). It reads
// our checkpoints (package checkpoint) and, when a checkpoint carries Polyak
// averages of the weights, evaluates those, as the paper builds its final
// models (LoadOptions.LastIterate keeps the last weights). It also reads
// foreign files through package interchange/convert: torchvision state dicts
// (.pth, .pt, .safetensors) onto the torchvision variant and ONNX GoogLeNets
// (.onnx) onto the matching variant, at input size 224; those carry no
// Polyak averages.
//
// # Prediction and inference
//
// Predict returns the top-k classes of one image, converted to the model's
// channel count (gray is repeated over RGB, colour becomes luma, alpha is
// ignored) and normalised as in training. Infer runs a preprocessed float32
// NCHW Array through a model and returns the logits [N, classes]. ReadNpy
// and WriteNpy read and write NumPy .npy files with github.com/sbinet/npyio,
// after checking the header (magic, version, dtype, C order, that the data
// size matches the shape) so that a malformed file is an error rather than a
// crash; float64 input is converted to float32 (an error if a value does not
// fit), and files are written atomically.
//
// # On a GPU
//
// Evaluate (Options.Device), NewPredictor and InferDevice run the forward
// passes on a cuda.Device as a device-resident cuda.Net in evaluation mode
// (googlenet eval, predict and infer --device gpu); decoding, crops,
// normalisation and averaging are the same code as on the CPU.
package eval
