package data

import (
	"image"
	"math"
	"math/rand/v2"

	"github.com/pkg/errors"
)

// CropMode selects how a transform picks the part of an image it keeps.
type CropMode int

const (
	// CropNone resizes the whole image to Size x Size (no copy when it
	// already has that size).
	CropNone CropMode = iota
	// CropCenter takes the central Size x Size square after scaling the
	// shorter side to Resize (evaluation). With Resize 0 the image is not
	// scaled unless its shorter side is below Size.
	CropCenter
	// CropRandom takes a random-sized crop (the paper's augmentation):
	// area fraction in [MinArea, MaxArea] and aspect ratio w/h in
	// [MinAspect, MaxAspect] drawn log-uniformly, as torchvision's
	// RandomResizedCrop; after 10 failed draws a central crop with the
	// aspect clamped into range. The crop is resized to Size x Size.
	CropRandom
)

// Defaults of the random-sized crop (the paper: 8%..100% of the area,
// aspect 3/4..4/3).
const (
	DefaultMinArea   = 0.08
	DefaultMaxArea   = 1.0
	DefaultMinAspect = 3.0 / 4
	DefaultMaxAspect = 4.0 / 3
	cropTries        = 10
)

// AlexNet's PCA of ImageNet RGB pixels (0..1 scale), as used by fb.resnet
// and torchvision's reference scripts for lighting noise.
var (
	PCAEigVal = [3]float64{0.2175, 0.0188, 0.0045}
	PCAEigVec = [3][3]float64{
		{-0.5675, 0.7192, 0.4009},
		{-0.5808, -0.0045, -0.8140},
		{-0.5836, -0.6948, 0.4203},
	}
)

// ImageNetMeans and ImageNetStds are the usual RGB statistics on the 0..255
// scale (the means are Caffe's and the ONNX zoo's 123.68, 116.779, 103.939).
var (
	ImageNetMeans = []float32{123.675, 116.28, 103.53}
	ImageNetStds  = []float32{58.395, 57.12, 57.375}
)

// Transform turns a decoded image into the float32 CHW input of a network.
// Each step is switched on by its field; the zero value converts the image
// as it is (no crop, resize, augmentation or normalisation). Steps run in
// this order: crop (CropMode), resize to Size with Interp (or a random
// method with RandomInterp), conversion to Channels, photometric
// distortions (brightness, contrast, saturation, lighting, in that order,
// each clamped to 0..255), mirror, and finally (x - Means[c]) / Stds[c].
type Transform struct {
	// Size is the output height and width; 0 keeps the image size (every
	// image in a batch must then have the same size).
	Size int
	// Channels of the output (1 or 3); 0 takes the dataset's.
	Channels int

	Crop CropMode
	// Resize is the shorter side before a CropCenter crop.
	Resize int
	// Random-sized crop ranges; zero values take the Default* constants.
	MinArea, MaxArea, MinAspect, MaxAspect float64

	// Interp is the resampling method; RandomInterp draws one of Interps
	// uniformly per image instead.
	Interp       Interp
	RandomInterp bool

	// Mirror flips the image left-right with probability 1/2.
	Mirror bool

	// Brightness, Contrast and Saturation draw a factor uniformly in
	// [1-v, 1+v] (as torchvision's ColorJitter): brightness scales pixels,
	// contrast blends with the image's mean gray, saturation with each
	// pixel's gray (three channels only). 0 disables each.
	Brightness, Contrast, Saturation float64
	// Lighting is the standard deviation of AlexNet's PCA lighting noise:
	// alpha ~ N(0, Lighting) per eigenvector, adding
	// 255 * PCAEigVec * (alpha * PCAEigVal) to every pixel (three channels
	// only). 0 disables it; AlexNet used 0.1.
	Lighting float64

	// Means and Stds normalise each channel (0..255 scale); nil skips.
	Means, Stds []float32
}

// TrainTransform returns the paper's training augmentation at size x size:
// random-sized crop, random interpolation, mirror, photometric distortions
// (0.4 brightness, contrast and saturation, 0.1 lighting) and
// normalisation.
func TrainTransform(size int, means, stds []float32) Transform {
	return Transform{
		Size: size, Crop: CropRandom, RandomInterp: true, Mirror: true,
		Brightness: 0.4, Contrast: 0.4, Saturation: 0.4, Lighting: 0.1,
		Means: means, Stds: stds,
	}
}

// EvalTransform returns the evaluation transform: shorter side scaled to
// size*256/224 (bilinear), central size x size crop, normalisation.
func EvalTransform(size int, means, stds []float32) Transform {
	return Transform{
		Size: size, Crop: CropCenter, Resize: int(math.Round(float64(size) * 256 / 224)),
		Means: means, Stds: stds,
	}
}

// Random reports whether the transform draws random numbers.
func (t *Transform) Random() bool {
	return t.Crop == CropRandom || t.RandomInterp || t.Mirror || t.Brightness != 0 ||
		t.Contrast != 0 || t.Saturation != 0 || t.Lighting != 0
}

