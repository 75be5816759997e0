package preprocess

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"

	"github.com/pkg/errors"
)

// ChannelOrder is the order of the colour channels in the model input.
type ChannelOrder string

// Channel orders.
const (
	RGB  ChannelOrder = "RGB"  // red, green, blue (torchvision, this project)
	BGR  ChannelOrder = "BGR"  // blue, green, red (Caffe, the ONNX model zoo's GoogLeNet)
	Gray ChannelOrder = "gray" // one luma channel (ITU-R 601 weights), e.g. MNIST models
)

// Channels returns the number of input channels of the order: 1 for Gray,
// 3 otherwise.
func (o ChannelOrder) Channels() int {
	if o == Gray {
		return 1
	}
	return 3
}

// ResizeMode is how the image is brought to the model's input size.
type ResizeMode string

// Resize modes. Size is S and Crop is C in Contract.
const (
	// Shorter scales the image so that its shorter side is S (the longer
	// side truncated as torchvision's Resize(S) does: int(S*long/short)),
	// then takes the central C x C crop (offsets rounded half to even, as
	// torchvision's CenterCrop). torchvision's ImageNet evaluation.
	Shorter ResizeMode = "shorter"
	// Whole scales the whole image to S x S, ignoring its aspect ratio, then
	// takes the central C x C crop (offsets rounded down, as Caffe's data
	// layer). With S = C there is no crop (the ONNX model zoo's preprocess).
	Whole ResizeMode = "whole"
	// Square takes the central square covering C/S of the shorter side of
	// the original image and resamples it once to C x C. This is the
	// validation transform of this project's training runs
	// (data.EvalTransform) and eval's one-crop scheme.
	Square ResizeMode = "square"
)

// Interp is a resampling method.
type Interp string

// Resampling methods.
const (
	// PILBilinear is Pillow's Image.resize with BILINEAR: a triangle filter
	// widened by the scale factor when shrinking (antialiased), two passes
	// (horizontal, then vertical) each rounded to 8 bits with Pillow's
	// 22-bit fixed-point coefficients. Reproduced bit for bit.
	PILBilinear Interp = "pil-bilinear"
	// PILBicubic is Pillow's BICUBIC (a = -0.5), the default filter of
	// Image.resize, computed the same way as PILBilinear.
	PILBicubic Interp = "pil-bicubic"
	// Linear is bilinear interpolation without antialiasing, pixel centres
	// at half-integers, edges clamped, rounded to 8 bits: OpenCV's
	// INTER_LINEAR (which Caffe's convert_imageset uses) and PyTorch's
	// interpolate(mode="bilinear", align_corners=False, antialias=False).
	Linear Interp = "linear"
	// Bilinear, Cubic, Nearest and Area are package data's methods
	// (golang.org/x/image/draw kernels, exact area averaging), the ones this
	// project's data pipeline trains with.
	Bilinear Interp = "bilinear"
	Cubic    Interp = "cubic"
	Nearest  Interp = "nearest"
	Area     Interp = "area"
)

// Interps lists the resampling methods.
var Interps = []Interp{PILBilinear, PILBicubic, Linear, Bilinear, Cubic, Nearest, Area}

// Affine is a fixed per-channel map applied to the normalised input,
// x' = x*Scale[c] + Shift[c], in the model's channel order. torchvision's
// GoogLeNet applies one (transform_input) inside its forward pass when it
// runs its published weights.
type Affine struct {
	Scale []float32 `json:"scale"`
	Shift []float32 `json:"shift"`
}

// Contract is everything a model expects of its input besides its size: the
// data that turns a decoded photograph into the tensor the weights were
// trained on. The steps run in this order:
//
//  1. Geometry: Resize (mode), Size (S) and Crop (C, the model's input
//     size) with Interp, on 8-bit pixels, giving a C x C image.
//  2. Channels: the pixels in Channels order (RGB, BGR or gray).
//  3. Scale: pixel/255*Scale (Scale 255 keeps 0..255, Scale 1 gives 0..1),
//     computed in float32 as torchvision's ToTensor does.
//  4. Normalisation: (x - Means[c]) / Stds[c], on that scale and in the
//     model's channel order; nil Stds divide by 1.
//  5. Affine, when set: x*Affine.Scale[c] + Affine.Shift[c].
//
// The zero value is not valid; start from a named contract (Torchvision,
// ONNXZoo, Caffe, Native) and change fields.
type Contract struct {
	// Name says whose convention this is ("torchvision", "onnx-zoo",
	// "caffe", "native"), or is empty for a hand-made one. It is a label:
	// the fields below decide everything.
	Name     string       `json:"name,omitempty"`
	Channels ChannelOrder `json:"channels"`
	Scale    float32      `json:"scale"`
	Means    []float32    `json:"means,omitempty"`
	Stds     []float32    `json:"stds,omitempty"`
	Resize   ResizeMode   `json:"resize"`
	Size     int          `json:"size"`
	Crop     int          `json:"crop"`
	Interp   Interp       `json:"interp"`
	Affine   *Affine      `json:"affine,omitempty"`
}

