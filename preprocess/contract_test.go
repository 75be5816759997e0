package preprocess

import (
	"image"
	"math"
	"strings"
	"testing"
)

func TestTorchvisionSizes(t *testing.T) {
	c := Torchvision()
	for _, tc := range []struct {
		w, h     int
		size     image.Point
		off      image.Point
		describe string
	}{
		{500, 333, image.Pt(384, 256), image.Pt(80, 16), "int(256*500/333) = int(384.38)"},
		{333, 500, image.Pt(256, 384), image.Pt(16, 80), "portrait"},
		{451, 300, image.Pt(384, 256), image.Pt(80, 16), "int(384.85) truncates"},
		{387, 256, image.Pt(387, 256), image.Pt(82, 16), "(387-224)/2 = 81.5 rounds to even 82"},
		{385, 256, image.Pt(385, 256), image.Pt(80, 16), "80.5 rounds to even 80"},
	} {
		p, err := c.scaledSize(tc.w, tc.h)
		if err != nil {
			t.Fatal(err)
		}
		if p != tc.size || c.cropOffset(p) != tc.off {
			t.Errorf("%dx%d (%s): scaled %v offset %v, want %v %v", tc.w, tc.h, tc.describe, p, c.cropOffset(p), tc.size, tc.off)
		}
	}
	z := Caffe()
	if o := z.cropOffset(image.Pt(256, 256)); o != image.Pt(16, 16) {
		t.Errorf("caffe crop offset %v, want (16,16)", o)
	}
}

// TestTransformInputIsInceptionScaling checks the algebra the docs state:
// torchvision's normalisation followed by transform_input is x/127.5 - 1.
func TestTransformInputIsInceptionScaling(t *testing.T) {
	c := Torchvision()
	x := make([]float32, 3*256)
	for i := range x {
		x[i] = float32(i % 256)
	}
	if err := c.FromRGB(x); err != nil {
		t.Fatal(err)
	}
	for i, v := range x {
		want := float64(i%256)/127.5 - 1
		if math.Abs(float64(v)-want) > 1e-6 {
			t.Fatalf("pixel %d: %v, want %v", i%256, v, want)
		}
	}
}

func TestFromRGBOrderScaleMeans(t *testing.T) {
	c := Contract{Channels: BGR, Scale: 255, Means: []float32{1, 2, 3}, Stds: []float32{1, 2, 4}, Resize: Whole, Size: 1, Crop: 1, Interp: Linear}
	x := []float32{10, 20, 30} // R G B
	if err := c.FromRGB(x); err != nil {
		t.Fatal(err)
	}
	want := []float32{(30 - 1) / 1, (20 - 2) / 2, (10 - 3) / 4.0}
	for i := range x {
		if math.Abs(float64(x[i]-want[i])) > 1e-6 {
			t.Fatalf("got %v, want %v", x, want)
		}
	}
}

func TestValidateAndDecodeReject(t *testing.T) {
	good := Torchvision()
	bad := []func(*Contract){
		func(c *Contract) { c.Channels = "RGBA" },
		func(c *Contract) { c.Scale = 2 },
		func(c *Contract) { c.Means = c.Means[:2] },
		func(c *Contract) { c.Stds = []float32{1, 0, 1} },
		func(c *Contract) { c.Stds = []float32{1, float32(math.NaN()), 1} },
		func(c *Contract) { c.Resize = "stretch" },
		func(c *Contract) { c.Crop = 300 },
		func(c *Contract) { c.Crop = 0 },
		func(c *Contract) { c.Size = 1 << 20 },
		func(c *Contract) { c.Interp = "lanczos" },
		func(c *Contract) { c.Affine = &Affine{Scale: []float32{1}, Shift: []float32{0}} },
	}
	for i, f := range bad {
		c := good.Clone()
		f(&c)
		if err := c.Validate(); err == nil {
			t.Errorf("case %d: %+v accepted", i, c)
		}
	}
	for _, s := range []string{"", "{", `{"channels":"RGB"}`, `{"name":"x","bogus":1}`, `[]`, `{"channels":"RGB","scale":1,"resize":"whole","size":4,"crop":4,"interp":"linear"} {}`} {
		if _, err := Decode(s); err == nil {
			t.Errorf("Decode(%q) accepted", s)
		}
	}
	s, err := good.Encode()
	if err != nil {
		t.Fatal(err)
	}
	back, err := Decode(s)
	if err != nil || back.String() != good.String() {
		t.Fatalf("round trip: %v %v", back, err)
	}
}

