package detection

import (
	"context"
	"image"
	"math/rand/v2"

	"github.com/pkg/errors"

	"github.com/goinception/googlenet/data"
	"github.com/goinception/googlenet/eval"
)

// Detector is R-CNN with GoogLeNet region classifiers: each proposal is
// warped (Warp, with context), classified by every member, the members'
// softmax probabilities are averaged (an ensemble, the paper's Table 4/5
// entries), and per class the scores go through NMS. There is no
// bounding-box regression, as in the paper.
type Detector struct {
	Members []eval.Member
	// Classes are the object classes: the members' labels without the
	// background (label 0).
	Classes []string
	Size    int // input size
	Context int // context padding at Size [ContextFor(Size)]
	// NMS is the per-class suppression threshold [0.3, R-CNN's].
	NMS float64
	// MinScore drops detections scoring less [0.01].
	MinScore float64
	// MaxPerImage keeps the best detections of an image [100].
	MaxPerImage int
	Batch       int // regions per forward pass [64]
}

// NewDetector checks that the members are region classifiers of one
// kind: the same labels, BackgroundName first, RGB inputs of one size.
func NewDetector(members []eval.Member) (*Detector, error) {
	if len(members) == 0 {
		return nil, errors.New("detection: no models")
	}
	first := members[0].Meta
	if len(first.Labels) < 2 || first.Labels[0] != BackgroundName {
		return nil, errors.Errorf("detection: %s is not a region classifier: its labels %v do not start with %s (train it with googlenet detect train)", members[0].Name(), first.Labels, BackgroundName)
	}
	for _, m := range members {
		c := m.Meta.Config
		if c.InChannels != 3 || c.InputSize != first.Config.InputSize {
			return nil, errors.Errorf("detection: %s takes %d channels of %d pixels; the first model %d of %d", m.Name(), c.InChannels, c.InputSize, first.Config.InChannels, first.Config.InputSize)
		}
		if len(m.Meta.Labels) != len(first.Labels) {
			return nil, errors.Errorf("detection: %s has %d labels, %s %d", m.Name(), len(m.Meta.Labels), members[0].Name(), len(first.Labels))
		}
		for i, l := range m.Meta.Labels {
			if l != first.Labels[i] {
				return nil, errors.Errorf("detection: %s's label %d is %q, %s's %q", m.Name(), i, l, members[0].Name(), first.Labels[i])
			}
		}
	}
	size := first.Config.InputSize
	return &Detector{Members: members, Classes: first.Labels[1:], Size: size, Context: ContextFor(size),
		NMS: 0.3, MinScore: 0.01, MaxPerImage: 100, Batch: 64}, nil
}

// Scores classifies the regions boxes of img and returns, per member and
// for the ensemble (the last entry), the class probabilities of every
// region: probs[m][r*(classes+1)+k], k = 0 the background.
func (d *Detector) Scores(img image.Image, boxes []Box) ([][]float64, error) {
	k := len(d.Classes) + 1
	out := make([][]float64, len(d.Members)+1)
	for i := range out {
		out[i] = make([]float64, len(boxes)*k)
	}
	if len(boxes) == 0 {
		return out, nil
	}
	p := RGBPlanes(img)
	fill := MeanColour(p)
	s := d.Size
	plane := 3 * s * s
	crops := make([]*image.RGBA, len(boxes))
	for i, b := range boxes {
		crops[i] = Warp(nil, p, b, s, d.Context, fill)
	}
	x := make([]float32, len(boxes)*plane)
	for mi, m := range d.Members {
		for i, c := range crops {
			if err := data.ToCHWInto(x[i*plane:(i+1)*plane], c, 3, m.Meta.Means, m.Meta.Stds); err != nil {
				return nil, errors.Wrap(err, "detection")
			}
		}
		y, err := eval.Infer(m.Model, &eval.Array{Shape: []int{len(boxes), 3, s, s}, Data: x}, d.Batch)
		if err != nil {
			return nil, errors.Wrapf(err, "detection: %s", m.Name())
		}
		logits := make([]float64, k)
		probs := make([]float64, k)
		for r := range boxes {
			for j := 0; j < k; j++ {
				logits[j] = float64(y.Data[r*k+j])
			}
			eval.Softmax(probs, logits)
			copy(out[mi][r*k:(r+1)*k], probs)
			for j := 0; j < k; j++ {
				out[len(d.Members)][r*k+j] += probs[j] / float64(len(d.Members))
			}
		}
	}
	return out, nil
}

// Detections turns one row of Scores into the detections of image id:
// per class, the regions scoring at least MinScore, after NMS, the best
// MaxPerImage of the image.
func (d *Detector) Detections(id string, boxes []Box, probs []float64) []Detection {
	k := len(d.Classes) + 1
	var dets []Detection
	for r, b := range boxes {
		for c := 1; c < k; c++ {
			if s := probs[r*k+c]; s >= d.MinScore {
				dets = append(dets, Detection{Image: id, Class: c - 1, Box: b, Score: s})
			}
		}
	}
	dets = NMSPerClass(dets, d.NMS)
	if d.MaxPerImage > 0 && len(dets) > d.MaxPerImage {
		bs := make([]Box, len(dets))
		sc := make([]float64, len(dets))
		for i, x := range dets {
			bs[i], sc[i] = x.Box, x.Score
		}
		// keep the best by score (NMS with threshold > 1 only sorts)
		order := NMS(bs, sc, 2)
		kept := make([]Detection, 0, d.MaxPerImage)
		for _, i := range order[:d.MaxPerImage] {
			kept = append(kept, dets[i])
		}
		dets = kept
		sortDetections(dets)
	}
	return dets
}