// ImageNet statistics of torchvision's pretrained models on the 0..1 scale.
var (
	ImageNetMean = []float32{0.485, 0.456, 0.406}
	ImageNetStd  = []float32{0.229, 0.224, 0.225}
)

// Torchvision returns the contract of torchvision's published GoogLeNet
// (IMAGENET1K_V1): Resize(256) and CenterCrop(224) with PIL's bilinear
// filter, ToTensor (0..1), Normalize with the ImageNet mean and std, and
// the model's transform_input, which torchvision switches on whenever it
// loads these weights: x*(std/0.5) + (mean-0.5)/0.5 per channel. The
// result is the "Inception" convention (x/127.5 - 1) that the weights were
// trained with, up to the float32 rounding torchvision itself has.
func Torchvision() Contract {
	c := TorchvisionNormalize()
	c.Name = "torchvision"
	c.Affine = TransformInput()
	return c
}

// TorchvisionNormalize is Torchvision without transform_input: the
// documented ImageNet preprocessing of every other torchvision classifier,
// and of torchvision GoogLeNets built with transform_input=False (for
// example fine-tuned ones).
func TorchvisionNormalize() Contract {
	return Contract{
		Name: "imagenet", Channels: RGB, Scale: 1,
		Means: append([]float32(nil), ImageNetMean...), Stds: append([]float32(nil), ImageNetStd...),
		Resize: Shorter, Size: 256, Crop: 224, Interp: PILBilinear,
	}
}

// TransformInput returns torchvision GoogLeNet's transform_input as an
// Affine: x*(std/0.5) + (mean-0.5)/0.5 per channel with the ImageNet mean
// and std, the constants computed in float64 from torchvision's literals
// and applied in float32, as torchvision does.
func TransformInput() *Affine {
	mean, std := [3]float64{0.485, 0.456, 0.406}, [3]float64{0.229, 0.224, 0.225}
	a := &Affine{}
	for c := range mean {
		a.Scale = append(a.Scale, float32(std[c]/0.5))
		a.Shift = append(a.Shift, float32((mean[c]-0.5)/0.5))
	}
	return a
}

// ONNXZoo returns the preprocess of the ONNX model zoo's GoogLeNet
// (validated/vision/classification/inception_and_googlenet/googlenet, Caffe
// BVLC -> Caffe2 -> ONNX) as its README gives it: the whole image resized to
// 224x224 with Image.resize's default filter (bicubic), the RGB means
// 123.68, 116.779, 103.939 subtracted on the 0..255 scale, then RGB -> BGR.
func ONNXZoo() Contract {
	return Contract{
		Name: "onnx-zoo", Channels: BGR, Scale: 255,
		Means:  []float32{103.939, 116.779, 123.68},
		Resize: Whole, Size: 224, Crop: 224, Interp: PILBicubic,
	}
}

// Caffe returns the contract of Caffe's bvlc_googlenet (the paper authors'
// release) as its train_val.prototxt and Caffe's tools define it: images
// stored at 256x256 by convert_imageset (OpenCV's INTER_LINEAR, aspect
// ratio not kept), the central 224x224 crop of the test phase, BGR on the
// 0..255 scale minus the mean pixel 104, 117, 123 (BGR order).
func Caffe() Contract {
	return Contract{
		Name: "caffe", Channels: BGR, Scale: 255,
		Means:  []float32{104, 117, 123},
		Resize: Whole, Size: 256, Crop: 224, Interp: Linear,
	}
}

