package detection

import (
	"encoding/json"
	"image"
	_ "image/jpeg"
	_ "image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/goinception/googlenet/internal/peer"
)

// skimageData is where Debian's python3-skimage keeps its sample images.
const skimageData = "/usr/lib/python3/dist-packages/skimage/data"

func decodeFile(t *testing.T, path string) image.Image {
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

// Segment counts agree with skimage.segmentation.felzenszwalb on the same
// photographs and parameters within 15%.
func TestSegmentMatchesSkimage(t *testing.T) {
	py := peer.Python(t, "skimage", "skimage.segmentation", "skimage.io")
	if testing.Short() {
		t.Skip("skipping the skimage comparison in -short mode")
	}
	type run struct {
		File    string  `json:"file"`
		Scale   float64 `json:"scale"`
		Sigma   float64 `json:"sigma"`
		MinSize int     `json:"min_size"`
	}
	runs := []run{
		{"coffee.png", 100, 0.8, 50}, {"coffee.png", 300, 0.8, 100}, {"chelsea.png", 50, 0.5, 20},
	}
	js, _ := json.Marshal(runs)
	code := `
import json, sys
import numpy as np
from skimage import io, segmentation
out = []
for r in json.loads(sys.argv[1]):
    img = io.imread(sys.argv[2] + "/" + r["file"])[..., :3]
    seg = segmentation.felzenszwalb(img, scale=r["scale"], sigma=r["sigma"], min_size=r["min_size"])
    out.append(int(len(np.unique(seg))))
print(json.dumps(out))
`
	out, err := exec.Command(py, "-c", code, string(js), skimageData).CombinedOutput()
	if err != nil {
		t.Fatalf("skimage: %v\n%s", err, out)
	}
	var want []int
	if err := json.Unmarshal(out[strings.LastIndexByte(strings.TrimSpace(string(out)), '\n')+1:], &want); err != nil {
		t.Fatalf("skimage output %q: %v", out, err)
	}
	for i, r := range runs {
		img := decodeFile(t, filepath.Join(skimageData, r.File))
		seg, err := Segment(RGBPlanes(img), SegmentOptions{Scale: r.Scale, Sigma: r.Sigma, MinSize: r.MinSize})
		if err != nil {
			t.Fatal(err)
		}
		rel := float64(seg.N-want[i]) / float64(want[i])
		t.Logf("%s scale %g sigma %g min %d: %d segments, skimage %d (%+.1f%%)", r.File, r.Scale, r.Sigma, r.MinSize, seg.N, want[i], 100*rel)
		if rel > 0.15 || rel < -0.15 {
			t.Errorf("%s: %d segments, skimage %d: more than 15%% apart", r.File, seg.N, want[i])
		}
	}
}
