package detection

import (
	"math"
	"testing"
)

// A hand-computed case with the devkit's rules: a duplicate, a detection
// of a difficult object (ignored), a miss and a late hit.
func TestEvaluateHandComputed(t *testing.T) {
	gts := []Annotation{
		{ID: "A", Objects: []Object{
			{Name: "cat", Box: Box{0, 0, 10, 10}},
			{Name: "cat", Box: Box{20, 20, 30, 30}, Difficult: true},
		}},
		{ID: "B", Objects: []Object{{Name: "cat", Box: Box{0, 0, 10, 10}}, {Name: "dog", Box: Box{40, 40, 60, 60}}}},
	}
	dets := []Detection{
		{Image: "B", Class: 0, Box: Box{0, 0, 10, 9}, Score: 0.5},    // TP (IoU .9), last
		{Image: "A", Class: 0, Box: Box{0, 0, 10, 10}, Score: 0.9},   // TP
		{Image: "A", Class: 0, Box: Box{0, 0, 10, 10}, Score: 0.8},   // duplicate: FP
		{Image: "A", Class: 0, Box: Box{20, 20, 30, 30}, Score: 0.7}, // difficult: ignored
		{Image: "B", Class: 0, Box: Box{50, 50, 60, 60}, Score: 0.6}, // FP
		{Image: "B", Class: 1, Box: Box{40, 40, 60, 59}, Score: 0.3}, // dog TP (IoU .95)
	}
	res, mAP, err := Evaluate(gts, dets, []string{"cat", "dog"}, EvalOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cat := res[0]
	// counted detections: TP FP FP TP -> precision 1 .5 .333 .5, recall .5 .5 .5 1
	if cat.Positives != 2 || cat.TP != 2 || cat.Detections != 5 {
		t.Errorf("cat counts %+v", cat)
	}
	wantP := []float64{1, 0.5, 1.0 / 3, 0.5}
	wantR := []float64{0.5, 0.5, 0.5, 1}
	for i := range wantP {
		if math.Abs(cat.Precision[i]-wantP[i]) > tol || math.Abs(cat.RecallCurve[i]-wantR[i]) > tol {
			t.Fatalf("curve %v %v, want %v %v", cat.Precision, cat.RecallCurve, wantP, wantR)
		}
	}
	// all-point: 0.5*1 + 0.5*0.5
	if math.Abs(cat.AP-0.75) > tol {
		t.Errorf("cat AP = %g, want 0.75", cat.AP)
	}
	// 11-point: levels 0..0.5 reach precision 1, 0.6..1 reach 0.5
	if want := (6 + 5*0.5) / 11; math.Abs(cat.AP11-want) > tol {
		t.Errorf("cat AP11 = %g, want %g", cat.AP11, want)
	}
	if math.Abs(res[1].AP-1) > tol || math.Abs(mAP-0.875) > tol {
		t.Errorf("dog AP %g, mAP %g, want 1 and 0.875", res[1].AP, mAP)
	}
}

// Equal scores keep their input order, as MATLAB's stable sort does in the
// devkit: the order of a tie changes AP.
func TestEvaluateTies(t *testing.T) {
	gts := []Annotation{{ID: "A", Objects: []Object{{Name: "x", Box: Box{0, 0, 10, 10}}}}}
	hit := Detection{Image: "A", Box: Box{0, 0, 10, 10}, Score: 0.5}
	miss := Detection{Image: "A", Box: Box{30, 30, 40, 40}, Score: 0.5}
	r1, _, _ := Evaluate(gts, []Detection{miss, hit}, []string{"x"}, EvalOptions{})
	r2, _, _ := Evaluate(gts, []Detection{hit, miss}, []string{"x"}, EvalOptions{})
	if math.Abs(r1[0].AP-0.5) > tol || math.Abs(r2[0].AP-1) > tol {
		t.Errorf("tie APs %g, %g; want 0.5 (miss first) and 1 (hit first)", r1[0].AP, r2[0].AP)
	}
}

// The devkit's recall levels are k*0.1: a recall of exactly 3/10 misses the
// level 0.30000000000000004.
func TestAP11LevelsAsDevkit(t *testing.T) {
	rec := []float64{0.1, 0.2, 0.3}
	prec := []float64{1, 1, 1}
	if got, want := AP11Point(rec, prec), 3.0/11; math.Abs(got-want) > tol {
		t.Errorf("AP11 = %g, want %g", got, want)
	}
	if got := APAllPoint(rec, prec); math.Abs(got-0.3) > tol {
		t.Errorf("all-point AP = %g, want 0.3", got)
	}
}

func TestEvaluateThresholds(t *testing.T) {
	gts := []Annotation{{ID: "A", Objects: []Object{{Name: "x", Box: Box{0, 0, 10, 10}}}}}
	// IoU exactly 0.5 counts (>=).
	d := Detection{Image: "A", Box: Box{0, 0, 10, 20}, Score: 1}
	r, _, _ := Evaluate(gts, []Detection{d}, []string{"x"}, EvalOptions{})
	if r[0].TP != 1 {
		t.Errorf("IoU 0.5 not a match")
	}
	// IoU 0.4: a miss for VOC, a hit for ILSVRC's 0.25 on a 10x10 box.
	d.Box = Box{0, 0, 10, 25}
	r, _, _ = Evaluate(gts, []Detection{d}, []string{"x"}, EvalOptions{})
	ri, _, _ := Evaluate(gts, []Detection{d}, []string{"x"}, EvalOptions{ILSVRC: true})
	if r[0].TP != 0 || ri[0].TP != 1 {
		t.Errorf("TP VOC %d, ILSVRC %d; want 0 and 1", r[0].TP, ri[0].TP)
	}
	// Errors: unknown image, class out of range, unknown object class.
	if _, _, err := Evaluate(gts, []Detection{{Image: "Z"}}, []string{"x"}, EvalOptions{}); err == nil {
		t.Error("no error for a detection in an unknown image")
	}
	if _, _, err := Evaluate(gts, []Detection{{Image: "A", Class: 3}}, []string{"x"}, EvalOptions{}); err == nil {
		t.Error("no error for a class out of range")
	}
	if _, _, err := Evaluate(gts, nil, []string{"y"}, EvalOptions{}); err == nil {
		t.Error("no error for an unknown object class")
	}
	// No detections: AP 0; no positives: NaN mAP.
	r, m, _ := Evaluate(gts, nil, []string{"x"}, EvalOptions{})
	if r[0].AP != 0 || m != 0 {
		t.Errorf("no detections: AP %g mAP %g", r[0].AP, m)
	}
	_, m, _ = Evaluate([]Annotation{{ID: "A"}}, nil, []string{"x"}, EvalOptions{})
	if !math.IsNaN(m) {
		t.Errorf("no positives: mAP %g, want NaN", m)
	}
}
