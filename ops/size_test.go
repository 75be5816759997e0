package ops_test

import (
	"testing"

	"github.com/goinception/googlenet/ops"
)

// TestPoolOutSize pins the output-size rule against PyTorch's
// (torch.nn.functional.max_pool2d sizes, computed by hand from its formula).
func TestPoolOutSize(t *testing.T) {
	for _, tc := range []struct {
		n, k, s, a, b int
		ceil          bool
		want          int
	}{
		{112, 3, 2, 0, 0, true, 56},
		{112, 3, 2, 0, 0, false, 55},
		{14, 3, 2, 0, 0, true, 7},
		{7, 3, 1, 1, 1, false, 7},
		{5, 2, 2, 1, 1, true, 3}, // ceil would give 4, but the last window starts in the padding
		{14, 5, 3, 0, 0, false, 4},
		{7, 7, 1, 0, 0, false, 1},
		{7, 3, 0, 0, 0, false, 5}, // stride 0 means 1
	} {
		got, err := ops.PoolOutSize(tc.n, tc.k, tc.s, tc.a, tc.b, tc.ceil)
		if err != nil || got != tc.want {
			t.Errorf("PoolOutSize(%d, k=%d, s=%d, pads %d,%d, ceil=%v) = %d, %v; want %d",
				tc.n, tc.k, tc.s, tc.a, tc.b, tc.ceil, got, err, tc.want)
		}
	}
	if _, err := ops.PoolOutSize(2, 3, 1, 0, 0, false); err == nil {
		t.Error("a window larger than the input: no error")
	}
}

// TestConvOutSize checks (in + pads - k)/s + 1 on GoogLeNet's geometries.
func TestConvOutSize(t *testing.T) {
	for _, tc := range []struct{ n, k, s, a, b, want int }{
		{224, 7, 2, 3, 3, 112}, // conv1
		{56, 3, 1, 1, 1, 56},   // conv2
		{28, 5, 1, 2, 2, 28},   // a 5x5 branch
		{28, 1, 0, 0, 0, 28},   // stride 0 means 1
		{7, 3, 2, 0, 1, 3},     // asymmetric padding: (7+1-3)/2 + 1
	} {
		got, err := ops.ConvOutSize(tc.n, tc.k, tc.s, tc.a, tc.b)
		if err != nil || got != tc.want {
			t.Errorf("ConvOutSize(%d, k=%d, s=%d, pads %d,%d) = %d, %v; want %d", tc.n, tc.k, tc.s, tc.a, tc.b, got, err, tc.want)
		}
	}
	for _, bad := range [][5]int{{2, 3, 1, 0, 0}, {0, 1, 1, 0, 0}, {5, 3, -1, 0, 0}} {
		if _, err := ops.ConvOutSize(bad[0], bad[1], bad[2], bad[3], bad[4]); err == nil {
			t.Errorf("ConvOutSize%v: no error", bad)
		}
	}
}