// Detect runs the ensemble on img's proposals.
func (d *Detector) Detect(id string, img image.Image, boxes []Box) ([]Detection, error) {
	probs, err := d.Scores(img, boxes)
	if err != nil {
		return nil, err
	}
	return d.Detections(id, boxes, probs[len(d.Members)]), nil
}

// Jitter returns n boxes around every object of a: each corner moved by
// up to frac of the box's size, uniformly, by seed (the oracle proposals
// of Report.Oracle: every object has boxes of IoU about 0.7 or more, and
// there is nothing else to reject).
func Jitter(a *Annotation, n int, frac float64, seed uint64) []Box {
	rng := rand.New(rand.NewPCG(seed, uint64(len(a.ID))))
	var out []Box
	for _, o := range a.Objects {
		w, h := o.Box.W(), o.Box.H()
		for i := 0; i < n; i++ {
			j := func(s float64) float64 { return (2*rng.Float64() - 1) * frac * s }
			b := Box{o.Box.X1 + j(w), o.Box.Y1 + j(h), o.Box.X2 + j(w), o.Box.Y2 + j(h)}
			if a.Width > 0 {
				b = b.Clip(a.Width, a.Height)
			}
			if b.Valid() {
				out = append(out, b)
			}
		}
	}
	return out
}

// Report is the evaluation of a detector on a split.
type Report struct {
	// Models names the members; Ensemble is their number.
	Models   []string `json:"models"`
	Ensemble int      `json:"ensemble"`
	// MAP50 is the mean all-point AP at IoU 0.5 of the ensemble, MAP50x11
	// VOC 2007's 11-point mean.
	MAP50    float64   `json:"map50"`
	MAP50x11 float64   `json:"map50_11pt"`
	Classes  []ClassAP `json:"classes"`
	// Recall is the fraction of objects found (at IoU 0.5, over the
	// detections kept).
	Recall float64 `json:"recall"`
	// MemberMAP50 is each member's own mAP on the same proposals.
	MemberMAP50 []float64 `json:"member_map50"`
	// Oracle is the ensemble's mAP with jittered ground-truth boxes as the
	// only proposals: what the classifier does when the proposals are
	// right.
	Oracle    *float64      `json:"oracle_map50,omitempty"`
	Proposals ProposalStats `json:"proposals"`
	Search    SearchOptions `json:"search"`
	Images    int           `json:"images"`
	Split     string        `json:"split"`
	// Seconds is the wall time of classification and evaluation.
	Seconds float64 `json:"seconds"`
	// Detections are the ensemble's detections (for a results file).
	Detections []Detection `json:"-"`
}

// Evaluate runs the detector on every image of anns with their proposals
// (and with oracle proposals when oracle is set) and scores the ensemble
// and each member. progress, when not nil, is called after every image.
func (d *Detector) Evaluate(ctx context.Context, anns []Annotation, props *Proposals, oracle bool, progress func(done, total int)) (*Report, error) {
	nm := len(d.Members)
	dets := make([][]Detection, nm+1)
	var odets []Detection
	for i := range anns {
		if err := ctx.Err(); err != nil {
			return nil, errors.Wrap(err, "detection: evaluate")
		}
		a := &anns[i]
		boxes, ok := props.Boxes[a.ID]
		if !ok {
			return nil, errors.Errorf("detection: no proposals for image %s", a.ID)
		}
		img, err := LoadImage(a)
		if err != nil {
			return nil, err
		}
		probs, err := d.Scores(img, boxes)
		if err != nil {
			return nil, err
		}
		for m := range probs {
			dets[m] = append(dets[m], d.Detections(a.ID, boxes, probs[m])...)
		}
		if oracle {
			ob := Jitter(a, 3, 0.1, 1)
			op, err := d.Scores(img, ob)
			if err != nil {
				return nil, err
			}
			odets = append(odets, d.Detections(a.ID, ob, op[nm])...)
		}
		if progress != nil {
			progress(i+1, len(anns))
		}
	}
	r := &Report{Ensemble: nm, Images: len(anns), Proposals: props.Measure(anns, 0), Search: props.Options, Detections: dets[nm]}
	for _, m := range d.Members {
		r.Models = append(r.Models, m.Name())
	}
	var err error
	if r.Classes, r.MAP50, err = Evaluate(anns, dets[nm], d.Classes, EvalOptions{}); err != nil {
		return nil, err
	}
	var s11 float64
	var tp, pos, counted int
	for _, c := range r.Classes {
		if c.Positives > 0 {
			s11 += c.AP11
			counted++
		}
		tp += c.TP
		pos += c.Positives
	}
	r.MAP50x11 = s11 / float64(max(counted, 1))
	if pos > 0 {
		r.Recall = float64(tp) / float64(pos)
	}
	if nm > 1 {
		for m := 0; m < nm; m++ {
			_, v, err := Evaluate(anns, dets[m], d.Classes, EvalOptions{})
			if err != nil {
				return nil, err
			}
			r.MemberMAP50 = append(r.MemberMAP50, v)
		}
	} else {
		r.MemberMAP50 = []float64{r.MAP50}
	}
	if oracle {
		_, v, err := Evaluate(anns, odets, d.Classes, EvalOptions{})
		if err != nil {
			return nil, err
		}
		r.Oracle = &v
	}
	return r, nil
}
