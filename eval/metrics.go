package eval

import (
	"math"
	"sort"

	"github.com/pkg/errors"
)

// Softmax writes the softmax of logits into p (len(p) == len(logits)),
// computed in float64 after subtracting the largest logit.
func Softmax(p []float64, logits []float64) {
	if len(logits) == 0 {
		return
	}
	m := logits[0]
	for _, v := range logits[1:] {
		m = math.Max(m, v)
	}
	var sum float64
	for i, v := range logits {
		p[i] = math.Exp(v - m)
		sum += p[i]
	}
	for i := range p {
		p[i] /= sum
	}
}

// AverageCrops returns the average of the softmax probabilities of the rows
// of logits (one row of classes values per crop), row i weighted by
// counts[i] (nil: all 1). This is the paper's crop averaging: probabilities,
// not logits, are averaged.
func AverageCrops(logits [][]float64, counts []int) ([]float64, error) {
	if len(logits) == 0 {
		return nil, errors.New("eval: average of no crops")
	}
	if counts != nil && len(counts) != len(logits) {
		return nil, errors.Errorf("eval: %d counts for %d crops", len(counts), len(logits))
	}
	k := len(logits[0])
	avg := make([]float64, k)
	p := make([]float64, k)
	var total float64
	for i, row := range logits {
		if len(row) != k {
			return nil, errors.Errorf("eval: crop %d has %d classes, crop 0 has %d", i, len(row), k)
		}
		w := 1.0
		if counts != nil {
			w = float64(counts[i])
		}
		Softmax(p, row)
		for j := range avg {
			avg[j] += w * p[j]
		}
		total += w
	}
	if total <= 0 {
		return nil, errors.New("eval: crop weights sum to zero")
	}
	for j := range avg {
		avg[j] /= total
	}
	return avg, nil
}

// AverageModels returns the mean of the models' probability vectors: the
// ensemble prediction, each model weighted equally as in the paper.
func AverageModels(probs [][]float64) ([]float64, error) {
	if len(probs) == 0 {
		return nil, errors.New("eval: average of no models")
	}
	avg := make([]float64, len(probs[0]))
	for i, p := range probs {
		if len(p) != len(avg) {
			return nil, errors.Errorf("eval: model %d has %d classes, model 0 has %d", i, len(p), len(avg))
		}
		for j, v := range p {
			avg[j] += v
		}
	}
	for j := range avg {
		avg[j] /= float64(len(probs))
	}
	return avg, nil
}

// TopK returns the indices of the k largest values of p, largest first;
// ties go to the smaller index. k is capped at len(p).
func TopK(p []float64, k int) []int {
	idx := make([]int, len(p))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return p[idx[a]] > p[idx[b]] })
	return idx[:max(0, min(k, len(p)))]
}

// Score counts correct predictions.
type Score struct {
	Images int `json:"images"`
	// Top1 and Top5 count images whose label is the most probable class,
	// or among the five most probable.
	Top1 int `json:"top1_correct"`
	Top5 int `json:"top5_correct"`
}

// Add scores one image's class probabilities against its label.
func (s *Score) Add(p []float64, label int) {
	s.Images++
	for r, c := range TopK(p, 5) {
		if c == label {
			if r == 0 {
				s.Top1++
			}
			s.Top5++
			break
		}
	}
}

// Top1Acc returns the top-1 accuracy (0 for no images).
func (s Score) Top1Acc() float64 { return ratio(s.Top1, s.Images) }

// Top5Acc returns the top-5 accuracy (0 for no images).
func (s Score) Top5Acc() float64 { return ratio(s.Top5, s.Images) }

// Top1Err returns the top-1 error, 1 - Top1Acc (0 for no images).
func (s Score) Top1Err() float64 { return errOf(s.Top1, s.Images) }

// Top5Err returns the top-5 error, the paper's headline metric.
func (s Score) Top5Err() float64 { return errOf(s.Top5, s.Images) }

func ratio(a, n int) float64 {
	if n == 0 {
		return 0
	}
	return float64(a) / float64(n)
}

func errOf(a, n int) float64 {
	if n == 0 {
		return 0
	}
	return 1 - ratio(a, n)
}
