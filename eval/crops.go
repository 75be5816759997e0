package eval

import (
	"fmt"
	"image"
	"math"

	"github.com/pkg/errors"

	"github.com/goinception/googlenet/data"
	"github.com/goinception/googlenet/inception"
	"github.com/goinception/googlenet/preprocess"
)

// Crop is one view of an image as the network sees it. To render it, scale
// the whole image to Size (skipped when Size is the image's own size), take
// the part Box of the scaled image, scale that part to the network's input
// size when it has another size, and flip the result left to right when
// Mirror is set. Box is in the scaled image's coordinates with the origin at
// its top-left pixel.
type Crop struct {
	Size   image.Point
	Box    image.Rectangle
	Mirror bool
}

// String formats c as "426x320 (53,0)-(373,320) mirror": the scaled size,
// the box (half-open, as image.Rectangle) and the flip.
func (c Crop) String() string {
	s := fmt.Sprintf("%dx%d %v", c.Size.X, c.Size.Y, c.Box)
	if c.Mirror {
		s += " mirror"
	}
	return s
}

// Scheme names a set of crops per image.
type Scheme string

// The crop schemes. Center, Ten and MultiScale are the paper's 1, 10 and 144
// crops (Section 7, Table 3); Full is the whole image scaled to the input,
// which is what training validates on when it does not augment (a dataset of
// fixed-size images such as MNIST), so it reproduces that validation.
const (
	Full       Scheme = "full"
	Center     Scheme = "1"
	Ten        Scheme = "10"
	MultiScale Scheme = "144"
)

// Schemes lists the crop schemes.
var Schemes = []Scheme{Center, Ten, MultiScale, Full}

// ParseScheme parses "1", "10", "144" or "full".
func ParseScheme(s string) (Scheme, error) {
	for _, k := range Schemes {
		if string(k) == s {
			return k, nil
		}
	}
	return "", errors.Errorf("eval: crops %q: the schemes are 1, 10, 144 and full", s)
}

// N returns the number of crops per image (0 for an unknown scheme).
func (s Scheme) N() int {
	switch s {
	case Full, Center:
		return 1
	case Ten:
		return 10
	case MultiScale:
		return 144
	}
	return 0
}

// Crops returns the crops of scheme s for a w x h image and a network input
// of input x input pixels.
func (s Scheme) Crops(w, h, input int) ([]Crop, error) {
	switch s {
	case Full:
		return FullCrops(w, h, input)
	case Center:
		return CenterCrops(w, h, input)
	case Ten:
		return TenCrops(w, h, input)
	case MultiScale:
		return MultiScaleCrops(w, h, input)
	}
	return nil, errors.Errorf("eval: crops %q: the schemes are 1, 10, 144 and full", string(s))
}

// maxScaledPixels bounds the size of a scaled image (about 64M pixels): an
// image with an extreme aspect ratio (say 10000x2) would otherwise be scaled
// to a huge image before cropping.
const maxScaledPixels = 1 << 26

// Scales returns the four shorter-side sizes of the paper's multi-scale
// testing for a network input of input x input pixels: 256, 288, 320 and 352
// for 224 (Section 7), scaled proportionally and rounded to the nearest pixel
// for other inputs (28 -> 32, 36, 40, 44; 16 -> 18, 21, 23, 25). The first
// is also the scale of the 1- and 10-crop schemes (256/224 of the input).
func Scales(input int) [4]int {
	var s [4]int
	for i, k := range [4]float64{256, 288, 320, 352} {
		s[i] = max(1, int(math.Round(float64(input)*k/224)))
	}
	return s
}

// scaledSize returns the size of a w x h image whose shorter side is scaled
// to size, the longer side rounded to the nearest pixel (as
// data.ResizeShorter).
func scaledSize(w, h, size int) (image.Point, error) {
	var p image.Point
	if w <= h {
		p = image.Pt(size, max(1, int(math.Round(float64(h)*float64(size)/float64(w)))))
	} else {
		p = image.Pt(max(1, int(math.Round(float64(w)*float64(size)/float64(h)))), size)
	}
	if int64(p.X)*int64(p.Y) > maxScaledPixels {
		return image.Point{}, errors.Errorf("eval: a %dx%d image scaled to shorter side %d is %dx%d, over %d pixels", w, h, size, p.X, p.Y, maxScaledPixels)
	}
	return p, nil
}

func checkSizes(w, h, input int) error {
	if w <= 0 || h <= 0 {
		return errors.Errorf("eval: empty image %dx%d", w, h)
	}
	if input <= 0 {
		return errors.Errorf("eval: input size %d", input)
	}
	return nil
}

