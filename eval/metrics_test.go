package eval

import (
	"math"
	"slices"
	"testing"
)

// probTol bounds rounding in probabilities computed in float64.
const probTol = 1e-12

func near(a, b []float64, tol float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Abs(a[i]-b[i]) > tol {
			return false
		}
	}
	return true
}

func TestSoftmax(t *testing.T) {
	p := make([]float64, 2)
	Softmax(p, []float64{0, math.Log(3)})
	if !near(p, []float64{0.25, 0.75}, probTol) {
		t.Errorf("softmax(0, ln 3) = %v, want [0.25 0.75]", p)
	}
	// Large logits do not overflow.
	Softmax(p, []float64{1000, 1000 + math.Log(3)})
	if !near(p, []float64{0.25, 0.75}, probTol) {
		t.Errorf("softmax(1000, 1000+ln 3) = %v", p)
	}
}

// Crop averaging averages probabilities, weighted by counts.
func TestAverageCrops(t *testing.T) {
	l3 := math.Log(3)
	logits := [][]float64{{0, l3}, {l3, 0}} // probabilities 1/4,3/4 and 3/4,1/4
	got, err := AverageCrops(logits, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !near(got, []float64{0.5, 0.5}, probTol) {
		t.Errorf("equal weights: %v, want [0.5 0.5]", got)
	}
	// Counts 1 and 3: (1/4 + 3*3/4)/4 = 5/8.
	got, err = AverageCrops(logits, []int{1, 3})
	if err != nil {
		t.Fatal(err)
	}
	if !near(got, []float64{0.625, 0.375}, probTol) {
		t.Errorf("counts 1, 3: %v, want [0.625 0.375]", got)
	}
	// Averaging probabilities is not averaging logits: a confident crop
	// outweighs two mildly opposed ones.
	logits = [][]float64{{10, 0}, {0, 1}, {0, 1}}
	got, _ = AverageCrops(logits, nil)
	mean := []float64{10.0 / 3, 2.0 / 3}
	byLogits := make([]float64, 2)
	Softmax(byLogits, mean)
	if got[0] < 0.5 || math.Abs(got[0]-byLogits[0]) < 1e-3 {
		t.Errorf("probability average %v vs logit average %v", got, byLogits)
	}
	p1, p2 := make([]float64, 2), make([]float64, 2)
	Softmax(p1, logits[0])
	Softmax(p2, logits[1])
	if want := (p1[0] + 2*p2[0]) / 3; math.Abs(got[0]-want) > probTol {
		t.Errorf("class 0: %v, want %v", got[0], want)
	}
	for _, c := range []struct {
		logits [][]float64
		counts []int
	}{
		{nil, nil},
		{[][]float64{{1, 2}, {1}}, nil},
		{[][]float64{{1, 2}}, []int{1, 2}},
		{[][]float64{{1, 2}}, []int{0}},
	} {
		if _, err := AverageCrops(c.logits, c.counts); err == nil {
			t.Errorf("AverageCrops(%v, %v): no error", c.logits, c.counts)
		}
	}
}

func TestAverageModels(t *testing.T) {
	got, err := AverageModels([][]float64{{0.6, 0.4}, {0.2, 0.8}, {0.1, 0.9}})
	if err != nil {
		t.Fatal(err)
	}
	if !near(got, []float64{0.3, 0.7}, probTol) {
		t.Errorf("ensemble = %v, want [0.3 0.7]", got)
	}
	if _, err := AverageModels(nil); err == nil {
		t.Error("no models: no error")
	}
	if _, err := AverageModels([][]float64{{1}, {0.5, 0.5}}); err == nil {
		t.Error("class count mismatch: no error")
	}
}

func TestTopKAndScore(t *testing.T) {
	p := []float64{0.1, 0.3, 0.05, 0.3, 0.2, 0.01, 0.04}
	if got := TopK(p, 3); !slices.Equal(got, []int{1, 3, 4}) {
		t.Errorf("TopK = %v, want [1 3 4] (tie to the smaller index)", got)
	}
	if got := TopK(p[:2], 5); !slices.Equal(got, []int{1, 0}) {
		t.Errorf("TopK of 2 classes = %v", got)
	}
	var s Score
	s.Add(p, 1) // top-1
	s.Add(p, 3) // second: top-5 only
	s.Add(p, 2) // sixth: neither
	s.Add(p, 6) // fifth: top-5
	if s.Images != 4 || s.Top1 != 1 || s.Top5 != 3 {
		t.Fatalf("score %+v, want 4 images, 1 top-1, 3 top-5", s)
	}
	if math.Abs(s.Top1Err()-0.75) > probTol || math.Abs(s.Top5Acc()-0.75) > probTol {
		t.Errorf("top-1 error %v, top-5 accuracy %v", s.Top1Err(), s.Top5Acc())
	}
	var empty Score
	if math.Abs(empty.Top1Err()) > probTol || math.Abs(empty.Top5Acc()) > probTol {
		t.Error("empty score not zero")
	}
}
