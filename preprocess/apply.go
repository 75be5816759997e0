package preprocess

import (
	"image"
	"math"

	"github.com/pkg/errors"

	"github.com/goinception/googlenet/data"
)

// maxPixels bounds the scaled image (Shorter mode on an extreme aspect
// ratio), as package eval does.
const maxPixels = 1 << 26

// InputLen returns the number of values Apply produces: channels x Crop x
// Crop.
func (c Contract) InputLen() int { return c.Channels.Channels() * c.Crop * c.Crop }

// Apply turns a decoded image into the model input: a planar float32 array
// of Channels().Channels() x Crop x Crop values in channel, row, column
// order (one image of an NCHW batch). Colour images and gray ones are
// accepted whatever the model's channels (gray is repeated, colour becomes
// luma for gray models, alpha is dropped).
func (c Contract) Apply(img image.Image) ([]float32, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	dst := make([]float32, c.InputLen())
	if err := c.ApplyInto(dst, img); err != nil {
		return nil, err
	}
	return dst, nil
}

// ApplyInto is Apply writing into dst, which must hold InputLen() values.
func (c Contract) ApplyInto(dst []float32, img image.Image) error {
	if err := c.Validate(); err != nil {
		return err
	}
	if len(dst) != c.InputLen() {
		return errors.Errorf("preprocess: destination holds %d values, the input needs %d", len(dst), c.InputLen())
	}
	b := img.Bounds()
	if b.Empty() {
		return errors.Errorf("preprocess: empty image %v", b)
	}
	if c.Channels.Channels() == 3 {
		// Colour models: every value is FromRGB's arithmetic on an 8-bit
		// level, so a table of the 256 results per plane gives the same
		// bits in one pass.
		t := c.levels()
		return c.geometry(dst, img, &t)
	}
	if err := c.geometry(dst, img, nil); err != nil {
		return err
	}
	return c.FromRGB(dst)
}

// levelTable holds, for each output plane, the model input value of each
// 8-bit level of that plane's source channel, and which channel that is
// (0 red, 1 green, 2 blue).
type levelTable struct {
	v   [3][256]float32
	src [3]int
}

// levels returns the table of a 3-channel contract, computed by FromRGB's
// own per-plane arithmetic (planeFromRGB), so a lookup equals FromRGB bit
// for bit.
func (c Contract) levels() levelTable {
	var t levelTable
	t.src = [3]int{0, 1, 2}
	if c.Channels == BGR {
		t.src = [3]int{2, 1, 0}
	}
	for ch := range t.v {
		p := t.v[ch][:]
		for i := range p {
			p[i] = float32(i)
		}
		c.planeFromRGB(ch, p)
	}
	return t
}

// scaledSize returns the size Shorter and Whole scale a w x h image to
// before the crop.
func (c Contract) scaledSize(w, h int) (image.Point, error) {
	var p image.Point
	switch c.Resize {
	case Whole:
		p = image.Pt(c.Size, c.Size)
	case Shorter:
		// torchvision's _compute_resized_output_size: int(S * long / short).
		if w <= h {
			p = image.Pt(c.Size, int(float64(c.Size*h)/float64(w)))
		} else {
			p = image.Pt(int(float64(c.Size*w)/float64(h)), c.Size)
		}
	default:
		return p, errors.Errorf("preprocess: no scaled size for resize mode %q", c.Resize)
	}
	if int64(p.X)*int64(p.Y) > maxPixels {
		return p, errors.Errorf("preprocess: a %dx%d image scaled to %dx%d is over %d pixels", w, h, p.X, p.Y, maxPixels)
	}
	return p, nil
}

// cropOffset returns the top-left corner of the central Crop x Crop part of
// a scaled image of size p.
func (c Contract) cropOffset(p image.Point) image.Point {
	if c.Resize == Shorter {
		// torchvision's CenterCrop: int(round((size - crop) / 2.0)), Python's
		// round halving to even.
		return image.Pt(int(math.RoundToEven(float64(p.X-c.Crop)/2)), int(math.RoundToEven(float64(p.Y-c.Crop)/2)))
	}
	return image.Pt((p.X-c.Crop)/2, (p.Y-c.Crop)/2)
}

