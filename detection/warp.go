package detection

import (
	"image"
	"math"
)

// RCNNContext is R-CNN's context padding: 16 pixels around the warped
// region at its 227-pixel input.
const RCNNContext = 16

// ContextFor scales R-CNN's 16 pixels of context at 227 pixels to an input
// of size pixels (2 at 32, 16 at 224).
func ContextFor(size int) int { return int(math.Round(RCNNContext * float64(size) / 227)) }

// Warp is R-CNN's region warping ("dilate the tight bounding box so that at
// the warped size there are exactly p pixels of warped image context
// around the original box", section 2.1 and appendix A): box is enlarged
// about its centre by size/(size-2*pad) in each direction, and that
// rectangle is resampled anisotropically to size x size RGB pixels, each
// output pixel the mean of bilinear samples spread over its footprint (one
// per source pixel, so shrinking averages rather than aliases). Parts
// outside the image take fill (R-CNN fills with the image mean so that
// they are zero after normalisation). dst is reused when it has the right
// size.
func Warp(dst *image.RGBA, img *Planes, box Box, size, pad int, fill [3]uint8) *image.RGBA {
	if dst == nil || dst.Rect.Dx() != size || dst.Rect.Dy() != size {
		dst = image.NewRGBA(image.Rect(0, 0, size, size))
	}
	if pad*2 >= size {
		pad = (size - 1) / 2
	}
	f := float64(size) / float64(size-2*pad)
	cx, cy := box.Center()
	bw, bh := math.Max(box.W(), 1)*f, math.Max(box.H(), 1)*f
	x0, y0 := cx-bw/2, cy-bh/2
	sx, sy := bw/float64(size), bh/float64(size) // source pixels per output pixel
	nx, ny := max(1, int(math.Ceil(sx))), max(1, int(math.Ceil(sy)))
	n := img.W * img.H
	for oy := 0; oy < size; oy++ {
		for ox := 0; ox < size; ox++ {
			var acc [3]float64
			var inside, total float64
			for j := 0; j < ny; j++ {
				// sample at the centre of sub-pixel j, in source pixel centres
				py := y0 + (float64(oy)+(float64(j)+0.5)/float64(ny))*sy - 0.5
				for i := 0; i < nx; i++ {
					px := x0 + (float64(ox)+(float64(i)+0.5)/float64(nx))*sx - 0.5
					total++
					if px < -0.5 || py < -0.5 || px > float64(img.W)-0.5 || py > float64(img.H)-0.5 {
						continue
					}
					inside++
					xa, ya := int(math.Floor(px)), int(math.Floor(py))
					fx, fy := px-float64(xa), py-float64(ya)
					xb, yb := min(xa+1, img.W-1), min(ya+1, img.H-1)
					xa, ya = max(xa, 0), max(ya, 0)
					for c := 0; c < 3; c++ {
						pl := img.Pix[min(c, img.C-1)*n:]
						v00, v01 := float64(pl[ya*img.W+xa]), float64(pl[ya*img.W+xb])
						v10, v11 := float64(pl[yb*img.W+xa]), float64(pl[yb*img.W+xb])
						acc[c] += (v00*(1-fx)+v01*fx)*(1-fy) + (v10*(1-fx)+v11*fx)*fy
					}
				}
			}
			o := dst.PixOffset(ox, oy)
			for c := 0; c < 3; c++ {
				v := (acc[c] + float64(fill[c])*(total-inside)) / total
				dst.Pix[o+c] = uint8(clamp(math.Round(v), 0, 255))
			}
			dst.Pix[o+3] = 255
		}
	}
	return dst
}

// MeanColour returns the mean RGB colour of img, rounded.
func MeanColour(img *Planes) [3]uint8 {
	var out [3]uint8
	n := img.W * img.H
	for c := 0; c < 3; c++ {
		var s float64
		for _, v := range img.Pix[min(c, img.C-1)*n : (min(c, img.C-1)+1)*n] {
			s += float64(v)
		}
		out[c] = uint8(clamp(math.Round(s/float64(max(n, 1))), 0, 255))
	}
	return out
}
