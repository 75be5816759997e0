package eval

import (
	"image"
	"strconv"

	"github.com/pkg/errors"
)

// Class is one predicted class and its probability.
type Class struct {
	Index int     `json:"index"`
	Label string  `json:"label"`
	Prob  float64 `json:"prob"`
}

// Predict returns the k most probable classes of img (largest first) under
// the ensemble members, averaging softmax probabilities over the crops of
// scheme crops ("": Center) and then over the members, as Evaluate does. The image
// is prepared by the first member's input contract (see RenderContract). Labels come from labels
// when it is not nil, else from the first member's metadata, else they are
// the class indices.
func Predict(members []Member, img image.Image, crops Scheme, k int, labels []string) ([]Class, error) {
	if err := checkMembers(members); err != nil {
		return nil, err
	}
	if k < 1 {
		return nil, errors.Errorf("eval: top %d", k)
	}
	if crops == "" {
		crops = Center
	}
	cfg := members[0].Model.Config()
	meta := members[0].Meta
	if labels == nil {
		labels = meta.Labels
	}
	if labels != nil && len(labels) != cfg.Classes {
		return nil, errors.Errorf("eval: %d labels for %d classes", len(labels), cfg.Classes)
	}
	b := img.Bounds()
	cs, err := crops.Crops(b.Dx(), b.Dy(), cfg.InputSize)
	if err != nil {
		return nil, err
	}
	cs, counts := Distinct(cs)
	plane := cfg.InChannels * cfg.InputSize * cfg.InputSize
	x := make([]float32, len(cs)*plane)
	contract := members[0].Contract()
	if err := checkContract(contract, cfg); err != nil {
		return nil, err
	}
	if err := RenderContract(x, img, crops, cs, contract); err != nil {
		return nil, err
	}
	batch := min(len(cs), 64)
	per := make([][]float64, len(members))
	for mi, m := range members {
		f := newForwarder(m.Model, batch)
		rows := make([][]float64, 0, len(cs))
		for i := 0; i < len(cs); i += batch {
			j := min(len(cs), i+batch)
			y, err := f.run(x[i*plane:j*plane], j-i)
			if err != nil {
				return nil, errors.Wrapf(err, "eval: %s", m.Name())
			}
			for r := 0; r < j-i; r++ {
				rows = append(rows, y[r*cfg.Classes:(r+1)*cfg.Classes])
			}
		}
		if per[mi], err = AverageCrops(rows, counts); err != nil {
			return nil, err
		}
	}
	p, err := AverageModels(per)
	if err != nil {
		return nil, err
	}
	var out []Class
	for _, c := range TopK(p, k) {
		l := strconv.Itoa(c)
		if labels != nil {
			l = labels[c]
		}
		out = append(out, Class{Index: c, Label: l, Prob: p[c]})
	}
	return out, nil
}
