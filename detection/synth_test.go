package detection

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writePhotos(t *testing.T, dir string, n int) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for k := 0; k < n; k++ {
		img := image.NewRGBA(image.Rect(0, 0, 150+10*k, 140))
		for y := 0; y < 140; y++ {
			for x := 0; x < img.Rect.Dx(); x++ {
				v := uint8((x*(k+2) + y*3) % 200)
				img.SetRGBA(x, y, color.RGBA{v, 90, 200 - v, 255})
			}
		}
		var buf bytes.Buffer
		png.Encode(&buf, img)
		os.WriteFile(filepath.Join(dir, string(rune('a'+k))+".png"), buf.Bytes(), 0o644)
	}
	os.WriteFile(filepath.Join(dir, "tiny.png"), []byte("not a png"), 0o644)
}

func TestMakeData(t *testing.T) {
	if testing.Short() {
		t.Skip("needs MNIST (the GoMNIST module); skipped in -short mode")
	}
	tmp := t.TempDir()
	bg, out := filepath.Join(tmp, "bg"), filepath.Join(tmp, "out")
	writePhotos(t, bg, 4)
	rep, err := MakeData(context.Background(), MakeOptions{Out: out, Scene: Scene{Backgrounds: bg}, Train: 6, Test: 4, Seed: 2}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.TrainPhotos) != 2 || len(rep.TestPhotos) != 2 || len(rep.SkippedPhotos) != 1 {
		t.Errorf("photos train %v test %v skipped %v", rep.TrainPhotos, rep.TestPhotos, rep.SkippedPhotos)
	}
	for _, p := range rep.TrainPhotos {
		for _, q := range rep.TestPhotos {
			if p == q {
				t.Errorf("photograph %s in both splits", p)
			}
		}
	}
	for _, split := range []string{"train", "test"} {
		s, err := OpenVOC(out, split, VOCOptions{Classes: MNISTNames})
		if err != nil {
			t.Fatal(err)
		}
		for i := range s.Images {
			a := &s.Images[i]
			if _, err := LoadImage(a); err != nil {
				t.Fatal(err)
			}
			if n := len(a.Objects); n < 1 || n > 5 {
				t.Errorf("%s: %d objects", a.ID, n)
			}
			if a.Width < 128 || a.Width > 160 || a.Height < 128 || a.Height > 160 {
				t.Errorf("%s: canvas %dx%d", a.ID, a.Width, a.Height)
			}
			for _, o := range a.Objects {
				if l := max(o.Box.W(), o.Box.H()); l < 8 || l > 64 {
					t.Errorf("%s: object %v of size %g", a.ID, o.Box, l)
				}
			}
		}
	}
	// Same seed, same bytes.
	out2 := filepath.Join(tmp, "out2")
	if _, err := MakeData(context.Background(), MakeOptions{Out: out2, Scene: Scene{Backgrounds: bg}, Train: 6, Test: 4, Seed: 2}, nil); err != nil {
		t.Fatal(err)
	}
	a, _ := os.ReadFile(filepath.Join(out, "Annotations", "test_000003.xml"))
	b, _ := os.ReadFile(filepath.Join(out2, "Annotations", "test_000003.xml"))
	if !bytes.Equal(a, b) {
		t.Error("make-data is not deterministic")
	}
}

func TestMakeDataErrors(t *testing.T) {
	err := backgroundsError(DefaultBackgrounds, DefaultBackgrounds, os.ErrNotExist)
	if !strings.Contains(err.Error(), "python3-skimage") {
		t.Errorf("missing default backgrounds: %v", err)
	}
	if _, err := MakeData(context.Background(), MakeOptions{Out: t.TempDir(), Scene: Scene{Objects: "cifar"}}, nil); err == nil || !strings.Contains(err.Error(), `"cifar" unknown`) {
		t.Errorf("unknown objects: %v", err)
	}
	if _, err := MakeData(context.Background(), MakeOptions{Out: t.TempDir(), Scene: Scene{MaxObject: 500}}, nil); err == nil {
		t.Error("objects larger than the canvas accepted")
	}
}

func TestProposalsFile(t *testing.T) {
	p := &Proposals{Options: SearchOptions{Mode: ModeFast}, Boxes: map[string][]Box{"a": {{1, 2, 3, 4}}, "b": {}}, MsPerImage: 12}
	var buf bytes.Buffer
	if err := WriteProposals(&buf, p); err != nil {
		t.Fatal(err)
	}
	q, err := ReadProposals(&buf, "p.json")
	if err != nil || q.Boxes["a"][0] != (Box{1, 2, 3, 4}) || q.MsPerImage != 12 || q.Options.Mode != ModeFast {
		t.Fatalf("round trip: %v %+v", err, q)
	}
	if _, err := ReadProposals(strings.NewReader(`{"boxes":{"a":[[5,5,1,1]]}}`), "p.json"); err == nil || !strings.Contains(err.Error(), "p.json") {
		t.Errorf("inverted proposal: %v", err)
	}
	st := q.Measure([]Annotation{{ID: "a", Objects: []Object{{Name: "x", Box: Box{1, 2, 3, 4}}, {Name: "x", Box: Box{10, 10, 20, 20}}}}}, 0)
	if st.Recall != 0.5 || st.MABO != 0.5 || st.PerImage != 1 {
		t.Errorf("stats %+v", st)
	}
}

func FuzzReadProposals(f *testing.F) {
	f.Add([]byte(`{"options":{"Mode":"fast"},"ms_per_image":3,"boxes":{"a":[[0,0,4,4]]}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := ReadProposals(bytes.NewReader(b), "fuzz")
		if err != nil {
			return
		}
		for _, bs := range p.Boxes {
			for _, x := range bs {
				if !x.Valid() {
					t.Fatalf("invalid box %v accepted", x)
				}
			}
		}
	})
}

func TestJitter(t *testing.T) {
	a := &Annotation{ID: "x", Width: 100, Height: 100, Objects: []Object{{Box: Box{10, 10, 50, 40}}}}
	bs := Jitter(a, 5, 0.1, 1)
	if len(bs) != 5 {
		t.Fatalf("%d boxes", len(bs))
	}
	for _, b := range bs {
		if IoU(b, a.Objects[0].Box) < 0.6 || !b.Inside(100, 100) {
			t.Errorf("jittered box %v", b)
		}
	}
}
