package detection

import (
	"context"
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

// Proposal recall at IoU 0.5 (at most 1000 proposals per image) is within
// 5 points of OpenCV's selective search in its "fast" mode
// (cv2.ximgproc.segmentation, python3-opencv) on the benchmark's images.
func TestSelectiveSearchMatchesOpenCV(t *testing.T) {
	py := peer.Python(t, "cv2")
	if out, err := exec.Command(py, "-c", "import cv2; cv2.ximgproc.segmentation.createSelectiveSearchSegmentation").CombinedOutput(); err != nil {
		peer.Missing(t, "this python3-opencv has no cv2.ximgproc (the contrib modules): "+strings.TrimSpace(string(out)))
	}
	if testing.Short() {
		t.Skip("skipping the OpenCV comparison in -short mode")
	}
	if _, err := os.Stat(DefaultBackgrounds); err != nil {
		peer.Missing(t, "the background photographs of python3-skimage ("+DefaultBackgrounds+")")
	}
	dir := t.TempDir()
	if _, err := MakeData(context.Background(), MakeOptions{Out: dir, Train: 1, Test: 16, Seed: 3}, nil); err != nil {
		t.Fatal(err)
	}
	set, err := OpenVOC(dir, "test", VOCOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ours, err := ComputeProposals(context.Background(), set.Images, SearchOptions{Mode: ModeFast, MaxProposals: 1000}, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	var paths []string
	for _, a := range set.Images {
		paths = append(paths, a.Path)
	}
	code := `
import json, sys
import cv2
cv2.setNumThreads(1)
out = []
for p in sys.argv[1:]:
    img = cv2.imread(p)
    ss = cv2.ximgproc.segmentation.createSelectiveSearchSegmentation()
    ss.setBaseImage(img)
    ss.switchToSelectiveSearchFast()
    rects = ss.process()[:1000]
    out.append([[int(x), int(y), int(x + w), int(y + h)] for x, y, w, h in rects])
print(json.dumps(out))
`
	b, err := exec.Command(py, append([]string{"-c", code}, paths...)...).Output()
	if err != nil {
		t.Fatalf("opencv: %v", err)
	}
	var cv [][][4]float64
	if err := json.Unmarshal(b, &cv); err != nil || len(cv) != len(paths) {
		t.Fatalf("opencv output: %v (%d images)", err, len(cv))
	}
	theirs := &Proposals{Boxes: map[string][]Box{}}
	for i, a := range set.Images {
		for _, r := range cv[i] {
			theirs.Boxes[a.ID] = append(theirs.Boxes[a.ID], Box{r[0], r[1], r[2], r[3]})
		}
	}
	so, st := ours.Measure(set.Images, 0), theirs.Measure(set.Images, 0)
	t.Logf("recall@0.5: ours %.4f with %.0f proposals per image (MABO %.4f), OpenCV fast %.4f with %.0f (MABO %.4f), %d objects",
		so.Recall, so.PerImage, so.MABO, st.Recall, st.PerImage, st.MABO, so.Objects)
	if d := so.Recall - st.Recall; d < -0.05 || d > 0.05 {
		t.Errorf("recall %.4f, OpenCV's %.4f: more than 5 points apart", so.Recall, st.Recall)
	}
}
