package data

import (
	"image"
	"image/color"
	"math"
	"strconv"

	"github.com/pkg/errors"
	"golang.org/x/image/draw"
)

// Interp selects a resampling method.
type Interp int

// Interpolation methods. The zero value is bilinear.
const (
	Bilinear Interp = iota // draw.BiLinear (tent kernel, widened when shrinking)
	Area                   // exact area averaging when shrinking (TensorFlow's ResizeArea, OpenCV's INTER_AREA), bilinear otherwise
	Nearest                // draw.NearestNeighbor
	Cubic                  // draw.CatmullRom (Catmull-Rom cubic)
	numInterp
)

// Interps lists every interpolation method, in the order RandomInterp draws
// from.
var Interps = []Interp{Bilinear, Area, Nearest, Cubic}

func (m Interp) String() string {
	switch m {
	case Bilinear:
		return "bilinear"
	case Area:
		return "area"
	case Nearest:
		return "nearest"
	case Cubic:
		return "cubic"
	}
	return "Interp(" + strconv.Itoa(int(m)) + ")"
}

// scaler returns the x/image/draw scaler for m. Area, when it is not
// shrinking (see resample), is bilinear: averaging over a footprint smaller
// than a pixel degenerates to nearest neighbour, and OpenCV's INTER_AREA
// also interpolates bilinearly when enlarging.
func (m Interp) scaler() (draw.Scaler, error) {
	switch m {
	case Bilinear, Area:
		return draw.BiLinear, nil
	case Nearest:
		return draw.NearestNeighbor, nil
	case Cubic:
		return draw.CatmullRom, nil
	}
	return nil, errors.Errorf("data: unknown interpolation %d", int(m))
}

// channelsOf returns 1 for gray images and 3 for everything else.
func channelsOf(img image.Image) int {
	switch img.ColorModel() {
	case color.GrayModel, color.Gray16Model:
		return 1
	}
	return 3
}

// newImage returns an empty image of size w x h with c channels (1: Gray,
// otherwise RGBA).
func newImage(c, w, h int) draw.Image {
	if c == 1 {
		return image.NewGray(image.Rect(0, 0, w, h))
	}
	return image.NewRGBA(image.Rect(0, 0, w, h))
}

// resample scales the part sr of src to a new w x h image with c channels.
// When sr already has that size it copies the pixels.
func resample(src image.Image, sr image.Rectangle, c, w, h int, m Interp) (image.Image, error) {
	if w <= 0 || h <= 0 {
		return nil, errors.Errorf("data: resize to %dx%d", w, h)
	}
	if sr.Empty() || !sr.In(src.Bounds()) {
		return nil, errors.Errorf("data: source rectangle %v not inside image bounds %v", sr, src.Bounds())
	}
	dst := newImage(c, w, h)
	if sr.Dx() == w && sr.Dy() == h {
		draw.Draw(dst, dst.Bounds(), src, sr.Min, draw.Src)
		return dst, nil
	}
	if m == Area && w <= sr.Dx() && h <= sr.Dy() {
		return areaShrink(src, sr, c, w, h), nil
	}
	s, err := m.scaler()
	if err != nil {
		return nil, err
	}
	s.Scale(dst, dst.Bounds(), src, sr, draw.Src, nil)
	return dst, nil
}

// Resize returns img scaled to w x h with interpolation m. The result is an
// *image.Gray for gray input and an *image.RGBA otherwise, with its origin
// at (0, 0).
func Resize(img image.Image, w, h int, m Interp) (image.Image, error) {
	return resample(img, img.Bounds(), channelsOf(img), w, h, m)
}

// ResizeShorter scales img so that its shorter side is size, keeping the
// aspect ratio (the longer side is rounded to the nearest pixel). Used for
// evaluation (resize then center crop) and the paper's multi-scale crops.
func ResizeShorter(img image.Image, size int, m Interp) (image.Image, error) {
	if size <= 0 {
		return nil, errors.Errorf("data: ResizeShorter to %d", size)
	}
	w, h := shorterSide(img.Bounds().Dx(), img.Bounds().Dy(), size)
	return Resize(img, w, h, m)
}

// shorterSide returns the size of a w x h image whose shorter side is
// scaled to size.
func shorterSide(w, h, size int) (int, int) {
	if w <= h {
		return size, max(1, int(math.Round(float64(h)*float64(size)/float64(w))))
	}
	return max(1, int(math.Round(float64(w)*float64(size)/float64(h)))), size
}

// Crop returns a copy of the part r of img (in img's coordinates), with its
// origin at (0, 0). r must lie inside img's bounds.
func Crop(img image.Image, r image.Rectangle) (image.Image, error) {
	if r.Empty() || !r.In(img.Bounds()) {
		return nil, errors.Errorf("data: crop %v not inside image bounds %v", r, img.Bounds())
	}
	return resample(img, r, channelsOf(img), r.Dx(), r.Dy(), Nearest)
}

