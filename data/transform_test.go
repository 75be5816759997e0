package data

import (
	"image"
	"image/color"
	"math"
	"math/rand/v2"
	"testing"
)

// Tolerances.
const (
	pixelTol  = 1e-4 // float32 arithmetic on 0..255 values
	resizeTol = 1.0  // 8-bit rounding in x/image/draw
)

func randomRGBA(rng *rand.Rand, w, h int) *image.RGBA {
	m := image.NewRGBA(image.Rect(0, 0, w, h))
	for i := range m.Pix {
		m.Pix[i] = uint8(rng.IntN(256))
		if i%4 == 3 {
			m.Pix[i] = 255
		}
	}
	return m
}

func TestRandomSizedRectRanges(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, sz := range [][2]int{{256, 256}, {500, 375}, {120, 400}, {37, 29}} {
		w, h := sz[0], sz[1]
		minA, maxA, minR, maxR := math.Inf(1), 0.0, math.Inf(1), 0.0
		for i := 0; i < 5000; i++ {
			r := RandomSizedRect(rng, w, h, DefaultMinArea, DefaultMaxArea, DefaultMinAspect, DefaultMaxAspect)
			if r.Empty() || !r.In(image.Rect(0, 0, w, h)) {
				t.Fatalf("%dx%d: rect %v outside the image", w, h, r)
			}
			cw, ch := float64(r.Dx()), float64(r.Dy())
			// Rounding w and h to whole pixels moves area and aspect by at
			// most half a pixel on each side.
			if (cw+0.5)*(ch+0.5) < DefaultMinArea*float64(w*h) || (cw-0.5)*(ch-0.5) > float64(w*h) {
				t.Fatalf("%dx%d: rect %v area fraction %v", w, h, r, cw*ch/float64(w*h))
			}
			if (cw+0.5)/(ch-0.5) < DefaultMinAspect || (cw-0.5)/(ch+0.5) > DefaultMaxAspect {
				t.Fatalf("%dx%d: rect %v aspect %v", w, h, r, cw/ch)
			}
			a, asp := cw*ch/float64(w*h), cw/ch
			minA, maxA = math.Min(minA, a), math.Max(maxA, a)
			minR, maxR = math.Min(minR, asp), math.Max(maxR, asp)
		}
		t.Logf("%dx%d: area %.3f..%.3f aspect %.3f..%.3f", w, h, minA, maxA, minR, maxR)
		if w == 256 && (minA > 0.1 || maxA < 0.95 || minR > 0.8 || maxR < 1.25) {
			t.Errorf("%dx%d: draws do not span the ranges: area %v..%v aspect %v..%v", w, h, minA, maxA, minR, maxR)
		}
	}
	// A very tall image never fits a draw and falls back to the central
	// crop with the aspect clamped to 3/4: 10 x round(10/0.75) = 10 x 13.
	if r := RandomSizedRect(rng, 10, 1000, 0.9, 1, DefaultMinAspect, DefaultMaxAspect); r != image.Rect(0, 493, 10, 506) {
		t.Errorf("fallback rect %v, want (0,493)-(10,506)", r)
	}
}

func TestRandomInterpAllReached(t *testing.T) {
	tr := TrainTransform(8, nil, nil)
	rng := rand.New(rand.NewPCG(3, 4))
	seen := map[Interp]int{}
	for i := 0; i < 400; i++ {
		seen[tr.draw(image.Rect(0, 0, 32, 32), rng).interp]++
	}
	for _, m := range Interps {
		if seen[m] < 60 {
			t.Errorf("%v drawn %d times in 400", m, seen[m])
		}
	}
	// Without RandomInterp the configured method is always used.
	fixed := Transform{Size: 8, Crop: CropRandom, Interp: Cubic}
	for i := 0; i < 20; i++ {
		if m := fixed.draw(image.Rect(0, 0, 32, 32), rng).interp; m != Cubic {
			t.Fatalf("drew %v", m)
		}
	}
}

func TestTransformDeterministic(t *testing.T) {
	img := randomRGBA(rand.New(rand.NewPCG(5, 6)), 50, 40)
	tr := TrainTransform(16, ImageNetMeans, ImageNetStds)
	run := func(seed uint64) []float32 {
		x := make([]float32, 3*16*16)
		if err := tr.Apply(x, img, 3, rand.New(rand.NewPCG(seed, 0))); err != nil {
			t.Fatal(err)
		}
		return x
	}
	a, b, c := run(7), run(7), run(8)
	diff := false
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("same seed, different output at %d", i)
		}
		diff = diff || a[i] != c[i]
	}
	if !diff {
		t.Error("different seeds gave the same output")
	}
}

