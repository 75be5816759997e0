package main

import (
	"encoding/json"
	"image"
	"image/color"
	"image/color/palette"
	"image/jpeg"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writeImage(t *testing.T, path string, img image.Image) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if strings.HasSuffix(path, ".jpg") {
		err = jpeg.Encode(f, img, nil)
	} else {
		err = png.Encode(f, img)
	}
	if err != nil {
		t.Fatal(err)
	}
}

// testImages writes a gray PNG, a translucent RGBA PNG of another size, a
// colour JPEG and a paletted PNG, and returns their paths.
func testImages(t *testing.T, dir string) []string {
	gray := image.NewGray(image.Rect(0, 0, 28, 28))
	rgba := image.NewNRGBA(image.Rect(0, 0, 40, 31))
	pal := image.NewPaletted(image.Rect(0, 0, 20, 20), palette.Plan9)
	ycc := image.NewRGBA(image.Rect(0, 0, 64, 48))
	for y := 0; y < 64; y++ {
		for x := 0; x < 64; x++ {
			gray.Set(x, y, color.Gray{Y: uint8(x * y)})
			rgba.Set(x, y, color.NRGBA{uint8(x * 5), uint8(y * 7), 90, uint8(100 + x)})
			pal.Set(x, y, color.RGBA{uint8(x * 11), 0, uint8(y * 11), 255})
			ycc.Set(x, y, color.RGBA{uint8(x * 3), uint8(y * 4), uint8(x + y), 255})
		}
	}
	var paths []string
	for name, img := range map[string]image.Image{"gray.png": gray, "rgba.png": rgba, "pal.png": pal, "photo.jpg": ycc} {
		p := filepath.Join(dir, name)
		writeImage(t, p, img)
		paths = append(paths, p)
	}
	return paths
}

func TestPredict(t *testing.T) {
	dir := t.TempDir()
	ck := testCheckpoint(t, dir, 1)
	imgs := testImages(t, dir)
	args := append([]string{"predict", "--weights", ck, "--topk", "3", "--engine", "reference"}, imgs...)
	code, o, e := runArgs(args...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, e)
	}
	lines := strings.Split(strings.TrimSpace(o), "\n")
	if len(lines) != len(imgs) {
		t.Fatalf("%d lines for %d images:\n%s", len(lines), len(imgs), o)
	}
	for i, l := range lines {
		if !strings.HasPrefix(l, imgs[i]+": class") || strings.Count(l, ", ") != 2 {
			t.Errorf("line %q", l)
		}
	}

	// Labels from a file, JSON output, one unreadable image among good ones.
	labels := filepath.Join(dir, "labels.txt")
	if err := os.WriteFile(labels, []byte("zero\none\ntwo\nthree\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	broken := filepath.Join(dir, "broken.png")
	if err := os.WriteFile(broken, []byte("\x89PNG\r\n\x1a\nnot really"), 0o644); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "missing.jpg")
	args = []string{"predict", "--weights", ck, "--labels", labels, "--json", "--crops", "10", "--engine", "reference", imgs[0], broken, missing, imgs[1]}
	code, o, e = runArgs(args...)
	if code != 1 {
		t.Errorf("exit %d with unreadable images, want 1", code)
	}
	if !strings.Contains(e, broken) || !strings.Contains(e, missing) || !strings.Contains(e, "2 of 4 image(s)") {
		t.Errorf("stderr %q", e)
	}
	checkNoTrace(t, args, e)
	var preds []struct {
		Path string
		Top  []struct {
			Index int
			Label string
			Prob  float64
		}
		Error string
	}
	if err := json.Unmarshal([]byte(o), &preds); err != nil {
		t.Fatalf("%v in %q", err, o)
	}
	if len(preds) != 4 || preds[1].Error == "" || preds[2].Error == "" || len(preds[3].Top) != 4 {
		t.Fatalf("predictions %+v", preds)
	}
	var sum float64
	names := map[string]bool{"zero": true, "one": true, "two": true, "three": true}
	for _, c := range preds[0].Top {
		sum += c.Prob
		if !names[c.Label] {
			t.Errorf("label %q not from the labels file", c.Label)
		}
	}
	if sum < 1-1e-9 || sum > 1+1e-9 {
		t.Errorf("probabilities of all 4 classes sum to %v", sum)
	}
}

func TestPredictExitCodes(t *testing.T) {
	dir := t.TempDir()
	ck := testCheckpoint(t, dir, 1)
	img := testImages(t, dir)[0]
	short := filepath.Join(dir, "short.txt")
	if err := os.WriteFile(short, []byte("a\nb\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"predict", "--weights", ck}, 2, "no images"},
		{[]string{"predict", img}, 2, "--weights is required"},
		{[]string{"predict", "--weights", ck, "--topk", "0", img}, 2, "--topk 0"},
		{[]string{"predict", "--weights", ck, "--crops", "7", img}, 2, `--crops "7"`},
		{[]string{"predict", "--weights", ck, "--labels", short, "--engine", "reference", img}, 1, "2 labels, the model has 4 classes"},
		{[]string{"predict", "--weights", ck, "--labels", filepath.Join(dir, "nolabels"), "--engine", "reference", img}, 1, "nolabels"},
		{[]string{"predict", "--weights", img, "--engine", "reference", img}, 1, img},
	} {
		code, _, e := runArgs(c.args...)
		if code != c.code || !strings.Contains(e, c.want) {
			t.Errorf("%q: exit %d (want %d), stderr %q (want %q)", c.args, code, c.code, e, c.want)
		}
		checkNoTrace(t, c.args, e)
	}
}
