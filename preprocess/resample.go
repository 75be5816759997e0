package preprocess

import (
	"image"
	"image/color"
	"math"
)

// raster is an 8-bit image with c interleaved channels (1 or 3), origin at
// (0, 0).
type raster struct {
	w, h, c int
	pix     []uint8
}

func newRaster(w, h, c int) raster {
	return raster{w: w, h: h, c: c, pix: make([]uint8, w*h*c)}
}

// toRGB converts img to 8-bit RGB as Pillow's convert("RGB") does: gray is
// repeated over the three channels and alpha is dropped (the colour values
// are taken as stored, not composited over a background).
func toRGB(img image.Image) raster {
	b := img.Bounds()
	r := newRaster(b.Dx(), b.Dy(), 3)
	i := 0
	switch s := img.(type) {
	case *image.NRGBA:
		for y := b.Min.Y; y < b.Max.Y; y++ {
			row := s.Pix[s.PixOffset(b.Min.X, y):]
			for x := 0; x < r.w; x++ {
				copy(r.pix[i:i+3], row[4*x:4*x+3])
				i += 3
			}
		}
	case *image.YCbCr:
		// What the default case computes (color.YCbCr's RGBA, 16 bits,
		// shifted to 8) is color.YCbCrToRGB's result; this skips the
		// interface calls and allocations per pixel.
		if !knownRatio(s.SubsampleRatio) {
			return toRGBSlow(img, r)
		}
		for y := b.Min.Y; y < b.Max.Y; y++ {
			ycbcrRow(r.pix[i:i+3*r.w], s, b.Min.X, y)
			i += 3 * r.w
		}
	case *image.RGBA:
		for y := b.Min.Y; y < b.Max.Y; y++ {
			row := s.Pix[s.PixOffset(b.Min.X, y):][:4*r.w]
			for x := 0; x < r.w; x++ {
				if row[4*x+3] != 0xff { // premultiplied: NRGBA's conversion divides
					c := color.NRGBAModel.Convert(color.RGBA{row[4*x], row[4*x+1], row[4*x+2], row[4*x+3]}).(color.NRGBA)
					r.pix[i], r.pix[i+1], r.pix[i+2] = c.R, c.G, c.B
				} else {
					r.pix[i], r.pix[i+1], r.pix[i+2] = row[4*x], row[4*x+1], row[4*x+2]
				}
				i += 3
			}
		}
	case *image.Gray:
		for y := b.Min.Y; y < b.Max.Y; y++ {
			row := s.Pix[s.PixOffset(b.Min.X, y):]
			for x := 0; x < r.w; x++ {
				v := row[x]
				r.pix[i], r.pix[i+1], r.pix[i+2] = v, v, v
				i += 3
			}
		}
	default:
		return toRGBSlow(img, r)
	}
	return r
}

// toRGBSlow is toRGB for any image, through img.At, into r.
func toRGBSlow(img image.Image, r raster) raster {
	b := img.Bounds()
	i := 0
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			c := color.NRGBAModel.Convert(img.At(x, y)).(color.NRGBA)
			r.pix[i], r.pix[i+1], r.pix[i+2] = c.R, c.G, c.B
			i += 3
		}
	}
	return r
}

// knownRatio reports whether s is one of the chroma subsampling ratios
// ycbcrRow handles (all that image.YCbCr's COffset knows).
func knownRatio(s image.YCbCrSubsampleRatio) bool {
	_, _, ok := chromaDiv(s)
	return ok
}

// chromaDiv returns the horizontal and vertical factors by which s
// subsamples the chroma planes.
func chromaDiv(s image.YCbCrSubsampleRatio) (h, v int, ok bool) {
	switch s {
	case image.YCbCrSubsampleRatio444:
		return 1, 1, true
	case image.YCbCrSubsampleRatio422:
		return 2, 1, true
	case image.YCbCrSubsampleRatio420:
		return 2, 2, true
	case image.YCbCrSubsampleRatio440:
		return 1, 2, true
	case image.YCbCrSubsampleRatio411:
		return 4, 1, true
	case image.YCbCrSubsampleRatio410:
		return 4, 2, true
	}
	return 0, 0, false
}