// Native returns the contract of models trained by this project (package
// train): the validation transform of data.EvalTransform at input size
// (the central square covering 224/256 of the shorter side, bilinear),
// channels gray for 1 and RGB for 3, and means and stds on the 0..255
// scale (nil: none), as the checkpoint's Means and Stds record them.
func Native(channels, input int, means, stds []float32) Contract {
	o := RGB
	if channels == 1 {
		o = Gray
	}
	return Contract{
		Name: "native", Channels: o, Scale: 255,
		Means: append([]float32(nil), means...), Stds: append([]float32(nil), stds...),
		Resize: Square, Size: int(math.Round(float64(input) * 256 / 224)), Crop: input, Interp: Bilinear,
	}
}

// Named returns the contract called name: torchvision, imagenet (torchvision
// without transform_input), onnx-zoo, caffe.
func Named(name string) (Contract, error) {
	switch strings.ToLower(name) {
	case "torchvision":
		return Torchvision(), nil
	case "imagenet":
		return TorchvisionNormalize(), nil
	case "onnx-zoo", "zoo":
		return ONNXZoo(), nil
	case "caffe":
		return Caffe(), nil
	}
	return Contract{}, errors.Errorf("preprocess: unknown contract %q (want torchvision, imagenet, onnx-zoo or caffe)", name)
}

// Validate checks the contract's fields against each other.
func (c Contract) Validate() error {
	n := c.Channels.Channels()
	finite := func(v float32) bool { return !math.IsNaN(float64(v)) && !math.IsInf(float64(v), 0) }
	switch {
	case c.Channels != RGB && c.Channels != BGR && c.Channels != Gray:
		return errors.Errorf("preprocess: channel order %q (want RGB, BGR or gray)", c.Channels)
	case c.Scale != 1 && c.Scale != 255:
		return errors.Errorf("preprocess: pixel scale %v (want 1 for 0..1 or 255 for 0..255)", c.Scale)
	case c.Means != nil && len(c.Means) != n:
		return errors.Errorf("preprocess: %d means for %d channels", len(c.Means), n)
	case c.Stds != nil && len(c.Stds) != n:
		return errors.Errorf("preprocess: %d stds for %d channels", len(c.Stds), n)
	case c.Resize != Shorter && c.Resize != Whole && c.Resize != Square:
		return errors.Errorf("preprocess: resize mode %q (want shorter, whole or square)", c.Resize)
	case c.Crop < 1 || c.Size < c.Crop:
		return errors.Errorf("preprocess: resize to %d and crop %d (want 1 <= crop <= size)", c.Size, c.Crop)
	case c.Size > 1<<14:
		return errors.Errorf("preprocess: resize to %d (at most %d)", c.Size, 1<<14)
	}
	if !validInterp(c.Interp) {
		return errors.Errorf("preprocess: interpolation %q (want one of %s)", c.Interp, interpList())
	}
	for i, m := range c.Means {
		if !finite(m) {
			return errors.Errorf("preprocess: mean[%d] = %v", i, m)
		}
	}
	for i, s := range c.Stds {
		if !(s > 0) || !finite(s) {
			return errors.Errorf("preprocess: std[%d] = %v (want finite > 0)", i, s)
		}
	}
	if a := c.Affine; a != nil {
		if len(a.Scale) != n || len(a.Shift) != n {
			return errors.Errorf("preprocess: affine with %d scales and %d shifts for %d channels", len(a.Scale), len(a.Shift), n)
		}
		for i := range a.Scale {
			if !finite(a.Scale[i]) || !finite(a.Shift[i]) {
				return errors.Errorf("preprocess: affine channel %d: %v, %v", i, a.Scale[i], a.Shift[i])
			}
		}
	}
	return nil
}

// Fits reports whether the contract produces the input of a model with
// the given input channels and input size (height and width): as many
// channels, and a crop of that size. It validates the contract too.
func (c Contract) Fits(channels, input int) error {
	if err := c.Validate(); err != nil {
		return err
	}
	if n := c.Channels.Channels(); n != channels {
		return errors.Errorf("preprocess: input contract %q gives %d channels (%s), the model takes %d", c.Name, n, c.Channels, channels)
	}
	if c.Crop != input {
		return errors.Errorf("preprocess: input contract %q crops %dx%d, the model takes %dx%d", c.Name, c.Crop, c.Crop, input, input)
	}
	return nil
}

func validInterp(m Interp) bool {
	for _, k := range Interps {
		if m == k {
			return true
		}
	}
	return false
}

