package main

import (
	"encoding/json"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeBackgrounds writes n textured photographs-to-be of 140x130 pixels.
func writeBackgrounds(t *testing.T, dir string, n int) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for k := 0; k < n; k++ {
		img := image.NewRGBA(image.Rect(0, 0, 140, 130))
		for y := 0; y < 130; y++ {
			for x := 0; x < 140; x++ {
				v := uint8((x*(k+3) + y*(7-k) + (x*y)%13) % 160)
				img.SetRGBA(x, y, color.RGBA{v, uint8(60 + k*30), 255 - v, 255})
			}
		}
		f, err := os.Create(filepath.Join(dir, string(rune('a'+k))+".png"))
		if err != nil {
			t.Fatal(err)
		}
		if err := png.Encode(f, img); err != nil {
			t.Fatal(err)
		}
		f.Close()
	}
}

// TestDetectPipeline runs make-data, proposals, train, eval and run on a
// tiny benchmark, then feeds eval bad annotations.
func TestDetectPipeline(t *testing.T) {
	if testing.Short() {
		t.Skip("skipping the detection pipeline in -short mode")
	}
	tmp := t.TempDir()
	bg, ds, runDir := filepath.Join(tmp, "bg"), filepath.Join(tmp, "data"), filepath.Join(tmp, "run")
	writeBackgrounds(t, bg, 4)
	code, o, e := runArgs("detect", "make-data", "--out", ds, "--backgrounds", bg, "--train", "16", "--test", "4",
		"--min-canvas", "96", "--max-canvas", "112", "--max-object", "40", "--max-objects", "3", "--progress", "none")
	if code != 0 || !strings.Contains(o, "16 train images") {
		t.Fatalf("make-data: exit %d\n%s\n%s", code, o, e)
	}
	code, o, e = runArgs("detect", "proposals", "--data", "voc:"+ds, "--split", "test", "--mode", "single", "--json", "--progress", "none")
	var pj struct {
		Stats []struct {
			Recall   float64 `json:"recall50"`
			PerImage float64 `json:"proposals_per_image"`
		} `json:"stats"`
	}
	if code != 0 || json.Unmarshal([]byte(o), &pj) != nil || len(pj.Stats) != 1 || pj.Stats[0].PerImage <= 0 {
		t.Fatalf("proposals: exit %d\n%s\n%s", code, o, e)
	}
	if _, err := os.Stat(filepath.Join(ds, "proposals-test-single.json")); err != nil {
		t.Errorf("proposals not cached: %v", err)
	}
	code, o, e = runArgs("detect", "train", "--data", "voc:"+ds, "--out", runDir, "--epochs", "1", "--batch", "16",
		"--mode", "single", "--max-per-object", "2", "--progress", "none")
	if code != 0 || !strings.Contains(o, "region validation top-1") {
		t.Fatalf("train: exit %d\n%s\n%s", code, o, e)
	}
	code, o, e = runArgs("detect", "train", "--data", "voc:"+ds, "--out", runDir, "--epochs", "2", "--batch", "16",
		"--mode", "single", "--max-per-object", "2", "--progress", "none", "--resume")
	if code != 0 || !strings.Contains(o, "epoch 2: region validation") {
		t.Fatalf("train --resume: exit %d\n%s\n%s", code, o, e)
	}
	weights := filepath.Join(runDir, "model.safetensors")
	// Pretraining on crops, then fine-tuning from it.
	pre := filepath.Join(tmp, "pre")
	code, o, e = runArgs("detect", "pretrain", "--out", pre, "--backgrounds", bg, "--crops", "64", "--val-crops", "16",
		"--min-canvas", "96", "--max-canvas", "112", "--max-object", "40", "--max-objects", "3", "--epochs", "1", "--batch", "16", "--progress", "none")
	if code != 0 || !strings.Contains(o, "crop validation top-1") || !strings.Contains(o, "(64 training crops)") {
		t.Fatalf("pretrain: exit %d\n%s\n%s", code, o, e)
	}
	code, o, e = runArgs("detect", "train", "--data", "voc:"+ds, "--out", filepath.Join(tmp, "run-init"), "--epochs", "1", "--batch", "16",
		"--mode", "single", "--max-per-object", "2", "--progress", "none", "--init-from", filepath.Join(pre, "model.safetensors"))
	if code != 0 || !strings.Contains(o, "region validation top-1") {
		t.Fatalf("train --init-from: exit %d\n%s\n%s", code, o, e)
	}
	results := filepath.Join(tmp, "results.json")
	code, o, e = runArgs("detect", "eval", "--weights", weights+","+weights, "--data", "voc:"+ds, "--mode", "single", "--json", "--progress", "none",
		"--results", results)
	var rep map[string]interface{}
	if code != 0 || json.Unmarshal([]byte(o), &rep) != nil {
		t.Fatalf("eval: exit %d\n%s\n%s", code, o, e)
	}
	if m, ok := rep["map50"].(float64); !ok || m < 0 || m > 1 {
		t.Errorf("eval JSON map50 %v", rep["map50"])
	}
	if rep["ensemble"].(float64) != 2 || rep["oracle_map50"] == nil {
		t.Errorf("eval JSON %v", rep)
	}
	// The COCO results file scored on its own gives the same mAP.
	code, o2, e := runArgs("detect", "eval", "--data", "voc:"+ds, "--detections", results, "--json")
	var again map[string]interface{}
	if code != 0 || json.Unmarshal([]byte(o2), &again) != nil {
		t.Fatalf("eval --detections: exit %d\n%s\n%s", code, o2, e)
	}
	if a, b := rep["map50"].(float64), again["map50"].(float64); a-b > 1e-9 || b-a > 1e-9 {
		t.Errorf("map50 %g from the model, %g from its results file", a, b)
	}
	code, o, e = runArgs("detect", "eval", "--weights", weights, "--data", "voc:"+ds, "--mode", "single", "--progress", "none", "--top", "50", "--limit", "3")
	if code != 0 || !strings.Contains(o, "Table 4/5") || !strings.Contains(o, "oracle") || !strings.Contains(o, "3 test images") {
		t.Errorf("eval table: exit %d\n%s\n%s", code, o, e)
	}
	img := filepath.Join(ds, "JPEGImages", "test_000001.jpg")
	out := filepath.Join(tmp, "drawn")
	code, o, e = runArgs("detect", "run", "--weights", weights, "--out", out, "--mode", "single", "--min-score", "0.2", img)
	if code != 0 {
		t.Fatalf("run: exit %d\n%s\n%s", code, o, e)
	}
	for _, f := range []string{"test_000001.png", "detections.json"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Errorf("run wrote no %s: %v", f, err)
		}
	}

	// Bad input: each a clear error naming the file, or skipped and counted.
	ann := filepath.Join(ds, "Annotations", "test_000002.xml")
	good, _ := os.ReadFile(ann)
	for _, c := range []struct {
		name, doc, want string
	}{
		{"malformed", "<annotation><object>", "malformed XML"},
		{"outside", strings.Replace(string(good), "<xmax>", "<xmax>9", 1), "outside"},
		{"unknown class", strings.Replace(string(good), "<name>", "<name>zebra", 1), `unknown class "zebra`},
	} {
		if err := os.WriteFile(ann, []byte(c.doc), 0o644); err != nil {
			t.Fatal(err)
		}
		code, _, e := runArgs("detect", "eval", "--weights", weights, "--data", "voc:"+ds, "--mode", "single", "--progress", "none")
		if code != 1 || !strings.Contains(e, "test_000002.xml") || !strings.Contains(e, c.want) || strings.Contains(e, "goroutine") {
			t.Errorf("%s: exit %d, stderr %q", c.name, code, e)
		}
		code, _, e = runArgs("detect", "eval", "--weights", weights, "--data", "voc:"+ds, "--mode", "single", "--progress", "none", "--skip-bad")
		if code != 0 || !strings.Contains(e, "skipped 1 images") {
			t.Errorf("%s with --skip-bad: exit %d, stderr %q", c.name, code, e)
		}
	}
	os.WriteFile(ann, good, 0o644)
	os.Remove(filepath.Join(ds, "JPEGImages", "test_000003.jpg"))
	code, _, e = runArgs("detect", "eval", "--weights", weights, "--data", "voc:"+ds, "--mode", "single", "--progress", "none")
	if code != 1 || !strings.Contains(e, "test_000003.jpg not found") {
		t.Errorf("missing image: exit %d, stderr %q", code, e)
	}
	// Usage errors.
	for _, args := range [][]string{
		{"detect"}, {"detect", "bogus"}, {"detect", "eval", "--data", "voc:" + ds}, {"detect", "proposals", "--data", ds},
		{"detect", "train", "--data", "voc:" + ds}, {"detect", "run", "--weights", weights},
		{"detect", "pretrain"}, {"detect", "pretrain", "--out", pre, "--pos-fraction", "2"}, {"detect", "pretrain", "--out", pre, "extra"},
	} {
		if code, _, e := runArgs(args...); code != 2 {
			t.Errorf("%q: exit %d (want 2), %q", args, code, e)
		}
	}
	if code, o, _ := runArgs("detect", "help"); code != 0 || !strings.Contains(o, "make-data") {
		t.Errorf("detect help: %d %q", code, o)
	}
}
