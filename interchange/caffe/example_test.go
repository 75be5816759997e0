package caffe_test

import (
	"fmt"

	"github.com/goinception/googlenet/interchange/caffe"
)

// A deploy.prototxt gives the layers' parameters (fillers, learning-rate
// multipliers and other fields this package does not model are skipped).
func ExampleParsePrototxt() {
	n, err := caffe.ParsePrototxt([]byte(`
name: "GoogleNet"
layer { name: "conv1/7x7_s2" type: "Convolution" bottom: "data" top: "conv1/7x7_s2"
  param { lr_mult: 1 decay_mult: 1 }
  convolution_param { num_output: 64 pad: 3 kernel_size: 7 stride: 2 weight_filler { type: "xavier" } } }
layer { name: "pool1/norm1" type: "LRN" bottom: "conv1/7x7_s2" top: "pool1/norm1"
  lrn_param { local_size: 5 alpha: 0.0001 beta: 0.75 } }
`))
	if err != nil {
		fmt.Println(err)
		return
	}
	c := n.Layer("conv1/7x7_s2").Conv
	fmt.Println(n)
	fmt.Printf("conv1: %d outputs, %dx%d kernel, stride %d, pad %d\n", c.NumOutput, c.Kernel, c.Kernel, c.Stride, c.Pad)
	fmt.Printf("LRN size %d, alpha %g\n", n.Layer("pool1/norm1").LRN.Size, n.Layer("pool1/norm1").LRN.Alpha)
	// Output:
	// "GoogleNet": 2 layers (layer), 0 with blobs
	// conv1: 64 outputs, 7x7 kernel, stride 2, pad 3
	// LRN size 5, alpha 0.0001
}
