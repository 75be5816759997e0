package detection

import (
	"image"
	"math"

	"github.com/pkg/errors"
)

// Planes is an image as float32 channel planes: channel c, row y, column x
// at (c*H+y)*W+x, values on a 0..255 scale.
type Planes struct {
	C, H, W int
	Pix     []float32
}

// At returns channel c at (x, y).
func (p *Planes) At(c, x, y int) float32 { return p.Pix[(c*p.H+y)*p.W+x] }

// Plane returns channel c.
func (p *Planes) Plane(c int) []float32 { return p.Pix[c*p.H*p.W : (c+1)*p.H*p.W] }

// RGBPlanes converts img to three RGB planes (gray images are repeated).
func RGBPlanes(img image.Image) *Planes {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	p := &Planes{C: 3, H: h, W: w, Pix: make([]float32, 3*w*h)}
	n := w * h
	switch m := img.(type) {
	case *image.RGBA:
		for y := 0; y < h; y++ {
			row := m.Pix[(y)*m.Stride:]
			for x := 0; x < w; x++ {
				i := y*w + x
				p.Pix[i], p.Pix[n+i], p.Pix[2*n+i] = float32(row[4*x]), float32(row[4*x+1]), float32(row[4*x+2])
			}
		}
	case *image.Gray:
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				v := float32(m.Pix[y*m.Stride+x])
				i := y*w + x
				p.Pix[i], p.Pix[n+i], p.Pix[2*n+i] = v, v, v
			}
		}
	default:
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				r, g, bb, _ := img.At(b.Min.X+x, b.Min.Y+y).RGBA()
				i := y*w + x
				p.Pix[i], p.Pix[n+i], p.Pix[2*n+i] = float32(r>>8), float32(g>>8), float32(bb>>8)
			}
		}
	}
	return p
}

// Colour spaces of selective search (Uijlings et al., section 3.2), each
// scaled to 0..255 per channel.
const (
	SpaceRGB = "rgb"
	SpaceHSV = "hsv" // hue, saturation, value
	SpaceLab = "lab" // CIE L*a*b* (D65)
	SpaceRGI = "rgi" // normalised r, g and intensity
	SpaceI   = "i"   // intensity (one channel)
	SpaceH   = "h"   // hue (one channel)
)

// ToSpace converts RGB planes to a colour space (see the Space constants).
func ToSpace(rgb *Planes, space string) (*Planes, error) {
	if rgb.C != 3 {
		return nil, errors.Errorf("detection: colour space %s needs 3 RGB planes, have %d", space, rgb.C)
	}
	n := rgb.H * rgb.W
	R, G, B := rgb.Plane(0), rgb.Plane(1), rgb.Plane(2)
	c := 3
	if space == SpaceI || space == SpaceH {
		c = 1
	}
	out := &Planes{C: c, H: rgb.H, W: rgb.W, Pix: make([]float32, c*n)}
	for i := 0; i < n; i++ {
		r, g, b := float64(R[i]), float64(G[i]), float64(B[i])
		var v [3]float64
		switch space {
		case SpaceRGB:
			v = [3]float64{r, g, b}
		case SpaceHSV, SpaceH:
			hh, s, vv := hsv(r, g, b)
			v = [3]float64{hh * 255, s * 255, vv}
		case SpaceLab:
			l, a, bb := lab(r, g, b)
			v = [3]float64{l * 255 / 100, a + 128, bb + 128}
		case SpaceRGI:
			sum := r + g + b
			if sum > 0 {
				v = [3]float64{255 * r / sum, 255 * g / sum, sum / 3}
			} else {
				v = [3]float64{85, 85, 0}
			}
		case SpaceI:
			v[0] = (r + g + b) / 3
		default:
			return nil, errors.Errorf("detection: unknown colour space %q (want rgb, hsv, lab, rgi, i or h)", space)
		}
		for k := 0; k < c; k++ {
			out.Pix[k*n+i] = float32(clamp(v[k], 0, 255))
		}
	}
	return out, nil
}

