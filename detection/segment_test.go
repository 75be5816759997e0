package detection

import (
	"image"
	"image/color"
	"math"
	"testing"
)

// blocks draws an image with two coloured rectangles on grey.
func blocks(w, h int) (*image.RGBA, []Box) {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	rects := []image.Rectangle{image.Rect(10, 12, 40, 50), image.Rect(55, 20, 90, 44)}
	cols := []color.RGBA{{220, 30, 30, 255}, {20, 40, 210, 255}}
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			// a grey background
			v := uint8(110)
			img.SetRGBA(x, y, color.RGBA{v, v, v, 255})
			for i, r := range rects {
				if image.Pt(x, y).In(r) {
					img.SetRGBA(x, y, cols[i])
				}
			}
		}
	}
	return img, []Box{FromRect(rects[0]), FromRect(rects[1])}
}

func TestSegmentBlocks(t *testing.T) {
	img, _ := blocks(100, 64)
	// Without smoothing the edges stay sharp and leave no strips of
	// blended pixels.
	seg, err := Segment(RGBPlanes(img), SegmentOptions{Scale: 100, Sigma: -1, MinSize: 20})
	if err != nil {
		t.Fatal(err)
	}
	if seg.N != 3 {
		t.Fatalf("%d segments, want 3 (background and two rectangles)", seg.N)
	}
	// The rectangles' pixels share a label that differs from the background's.
	if a, b, bg := seg.Labels[30*100+20], seg.Labels[30*100+70], seg.Labels[0]; a == b || a == bg || b == bg {
		t.Errorf("labels rect %d, rect %d, background %d", a, b, bg)
	}
	if _, err := Segment(&Planes{C: 1, W: 2, H: 2, Pix: make([]float32, 3)}, SegmentOptions{}); err == nil {
		t.Error("bad planes accepted")
	}
}

func TestGaussianKernelAsScipy(t *testing.T) {
	// scipy.ndimage's kernel for sigma 0.8: radius int(4*0.8+0.5) = 3.
	k := gaussianKernel(0.8)
	if len(k) != 7 {
		t.Fatalf("kernel length %d, want 7", len(k))
	}
	var s float64
	for _, v := range k {
		s += float64(v)
	}
	if math.Abs(s-1) > 1e-6 || math.Abs(float64(k[3])-0.498676) > 1e-5 {
		t.Errorf("kernel %v (sum %g)", k, s)
	}
	for i, want := range []int{1, 0, 0, 1, 2, 3, 3, 2} {
		if got := reflect(i-2, 4); got != want {
			t.Errorf("reflect(%d, 4) = %d, want %d", i-2, got, want)
		}
	}
}

func TestColourSpaces(t *testing.T) {
	p := &Planes{C: 3, H: 1, W: 3, Pix: []float32{255, 0, 255, 0, 255, 255, 0, 0, 255}} // red, green, white
	lab, err := ToSpace(p, SpaceLab)
	if err != nil {
		t.Fatal(err)
	}
	// white: L 100 -> 255, a and b 0 -> 128
	if math.Abs(float64(lab.At(0, 2, 0))-255) > 0.05 || math.Abs(float64(lab.At(1, 2, 0))-128) > 0.05 {
		t.Errorf("white in Lab: %v %v", lab.At(0, 2, 0), lab.At(1, 2, 0))
	}
	// red: L 53.24, a 80.09, b 67.20
	if math.Abs(float64(lab.At(0, 0, 0))-53.24*2.55) > 0.1 || math.Abs(float64(lab.At(1, 0, 0))-(80.09+128)) > 0.1 {
		t.Errorf("red in Lab: %v %v", lab.At(0, 0, 0), lab.At(1, 0, 0))
	}
	hsv, _ := ToSpace(p, SpaceHSV)
	// green: hue 1/3
	if math.Abs(float64(hsv.At(0, 1, 0))-85) > 0.01 || hsv.At(1, 2, 0) != 0 {
		t.Errorf("hsv %v", hsv.Pix)
	}
	if _, err := ToSpace(p, "xyz"); err == nil {
		t.Error("unknown space accepted")
	}
}

