package eval

import (
	"image"
	"strconv"

	"github.com/pkg/errors"

	"github.com/goinception/googlenet/cuda"
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
// the class indices. Predictor does the same for many images.
func Predict(members []Member, img image.Image, crops Scheme, k int, labels []string) ([]Class, error) {
	p, err := NewPredictor(members, nil)
	if err != nil {
		return nil, err
	}
	defer p.Close()
	return p.Predict(img, crops, k, labels)
}

// Predictor is Predict for a sequence of images: it keeps each member's
// forward state between images (one device network per member and batch
// size on a device), so a device network is built once, not per image.
// Not safe for concurrent use.
type Predictor struct {
	members []Member
	device  *cuda.Device
	fw      map[int][]forwarder // by batch size, one per member
}

// NewPredictor returns a Predictor of members. With d not nil every
// forward pass runs on d as a device-resident cuda.Net in evaluation mode
// (googlenet predict --device gpu); nil runs each member's inference graph
// on its engine. Close releases the device networks.
func NewPredictor(members []Member, d *cuda.Device) (*Predictor, error) {
	if err := checkMembers(members); err != nil {
		return nil, err
	}
	return &Predictor{members: members, device: d, fw: map[int][]forwarder{}}, nil
}

// Close releases the predictor's device networks.
func (p *Predictor) Close() error {
	var first error
	for b, fs := range p.fw {
		if err := closeAll(fs); err != nil && first == nil {
			first = errors.Wrap(err, "eval: releasing the device network")
		}
		delete(p.fw, b)
	}
	return first
}

// forwarders returns the members' forwarders for batches of batch crops.
func (p *Predictor) forwarders(batch int) ([]forwarder, error) {
	if fs, ok := p.fw[batch]; ok {
		return fs, nil
	}
	fs := make([]forwarder, len(p.members))
	for i, m := range p.members {
		var err error
		if fs[i], err = newForwarder(p.device, m.Model, batch); err != nil {
			_ = closeAll(fs)
			return nil, errors.Wrapf(err, "eval: %s", m.Name())
		}
	}
	p.fw[batch] = fs
	return fs, nil
}

// Predict is the package's Predict with the predictor's members.
func (p *Predictor) Predict(img image.Image, crops Scheme, k int, labels []string) ([]Class, error) {
	members := p.members
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
	fs, err := p.forwarders(batch)
	if err != nil {
		return nil, err
	}
	per := make([][]float64, len(members))
	for mi, m := range members {
		f := fs[mi]
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
	pr, err := AverageModels(per)
	if err != nil {
		return nil, err
	}
	var out []Class
	for _, c := range TopK(pr, k) {
		l := strconv.Itoa(c)
		if labels != nil {
			l = labels[c]
		}
		out = append(out, Class{Index: c, Label: l, Prob: pr[c]})
	}
	return out, nil
}