// ycbcrRow writes len(dst)/3 RGB pixels of s's row y from column x0 into
// dst, as color.YCbCrToRGB converts them (what s.At(x, y).RGBA() gives,
// shifted to 8 bits), with image.YCbCr's YOffset and COffset arithmetic
// done once per row. The ratio must be known (knownRatio).
func ycbcrRow(dst []uint8, s *image.YCbCr, x0, y int) {
	hd, vd, _ := chromaDiv(s.SubsampleRatio)
	n := len(dst) / 3
	yRow := s.Y[s.YOffset(x0, y):][:n]
	cBase := (y/vd - s.Rect.Min.Y/vd) * s.CStride
	cMinX := s.Rect.Min.X / hd
	for i, yy := range yRow {
		ci := cBase + (x0+i)/hd - cMinX
		dst[3*i], dst[3*i+1], dst[3*i+2] = color.YCbCrToRGB(yy, s.Cb[ci], s.Cr[ci])
	}
}

// crop returns the part of r at (x0, y0) of size w x h (inside r).
func (r raster) crop(x0, y0, w, h int) raster {
	out := newRaster(w, h, r.c)
	for y := 0; y < h; y++ {
		copy(out.pix[y*w*r.c:(y+1)*w*r.c], r.pix[((y0+y)*r.w+x0)*r.c:])
	}
	return out
}

// pilFilter is one of Pillow's resampling filters (libImaging/Resample.c).
type pilFilter struct {
	support float64
	f       func(float64) float64
}

var (
	pilBilinear = pilFilter{1, func(x float64) float64 {
		if x < 0 {
			x = -x
		}
		if x < 1 {
			return 1 - x
		}
		return 0
	}}
	pilBicubic = pilFilter{2, func(x float64) float64 {
		const a = -0.5
		if x < 0 {
			x = -x
		}
		if x < 1 {
			return ((a+2)*x-(a+3))*x*x + 1
		}
		if x < 2 {
			return (((x-5)*x+8)*x - 4) * a
		}
		return 0
	}}
)

// pilPrecision is Pillow's PRECISION_BITS for 8-bit images.
const pilPrecision = 32 - 8 - 2

// pilCoeffs computes Pillow's resampling coefficients (precompute_coeffs
// and normalize_coeffs_8bpc) for an axis of in pixels scaled to out:
// for output pixel i, the first source pixel bounds[2i], the count
// bounds[2i+1], and ksize fixed-point weights from kk[i*ksize].
func pilCoeffs(in, out int, f pilFilter) (ksize int, bounds []int, kk []int64) {
	scale := float64(in) / float64(out)
	filterscale := math.Max(scale, 1)
	support := f.support * filterscale
	ksize = int(math.Ceil(support))*2 + 1
	bounds = make([]int, 2*out)
	kk = make([]int64, out*ksize)
	k := make([]float64, ksize)
	for xx := 0; xx < out; xx++ {
		center := (float64(xx) + 0.5) * scale
		ss := 1 / filterscale
		xmin := int(center - support + 0.5)
		if xmin < 0 {
			xmin = 0
		}
		xmax := int(center + support + 0.5)
		if xmax > in {
			xmax = in
		}
		xmax -= xmin
		ww := 0.0
		for x := 0; x < xmax; x++ {
			w := f.f((float64(x+xmin) - center + 0.5) * ss)
			k[x] = w
			ww += w
		}
		for x := 0; x < ksize; x++ {
			v := 0.0
			if x < xmax {
				v = k[x]
				if ww != 0 {
					v /= ww
				}
			}
			if v < 0 {
				kk[xx*ksize+x] = int64(int32(-0.5 + v*(1<<pilPrecision)))
			} else {
				kk[xx*ksize+x] = int64(int32(0.5 + v*(1<<pilPrecision)))
			}
		}
		bounds[2*xx], bounds[2*xx+1] = xmin, xmax
	}
	return ksize, bounds, kk
}

// clip8 is Pillow's rounding of a fixed-point sum to 8 bits.
func clip8(v int64) uint8 {
	v >>= pilPrecision
	switch {
	case v < 0:
		return 0
	case v > 255:
		return 255
	}
	return uint8(v)
}