func TestSelectiveSearchFindsObjects(t *testing.T) {
	img, objs := blocks(100, 64)
	for _, mode := range []string{ModeSingle, ModeFast} {
		props, err := SelectiveSearch(img, SearchOptions{Mode: mode})
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range objs {
			best := 0.0
			for _, p := range props {
				best = math.Max(best, IoU(p, o))
			}
			if best < 0.99 {
				t.Errorf("%s: best overlap with %v is %g (%d proposals)", mode, o, best, len(props))
			}
		}
		again, _ := SelectiveSearch(img, SearchOptions{Mode: mode})
		if len(again) != len(props) || again[0] != props[0] {
			t.Errorf("%s: not deterministic", mode)
		}
	}
	props, _ := SelectiveSearch(img, SearchOptions{MaxProposals: 3, MinBoxSize: 5})
	if len(props) > 3 {
		t.Errorf("%d proposals, want at most 3", len(props))
	}
	for _, p := range props {
		if p.W() < 5 || p.H() < 5 || !p.Inside(100, 64) {
			t.Errorf("proposal %v", p)
		}
	}
	if _, err := SelectiveSearch(img, SearchOptions{Mode: "slow"}); err == nil {
		t.Error("unknown mode accepted")
	}
}

func TestWarpContext(t *testing.T) {
	img, objs := blocks(100, 64)
	p := RGBPlanes(img)
	// Without context the warped red rectangle is red everywhere (the
	// outermost pixels blend with the background by half a source pixel).
	w := Warp(nil, p, objs[0], 16, 0, [3]uint8{})
	for y := 0; y < 16; y++ {
		for x := 0; x < 16; x++ {
			c := w.Pix[w.PixOffset(x, y):]
			d := 0
			if x == 0 || y == 0 || x == 15 || y == 15 {
				d = 12
			}
			if int(c[0]) < 220-d || int(c[1]) > 30+d {
				t.Fatalf("pixel (%d,%d) = %v, want the rectangle's red", x, y, c[:4])
			}
		}
	}
	// With 2 pixels of context the border shows the background.
	w = Warp(w, p, objs[0], 16, 2, [3]uint8{})
	if c := w.Pix[w.PixOffset(0, 8):]; c[0] > 150 || c[0] < 100 {
		t.Errorf("context pixel %v, want grey", c[:3])
	}
	if c := w.Pix[w.PixOffset(8, 8):]; c[0] != 220 {
		t.Errorf("centre pixel %v, want red", c[:3])
	}
	// Outside the image: the fill colour.
	w = Warp(nil, p, Box{-50, -50, -10, -10}, 8, 0, [3]uint8{1, 2, 3})
	if w.Pix[0] != 1 || w.Pix[1] != 2 || w.Pix[2] != 3 {
		t.Errorf("outside pixel %v", w.Pix[:4])
	}
	if ContextFor(227) != 16 || ContextFor(32) != 2 {
		t.Errorf("ContextFor %d %d", ContextFor(227), ContextFor(32))
	}
}

func TestLabelAndBalance(t *testing.T) {
	objs := []Object{{Name: "a", Box: Box{0, 0, 10, 10}}, {Name: "b", Box: Box{20, 0, 30, 10}, Difficult: true}}
	props := []Box{{0, 0, 10, 11}, {0, 0, 10, 25}, {20, 0, 30, 10}, {50, 50, 60, 60}}
	ls := LabelProposals(props, objs, map[string]int{"a": 0, "b": 1}, 0)
	// GT a, proposal 0 (a), proposal 1 (background, IoU .4), proposal 2 left
	// out (difficult), proposal 3 background.
	if len(ls) != 4 || !ls[0].GT || ls[1].Label != 1 || ls[2].Label != Background || ls[3].Label != Background {
		t.Fatalf("labels %+v", ls)
	}
	var many []Labelled
	for i := 0; i < 100; i++ {
		l := Labelled{Label: Background}
		if i < 10 {
			l.Label = 1
		}
		many = append(many, l)
	}
	b := Balance(many, 0.25, 1)
	pos := 0
	for _, l := range b {
		if l.Label != Background {
			pos++
		}
	}
	if len(b) != 40 || pos != 10 {
		t.Errorf("balanced %d items, %d positives; want 40 and 10", len(b), pos)
	}
}