// CenterRect returns the w x h rectangle centred in b (rounded towards the
// top left), or an error if it does not fit.
func CenterRect(b image.Rectangle, w, h int) (image.Rectangle, error) {
	if w <= 0 || h <= 0 || w > b.Dx() || h > b.Dy() {
		return image.Rectangle{}, errors.Errorf("data: center %dx%d does not fit in %v", w, h, b)
	}
	x0 := b.Min.X + (b.Dx()-w)/2
	y0 := b.Min.Y + (b.Dy()-h)/2
	return image.Rect(x0, y0, x0+w, y0+h), nil
}

// CenterCrop returns the central w x h part of img.
func CenterCrop(img image.Image, w, h int) (image.Image, error) {
	r, err := CenterRect(img.Bounds(), w, h)
	if err != nil {
		return nil, err
	}
	return Crop(img, r)
}

// Mirror returns img flipped left to right (an *image.Gray for gray input,
// an *image.RGBA otherwise, origin at (0, 0)). Pixels are copied exactly.
func Mirror(img image.Image) image.Image {
	b := img.Bounds()
	c := channelsOf(img)
	src, _ := resample(img, b, c, b.Dx(), b.Dy(), Nearest) // copy; cannot fail for a non-empty image
	if src == nil {
		return newImage(c, 0, 0)
	}
	w, h := b.Dx(), b.Dy()
	switch s := src.(type) {
	case *image.Gray:
		for y := 0; y < h; y++ {
			row := s.Pix[y*s.Stride : y*s.Stride+w]
			for i, j := 0, w-1; i < j; i, j = i+1, j-1 {
				row[i], row[j] = row[j], row[i]
			}
		}
	case *image.RGBA:
		for y := 0; y < h; y++ {
			row := s.Pix[y*s.Stride : y*s.Stride+4*w]
			for i, j := 0, w-1; i < j; i, j = i+1, j-1 {
				for k := 0; k < 4; k++ {
					row[4*i+k], row[4*j+k] = row[4*j+k], row[4*i+k]
				}
			}
		}
	}
	return src
}

// ToCHW converts img to planar float32 pixels in channel, row, column order
// (the layout of one image in an NCHW tensor), on the 0..255 scale, then
// subtracts means[c] and divides by stds[c]. The channel count is
// len(means), 1 or 3; with no means it is 1 for gray images and 3
// otherwise, and nothing is subtracted. stds may be nil (no division).
// Colour images become gray with the ITU-R 601 luma weights
// (0.299, 0.587, 0.114); gray images are repeated over three channels.
// Alpha is ignored (pixels are taken premultiplied, i.e. over black).
//
// ToCHW panics if means has a length other than 0, 1 or 3 or if stds is
// neither nil nor as long as means (programmer errors); use ToCHWInto to
// get an error instead.
func ToCHW(img image.Image, means, stds []float32) []float32 {
	c := len(means)
	if c == 0 {
		c = channelsOf(img)
	}
	b := img.Bounds()
	dst := make([]float32, c*b.Dx()*b.Dy())
	if err := ToCHWInto(dst, img, c, means, stds); err != nil {
		panic(err.Error())
	}
	return dst
}

// ToCHWInto is ToCHW writing into dst, which must hold
// channels*width*height values, with the channel count given explicitly
// (1 or 3). means and stds may be nil; otherwise they have channels entries.
func ToCHWInto(dst []float32, img image.Image, channels int, means, stds []float32) error {
	if channels != 1 && channels != 3 {
		return errors.Errorf("data: ToCHW with %d channels (want 1 or 3)", channels)
	}
	if means != nil && len(means) != channels {
		return errors.Errorf("data: ToCHW: %d means for %d channels", len(means), channels)
	}
	if stds != nil && len(stds) != channels {
		return errors.Errorf("data: ToCHW: %d stds for %d channels", len(stds), channels)
	}
	for i, s := range stds {
		if !(s > 0) || math.IsInf(float64(s), 0) {
			return errors.Errorf("data: ToCHW: std[%d] = %v (want finite > 0)", i, s)
		}
	}
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	plane := w * h
	if len(dst) != channels*plane {
		return errors.Errorf("data: ToCHW: destination holds %d values, image needs %d", len(dst), channels*plane)
	}
	switch s := img.(type) {
	case *image.Gray:
		for y := 0; y < h; y++ {
			row := s.Pix[(y+b.Min.Y-s.Rect.Min.Y)*s.Stride+(b.Min.X-s.Rect.Min.X):]
			for x := 0; x < w; x++ {
				v := float32(row[x])
				for c := 0; c < channels; c++ {
					dst[c*plane+y*w+x] = v
				}
			}
		}
	case *image.RGBA:
		for y := 0; y < h; y++ {
			row := s.Pix[(y+b.Min.Y-s.Rect.Min.Y)*s.Stride+4*(b.Min.X-s.Rect.Min.X):]
			for x := 0; x < w; x++ {
				r, g, bl := float32(row[4*x]), float32(row[4*x+1]), float32(row[4*x+2])
				if channels == 1 {
					dst[y*w+x] = lumaR*r + lumaG*g + lumaB*bl
				} else {
					dst[y*w+x], dst[plane+y*w+x], dst[2*plane+y*w+x] = r, g, bl
				}
			}
		}
	default:
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				r16, g16, b16, _ := img.At(b.Min.X+x, b.Min.Y+y).RGBA()
				r, g, bl := float32(r16)/257, float32(g16)/257, float32(b16)/257
				if channels == 1 {
					dst[y*w+x] = lumaR*r + lumaG*g + lumaB*bl
				} else {
					dst[y*w+x], dst[plane+y*w+x], dst[2*plane+y*w+x] = r, g, bl
				}
			}
		}
	}
	normalize(dst, channels, plane, means, stds)
	return nil
}