func TestApplyShapesAndErrors(t *testing.T) {
	img := image.NewRGBA(image.Rect(10, 20, 90, 60)) // offset origin, 80x40
	for _, c := range []Contract{Torchvision(), ONNXZoo(), Caffe(), Native(3, 32, nil, nil), Native(1, 28, []float32{33}, []float32{78})} {
		for _, m := range Interps {
			c.Interp = m
			x, err := c.Apply(img)
			if err != nil {
				t.Fatalf("%s %s: %v", c.Name, m, err)
			}
			if len(x) != c.InputLen() {
				t.Fatalf("%s %s: %d values", c.Name, m, len(x))
			}
		}
	}
	c := Torchvision()
	if _, err := c.Apply(image.NewRGBA(image.Rect(0, 0, 0, 5))); err == nil || !strings.Contains(err.Error(), "empty") {
		t.Errorf("empty image: %v", err)
	}
	if _, err := c.Apply(image.NewRGBA(image.Rect(0, 0, 1, 1<<16))); err == nil {
		t.Error("extreme aspect ratio accepted")
	}
	if err := c.ApplyInto(make([]float32, 5), img); err == nil {
		t.Error("short destination accepted")
	}
}

// TestPILResizeIdentityAndConstant: resampling a constant image gives the
// constant (the normalised fixed-point weights sum to one).
func TestPILResizeConstant(t *testing.T) {
	r := newRaster(37, 23, 3)
	for i := range r.pix {
		r.pix[i] = 200
	}
	for _, f := range []pilFilter{pilBilinear, pilBicubic} {
		for _, sz := range [][2]int{{10, 7}, {100, 50}, {37, 5}, {3, 23}} {
			o := pilResize(r, sz[0], sz[1], f)
			for _, v := range o.pix {
				if v != 200 {
					t.Fatalf("%v: got %d", sz, v)
				}
			}
		}
	}
	o := linearResize(r, 50, 9)
	for _, v := range o.pix {
		if v != 200 {
			t.Fatalf("linear: got %d", v)
		}
	}
}

// TestScaledTo: a published contract moved to another input size keeps its
// resize-to-crop ratio, and leaves the original alone.
func TestScaledTo(t *testing.T) {
	tv := Torchvision()
	for _, tc := range []struct{ input, size, crop int }{{224, 256, 224}, {64, 73, 64}, {32, 37, 32}, {448, 512, 448}} {
		c := tv.ScaledTo(tc.input)
		if c.Size != tc.size || c.Crop != tc.crop {
			t.Errorf("ScaledTo(%d): resize %d crop %d, want %d and %d", tc.input, c.Size, c.Crop, tc.size, tc.crop)
		}
		if err := c.Fits(3, tc.input); err != nil {
			t.Errorf("ScaledTo(%d): %v", tc.input, err)
		}
	}
	if tv.Size != 256 || tv.Crop != 224 {
		t.Errorf("ScaledTo changed its receiver: %d, %d", tv.Size, tv.Crop)
	}
	// Caffe's whole-image resize: 256x256 stored, 224 crop.
	if c := Caffe().ScaledTo(112); c.Size != 128 || c.Crop != 112 {
		t.Errorf("Caffe().ScaledTo(112): resize %d crop %d, want 128 and 112", c.Size, c.Crop)
	}
}
