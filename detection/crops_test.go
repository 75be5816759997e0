package detection

import (
	"bytes"
	"context"
	"math/rand/v2"
	"path/filepath"
	"testing"
)

func TestCropBoxes(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	a := &Annotation{Width: 150, Height: 140, Objects: []Object{
		{Name: "one", Box: Box{10, 20, 22, 60}}, {Name: "two", Box: Box{80, 70, 120, 110}},
	}}
	tight := 0
	for i := 0; i < 2000; i++ {
		o := a.Objects[i%2].Box
		b := positiveBox(rng, o, a.Width, a.Height)
		if v := IoU(b, o); v < 0.5 {
			t.Fatalf("positive %v of %v: IoU %g < 0.5", b, o, v)
		}
		if b == o {
			tight++
		}
		n, ok := backgroundBox(rng, a)
		if !ok {
			continue
		}
		if n.W() < 8 || n.H() < 8 || n.X1 < 0 || n.Y1 < 0 || n.X2 > 150 || n.Y2 > 140 {
			t.Fatalf("background %v: smaller than 8 or outside the canvas", n)
		}
		for _, o := range a.Objects {
			if v := IoU(n, o.Box); v >= 0.5 {
				t.Fatalf("background %v overlaps %v with IoU %g", n, o.Box, v)
			}
		}
	}
	if tight < 400 || tight > 600 {
		t.Errorf("%d of 2000 positives are the tight box, want about a quarter", tight)
	}
}

func TestObjectCrops(t *testing.T) {
	if testing.Short() {
		t.Skip("needs MNIST (the GoMNIST module); skipped in -short mode")
	}
	bg := filepath.Join(t.TempDir(), "bg")
	writePhotos(t, bg, 4)
	o := CropOptions{Scene: Scene{Backgrounds: bg}, Train: 300, Val: 40, Seed: 3}
	sp, err := ObjectCrops(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if sp.Train.Len() != 300 || sp.Val.Len() != 40 {
		t.Fatalf("crops %d and %d, want 300 and 40", sp.Train.Len(), sp.Val.Len())
	}
	cl := sp.Train.Classes()
	if len(cl) != 11 || cl[0] != BackgroundName || cl[1] != "eight" || cl[10] != "zero" {
		t.Fatalf("classes %v", cl)
	}
	if c, h, w := sp.Train.Shape(); c != 3 || h != 32 || w != 32 {
		t.Fatalf("shape %d x %d x %d", c, h, w)
	}
	counts := make([]int, len(cl))
	for i := 0; i < sp.Train.Len(); i++ {
		s, err := sp.Train.Sample(i)
		if err != nil {
			t.Fatal(err)
		}
		counts[s.Label]++
	}
	if f := float64(counts[0]) / 300; f < 0.38 || f > 0.62 {
		t.Errorf("background fraction %.2f, want about a half (counts %v)", f, counts)
	}
	seen := 0
	for _, n := range counts[1:] {
		if n > 0 {
			seen++
		}
	}
	if seen < 8 {
		t.Errorf("only %d of 10 classes among the object crops: %v", seen, counts)
	}
	// The same seed gives the same crops; another seed others.
	again, err := ObjectCrops(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	a, b := sp.Train.(*RegionSet), again.Train.(*RegionSet)
	if !bytes.Equal(a.pix, b.pix) {
		t.Error("same seed, different crops")
	}
	o.Seed = 4
	other, err := ObjectCrops(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(a.pix, other.Train.(*RegionSet).pix) {
		t.Error("another seed, same crops")
	}
	if _, err := ObjectCrops(context.Background(), CropOptions{Scene: Scene{Backgrounds: bg}, Train: 10, Val: 1, PosFraction: 2}); err == nil {
		t.Error("PosFraction 2 accepted")
	}
}