func interpList() string {
	s := make([]string, len(Interps))
	for i, k := range Interps {
		s[i] = string(k)
	}
	return strings.Join(s, ", ")
}

// String describes the contract on one line, as `predict` prints it.
func (c Contract) String() string {
	var b strings.Builder
	if c.Name != "" {
		fmt.Fprintf(&b, "%s: ", c.Name)
	}
	switch c.Resize {
	case Shorter:
		fmt.Fprintf(&b, "shorter side to %d, centre crop %d", c.Size, c.Crop)
	case Whole:
		if c.Size == c.Crop {
			fmt.Fprintf(&b, "whole image to %dx%d", c.Size, c.Size)
		} else {
			fmt.Fprintf(&b, "whole image to %dx%d, centre crop %d", c.Size, c.Size, c.Crop)
		}
	case Square:
		fmt.Fprintf(&b, "centre square of %d/%d of the shorter side to %d", c.Crop, c.Size, c.Crop)
	default:
		fmt.Fprintf(&b, "resize %q %d/%d", c.Resize, c.Size, c.Crop)
	}
	fmt.Fprintf(&b, " (%s), %s", c.Interp, c.Channels)
	if c.Scale == 1 {
		b.WriteString(" 0..1")
	} else {
		b.WriteString(" 0..255")
	}
	if c.Means != nil {
		fmt.Fprintf(&b, ", mean %s", floats(c.Means))
	}
	if c.Stds != nil {
		fmt.Fprintf(&b, ", std %s", floats(c.Stds))
	}
	if c.Affine != nil {
		fmt.Fprintf(&b, ", then x*%s+%s", floats(c.Affine.Scale), floats(c.Affine.Shift))
	}
	return b.String()
}

func floats(v []float32) string {
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = fmt.Sprint(x)
	}
	return "(" + strings.Join(s, ", ") + ")"
}

// Encode returns the contract as a JSON string, for metadata.
func (c Contract) Encode() (string, error) {
	if err := c.Validate(); err != nil {
		return "", err
	}
	b, err := json.Marshal(c)
	if err != nil {
		return "", errors.Wrap(err, "preprocess")
	}
	return string(b), nil
}

// Decode parses a contract written by Encode and validates it; unknown
// fields are an error.
func Decode(s string) (Contract, error) {
	var c Contract
	dec := json.NewDecoder(strings.NewReader(s))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return Contract{}, errors.Wrap(err, "preprocess: input contract")
	}
	if dec.More() {
		return Contract{}, errors.New("preprocess: input contract: trailing data")
	}
	if err := c.Validate(); err != nil {
		return Contract{}, err
	}
	return c, nil
}

// ScaledTo returns c for a model whose input is input x input: the crop
// becomes input and the resize size keeps its ratio to the crop (never
// below the crop). A contract published for 224x224 inputs (resize 256,
// crop 224) becomes resize 73, crop 64 for a 64x64 model. The slices are
// shared with c (see Clone).
func (c Contract) ScaledTo(input int) Contract {
	if c.Crop != input && c.Crop > 0 {
		c.Size = max(input, int(math.Round(float64(c.Size)*float64(input)/float64(c.Crop))))
		c.Crop = input
	}
	return c
}

// Clone returns a deep copy of c (slices and Affine not shared; empty
// slices become nil).
func (c Contract) Clone() Contract {
	cp := func(v []float32) []float32 {
		if len(v) == 0 {
			return nil
		}
		return append([]float32(nil), v...)
	}
	c.Means, c.Stds = cp(c.Means), cp(c.Stds)
	if c.Affine != nil {
		c.Affine = &Affine{Scale: cp(c.Affine.Scale), Shift: cp(c.Affine.Shift)}
	}
	return c
}

// Means255 returns the means and stds on the 0..255 scale in RGB order (gray
// for one channel), as checkpoint.Meta's legacy Means and Stds fields hold
// them, or nil, nil when the contract cannot be said that way (an affine
// step, or BGR).
func (c Contract) Means255() (means, stds []float32) {
	if c.Affine != nil || c.Channels == BGR {
		return nil, nil
	}
	k := 255 / c.Scale
	for _, m := range c.Means {
		means = append(means, m*k)
	}
	for _, s := range c.Stds {
		stds = append(stds, s*k)
	}
	return means, stds
}
