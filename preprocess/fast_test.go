package preprocess

import (
	"image"
	"image/color"
	"math"
	"math/rand/v2"
	"testing"
)

// testImages returns images of every type the decoders produce, with odd
// sizes, origins away from (0, 0) and random pixels.
func testImages(rng *rand.Rand) map[string]image.Image {
	fill := func(p []uint8) {
		for i := range p {
			p[i] = uint8(rng.IntN(256))
		}
	}
	imgs := map[string]image.Image{}
	// 261x203: every contract resamples; 300x256 (odd origin): the native
	// 224 contract's central square is 224 pixels, taken as it is.
	for _, r := range []image.Rectangle{image.Rect(3, 5, 3+261, 5+203), image.Rect(-7, 1, -7+300, 1+256)} {
		addImages(imgs, r, fill, rng)
	}
	return imgs
}

// addImages adds an image of each type covering r to imgs.
func addImages(imgs map[string]image.Image, r image.Rectangle, fill func([]uint8), rng *rand.Rand) {
	sz := r.Size().String()
	for _, s := range []image.YCbCrSubsampleRatio{
		image.YCbCrSubsampleRatio444, image.YCbCrSubsampleRatio422, image.YCbCrSubsampleRatio420,
		image.YCbCrSubsampleRatio440, image.YCbCrSubsampleRatio411, image.YCbCrSubsampleRatio410,
	} {
		y := image.NewYCbCr(r, s)
		fill(y.Y)
		fill(y.Cb)
		fill(y.Cr)
		imgs["ycbcr-"+s.String()+sz] = y
		imgs["ycbcr-sub-"+s.String()+sz] = y.SubImage(image.Rect(r.Min.X+7, r.Min.Y+6, r.Max.X-23, r.Max.Y-6))
	}
	rgba := image.NewRGBA(r)
	fill(rgba.Pix)
	for i := 3; i < len(rgba.Pix); i += 4 { // valid premultiplied colours, mostly opaque
		if rng.IntN(4) > 0 {
			rgba.Pix[i] = 0xff
		}
		for c := 1; c <= 3; c++ {
			rgba.Pix[i-c] = min(rgba.Pix[i-c], rgba.Pix[i])
		}
	}
	imgs["rgba"+sz] = rgba
	imgs["rgba-sub"+sz] = rgba.SubImage(image.Rect(r.Min.X+4, r.Min.Y+4, r.Max.X-17, r.Max.Y-19))
	nrgba := image.NewNRGBA(r)
	fill(nrgba.Pix)
	imgs["nrgba"+sz] = nrgba
	gray := image.NewGray(r)
	fill(gray.Pix)
	imgs["gray"+sz] = gray
	pal := image.NewPaletted(r, color.Palette{color.Black, color.White, color.RGBA{200, 10, 30, 255}})
	for i := range pal.Pix {
		pal.Pix[i] = uint8(rng.IntN(3))
	}
	imgs["paletted"+sz] = pal
}

// The fast paths of toRGB give exactly what the generic path through
// img.At gives.
func TestToRGBFastPaths(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for name, img := range testImages(rng) {
		b := img.Bounds()
		got := toRGB(img)
		want := toRGBSlow(img, newRaster(b.Dx(), b.Dy(), 3))
		for i := range want.pix {
			if got.pix[i] != want.pix[i] {
				t.Errorf("%s: byte %d (pixel %d) = %d, the generic path gives %d", name, i, i/3, got.pix[i], want.pix[i])
				break
			}
		}
	}
}

// ApplyInto's table lookup for colour contracts gives bit for bit what
// the pixels followed by FromRGB's arithmetic give.
func TestLevelTableMatchesFromRGB(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	imgs := testImages(rng)
	bgr := Native(3, 224, []float32{104, 117, 123}, nil)
	bgr.Channels = BGR
	unit := Native(3, 96, []float32{0.4, 0.5, 0.6}, []float32{0.2, 0.25, 0.3})
	unit.Scale = 1
	for _, c := range []Contract{
		Torchvision(), TorchvisionNormalize(), ONNXZoo(), Caffe(), bgr, unit,
		Native(3, 224, []float32{123.7, 116.3, 103.5}, []float32{58.4, 57.1, 57.4}),
		Native(3, 224, nil, nil),
	} {
		for name, img := range imgs {
			got := make([]float32, c.InputLen())
			if err := c.ApplyInto(got, img); err != nil {
				t.Fatalf("%s, %s: %v", c.Name, name, err)
			}
			want := make([]float32, c.InputLen())
			if err := c.geometry(want, img, nil); err != nil {
				t.Fatal(err)
			}
			if err := c.FromRGB(want); err != nil {
				t.Fatal(err)
			}
			for i := range want {
				if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
					t.Errorf("%s (%s %v), %s: value %d = %v, pixels then FromRGB give %v", c.Name, c.Resize, c.Interp, name, i, got[i], want[i])
					break
				}
			}
		}
	}
}