// hsv returns hue in [0, 1), saturation in [0, 1] and value in [0, 255].
func hsv(r, g, b float64) (h, s, v float64) {
	mx := math.Max(r, math.Max(g, b))
	mn := math.Min(r, math.Min(g, b))
	v = mx
	if mx <= 0 {
		return 0, 0, 0
	}
	d := mx - mn
	s = d / mx
	if d == 0 {
		return 0, s, v
	}
	switch mx {
	case r:
		h = (g - b) / d
	case g:
		h = 2 + (b-r)/d
	default:
		h = 4 + (r-g)/d
	}
	h /= 6
	if h < 0 {
		h++
	}
	if h >= 1 {
		h = 0
	}
	return h, s, v
}

// lab converts sRGB (0..255) to CIE L*a*b* with the D65 white point.
func lab(r, g, b float64) (l, a, bb float64) {
	lin := func(c float64) float64 {
		c /= 255
		if c <= 0.04045 {
			return c / 12.92
		}
		return math.Pow((c+0.055)/1.055, 2.4)
	}
	R, G, B := lin(r), lin(g), lin(b)
	x := (0.4124564*R + 0.3575761*G + 0.1804375*B) / 0.95047
	y := 0.2126729*R + 0.7151522*G + 0.0721750*B
	z := (0.0193339*R + 0.1191920*G + 0.9503041*B) / 1.08883
	f := func(t float64) float64 {
		if t > 216.0/24389 {
			return math.Cbrt(t)
		}
		return (24389.0/27*t + 16) / 116
	}
	fx, fy, fz := f(x), f(y), f(z)
	return 116*fy - 16, 500 * (fx - fy), 200 * (fy - fz)
}

// gaussianKernel is a normalised 1-D Gaussian truncated at 4 sigma, as
// scipy.ndimage.gaussian_filter (truncate=4.0) builds it.
func gaussianKernel(sigma float64) []float32 {
	r := int(4*sigma + 0.5)
	k := make([]float32, 2*r+1)
	var sum float64
	w := make([]float64, 2*r+1)
	for i := -r; i <= r; i++ {
		w[i+r] = math.Exp(-0.5 * float64(i*i) / (sigma * sigma))
		sum += w[i+r]
	}
	for i := range k {
		k[i] = float32(w[i] / sum)
	}
	return k
}

// reflect maps an index outside [0, n) into it as scipy's "reflect" mode
// does (d c b a | a b c d | d c b a).
func reflect(i, n int) int {
	if n == 1 {
		return 0
	}
	for i < 0 || i >= n {
		if i < 0 {
			i = -i - 1
		}
		if i >= n {
			i = 2*n - i - 1
		}
	}
	return i
}

// Smooth returns p convolved with a Gaussian of sigma in both directions,
// per channel, with reflected borders; sigma <= 0 returns a copy.
func Smooth(p *Planes, sigma float64) *Planes {
	out := &Planes{C: p.C, H: p.H, W: p.W, Pix: make([]float32, len(p.Pix))}
	if sigma <= 0 {
		copy(out.Pix, p.Pix)
		return out
	}
	k := gaussianKernel(sigma)
	r := len(k) / 2
	tmp := make([]float32, p.H*p.W)
	for c := 0; c < p.C; c++ {
		src, dst := p.Plane(c), out.Plane(c)
		for y := 0; y < p.H; y++ {
			row := src[y*p.W : (y+1)*p.W]
			for x := 0; x < p.W; x++ {
				var s float32
				for j := -r; j <= r; j++ {
					xx := x + j
					if xx < 0 || xx >= p.W {
						xx = reflect(xx, p.W)
					}
					s += k[j+r] * row[xx]
				}
				tmp[y*p.W+x] = s
			}
		}
		for y := 0; y < p.H; y++ {
			for x := 0; x < p.W; x++ {
				var s float32
				for j := -r; j <= r; j++ {
					yy := y + j
					if yy < 0 || yy >= p.H {
						yy = reflect(yy, p.H)
					}
					s += k[j+r] * tmp[yy*p.W+x]
				}
				dst[y*p.W+x] = s
			}
		}
	}
	return out
}
