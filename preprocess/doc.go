// Package preprocess holds input contracts: what a model expects of its
// input, as data, and the code that turns a decoded photograph into that
// input.
//
// Published GoogLeNet weights each come with their own preprocessing, and a
// model fed another one gives other answers. A Contract records the whole
// chain: the resize policy (the shorter side to S then a central C x C crop,
// the whole image to S x S then a central crop, or this project's own
// central square), the interpolation, the channel order (RGB, BGR or gray),
// the pixel scale (0..1 or 0..255), per-channel means and standard
// deviations, and a fixed affine map applied last (torchvision GoogLeNet's
// transform_input). Checkpoints (package checkpoint) and exported ONNX files
// (package interchange/onnxexport) store it as JSON (Encode, Decode), and
// `googlenet predict`, `eval`, `summary` and the serving API read it from
// there.
//
// # The published contracts
//
//   - Torchvision: torchvision's IMAGENET1K_V1 GoogLeNet. Resize(256) with
//     PIL's bilinear filter (the longer side int(256*long/short)),
//     CenterCrop(224) (offsets rounded half to even), ToTensor (0..1),
//     Normalize(ImageNet mean, std), then transform_input,
//     x*(std/0.5) + (mean-0.5)/0.5, which torchvision switches on whenever it
//     loads these weights.
//   - ONNXZoo: the ONNX model zoo's GoogLeNet (Caffe BVLC -> Caffe2 -> ONNX,
//     input data_0, output prob_0): the whole image resized to 224x224 with
//     Image.resize's default filter (bicubic), RGB means 123.68, 116.779,
//     103.939 subtracted on the 0..255 scale, then RGB -> BGR.
//   - Caffe: bvlc_googlenet as Caffe trains and tests it: images stored at
//     256x256 (OpenCV INTER_LINEAR in convert_imageset), the central 224x224
//     crop, BGR 0..255 minus the mean pixel 104, 117, 123.
//   - Native: models trained by this project (data.EvalTransform's central
//     square, bilinear, RGB or gray 0..255 with the training run's means and
//     stds).
//
// # Resampling
//
// PILBilinear and PILBicubic are Pillow's Image.resize reproduced bit for
// bit: the same filter supports widened when shrinking, the same 22-bit
// fixed-point coefficients, a horizontal then a vertical pass each rounded
// to 8 bits. Linear is bilinear interpolation without antialiasing (OpenCV's
// INTER_LINEAR, PyTorch's interpolate with antialias=False) rounded to 8
// bits once. Bilinear, Cubic, Nearest and Area are package data's methods.
// Colour images are converted as Pillow's convert("RGB") does: gray is
// repeated, alpha is dropped. JPEG files decode with Go's image/jpeg, whose
// IDCT and chroma upsampling differ from libjpeg's by a level or two; PNG
// pixels are exact.
//
// # The affine step
//
// transform_input is applied to the input, after normalisation, as
// torchvision applies it; it is not folded into conv1. Folding would give
// other values at the borders: conv1 pads its input with zeros, and a zero
// in the transformed input is not the transform of a zero.
//
// # Use
//
//	c := preprocess.Torchvision()
//	x, err := c.Apply(img) // 3 x 224 x 224 float32, CHW
//
// Fields can be changed freely (c.Interp = preprocess.PILBicubic); Validate
// checks them against each other.
package preprocess
