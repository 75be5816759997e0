package data

import (
	"encoding/json"
	"image"
	"math"
	"os"
	"testing"
)

// Tolerances against the peers (0..255 scale).
const (
	// torchvision's grayscale weights are (0.2989, 0.587, 0.114), ours
	// (0.299, 0.587, 0.114); the difference moves contrast and saturation
	// results by at most a few hundredths, and the golden file rounds to
	// three decimals.
	photometricTol = 0.05
)

// resizeTols are the largest per-pixel and mean differences accepted for
// each method (8-bit values). Bilinear, cubic and nearest are compared with
// PIL: x/image/draw uses the same kernels (a tent widened when shrinking,
// Catmull-Rom = PIL's bicubic with a = -0.5) but keeps 16 bits between its
// passes where PIL rounds and clamps to 8, which shows most where the cubic
// overshoots on noise. Area is compared with exact area averaging computed
// independently from the integral image; only the final rounding differs.
var resizeTols = map[string]struct{ max, mean float64 }{
	"bilinear": {1, 0.3},
	"cubic":    {16, 0.4},
	"nearest":  {0, 0},
	"area":     {0.5 + 1e-3, 0.3}, // rounding to 8 bits; the golden file has 3 decimals
}

type peerGolden struct {
	H, W        int
	Pixels      []uint8
	Photometric []struct {
		Brightness, Contrast, Saturation float32
		CHW                              []float64
	}
	Resize []struct {
		Interp string
		W, H   int
		CHW    []float64
	}
}

func loadPeerGolden(t *testing.T) (*peerGolden, *image.RGBA) {
	t.Helper()
	b, err := os.ReadFile("testdata/torch_transforms.json")
	if err != nil {
		t.Fatal(err)
	}
	var g peerGolden
	if err := json.Unmarshal(b, &g); err != nil {
		t.Fatal(err)
	}
	img := image.NewRGBA(image.Rect(0, 0, g.W, g.H))
	for i := 0; i < g.W*g.H; i++ {
		copy(img.Pix[4*i:4*i+3], g.Pixels[3*i:3*i+3])
		img.Pix[4*i+3] = 255
	}
	return &g, img
}

// TestPhotometricMatchesTorchvision compares brightness, contrast and
// saturation with torchvision's adjust_* functions (testdata/torch_transforms.py).
func TestPhotometricMatchesTorchvision(t *testing.T) {
	g, img := loadPeerGolden(t)
	for _, c := range g.Photometric {
		x := ToCHW(img, nil, nil)
		photometric(x, 3, g.W*g.H, &augParams{brightness: c.Brightness, contrast: c.Contrast, saturation: c.Saturation})
		worst := 0.0
		for i, v := range x {
			worst = math.Max(worst, math.Abs(float64(v)-c.CHW[i]))
		}
		if worst > photometricTol {
			t.Errorf("b=%v c=%v s=%v: max difference %v from torchvision", c.Brightness, c.Contrast, c.Saturation, worst)
		}
	}
}

// TestResizeMatchesPIL compares bilinear, cubic and nearest with PIL's
// resize (BILINEAR, BICUBIC, NEAREST), shrinking and enlarging, and area
// (shrinking) with exact area averaging (testdata/torch_transforms.py).
func TestResizeMatchesPIL(t *testing.T) {
	g, img := loadPeerGolden(t)
	for _, c := range g.Resize {
		m := map[string]Interp{"bilinear": Bilinear, "cubic": Cubic, "nearest": Nearest, "area": Area}[c.Interp]
		out, err := Resize(img, c.W, c.H, m)
		if err != nil {
			t.Fatal(err)
		}
		x := ToCHW(out, nil, nil)
		worst, sum := 0.0, 0.0
		for i, v := range x {
			d := math.Abs(float64(v) - c.CHW[i])
			worst = math.Max(worst, d)
			sum += d
		}
		mean := sum / float64(len(x))
		tol := resizeTols[c.Interp]
		t.Logf("%-8s %dx%d -> %dx%d: max %v mean %.3f", c.Interp, g.W, g.H, c.W, c.H, worst, mean)
		if worst > tol.max || mean > tol.mean {
			t.Errorf("%s to %dx%d: max %v mean %.3f differ from PIL (tolerance %v, %v)", c.Interp, c.W, c.H, worst, mean, tol.max, tol.mean)
		}
	}
}
