package data_test

import (
	"context"
	"fmt"
	"image"
	"image/color"
	"io"

	"github.com/goinception/googlenet/data"
)

// Open a generated dataset and read one epoch of augmented batches.
func Example() {
	splits, err := data.Open(context.Background(), "synthetic:classes=4,train=20,val=8,size=32,seed=1")
	if err != nil {
		fmt.Println(err)
		return
	}
	loader, err := data.NewLoader(splits.Train, data.LoaderOptions{
		BatchSize: 8,
		Shuffle:   true,
		Seed:      7,
		Transform: data.TrainTransform(24, data.ImageNetMeans, data.ImageNetStds),
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	it := loader.Epoch(context.Background(), 0)
	defer it.Close()
	for {
		b, err := it.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Printf("step %d: %d x (%d, %d, %d), %d floats\n", b.Step, b.N, b.C, b.H, b.W, len(b.X))
	}
	fmt.Println("classes:", splits.Classes())
	// Output:
	// step 0: 8 x (3, 24, 24), 13824 floats
	// step 1: 8 x (3, 24, 24), 13824 floats
	// step 2: 4 x (3, 24, 24), 6912 floats
	// classes: [class0 class1 class2 class3]
}

// ToCHW lays out an image as planar float32 values, the layout of one image
// in an NCHW tensor.
func ExampleToCHW() {
	img := image.NewRGBA(image.Rect(0, 0, 2, 1))
	img.Set(0, 0, color.RGBA{R: 255, G: 128, B: 0, A: 255})
	img.Set(1, 0, color.RGBA{R: 0, G: 64, B: 255, A: 255})
	fmt.Println(data.ToCHW(img, nil, nil))
	fmt.Println(data.ToCHW(data.Mirror(img), []float32{127.5, 127.5, 127.5}, []float32{127.5, 127.5, 127.5}))
	// Output:
	// [255 0 128 64 0 255]
	// [-1 1 -0.49803922 0.003921569 1 -1]
}

// Each rank of a distributed run reads a contiguous slice of the epoch's
// shuffled order; the slices cover it exactly once.
func ExampleShardRange() {
	for rank := 0; rank < 3; rank++ {
		lo, hi := data.ShardRange(10, rank, 3)
		fmt.Printf("rank %d: [%d, %d)\n", rank, lo, hi)
	}
	// Output:
	// rank 0: [0, 4)
	// rank 1: [4, 7)
	// rank 2: [7, 10)
}

// An evaluation pipeline built from the exported steps: shorter side to
// 256, central 224 x 224 crop.
func ExampleResizeShorter() {
	img := image.NewRGBA(image.Rect(0, 0, 640, 480))
	r, err := data.ResizeShorter(img, 256, data.Bilinear)
	if err != nil {
		fmt.Println(err)
		return
	}
	c, err := data.CenterCrop(r, 224, 224)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(r.Bounds().Size(), c.Bounds().Size())
	// Output:
	// (341,256) (224,224)
}