// ITU-R 601 luma weights, as in PIL's and torchvision's grayscale.
const (
	lumaR = 0.299
	lumaG = 0.587
	lumaB = 0.114
)

// normalize subtracts means and divides by stds per channel plane.
func normalize(x []float32, channels, plane int, means, stds []float32) {
	if means == nil && stds == nil {
		return
	}
	for c := 0; c < channels; c++ {
		m, s := float32(0), float32(1)
		if means != nil {
			m = means[c]
		}
		if stds != nil {
			s = stds[c]
		}
		p := x[c*plane : (c+1)*plane]
		for i := range p {
			p[i] = (p[i] - m) / s
		}
	}
}

// areaShrink resamples the part sr of src to w x h (no larger than sr) by
// exact area averaging: each destination pixel is the mean of the source
// over its footprint, source pixels cut by the footprint's edge weighted by
// the part inside. This is what TensorFlow's ResizeArea and OpenCV's
// INTER_AREA compute when shrinking. x/image/draw has no such scaler (a box
// kernel there counts edge pixels wholly or not at all, by their centres).
func areaShrink(src image.Image, sr image.Rectangle, c, w, h int) image.Image {
	sw, sh := sr.Dx(), sr.Dy()
	tmp := newImage(c, sw, sh)
	draw.Draw(tmp, tmp.Bounds(), src, sr.Min, draw.Src)
	x := make([]float32, c*sw*sh)
	_ = ToCHWInto(x, tmp, c, nil, nil) // sizes match by construction
	wx, wy := areaWeights(sw, w), areaWeights(sh, h)
	// Horizontal pass: c*sh rows of sw values to rows of w values.
	mid := make([]float32, c*sh*w)
	for r := 0; r < c*sh; r++ {
		in, out := x[r*sw:(r+1)*sw], mid[r*w:(r+1)*w]
		for i, ws := range wx {
			var acc float64
			for _, t := range ws {
				acc += t.w * float64(in[t.j])
			}
			out[i] = float32(acc)
		}
	}
	// Vertical pass straight into the destination image.
	dst := newImage(c, w, h)
	for ch := 0; ch < c; ch++ {
		plane := mid[ch*sh*w : (ch+1)*sh*w]
		for y, ws := range wy {
			for i := 0; i < w; i++ {
				var acc float64
				for _, t := range ws {
					acc += t.w * float64(plane[t.j*w+i])
				}
				v := uint8(math.Min(255, math.Max(0, math.Round(acc))))
				switch d := dst.(type) {
				case *image.Gray:
					d.Pix[y*d.Stride+i] = v
				case *image.RGBA:
					d.Pix[y*d.Stride+4*i+ch] = v
					d.Pix[y*d.Stride+4*i+3] = 255
				}
			}
		}
	}
	return dst
}

// areaTap is one source index and its weight.
type areaTap struct {
	j int
	w float64
}

// areaWeights returns, for each of n destination pixels along an axis of
// size src (n <= src), the source pixels overlapping its footprint
// [i*s, (i+1)*s), s = src/n, with weights overlap/s (summing to 1).
func areaWeights(src, n int) [][]areaTap {
	s := float64(src) / float64(n)
	out := make([][]areaTap, n)
	for i := range out {
		lo, hi := float64(i)*s, float64(i+1)*s
		for j := int(lo); j < src && float64(j) < hi; j++ {
			ov := math.Min(hi, float64(j+1)) - math.Max(lo, float64(j))
			if ov > 1e-12 {
				out[i] = append(out[i], areaTap{j, ov / s})
			}
		}
	}
	return out
}