// FullCrops returns one crop: the whole image scaled to input x input
// (without keeping its aspect ratio), as data.Transform does without a crop
// mode.
func FullCrops(w, h, input int) ([]Crop, error) {
	if err := checkSizes(w, h, input); err != nil {
		return nil, err
	}
	return []Crop{{Size: image.Pt(w, h), Box: image.Rect(0, 0, w, h)}}, nil
}

// CenterCrops returns the single center crop: the central square covering
// input/Scales(input)[0] of the shorter side (224/256), scaled to the input
// size. This is exactly what data.EvalTransform takes (the validation
// transform of training), so one-crop evaluation reproduces a training run's
// validation accuracy. The image is not scaled first: the square is cut from
// the original and resampled once (side rounded to the nearest pixel,
// position rounded towards the top left).
func CenterCrops(w, h, input int) ([]Crop, error) {
	if err := checkSizes(w, h, input); err != nil {
		return nil, err
	}
	short := min(w, h)
	scale := float64(Scales(input)[0]) / float64(short)
	side := max(1, min(short, int(math.Round(float64(input)/scale))))
	full := image.Rect(0, 0, w, h)
	box, err := data.CenterRect(full, side, side)
	if err != nil {
		return nil, errors.Wrap(err, "eval: center crop")
	}
	return []Crop{{Size: full.Max, Box: box}}, nil
}

// fiveBoxes returns the four corner and the center input x input boxes of
// the rectangle r, in the order top left, top right, bottom left, bottom
// right, center (torchvision's FiveCrop order).
func fiveBoxes(r image.Rectangle, input int) [5]image.Rectangle {
	sq := image.Rect(0, 0, input, input)
	return [5]image.Rectangle{
		sq.Add(r.Min),
		sq.Add(image.Pt(r.Max.X-input, r.Min.Y)),
		sq.Add(image.Pt(r.Min.X, r.Max.Y-input)),
		sq.Add(r.Max.Sub(image.Pt(input, input))),
		sq.Add(r.Min.Add(image.Pt((r.Dx()-input)/2, (r.Dy()-input)/2))),
	}
}

// TenCrops returns AlexNet's ten crops as the paper's baseline describes
// them: the image scaled so that its shorter side is Scales(input)[0] (256
// for 224), the four input x input corners and the center (in the order top
// left, top right, bottom left, bottom right, center), then the same five
// mirrored.
func TenCrops(w, h, input int) ([]Crop, error) {
	if err := checkSizes(w, h, input); err != nil {
		return nil, err
	}
	size, err := scaledSize(w, h, Scales(input)[0])
	if err != nil {
		return nil, err
	}
	five := fiveBoxes(image.Rectangle{Max: size}, input)
	crops := make([]Crop, 0, 10)
	for _, m := range []bool{false, true} {
		for _, b := range five {
			crops = append(crops, Crop{Size: size, Box: b, Mirror: m})
		}
	}
	return crops, nil
}

// MultiScaleCrops returns the paper's 144 crops (Section 7): the image is
// scaled to each of the four shorter sides of Scales(input); from each scaled
// image the left, center and right squares (top, center and bottom for a
// portrait image) of the shorter side's size; from each square the four
// corner and the center input x input crops and the whole square scaled to
// the input size; each of these plain and mirrored: 4 x 3 x 6 x 2 = 144.
//
// The order is scale, square, view (top left, top right, bottom left,
// bottom right, center, whole square), then plain before mirrored. For a
// square image the three squares coincide, so each crop appears three times
// (48 distinct crops; Distinct finds them).
func MultiScaleCrops(w, h, input int) ([]Crop, error) {
	if err := checkSizes(w, h, input); err != nil {
		return nil, err
	}
	crops := make([]Crop, 0, 144)
	for _, s := range Scales(input) {
		size, err := scaledSize(w, h, s)
		if err != nil {
			return nil, err
		}
		sq := image.Rect(0, 0, s, s)
		var squares [3]image.Rectangle
		if size.X >= size.Y { // landscape or square: left, center, right
			squares = [3]image.Rectangle{sq, sq.Add(image.Pt((size.X-s)/2, 0)), sq.Add(image.Pt(size.X-s, 0))}
		} else { // portrait: top, center, bottom
			squares = [3]image.Rectangle{sq, sq.Add(image.Pt(0, (size.Y-s)/2)), sq.Add(image.Pt(0, size.Y-s))}
		}
		for _, q := range squares {
			five := fiveBoxes(q, input)
			views := append(five[:], q)
			for _, b := range views {
				for _, m := range []bool{false, true} {
					crops = append(crops, Crop{Size: size, Box: b, Mirror: m})
				}
			}
		}
	}
	return crops, nil
}