func TestMirrorExact(t *testing.T) {
	img := randomRGBA(rand.New(rand.NewPCG(9, 9)), 7, 5)
	m := Mirror(img).(*image.RGBA)
	for y := 0; y < 5; y++ {
		for x := 0; x < 7; x++ {
			if m.RGBAAt(x, y) != img.RGBAAt(6-x, y) {
				t.Fatalf("pixel (%d,%d)", x, y)
			}
		}
	}
	back := Mirror(m).(*image.RGBA)
	for i := range back.Pix {
		if back.Pix[i] != img.Pix[i] {
			t.Fatal("mirroring twice is not the identity")
		}
	}
	g := &image.Gray{Pix: []uint8{1, 2, 3, 4, 5, 6}, Stride: 3, Rect: image.Rect(0, 0, 3, 2)}
	mg := Mirror(g).(*image.Gray)
	if string(mg.Pix) != string([]uint8{3, 2, 1, 6, 5, 4}) {
		t.Errorf("gray mirror %v", mg.Pix)
	}
	// The transform's mirror is exact too: each output is the plain one
	// or its exact reflection, and both occur.
	plain := ToCHW(img, nil, nil)
	tr := Transform{Mirror: true}
	flips := 0
	for s := uint64(0); s < 20; s++ {
		x := make([]float32, len(plain))
		if err := tr.Apply(x, img, 3, rand.New(rand.NewPCG(s, 1))); err != nil {
			t.Fatal(err)
		}
		same, refl := true, true
		for c := 0; c < 3; c++ {
			for y := 0; y < 5; y++ {
				for xx := 0; xx < 7; xx++ {
					v := x[(c*5+y)*7+xx]
					same = same && v == plain[(c*5+y)*7+xx]
					refl = refl && v == plain[(c*5+y)*7+6-xx]
				}
			}
		}
		if !same && !refl {
			t.Fatal("mirror output is neither plain nor reflected")
		}
		if refl {
			flips++
		}
	}
	if flips == 0 || flips == 20 {
		t.Errorf("%d flips in 20", flips)
	}
}

func TestPhotometricBounds(t *testing.T) {
	rng := rand.New(rand.NewPCG(10, 11))
	img := randomRGBA(rng, 12, 12)
	plain := ToCHW(img, nil, nil)
	full := Transform{Brightness: 0.4, Contrast: 0.4, Saturation: 0.4, Lighting: 0.1}
	bright := Transform{Brightness: 0.3}
	for i := 0; i < 200; i++ {
		x := make([]float32, len(plain))
		if err := full.Apply(x, img, 3, rng); err != nil {
			t.Fatal(err)
		}
		for _, v := range x {
			if v < 0 || v > 255 || math.IsNaN(float64(v)) {
				t.Fatalf("value %v outside 0..255", v)
			}
		}
		p := full.draw(img.Bounds(), rng)
		for _, f := range []float32{p.brightness, p.contrast, p.saturation} {
			if f < 0.6 || f > 1.4 {
				t.Fatalf("factor %v outside [0.6, 1.4]", f)
			}
		}
		// Lighting offsets: |alpha| beyond 6 sigma is practically
		// impossible; the largest eigenvalue bounds each channel offset.
		for _, d := range p.lighting {
			if math.Abs(float64(d)) > 255*6*0.1*(0.2175+0.0188+0.0045) {
				t.Fatalf("lighting offset %v", d)
			}
		}
		if err := bright.Apply(x, img, 3, rng); err != nil {
			t.Fatal(err)
		}
		var f float32 = -1
		for j, v := range x {
			if plain[j] > 10 && v < 255 {
				r := v / plain[j]
				if r < 0.7-pixelTol || r > 1.3+pixelTol || (f >= 0 && math.Abs(float64(r-f)) > 1e-3) {
					t.Fatalf("brightness ratio %v (first %v)", r, f)
				}
				f = r
			}
		}
	}
	// Saturation 0 factor draws stay off; gray images skip colour steps.
	g := image.NewGray(image.Rect(0, 0, 4, 4))
	x := make([]float32, 16)
	if err := full.Apply(x, g, 1, rng); err != nil {
		t.Fatal(err)
	}
}

