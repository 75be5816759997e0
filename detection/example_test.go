package detection_test

import (
	"fmt"

	"github.com/goinception/googlenet/detection"
)

func ExampleIoU() {
	a := detection.Box{X1: 0, Y1: 0, X2: 10, Y2: 10}
	b := detection.Box{X1: 5, Y1: 0, X2: 15, Y2: 10}
	fmt.Printf("%.3f\n", detection.IoU(a, b))
	// PASCAL VOC's 1-based inclusive corners (1,1)-(10,10) are the same box as a.
	fmt.Println(detection.FromVOC(1, 1, 10, 10) == a)
	// Output:
	// 0.333
	// true
}

func ExampleNMS() {
	boxes := []detection.Box{{X1: 0, Y1: 0, X2: 10, Y2: 10}, {X1: 1, Y1: 0, X2: 11, Y2: 10}, {X1: 20, Y1: 20, X2: 30, Y2: 30}}
	scores := []float64{0.9, 0.8, 0.7}
	fmt.Println(detection.NMS(boxes, scores, 0.3))
	// Output: [0 2]
}

func ExampleEvaluate() {
	gts := []detection.Annotation{{ID: "img1", Objects: []detection.Object{
		{Name: "cat", Box: detection.Box{X1: 0, Y1: 0, X2: 10, Y2: 10}},
		{Name: "cat", Box: detection.Box{X1: 20, Y1: 0, X2: 30, Y2: 10}},
	}}}
	dets := []detection.Detection{
		{Image: "img1", Class: 0, Box: detection.Box{X1: 0, Y1: 0, X2: 10, Y2: 10}, Score: 0.9},
		{Image: "img1", Class: 0, Box: detection.Box{X1: 50, Y1: 50, X2: 60, Y2: 60}, Score: 0.8},
		{Image: "img1", Class: 0, Box: detection.Box{X1: 21, Y1: 0, X2: 30, Y2: 10}, Score: 0.7},
	}
	res, mAP, _ := detection.Evaluate(gts, dets, []string{"cat"}, detection.EvalOptions{})
	fmt.Printf("AP %.4f, AP11 %.4f, mAP %.4f, recall %.2f\n", res[0].AP, res[0].AP11, mAP, res[0].Recall)
	// Output: AP 0.8333, AP11 0.8485, mAP 0.8333, recall 1.00
}
