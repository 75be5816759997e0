package eval

import (
	"flag"
	"image"
	"image/color"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/goinception/googlenet/data"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

func TestScales(t *testing.T) {
	for _, c := range []struct {
		input int
		want  [4]int
	}{
		{224, [4]int{256, 288, 320, 352}}, // the paper
		{28, [4]int{32, 36, 40, 44}},      // MNIST: exact multiples of 8/7..11/7
		{16, [4]int{18, 21, 23, 25}},      // 18.29, 20.57, 22.86, 25.14 rounded
		{1, [4]int{1, 1, 1, 2}},
	} {
		if got := Scales(c.input); got != c.want {
			t.Errorf("Scales(%d) = %v, want %v", c.input, got, c.want)
		}
	}
}

func box(x0, y0, x1, y1 int) image.Rectangle { return image.Rect(x0, y0, x1, y1) }

// A 40x30 image with input 16: shorter side 30 -> 18 gives 24x18; the five
// 16x16 boxes are computed by hand.
func TestTenCrops40x30(t *testing.T) {
	got, err := TenCrops(40, 30, 16)
	if err != nil {
		t.Fatal(err)
	}
	boxes := []image.Rectangle{
		box(0, 0, 16, 16), // top left
		box(8, 0, 24, 16), // top right
		box(0, 2, 16, 18), // bottom left
		box(8, 2, 24, 18), // bottom right
		box(4, 1, 20, 17), // center: ((24-16)/2, (18-16)/2)
	}
	if len(got) != 10 {
		t.Fatalf("%d crops, want 10", len(got))
	}
	for i, c := range got {
		want := Crop{Size: image.Pt(24, 18), Box: boxes[i%5], Mirror: i >= 5}
		if c != want {
			t.Errorf("crop %d = %v, want %v", i, c, want)
		}
	}
}

func TestCenterCrop(t *testing.T) {
	for _, c := range []struct {
		w, h, input int
		want        Crop
	}{
		// 28x28, input 28: scale 32/28, side round(24.5) = 25, at (1,1).
		{28, 28, 28, Crop{Size: image.Pt(28, 28), Box: box(1, 1, 26, 26)}},
		// 40x30, input 16: scale 18/30, side round(26.67) = 27, at (6,1).
		{40, 30, 16, Crop{Size: image.Pt(40, 30), Box: box(6, 1, 33, 28)}},
		// 500x375, input 224: scale 256/375, side round(328.125) = 328.
		{500, 375, 224, Crop{Size: image.Pt(500, 375), Box: box(86, 23, 414, 351)}},
		// Tiny 3x5, input 16: the square is the whole shorter side, upscaled.
		{3, 5, 16, Crop{Size: image.Pt(3, 5), Box: box(0, 1, 3, 4)}},
	} {
		got, err := CenterCrops(c.w, c.h, c.input)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 1 || got[0] != c.want {
			t.Errorf("CenterCrops(%d, %d, %d) = %v, want [%v]", c.w, c.h, c.input, got, c.want)
		}
	}
}

// hand lists, per scale of a 40x30 image with input 16, the scaled size
// and the x offsets of the left, center and right squares.
var hand40x30 = []struct {
	s, w int
	xs   [3]int
}{
	{18, 24, [3]int{0, 3, 6}}, // 40*18/30 = 24
	{21, 28, [3]int{0, 3, 7}}, // 28; (28-21)/2 = 3
	{23, 31, [3]int{0, 4, 8}}, // 30.67 -> 31
	{25, 33, [3]int{0, 4, 8}}, // 33.33 -> 33
}

func TestMultiScaleCrops40x30(t *testing.T) {
	got, err := MultiScaleCrops(40, 30, 16)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 144 {
		t.Fatalf("%d crops, want 144", len(got))
	}
	// Spot checks from the hand table: scale, square, view, mirror.
	i := 0
	for _, sc := range hand40x30 {
		d := sc.s - 16
		for _, x := range sc.xs {
			views := []image.Rectangle{
				box(x, 0, x+16, 16), box(x+d, 0, x+d+16, 16),
				box(x, d, x+16, d+16), box(x+d, d, x+d+16, d+16),
				box(x+d/2, d/2, x+d/2+16, d/2+16),
				box(x, 0, x+sc.s, sc.s), // the whole square
			}
			for _, v := range views {
				for _, m := range []bool{false, true} {
					want := Crop{Size: image.Pt(sc.w, sc.s), Box: v, Mirror: m}
					if got[i] != want {
						t.Errorf("crop %d = %v, want %v", i, got[i], want)
					}
					i++
				}
			}
		}
	}
	// Every crop is inside its scaled image and distinct: the three squares
	// of a landscape image differ.
	if u, _ := Distinct(got); len(u) != 144 {
		t.Errorf("%d distinct crops, want 144", len(u))
	}
	for i, c := range got {
		if !c.Box.In(image.Rectangle{Max: c.Size}) {
			t.Errorf("crop %d %v outside its image", i, c)
		}
	}
	golden(t, "crops144_40x30_16.txt", got)
}

func TestMultiScaleCropsPortrait(t *testing.T) {
	got, err := MultiScaleCrops(30, 40, 16)
	if err != nil {
		t.Fatal(err)
	}
	// Top, center and bottom squares at scale 18 (18x24): y = 0, 3, 6.
	for k, y := range []int{0, 3, 6} {
		c := got[12*k+10] // the whole square, not mirrored
		want := Crop{Size: image.Pt(18, 24), Box: box(0, y, 18, y+18)}
		if c != want {
			t.Errorf("square %d = %v, want %v", k, c, want)
		}
	}
	if u, _ := Distinct(got); len(u) != 144 {
		t.Errorf("%d distinct crops, want 144", len(u))
	}
}

// A square image: the three squares coincide, so 144 crops are 48 distinct
// ones, each three times.
func TestMultiScaleCropsSquare(t *testing.T) {
	got, err := MultiScaleCrops(28, 28, 28)
	if err != nil {
		t.Fatal(err)
	}
	u, counts := Distinct(got)
	if len(u) != 48 {
		t.Fatalf("%d distinct crops, want 48", len(u))
	}
	for i, n := range counts {
		if n != 3 {
			t.Errorf("crop %v appears %d times, want 3", u[i], n)
		}
	}
	// Scale 44 on MNIST: the corner crops lose 16 of 44 pixels per side.
	if c := u[36]; c != (Crop{Size: image.Pt(44, 44), Box: box(0, 0, 28, 28)}) {
		t.Errorf("first crop at scale 44 = %v", c)
	}
}

func TestCropsForErrors(t *testing.T) {
	if _, err := ParseScheme("7"); err == nil || !strings.Contains(err.Error(), "schemes are 1, 10, 144 and full") {
		t.Errorf("ParseScheme(7) = %v", err)
	}
	for _, c := range []struct {
		n           Scheme
		w, h, input int
		want        string
	}{
		{"7", 10, 10, 4, "schemes are 1, 10, 144 and full"},
		{Center, 0, 10, 4, "empty image"},
		{Full, 0, 10, 4, "empty image"},
		{Ten, 10, -1, 4, "empty image"},
		{MultiScale, 10, 10, 0, "input size"},
		{MultiScale, 100000, 2, 224, "over"},
	} {
		_, err := c.n.Crops(c.w, c.h, c.input)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Scheme(%q).Crops(%d, %d, %d) = %v, want an error with %q", c.n, c.w, c.h, c.input, err, c.want)
		}
	}
}

