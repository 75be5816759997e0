package detection

import "sort"

// Detection is one scored box of a class in an image.
type Detection struct {
	Image string  // the image's identifier (VOC: the file stem)
	Class int     // index into the class list (background excluded)
	Box   Box     //
	Score float64 // higher is more confident
}

// NMS is greedy non-maximum suppression: it keeps the highest-scoring
// box, drops every remaining box whose IoU with it exceeds thresh, and
// repeats. Ties in score keep the earlier box first (a stable order). It
// returns the indices of the kept boxes in decreasing score; classes and
// images are ignored (see NMSPerClass).
func NMS(boxes []Box, scores []float64, thresh float64) []int {
	order := make([]int, len(boxes))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return scores[order[a]] > scores[order[b]] })
	suppressed := make([]bool, len(boxes))
	var keep []int
	for oi, i := range order {
		if suppressed[i] {
			continue
		}
		keep = append(keep, i)
		for _, j := range order[oi+1:] {
			if !suppressed[j] && IoU(boxes[i], boxes[j]) > thresh {
				suppressed[j] = true
			}
		}
	}
	return keep
}

// NMSPerClass runs NMS separately on the detections of every (image,
// class) pair and returns the survivors, sorted by image, class and
// decreasing score.
func NMSPerClass(dets []Detection, thresh float64) []Detection {
	type key struct {
		img   string
		class int
	}
	groups := map[key][]Detection{}
	var keys []key
	for _, d := range dets {
		k := key{d.Image, d.Class}
		if _, ok := groups[k]; !ok {
			keys = append(keys, k)
		}
		groups[k] = append(groups[k], d)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].img != keys[j].img {
			return keys[i].img < keys[j].img
		}
		return keys[i].class < keys[j].class
	})
	var out []Detection
	for _, k := range keys {
		g := groups[k]
		boxes := make([]Box, len(g))
		scores := make([]float64, len(g))
		for i, d := range g {
			boxes[i], scores[i] = d.Box, d.Score
		}
		for _, i := range NMS(boxes, scores, thresh) {
			out = append(out, g[i])
		}
	}
	return out
}