// squareRect is the central square of the original image that Square
// resamples to Crop: side Crop*short/Size rounded, clamped to the image.
func (c Contract) squareRect(b image.Rectangle) image.Rectangle {
	short := min(b.Dx(), b.Dy())
	scale := float64(c.Size) / float64(short)
	side := max(1, min(short, int(math.Round(float64(c.Crop)/scale))))
	r, _ := data.CenterRect(b, side, side) // 1 <= side <= short: fits
	return r
}

// dataInterp maps the data-package methods.
func dataInterp(m Interp) (data.Interp, bool) {
	switch m {
	case Bilinear:
		return data.Bilinear, true
	case Cubic:
		return data.Cubic, true
	case Nearest:
		return data.Nearest, true
	case Area:
		return data.Area, true
	}
	return 0, false
}

// geometry writes the Crop x Crop pixels (0..255, RGB or gray planes) of
// img into dst.
//
// With t (3-channel contracts), the values written are the model input:
// each level goes through t, in t's plane order.
func (c Contract) geometry(dst []float32, img image.Image, t *levelTable) error {
	n := c.Channels.Channels()
	b := img.Bounds()
	if di, ok := dataInterp(c.Interp); ok {
		var out image.Image
		var err error
		switch c.Resize {
		case Square:
			// As package eval renders its one-crop scheme: cut the square,
			// resample it once.
			sq := c.squareRect(b)
			if t != nil && sq.Dx() == c.Crop && lookupRect(dst, img, sq, t) {
				return nil // no resampling: straight from the decoded pixels
			}
			if out, err = data.Crop(img, sq); err != nil {
				return errors.Wrap(err, "preprocess")
			}
			if out.Bounds().Dx() != c.Crop {
				if out, err = data.Resize(out, c.Crop, c.Crop, di); err != nil {
					return errors.Wrap(err, "preprocess")
				}
			}
		default:
			p, err2 := c.scaledSize(b.Dx(), b.Dy())
			if err2 != nil {
				return err2
			}
			if out, err = data.Resize(img, p.X, p.Y, di); err != nil {
				return errors.Wrap(err, "preprocess")
			}
			o := c.cropOffset(p).Add(out.Bounds().Min)
			if out, err = data.Crop(out, image.Rect(o.X, o.Y, o.X+c.Crop, o.Y+c.Crop)); err != nil {
				return errors.Wrap(err, "preprocess")
			}
		}
		if t != nil && lookupPlanes(dst, out, t) {
			return nil
		}
		if err := data.ToCHWInto(dst, out, n, nil, nil); err != nil {
			return errors.Wrap(err, "preprocess")
		}
		if t != nil {
			return c.FromRGB(dst)
		}
		return nil
	}
	var r raster
	switch c.Resize {
	case Square:
		sq := c.squareRect(b)
		r = c.resize(toRGB(img).crop(sq.Min.X-b.Min.X, sq.Min.Y-b.Min.Y, sq.Dx(), sq.Dy()), c.Crop, c.Crop)
	default:
		p, err := c.scaledSize(b.Dx(), b.Dy())
		if err != nil {
			return err
		}
		o := c.cropOffset(p)
		r = c.resize(toRGB(img), p.X, p.Y).crop(o.X, o.Y, c.Crop, c.Crop)
	}
	plane := c.Crop * c.Crop
	if t != nil {
		pix := r.pix[:3*plane]
		for ch := range 3 {
			p, lut, o := dst[ch*plane:(ch+1)*plane], &t.v[ch], t.src[ch]
			for i := range p {
				p[i] = lut[pix[3*i+o]]
			}
		}
		return nil
	}
	for i := 0; i < plane; i++ {
		rr, g, bb := float32(r.pix[3*i]), float32(r.pix[3*i+1]), float32(r.pix[3*i+2])
		if n == 1 {
			dst[i] = 0.299*rr + 0.587*g + 0.114*bb
			continue
		}
		dst[i], dst[plane+i], dst[2*plane+i] = rr, g, bb
	}
	return nil
}

func (c Contract) resize(r raster, w, h int) raster {
	if w == r.w && h == r.h {
		return r // as Pillow's Image.resize and OpenCV's cv::resize: the same size is a copy
	}
	switch c.Interp {
	case PILBilinear:
		return pilResize(r, w, h, pilBilinear)
	case PILBicubic:
		return pilResize(r, w, h, pilBicubic)
	}
	return linearResize(r, w, h)
}

