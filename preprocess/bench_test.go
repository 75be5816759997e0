package preprocess_test

import (
	"bytes"
	"image"
	"image/jpeg"
	"testing"

	"github.com/goinception/googlenet/preprocess"
)

// benchJPEG is a 256x256 JPEG of a colour gradient, the image the load
// generator of package serve sends.
func benchJPEG(b *testing.B) image.Image {
	src := image.NewRGBA(image.Rect(0, 0, 256, 256))
	for y := range 256 {
		for x := range 256 {
			i := src.PixOffset(x, y)
			src.Pix[i], src.Pix[i+1], src.Pix[i+2], src.Pix[i+3] = uint8(x), uint8(y), uint8(x+y), 255
		}
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, src, &jpeg.Options{Quality: 90}); err != nil {
		b.Fatal(err)
	}
	img, err := jpeg.Decode(&buf)
	if err != nil {
		b.Fatal(err)
	}
	return img
}

// BenchmarkApplyInto measures one image's preprocessing under each
// published contract (decoding excluded).
func BenchmarkApplyInto(b *testing.B) {
	img := benchJPEG(b)
	for _, tc := range []struct {
		name string
		c    preprocess.Contract
	}{
		{"native", preprocess.Native(3, 224, []float32{0.485 * 255, 0.456 * 255, 0.406 * 255}, []float32{0.229 * 255, 0.224 * 255, 0.225 * 255})},
		{"torchvision", preprocess.Torchvision()},
		{"zoo", preprocess.ONNXZoo()},
		{"caffe", preprocess.Caffe()},
	} {
		b.Run(tc.name, func(b *testing.B) {
			dst := make([]float32, tc.c.InputLen())
			b.ReportAllocs()
			for b.Loop() {
				if err := tc.c.ApplyInto(dst, img); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