// pilResize scales r to w x h as Pillow's Image.resize does for 8-bit
// images with a convolution filter: a horizontal pass over the rows that
// the vertical pass needs, rounded to 8 bits, then the vertical pass.
func pilResize(r raster, w, h int, f pilFilter) raster {
	needH, needV := w != r.w, h != r.h
	if !needH && !needV {
		out := newRaster(w, h, r.c)
		copy(out.pix, r.pix)
		return out
	}
	ksV, boundsV, kkV := pilCoeffs(r.h, h, f)
	src := r
	if needH {
		ksH, boundsH, kkH := pilCoeffs(r.w, w, f)
		first, last := 0, r.h
		if needV {
			first = boundsV[0]
			last = boundsV[2*h-2] + boundsV[2*h-1]
			for i := 0; i < h; i++ {
				boundsV[2*i] -= first
			}
		}
		tmp := newRaster(w, last-first, r.c)
		for y := 0; y < tmp.h; y++ {
			in := r.pix[(y+first)*r.w*r.c:]
			o := tmp.pix[y*w*r.c:]
			for xx := 0; xx < w; xx++ {
				xmin, xmax := boundsH[2*xx], boundsH[2*xx+1]
				k := kkH[xx*ksH:]
				for ch := 0; ch < r.c; ch++ {
					ss := int64(1) << (pilPrecision - 1)
					for x := 0; x < xmax; x++ {
						ss += int64(in[(x+xmin)*r.c+ch]) * k[x]
					}
					o[xx*r.c+ch] = clip8(ss)
				}
			}
		}
		src = tmp
	}
	if !needV {
		return src
	}
	out := newRaster(w, h, r.c)
	row := w * r.c
	for yy := 0; yy < h; yy++ {
		ymin, ymax := boundsV[2*yy], boundsV[2*yy+1]
		k := kkV[yy*ksV:]
		o := out.pix[yy*row:]
		for i := 0; i < row; i++ {
			ss := int64(1) << (pilPrecision - 1)
			for y := 0; y < ymax; y++ {
				ss += int64(src.pix[(y+ymin)*row+i]) * k[y]
			}
			o[i] = clip8(ss)
		}
	}
	return out
}

// linearTaps returns, for each of out pixels along an axis of in pixels,
// the two source indices and the weight of the second (half-pixel centres,
// source coordinate clamped at 0 and the last pixel), as OpenCV's
// INTER_LINEAR and PyTorch's bilinear interpolation without antialiasing.
func linearTaps(in, out int) (i0, i1 []int, t []float64) {
	scale := float64(in) / float64(out)
	i0, i1, t = make([]int, out), make([]int, out), make([]float64, out)
	for x := 0; x < out; x++ {
		s := math.Max((float64(x)+0.5)*scale-0.5, 0)
		j := int(s)
		if j >= in-1 {
			i0[x], i1[x], t[x] = in-1, in-1, 0
			continue
		}
		i0[x], i1[x], t[x] = j, j+1, s-float64(j)
	}
	return
}

// linearResize scales r to w x h by bilinear interpolation without
// antialiasing, computed in float64 and rounded to 8 bits once.
func linearResize(r raster, w, h int) raster {
	x0, x1, tx := linearTaps(r.w, w)
	y0, y1, ty := linearTaps(r.h, h)
	out := newRaster(w, h, r.c)
	at := func(x, y, ch int) float64 { return float64(r.pix[(y*r.w+x)*r.c+ch]) }
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			for ch := 0; ch < r.c; ch++ {
				top := at(x0[x], y0[y], ch)*(1-tx[x]) + at(x1[x], y0[y], ch)*tx[x]
				bot := at(x0[x], y1[y], ch)*(1-tx[x]) + at(x1[x], y1[y], ch)*tx[x]
				v := math.Floor(top*(1-ty[y]) + bot*ty[y] + 0.5)
				out.pix[(y*w+x)*r.c+ch] = uint8(min(255, max(0, v))) // v is finite
			}
		}
	}
	return out
}