// golden compares crops with testdata/name (rewritten with -update).
func golden(t *testing.T, name string, crops []Crop) {
	t.Helper()
	var b strings.Builder
	for i, c := range crops {
		b.WriteString(strconv.Itoa(i) + " " + c.String())
		b.WriteByte('\n')
	}
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if string(want) != b.String() {
		t.Errorf("crops differ from %s (go test -update rewrites it)", path)
	}
}

// gradient is a test image: each pixel a different value.
func gradient(w, h int, gray bool) image.Image {
	if gray {
		g := image.NewGray(image.Rect(0, 0, w, h))
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				g.SetGray(x, y, color.Gray{Y: uint8((7*x + 13*y + x*y) % 256)})
			}
		}
		return g
	}
	c := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			c.SetRGBA(x, y, color.RGBA{uint8(9 * x), uint8(5 * y), uint8((x * y) % 256), 255})
		}
	}
	return c
}

// renderTol is the largest difference allowed between two float32 paths to
// the same pixel values on the 0..255 scale after normalisation.
const renderTol = 1e-4

// The single-crop schemes render exactly as the data package's validation
// transforms.
func TestSingleCropsMatchTransforms(t *testing.T) {
	means, stds := []float32{33.3}, []float32{78.6}
	for _, c := range []struct {
		img             image.Image
		input, channels int
		means, stds     []float32
	}{
		{gradient(28, 28, true), 28, 1, means, stds},
		{gradient(40, 30, true), 16, 1, means, stds},
		{gradient(37, 52, false), 24, 3, data.ImageNetMeans, data.ImageNetStds},
	} {
		b := c.img.Bounds()
		// Center is data.EvalTransform; Full is data.Transform without a
		// crop mode (what training validates on without augmentation).
		full := data.Transform{Size: c.input, Means: c.means, Stds: c.stds}
		for s, tr := range map[Scheme]data.Transform{Center: data.EvalTransform(c.input, c.means, c.stds), Full: full} {
			crops, err := s.Crops(b.Dx(), b.Dy(), c.input)
			if err != nil {
				t.Fatal(err)
			}
			got := make([]float32, c.channels*c.input*c.input)
			if err := Render(got, c.img, crops, c.input, c.channels, c.means, c.stds); err != nil {
				t.Fatal(err)
			}
			tr.Channels = c.channels
			want := make([]float32, len(got))
			if err := tr.Apply(want, c.img, c.channels, nil); err != nil {
				t.Fatal(err)
			}
			for i := range got {
				if math.Abs(float64(got[i]-want[i])) > renderTol {
					t.Fatalf("%s: %v input %d: value %d = %v, the transform gives %v", s, b, c.input, i, got[i], want[i])
				}
			}
		}
	}
}