// FromRGB turns planar pixels on the 0..255 scale in RGB order (one gray
// plane for a Gray contract), c.InputLen()/channels values per plane, into
// the model input in place: channel order, scale, normalisation and the
// affine step (steps 2 to 5 of Contract). Crops made some other way (the
// paper's multi-crop schemes in package eval) go through it too.
func (c Contract) FromRGB(x []float32) error {
	n := c.Channels.Channels()
	if len(x)%n != 0 || len(x) == 0 {
		return errors.Errorf("preprocess: %d values do not split into %d planes", len(x), n)
	}
	plane := len(x) / n
	if c.Channels == BGR {
		r, b := x[:plane], x[2*plane:]
		for i := range r {
			r[i], b[i] = b[i], r[i]
		}
	}
	for ch := 0; ch < n; ch++ {
		c.planeFromRGB(ch, x[ch*plane:(ch+1)*plane])
	}
	return nil
}

// planeFromRGB applies steps 3 to 5 of Contract to plane ch (after the
// channel reordering).
func (c Contract) planeFromRGB(ch int, p []float32) {
	if c.Scale == 1 {
		for i := range p {
			p[i] /= 255
		}
	}
	if c.Means != nil || c.Stds != nil {
		m, s := float32(0), float32(1)
		if c.Means != nil {
			m = c.Means[ch]
		}
		if c.Stds != nil {
			s = c.Stds[ch]
		}
		for i := range p {
			p[i] = (p[i] - m) / s
		}
	}
	if a := c.Affine; a != nil {
		k, d := a.Scale[ch], a.Shift[ch]
		for i := range p {
			p[i] = float32(p[i]*k) + d // two roundings, as torchvision's x*a + b
		}
	}
}

// lookupRect writes the part r of img into dst through t, without an
// intermediate image, for the image types the decoders produce most
// (*image.YCbCr, *image.RGBA, *image.Gray); false, writing nothing, for
// others (which data.Crop converts first).
func lookupRect(dst []float32, img image.Image, r image.Rectangle, t *levelTable) bool {
	switch s := img.(type) {
	case *image.RGBA:
		return lookupPlanes(dst, s.SubImage(r), t)
	case *image.Gray:
		return lookupPlanes(dst, s.SubImage(r), t)
	case *image.YCbCr:
		w, h := r.Dx(), r.Dy()
		plane := w * h
		if !knownRatio(s.SubsampleRatio) || len(dst) != 3*plane {
			return false
		}
		rgb := make([]uint8, 3*w)
		for y := range h {
			ycbcrRow(rgb, s, r.Min.X, r.Min.Y+y)
			for ch := range 3 {
				lut, o := &t.v[ch], t.src[ch]
				out := dst[ch*plane+y*w:][:w]
				for x := range out {
					out[x] = lut[rgb[3*x+o]]
				}
			}
		}
		return true
	}
	return false
}

// lookupPlanes writes the Crop x Crop image img (an *image.RGBA or
// *image.Gray from package data, origin anywhere) into dst through t. It
// returns false, writing nothing, for any other image type.
func lookupPlanes(dst []float32, img image.Image, t *levelTable) bool {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	plane := w * h
	if len(dst) != 3*plane {
		return false
	}
	switch s := img.(type) {
	case *image.RGBA:
		for ch := range 3 {
			lut, o := &t.v[ch], t.src[ch]
			for y := range h {
				row := s.Pix[s.PixOffset(b.Min.X, b.Min.Y+y):][:4*w]
				out := dst[ch*plane+y*w:][:w]
				for x := range out {
					out[x] = lut[row[4*x+o]]
				}
			}
		}
	case *image.Gray:
		for ch := range 3 {
			lut := &t.v[ch]
			for y := range h {
				row := s.Pix[s.PixOffset(b.Min.X, b.Min.Y+y):][:w]
				out := dst[ch*plane+y*w:][:w]
				for x, v := range row {
					out[x] = lut[v]
				}
			}
		}
	default:
		return false
	}
	return true
}