// Distinct returns the distinct crops of crops in order of first appearance
// and how many times each appears. Averaging the distinct crops' outputs
// weighted by count equals averaging over all crops.
func Distinct(crops []Crop) (unique []Crop, counts []int) {
	seen := make(map[Crop]int, len(crops))
	for _, c := range crops {
		if i, ok := seen[c]; ok {
			counts[i]++
			continue
		}
		seen[c] = len(unique)
		unique = append(unique, c)
		counts = append(counts, 1)
	}
	return unique, counts
}

// Render draws crops of img, each scaled to input x input, into dst as
// consecutive CHW planes with the given channel count (1 or 3; images are
// converted as data.ToCHWInto does), normalised by means and stds (0..255
// scale; nil skips). dst must hold len(crops)*channels*input*input values.
// Scaling is bilinear (data.Bilinear); each distinct scaled size is computed
// once.
func Render(dst []float32, img image.Image, crops []Crop, input, channels int, means, stds []float32) error {
	plane := channels * input * input
	if len(dst) != len(crops)*plane {
		return errors.Errorf("eval: render %d crops of %dx%dx%d into %d values", len(crops), channels, input, input, len(dst))
	}
	b := img.Bounds()
	if b.Empty() {
		return errors.Errorf("eval: empty image %v", b)
	}
	scaled := map[image.Point]image.Image{b.Size(): img}
	for i, c := range crops {
		s, ok := scaled[c.Size]
		if !ok {
			var err error
			if s, err = data.Resize(img, c.Size.X, c.Size.Y, data.Bilinear); err != nil {
				return errors.Wrapf(err, "eval: crop %d", i)
			}
			scaled[c.Size] = s
		}
		part, err := data.Crop(s, c.Box.Add(s.Bounds().Min))
		if err != nil {
			return errors.Wrapf(err, "eval: crop %d (%v)", i, c)
		}
		if c.Box.Dx() != input || c.Box.Dy() != input {
			if part, err = data.Resize(part, input, input, data.Bilinear); err != nil {
				return errors.Wrapf(err, "eval: crop %d", i)
			}
		}
		if c.Mirror {
			part = data.Mirror(part)
		}
		if err := data.ToCHWInto(dst[i*plane:(i+1)*plane], part, channels, means, stds); err != nil {
			return errors.Wrapf(err, "eval: crop %d", i)
		}
	}
	return nil
}

// RenderContract draws the crops of img (crops of scheme, see
// Scheme.Crops) into dst under an input contract. The one-crop scheme
// (Center) is the contract's own geometry (contract.ApplyInto: torchvision's
// resize and centre crop for torchvision weights, the whole image for the
// ONNX zoo's, the central square for this project's), whatever crops says;
// the other schemes cut the paper's crops (Render) and then encode them
// with the contract's channel order, scale, normalisation and affine step
// (contract.FromRGB). dst holds len(crops) inputs of contract.InputLen()
// values.
func RenderContract(dst []float32, img image.Image, scheme Scheme, crops []Crop, contract preprocess.Contract) error {
	plane := contract.InputLen()
	if len(dst) != len(crops)*plane {
		return errors.Errorf("eval: render %d crops of %d values into %d values", len(crops), plane, len(dst))
	}
	if scheme == Center || scheme == "" {
		for i := range crops {
			if err := contract.ApplyInto(dst[i*plane:(i+1)*plane], img); err != nil {
				return errors.Wrap(err, "eval")
			}
		}
		return nil
	}
	if err := Render(dst, img, crops, contract.Crop, contract.Channels.Channels(), nil, nil); err != nil {
		return err
	}
	for i := range crops {
		if err := contract.FromRGB(dst[i*plane : (i+1)*plane]); err != nil {
			return errors.Wrap(err, "eval")
		}
	}
	return nil
}

// checkContract reports whether contract c fits a model with configuration
// cfg (checkpoint.CheckContract).
func checkContract(c preprocess.Contract, cfg inception.Config) error {
	return errors.Wrap(c.Fits(cfg.InChannels, cfg.InputSize), "eval")
}

// sameContract reports whether two contracts prepare inputs alike.
func sameContract(a, b preprocess.Contract) bool {
	a.Name, b.Name = "", ""
	return a.String() == b.String()
}