func TestToCHW(t *testing.T) {
	img := image.NewRGBA(image.Rect(0, 0, 2, 1))
	img.Set(0, 0, color.RGBA{10, 20, 30, 255})
	img.Set(1, 0, color.RGBA{40, 50, 60, 255})
	x := ToCHW(img, []float32{10, 20, 30}, []float32{1, 2, 3})
	want := []float32{0, 30, 0, 15, 0, 10}
	for i := range want {
		if math.Abs(float64(x[i]-want[i])) > pixelTol {
			t.Fatalf("ToCHW = %v, want %v", x, want)
		}
	}
	gray := ToCHW(img, []float32{0}, nil)
	if math.Abs(float64(gray[0]-(0.299*10+0.587*20+0.114*30))) > pixelTol {
		t.Errorf("luma %v", gray[0])
	}
	g := &image.Gray{Pix: []uint8{7, 9}, Stride: 2, Rect: image.Rect(0, 0, 2, 1)}
	rgb := ToCHW(g, []float32{0, 0, 0}, nil)
	if len(rgb) != 6 || rgb[0] != 7 || rgb[3] != 9 || rgb[5] != 9 {
		t.Errorf("gray to RGB %v", rgb)
	}
	// A sub-image starts at its own origin.
	sub := img.SubImage(image.Rect(1, 0, 2, 1))
	if s := ToCHW(sub, nil, nil); s[0] != 40 || s[2] != 60 {
		t.Errorf("sub-image %v", s)
	}
	// YCbCr (JPEG) takes the generic path.
	y := image.NewYCbCr(image.Rect(0, 0, 2, 2), image.YCbCrSubsampleRatio420)
	for i := range y.Y {
		y.Y[i] = 100
	}
	for i := range y.Cb {
		y.Cb[i], y.Cr[i] = 128, 128
	}
	if s := ToCHW(y, nil, nil); len(s) != 12 || math.Abs(float64(s[0]-100)) > resizeTol {
		t.Errorf("YCbCr %v", s)
	}
	if err := ToCHWInto(make([]float32, 5), img, 3, nil, nil); err == nil {
		t.Error("short destination accepted")
	}
	if err := ToCHWInto(make([]float32, 6), img, 3, nil, []float32{1, 0, 1}); err == nil {
		t.Error("zero std accepted")
	}
}

func TestResizeCrop(t *testing.T) {
	img := randomRGBA(rand.New(rand.NewPCG(12, 13)), 60, 40)
	r, err := ResizeShorter(img, 20, Bilinear)
	if err != nil || r.Bounds() != image.Rect(0, 0, 30, 20) {
		t.Fatalf("ResizeShorter: %v %v", r.Bounds(), err)
	}
	tall, _ := ResizeShorter(&image.Gray{Pix: make([]uint8, 30), Stride: 3, Rect: image.Rect(0, 0, 3, 10)}, 6, Nearest)
	if _, ok := tall.(*image.Gray); !ok || tall.Bounds() != image.Rect(0, 0, 6, 20) {
		t.Errorf("tall gray: %T %v", tall, tall.Bounds())
	}
	c, err := Crop(img, image.Rect(5, 6, 9, 8))
	if err != nil || c.Bounds() != image.Rect(0, 0, 4, 2) {
		t.Fatalf("Crop: %v %v", c.Bounds(), err)
	}
	if c.(*image.RGBA).RGBAAt(3, 1) != img.RGBAAt(8, 7) {
		t.Error("crop pixels differ")
	}
	if _, err := Crop(img, image.Rect(50, 30, 70, 50)); err == nil {
		t.Error("crop outside the image accepted")
	}
	cc, err := CenterCrop(img, 20, 10)
	if err != nil || cc.(*image.RGBA).RGBAAt(0, 0) != img.RGBAAt(20, 15) {
		t.Errorf("CenterCrop: %v", err)
	}
	if _, err := ResizeShorter(img, 0, Bilinear); err == nil {
		t.Error("size 0 accepted")
	}
	// A constant image stays constant under every method, enlarging or
	// shrinking.
	flat := image.NewRGBA(image.Rect(0, 0, 30, 20))
	for i := range flat.Pix {
		flat.Pix[i] = []uint8{90, 150, 210, 255}[i%4]
	}
	for _, m := range Interps {
		for _, sz := range [][2]int{{7, 5}, {64, 48}} {
			out, err := Resize(flat, sz[0], sz[1], m)
			if err != nil {
				t.Fatal(err)
			}
			x := ToCHW(out, nil, nil)
			for i, v := range x {
				want := []float32{90, 150, 210}[i/(sz[0]*sz[1])]
				if math.Abs(float64(v-want)) > resizeTol {
					t.Fatalf("%v to %v: value %v, want %v", m, sz, v, want)
				}
			}
		}
	}
}

