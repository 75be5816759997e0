package preprocess_test

import (
	"encoding/binary"
	"fmt"
	"image"
	_ "image/jpeg"
	_ "image/png"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/goinception/googlenet/internal/peer"
	"github.com/goinception/googlenet/preprocess"
)

func decode(t *testing.T, path string) image.Image {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, _, err := image.Decode(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return img
}

func readF32(t *testing.T, path string) []float32 {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	v := make([]float32, len(b)/4)
	for i := range v {
		v[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return v
}

// TestPublishedPipelines runs the publishers' own preprocessing
// (testdata/pipelines.py: torchvision's transforms and transform_input, the
// ONNX zoo README's preprocess with Pillow, Caffe's resize-crop-mean with
// PyTorch's non-antialiased bilinear standing in for OpenCV) on
// scikit-image's photographs and compares the model inputs with the named
// contracts. The tolerances are in 8-bit levels of the input: PNG pixels
// reproduce Pillow's resampling bit for bit (only float32 rounding is
// left); Go's JPEG decoder differs from libjpeg by a few levels.
func TestPublishedPipelines(t *testing.T) {
	py := peer.Python(t, "torch", "torchvision", "PIL")
	photos := peer.Photos(t)
	dir := t.TempDir()
	cmd := exec.Command(py, append([]string{filepath.Join("testdata", "pipelines.py"), dir}, photos...)...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("pipelines.py: %v\n%s", err, out)
	}
	for _, c := range []struct {
		name     string
		contract preprocess.Contract
		level    float64 // one 8-bit level in input units
	}{
		{"torchvision", preprocess.Torchvision(), 2.0 / 255},
		{"zoo", preprocess.ONNXZoo(), 1},
		{"caffe", preprocess.Caffe(), 1},
	} {
		for i, p := range photos {
			want := readF32(t, filepath.Join(dir, fmt.Sprintf("%s-%d.f32", c.name, i)))
			got, err := c.contract.Apply(decode(t, p))
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(want) {
				t.Fatalf("%s %s: %d values, the peer %d", c.name, p, len(got), len(want))
			}
			worst, sum := 0.0, 0.0
			for j := range got {
				d := math.Abs(float64(got[j]-want[j])) / c.level
				worst = math.Max(worst, d)
				sum += d
			}
			mean := sum / float64(len(got))
			tol := 1e-3 // float32 rounding only
			if c.name == "caffe" {
				tol = 1 // PyTorch's float bilinear rounds at exact halves where ours may not
			}
			if strings.HasSuffix(p, ".jpg") {
				tol = 3 // Go's image/jpeg against libjpeg (2 measured)
			}
			t.Logf("%-11s %-20s max %.4g levels, mean %.4g", c.name, filepath.Base(p), worst, mean)
			if worst > tol {
				t.Errorf("%s %s: max difference %.4g levels of 8 bits (tolerance %g)", c.name, filepath.Base(p), worst, tol)
			}
		}
	}
}
