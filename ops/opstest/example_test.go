package opstest_test

import (
	"fmt"
	"testing"

	"github.com/goinception/googlenet/ops"
	"github.com/goinception/googlenet/ops/opstest"
)

// An engine's test file runs the whole suite in one line.
func TestReference(t *testing.T) { opstest.TestEngine(t, ops.Reference{}) }

// The float64 reference loops define the convolution: a 2x2 all-ones filter
// over a 3x3 image sums each 2x2 window; mag is the sum of the terms'
// magnitudes that scales the tolerance.
func ExampleRefConvForward() {
	g := ops.ConvGeom{N: 1, C: 1, H: 3, W: 3, K: 1, R: 2, S: 2, StrideH: 1, StrideW: 1, OutH: 2, OutW: 2}
	x := []float32{1, 2, 3, 4, 5, 6, 7, 8, 9}
	w := []float32{1, 1, 1, -1}
	y, mag := opstest.RefConvForward(g, x, w, nil)
	fmt.Println(y, mag)
	// Output: [2 4 8 10] [12 16 24 28]
}