// Render: a crop that is already input-sized is an exact copy, a mirrored
// one its reflection, and the whole square is scaled.
func TestRender(t *testing.T) {
	img := gradient(6, 4, true)
	crops := []Crop{
		{Size: image.Pt(6, 4), Box: box(1, 0, 4, 3)},
		{Size: image.Pt(6, 4), Box: box(1, 0, 4, 3), Mirror: true},
		{Size: image.Pt(6, 4), Box: box(0, 0, 4, 4)}, // scaled 4 -> 3
	}
	dst := make([]float32, 3*9)
	if err := Render(dst, img, crops, 3, 1, nil, nil); err != nil {
		t.Fatal(err)
	}
	g := img.(*image.Gray)
	for y := 0; y < 3; y++ {
		for x := 0; x < 3; x++ {
			want := float32(g.GrayAt(1+x, y).Y)
			if dst[y*3+x] != want {
				t.Errorf("copy (%d,%d) = %v, want %v", x, y, dst[y*3+x], want)
			}
			if m := dst[9+y*3+(2-x)]; m != want {
				t.Errorf("mirror (%d,%d) = %v, want %v", 2-x, y, m, want)
			}
		}
	}
	if err := Render(dst[:5], img, crops, 3, 1, nil, nil); err == nil {
		t.Error("Render into a short buffer: no error")
	}
	if err := Render(make([]float32, 9), img, []Crop{{Size: image.Pt(6, 4), Box: box(4, 0, 8, 3)}}, 3, 1, nil, nil); err == nil {
		t.Error("Render of a box outside the image: no error")
	}
}
