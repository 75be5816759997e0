package eval_test

import (
	"fmt"

	"github.com/goinception/googlenet/eval"
)

// The paper's 144 crops of a 500x375 photograph for a 224x224 network: four
// scales, three squares each, six views, each mirrored.
func ExampleMultiScaleCrops() {
	crops, err := eval.MultiScaleCrops(500, 375, 224)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(len(crops), "crops at scales", eval.Scales(224))
	for _, i := range []int{0, 8, 10, 22, 142} {
		fmt.Println(crops[i])
	}
	// Output:
	// 144 crops at scales [256 288 320 352]
	// 341x256 (0,0)-(224,224)
	// 341x256 (16,16)-(240,240)
	// 341x256 (0,0)-(256,256)
	// 341x256 (42,0)-(298,256)
	// 469x352 (117,0)-(469,352)
}

// Crop averaging and an ensemble of two models on one image with three
// classes.
func ExampleAverageModels() {
	a, _ := eval.AverageCrops([][]float64{{2, 1, 0}, {1, 2, 0}}, nil) // model A, two crops
	b, _ := eval.AverageCrops([][]float64{{0, 0, 3}}, nil)            // model B, one crop
	p, _ := eval.AverageModels([][]float64{a, b})
	fmt.Printf("A %.3f\nB %.3f\nensemble %.3f, top-1 class %d\n", a, b, p, eval.TopK(p, 1)[0])
	// Output:
	// A [0.455 0.455 0.090]
	// B [0.045 0.045 0.909]
	// ensemble [0.250 0.250 0.500], top-1 class 2
}
