package detection

import (
	"math/rand/v2"
)

// Background is the class index of the background in a region
// classifier's outputs: class c of a dataset is output c+1.
const Background = 0

// BackgroundName is the background class's label.
const BackgroundName = "__background__"

// Labelled is a proposal with its training label.
type Labelled struct {
	Box Box
	// Label is 0 (Background) or 1 + the index of the object's class.
	Label int
	// IoU is the highest overlap with an object of the image.
	IoU float64
	// GT marks a ground-truth box added as a positive.
	GT bool
}

// LabelProposals labels an image's proposals with R-CNN's fine-tuning
// rule: a proposal whose highest IoU with an object is at least pos (0.5)
// takes that object's class, every other proposal is background; the
// ground-truth boxes are added as positives. Difficult objects are not
// positives, and proposals that overlap one at pos or more are left out
// (they are neither objects to learn nor clear background). classIndex
// maps class names to indices; objects of other classes are left out.
func LabelProposals(props []Box, objs []Object, classIndex map[string]int, pos float64) []Labelled {
	if pos == 0 {
		pos = 0.5
	}
	var out []Labelled
	for _, o := range objs {
		if c, ok := classIndex[o.Name]; ok && !o.Difficult {
			out = append(out, Labelled{Box: o.Box, Label: c + 1, IoU: 1, GT: true})
		}
	}
	for _, p := range props {
		best, bestIoU, diff := -1, 0.0, false
		for _, o := range objs {
			v := IoU(p, o.Box)
			if o.Difficult {
				if v >= pos {
					diff = true
				}
				continue
			}
			c, ok := classIndex[o.Name]
			if ok && v > bestIoU {
				best, bestIoU = c, v
			}
		}
		switch {
		case best >= 0 && bestIoU >= pos:
			out = append(out, Labelled{Box: p, Label: best + 1, IoU: bestIoU})
		case diff:
		default:
			out = append(out, Labelled{Box: p, Label: Background, IoU: bestIoU})
		}
	}
	return out
}

// Balance draws a training set with a fraction posFrac of positives (R-CNN
// samples 32 positives and 96 background regions per batch of 128: 0.25).
// It keeps every positive and draws as many background regions as make
// them posFrac of the whole (all of them when there are fewer), without
// replacement, by seed; the result is shuffled. With no positives it
// returns nil.
func Balance(items []Labelled, posFrac float64, seed uint64) []Labelled {
	if posFrac <= 0 || posFrac > 1 {
		posFrac = 0.25
	}
	var pos, neg []Labelled
	for _, it := range items {
		if it.Label == Background {
			neg = append(neg, it)
		} else {
			pos = append(pos, it)
		}
	}
	if len(pos) == 0 {
		return nil
	}
	rng := rand.New(rand.NewPCG(seed, 0x5eed))
	want := int(float64(len(pos))*(1-posFrac)/posFrac + 0.5)
	rng.Shuffle(len(neg), func(i, j int) { neg[i], neg[j] = neg[j], neg[i] })
	if want < len(neg) {
		neg = neg[:want]
	}
	out := append(pos, neg...)
	rng.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	return out
}