// TestAreaIsBoxAverage: shrinking by an integer factor with Area averages
// each block exactly.
func TestAreaIsBoxAverage(t *testing.T) {
	g := image.NewGray(image.Rect(0, 0, 4, 2))
	copy(g.Pix, []uint8{0, 40, 100, 200, 80, 120, 0, 100})
	out, err := Resize(g, 2, 1, Area)
	if err != nil {
		t.Fatal(err)
	}
	x := ToCHW(out, nil, nil)
	if math.Abs(float64(x[0]-60)) > resizeTol || math.Abs(float64(x[1]-100)) > resizeTol {
		t.Errorf("box average %v, want [60 100]", x)
	}
	// Bilinear on the same input differs (it is not a box filter), so the
	// methods are really distinct.
	bl, _ := Resize(g, 2, 1, Nearest)
	if y := ToCHW(bl, nil, nil); y[0] == x[0] && y[1] == x[1] {
		t.Errorf("nearest equals area: %v", y)
	}
}

func TestEvalTransform(t *testing.T) {
	img := randomRGBA(rand.New(rand.NewPCG(14, 15)), 80, 60)
	tr := EvalTransform(32, nil, nil) // shorter side to 37, center 32
	if tr.Resize != 37 {
		t.Fatalf("resize %d", tr.Resize)
	}
	x := make([]float32, 3*32*32)
	if err := tr.Apply(x, img, 3, nil); err != nil {
		t.Fatal(err)
	}
	// Same result as the exported steps within resampling error: the
	// central 32/37 of the shorter side, scaled to 32.
	side := int(math.Round(32 / (37.0 / 60)))
	r, _ := CenterRect(img.Bounds(), side, side)
	ref, err := resample(img, r, 3, 32, 32, Bilinear)
	if err != nil {
		t.Fatal(err)
	}
	y := ToCHW(ref, nil, nil)
	for i := range x {
		if math.Abs(float64(x[i]-y[i])) > pixelTol {
			t.Fatalf("eval transform differs at %d: %v vs %v", i, x[i], y[i])
		}
	}
	// Without Resize, an image no smaller than Size is cropped unscaled.
	exact := Transform{Size: 16, Crop: CropCenter}
	x = make([]float32, 3*16*16)
	if err := exact.Apply(x, img, 3, nil); err != nil {
		t.Fatal(err)
	}
	if p := img.RGBAAt(32, 22); x[0] != float32(p.R) {
		t.Errorf("unscaled center crop starts with %v, want %v", x[0], p.R)
	}
}

func TestTransformValidate(t *testing.T) {
	for _, tr := range []Transform{
		{Channels: 2}, {Size: -1}, {Crop: CropRandom}, {Crop: CropCenter}, {Crop: 9, Size: 4},
		{Size: 4, Crop: CropRandom, MinArea: 0.5, MaxArea: 0.2}, {MinAspect: -1},
		{Interp: 7}, {Brightness: 2}, {Lighting: math.NaN()}, {Means: []float32{1, 2}},
		{Stds: []float32{1, 0, 1}},
	} {
		if err := tr.Validate(3); err == nil {
			t.Errorf("%+v accepted", tr)
		}
		if err := tr.Apply(make([]float32, 3), image.NewRGBA(image.Rect(0, 0, 1, 1)), 3, rand.New(rand.NewPCG(1, 1))); err == nil {
			t.Errorf("Apply with %+v succeeded", tr)
		}
	}
	if err := (&Transform{Mirror: true}).Apply(make([]float32, 3), image.NewRGBA(image.Rect(0, 0, 1, 1)), 3, nil); err == nil {
		t.Error("random transform without a random source accepted")
	}
}
