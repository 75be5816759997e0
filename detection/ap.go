package detection

import (
	"math"
	"sort"

	"github.com/pkg/errors"
)

// EvalOptions configures Evaluate. The zero value is PASCAL VOC's
// criterion: IoU >= 0.5.
type EvalOptions struct {
	// IoU is the overlap a detection needs with a ground-truth box [0.5].
	IoU float64
	// ILSVRC uses ILSVRCThreshold(gt) instead of IoU for every
	// ground-truth box: small objects need less overlap.
	ILSVRC bool
}

// ClassAP is the evaluation of one class.
type ClassAP struct {
	Class string
	// AP is the all-point average precision (VOC 2010 and later): the area
	// under the monotone precision envelope of the precision/recall curve.
	AP float64
	// AP11 is VOC 2007's 11-point average precision: the mean over recall
	// levels 0, 0.1, ..., 1 of the highest precision at that recall or more.
	AP11 float64
	// Positives counts the ground-truth objects that are not difficult;
	// Detections all detections of the class; TP the true positives among
	// them (the rest are false positives, except those matched to
	// difficult objects, which count as neither).
	Positives, Detections, TP int
	// Recall is TP/Positives at the lowest score (0 without positives).
	Recall float64
	// Precision and RecallCurve are the curve, one point per counted
	// detection in decreasing score.
	Precision, RecallCurve []float64 `json:"-"`
}

// Evaluate computes per-class average precision with the PASCAL VOC
// devkit's rules: the detections of a class, over all images, are sorted by
// decreasing score (ties keep their input order); each is matched to the
// ground-truth box of its class in its image with the highest IoU; at
// IoU >= the threshold it is a true positive if that box is not yet taken,
// a false positive if it is (a duplicate), and ignored if the box is
// "difficult"; below the threshold it is a false positive. Classes without
// positives get AP 0 and are excluded from the mean (NaN mAP when no class
// has positives). gts holds each image's annotation (ID is the image
// identifier that Detection.Image refers to), and classes names
// Detection.Class's indices. Detections of images with no annotation are
// an error.
func Evaluate(gts []Annotation, dets []Detection, classes []string, o EvalOptions) ([]ClassAP, float64, error) {
	if o.IoU == 0 {
		o.IoU = 0.5
	}
	index := map[string]int{}
	for i, c := range classes {
		index[c] = i
	}
	type gtBox struct {
		box       Box
		difficult bool
		taken     bool
	}
	// per class, per image
	gt := make([]map[string][]*gtBox, len(classes))
	for c := range gt {
		gt[c] = map[string][]*gtBox{}
	}
	npos := make([]int, len(classes))
	images := map[string]bool{}
	for _, a := range gts {
		images[a.ID] = true
		for _, ob := range a.Objects {
			c, ok := index[ob.Name]
			if !ok {
				return nil, 0, errors.Errorf("detection: evaluate: image %s has an object of unknown class %q", a.ID, ob.Name)
			}
			gt[c][a.ID] = append(gt[c][a.ID], &gtBox{box: ob.Box, difficult: ob.Difficult})
			if !ob.Difficult {
				npos[c]++
			}
		}
	}
	byClass := make([][]Detection, len(classes))
	for _, d := range dets {
		if d.Class < 0 || d.Class >= len(classes) {
			return nil, 0, errors.Errorf("detection: evaluate: detection of class %d in image %s (have %d classes)", d.Class, d.Image, len(classes))
		}
		if !images[d.Image] {
			return nil, 0, errors.Errorf("detection: evaluate: detection in image %q, which has no annotation", d.Image)
		}
		if math.IsNaN(d.Score) {
			return nil, 0, errors.Errorf("detection: evaluate: detection in image %s has a NaN score", d.Image)
		}
		byClass[d.Class] = append(byClass[d.Class], d)
	}
	out := make([]ClassAP, len(classes))
	var sum float64
	var counted int
	for c, ds := range byClass {
		sort.SliceStable(ds, func(i, j int) bool { return ds[i].Score > ds[j].Score })
		var tp, fp []bool
		for _, d := range ds {
			best, bestIoU := -1, math.Inf(-1)
			cands := gt[c][d.Image]
			for k, g := range cands {
				if v := IoU(d.Box, g.box); v > bestIoU {
					best, bestIoU = k, v
				}
			}
			thr := o.IoU
			if best >= 0 && o.ILSVRC {
				thr = ILSVRCThreshold(cands[best].box)
			}
			switch {
			case best >= 0 && bestIoU >= thr && cands[best].difficult:
				// neither a true nor a false positive
			case best >= 0 && bestIoU >= thr && !cands[best].taken:
				cands[best].taken = true
				tp, fp = append(tp, true), append(fp, false)
			default:
				tp, fp = append(tp, false), append(fp, true)
			}
		}
		r := ClassAP{Class: classes[c], Positives: npos[c], Detections: len(ds)}
		var ctp, cfp int
		for i := range tp {
			if tp[i] {
				ctp++
			} else {
				cfp++
			}
			r.Precision = append(r.Precision, float64(ctp)/float64(ctp+cfp))
			if npos[c] > 0 {
				r.RecallCurve = append(r.RecallCurve, float64(ctp)/float64(npos[c]))
			} else {
				r.RecallCurve = append(r.RecallCurve, 0)
			}
		}
		r.TP = ctp
		if npos[c] > 0 {
			r.Recall = float64(ctp) / float64(npos[c])
			r.AP = APAllPoint(r.RecallCurve, r.Precision)
			r.AP11 = AP11Point(r.RecallCurve, r.Precision)
			sum += r.AP
			counted++
		}
		out[c] = r
	}
	if counted == 0 {
		return out, math.NaN(), nil
	}
	return out, sum / float64(counted), nil
}

// APAllPoint is the area under the monotone precision envelope of a
// precision/recall curve (recall non-decreasing), as the VOC devkit's
// VOCap: recall is extended with 0 and 1 and precision with 0 at both ends,
// precision is made non-increasing from the right, and the rectangles at
// the recall steps are summed.
func APAllPoint(recall, precision []float64) float64 {
	mrec := append(append([]float64{0}, recall...), 1)
	mpre := append(append([]float64{0}, precision...), 0)
	for i := len(mpre) - 2; i >= 0; i-- {
		mpre[i] = math.Max(mpre[i], mpre[i+1])
	}
	var ap float64
	for i := 1; i < len(mrec); i++ {
		if mrec[i] != mrec[i-1] {
			ap += (mrec[i] - mrec[i-1]) * mpre[i]
		}
	}
	return ap
}

// AP11Point is VOC 2007's 11-point interpolated average precision: the mean
// over t = 0, 0.1, ..., 1 of the highest precision at recall >= t (0 when
// that recall is never reached). The levels are computed as k*0.1, exactly
// as the devkit's 0:0.1:1 (MATLAB) and np.arange(0, 1.1, 0.1) (Python)
// compute them, so a recall of exactly 0.3 does not reach the level
// 0.30000000000000004; numbers agree with the devkit's to the last bit.
func AP11Point(recall, precision []float64) float64 {
	var ap float64
	for k := 0; k <= 10; k++ {
		t := float64(k) * 0.1
		p := 0.0
		for i, r := range recall {
			if r >= t && precision[i] > p {
				p = precision[i]
			}
		}
		ap += p / 11
	}
	return ap
}
