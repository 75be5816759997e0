package preprocess_test

import (
	"fmt"
	"image"
	"image/color"

	"github.com/goinception/googlenet/preprocess"
)

// A photograph becomes the input of torchvision's published GoogLeNet: the
// contract resizes, crops, normalises and applies transform_input.
func ExampleContract_Apply() {
	img := image.NewRGBA(image.Rect(0, 0, 320, 240))
	for i := range img.Pix {
		img.Pix[i] = 255 // white
	}
	c := preprocess.Torchvision()
	fmt.Println(c)
	x, err := c.Apply(img)
	if err != nil {
		fmt.Println(err)
		return
	}
	// transform_input maps ImageNet-normalised pixels to x/127.5 - 1: white is 1.
	fmt.Printf("%d values, first %.4f\n", len(x), x[0])
	// Output:
	// torchvision: shorter side to 256, centre crop 224 (pil-bilinear), RGB 0..1, mean (0.485, 0.456, 0.406), std (0.229, 0.224, 0.225), then x*(0.458, 0.448, 0.45)+(-0.03, -0.088, -0.188)
	// 150528 values, first 1.0000
}

// The ONNX model zoo's GoogLeNet takes BGR pixels on the 0..255 scale minus
// the mean pixel.
func ExampleONNXZoo() {
	img := image.NewRGBA(image.Rect(0, 0, 300, 200))
	for y := 0; y < 200; y++ {
		for x := 0; x < 300; x++ {
			img.Set(x, y, color.RGBA{R: 200, G: 100, B: 50, A: 255})
		}
	}
	c := preprocess.ONNXZoo()
	x, _ := c.Apply(img)
	plane := 224 * 224
	fmt.Printf("B %.3f G %.3f R %.3f\n", x[0], x[plane], x[2*plane])
	s, _ := c.Encode()
	back, _ := preprocess.Decode(s)
	fmt.Println(back.Name, back.Channels, back.Interp)
	// Output:
	// B -53.939 G -16.779 R 76.320
	// onnx-zoo BGR pil-bicubic
}