func (t *Transform) cropRanges() (a0, a1, r0, r1 float64) {
	pick := func(v, d float64) float64 {
		if v == 0 {
			return d
		}
		return v
	}
	return pick(t.MinArea, DefaultMinArea), pick(t.MaxArea, DefaultMaxArea),
		pick(t.MinAspect, DefaultMinAspect), pick(t.MaxAspect, DefaultMaxAspect)
}

// Validate checks the settings against a dataset of c channels.
func (t *Transform) Validate(c int) error {
	ch := t.Channels
	if ch == 0 {
		ch = c
	}
	a0, a1, r0, r1 := t.cropRanges()
	finite := func(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
	switch {
	case ch != 1 && ch != 3:
		return errors.Errorf("transform: %d channels (want 1 or 3)", ch)
	case t.Size < 0 || t.Resize < 0:
		return errors.Errorf("transform: negative size %d or resize %d", t.Size, t.Resize)
	case t.Crop < CropNone || t.Crop > CropRandom:
		return errors.Errorf("transform: unknown crop mode %d", int(t.Crop))
	case t.Crop == CropRandom && t.Size == 0:
		return errors.New("transform: a random crop needs Size")
	case t.Crop == CropCenter && t.Size == 0:
		return errors.New("transform: a center crop needs Size")
	case !(a0 > 0 && a0 <= a1 && a1 <= 1):
		return errors.Errorf("transform: crop area range [%v, %v] (want 0 < min <= max <= 1)", a0, a1)
	case !(r0 > 0 && r0 <= r1 && finite(r1)):
		return errors.Errorf("transform: crop aspect range [%v, %v] (want 0 < min <= max)", r0, r1)
	case t.Interp < 0 || t.Interp >= numInterp:
		return errors.Errorf("transform: unknown interpolation %d", int(t.Interp))
	case !(t.Brightness >= 0 && t.Brightness <= 1), !(t.Contrast >= 0 && t.Contrast <= 1),
		!(t.Saturation >= 0 && t.Saturation <= 1):
		return errors.Errorf("transform: brightness %v, contrast %v, saturation %v (want 0..1)", t.Brightness, t.Contrast, t.Saturation)
	case !(t.Lighting >= 0 && finite(t.Lighting)):
		return errors.Errorf("transform: lighting %v (want finite >= 0)", t.Lighting)
	case t.Means != nil && len(t.Means) != ch, t.Stds != nil && len(t.Stds) != ch:
		return errors.Errorf("transform: %d means and %d stds for %d channels", len(t.Means), len(t.Stds), ch)
	}
	for i, s := range t.Stds {
		if !(s > 0) || math.IsInf(float64(s), 0) {
			return errors.Errorf("transform: std[%d] = %v (want finite > 0)", i, s)
		}
	}
	return nil
}

// OutputShape returns the channels, height and width that Apply produces
// for a dataset of shape (c, h, w); h and w are 0 when they depend on the
// image (Size 0 on a folder dataset).
func (t *Transform) OutputShape(c, h, w int) (int, int, int) {
	if t.Channels != 0 {
		c = t.Channels
	}
	if t.Size != 0 {
		return c, t.Size, t.Size
	}
	return c, h, w
}

// RandomSizedRect draws a crop rectangle inside a w x h image (origin 0):
// the area fraction uniform in [minArea, maxArea], the aspect ratio
// (width/height) log-uniform in [minAspect, maxAspect], the position
// uniform; after 10 draws that do not fit, the largest central crop with
// the aspect clamped into range (torchvision's RandomResizedCrop.get_params).
func RandomSizedRect(rng *rand.Rand, w, h int, minArea, maxArea, minAspect, maxAspect float64) image.Rectangle {
	area := float64(w * h)
	lr0, lr1 := math.Log(minAspect), math.Log(maxAspect)
	for try := 0; try < cropTries; try++ {
		target := area * (minArea + rng.Float64()*(maxArea-minArea))
		aspect := math.Exp(lr0 + rng.Float64()*(lr1-lr0))
		cw := int(math.Round(math.Sqrt(target * aspect)))
		ch := int(math.Round(math.Sqrt(target / aspect)))
		if cw > 0 && cw <= w && ch > 0 && ch <= h {
			x := rng.IntN(w - cw + 1)
			y := rng.IntN(h - ch + 1)
			return image.Rect(x, y, x+cw, y+ch)
		}
	}
	cw, ch := w, h
	switch ratio := float64(w) / float64(h); {
	case ratio < minAspect:
		ch = max(1, int(math.Round(float64(cw)/minAspect)))
	case ratio > maxAspect:
		cw = max(1, int(math.Round(float64(ch)*maxAspect)))
	}
	x, y := (w-cw)/2, (h-ch)/2
	return image.Rect(x, y, x+cw, y+ch)
}

// augParams are the random draws for one image.
type augParams struct {
	rect                             image.Rectangle // source rectangle
	interp                           Interp
	mirror                           bool
	brightness, contrast, saturation float32    // factors; 0 means off
	lighting                         [3]float32 // RGB offsets on the 0..255 scale
}

// draw makes the random choices for an image with bounds b, in a fixed
// order so that a seed gives the same result whatever is enabled later.
func (t *Transform) draw(b image.Rectangle, rng *rand.Rand) augParams {
	p := augParams{rect: b, interp: t.Interp}
	switch t.Crop {
	case CropRandom:
		a0, a1, r0, r1 := t.cropRanges()
		p.rect = RandomSizedRect(rng, b.Dx(), b.Dy(), a0, a1, r0, r1).Add(b.Min)
	case CropCenter:
		short := min(b.Dx(), b.Dy())
		scale := 1.0 // output pixels per source pixel
		if t.Resize > 0 {
			scale = float64(t.Resize) / float64(short)
		} else if short < t.Size {
			scale = float64(t.Size) / float64(short)
		}
		side := int(math.Round(float64(t.Size) / scale))
		side = max(1, min(side, short))
		p.rect, _ = CenterRect(b, side, side) // fits: 1 <= side <= short
	}
	if t.RandomInterp {
		p.interp = Interps[rng.IntN(len(Interps))]
	}
	factor := func(v float64) float32 {
		if v == 0 {
			return 1
		}
		return float32(1 - v + 2*v*rng.Float64())
	}
	p.brightness = factor(t.Brightness)
	p.contrast = factor(t.Contrast)
	p.saturation = factor(t.Saturation)
	if t.Lighting > 0 {
		var alpha [3]float64
		for k := range alpha {
			alpha[k] = rng.NormFloat64() * t.Lighting * PCAEigVal[k]
		}
		for k := 0; k < 3; k++ {
			p.lighting[k] = float32(255 * (PCAEigVec[k][0]*alpha[0] + PCAEigVec[k][1]*alpha[1] + PCAEigVec[k][2]*alpha[2]))
		}
	}
	if t.Mirror {
		p.mirror = rng.IntN(2) == 1
	}
	return p
}

// Apply transforms img into dst, which must hold exactly the values of the
// output shape. rng drives the random steps; it may be nil when
// t.Random() is false. c is the dataset's channel count (used when
// t.Channels is 0).
func (t *Transform) Apply(dst []float32, img image.Image, c int, rng *rand.Rand) error {
	if err := t.Validate(c); err != nil {
		return err
	}
	if t.Random() && rng == nil {
		return errors.New("transform: random steps need a random source")
	}
	if t.Channels != 0 {
		c = t.Channels
	}
	b := img.Bounds()
	if b.Empty() {
		return errors.Errorf("transform: empty image %v", b)
	}
	ow, oh := b.Dx(), b.Dy()
	if t.Size != 0 {
		ow, oh = t.Size, t.Size
	}
	p := t.draw(b, rng)
	var out image.Image = img
	if p.rect != b || ow != b.Dx() || oh != b.Dy() || channelsOf(img) != c {
		var err error
		if out, err = resample(img, p.rect, c, ow, oh, p.interp); err != nil {
			return errors.Wrap(err, "transform")
		}
	}
	if err := ToCHWInto(dst, out, c, nil, nil); err != nil {
		return errors.Wrap(err, "transform")
	}
	plane := ow * oh
	photometric(dst, c, plane, &p)
	if p.mirror {
		mirrorCHW(dst, c, ow, oh)
	}
	normalize(dst, c, plane, t.Means, t.Stds)
	return nil
}

// photometric applies the drawn colour distortions to x (0..255 scale),
// clamping after each.
func photometric(x []float32, c, plane int, p *augParams) {
	if f := p.brightness; f != 1 {
		for i := range x {
			x[i] = clamp255(x[i] * f)
		}
	}
	if f := p.contrast; f != 1 {
		var mean float64
		if c == 3 {
			for i := 0; i < plane; i++ {
				mean += float64(lumaR*x[i] + lumaG*x[plane+i] + lumaB*x[2*plane+i])
			}
		} else {
			for i := 0; i < plane; i++ {
				mean += float64(x[i])
			}
		}
		m := float32(mean / float64(plane))
		for i := range x {
			x[i] = clamp255(m + (x[i]-m)*f)
		}
	}
	if c != 3 {
		return
	}
	if f := p.saturation; f != 1 {
		for i := 0; i < plane; i++ {
			g := lumaR*x[i] + lumaG*x[plane+i] + lumaB*x[2*plane+i]
			for k := 0; k < 3; k++ {
				x[k*plane+i] = clamp255(g + (x[k*plane+i]-g)*f)
			}
		}
	}
	if p.lighting != [3]float32{} {
		for k := 0; k < 3; k++ {
			d := p.lighting[k]
			q := x[k*plane : (k+1)*plane]
			for i := range q {
				q[i] = clamp255(q[i] + d)
			}
		}
	}
}

func clamp255(v float32) float32 {
	switch {
	case v < 0:
		return 0
	case v > 255:
		return 255
	}
	return v
}

// mirrorCHW flips each w x h plane of x left to right in place.
func mirrorCHW(x []float32, c, w, h int) {
	for r := 0; r < c*h; r++ {
		row := x[r*w : (r+1)*w]
		for i, j := 0, w-1; i < j; i, j = i+1, j-1 {
			row[i], row[j] = row[j], row[i]
		}
	}
}
