package detection

import (
	"cmp"
	"math"
	"slices"

	"github.com/pkg/errors"
)

// SegmentOptions configures Segment, with the names and defaults of
// skimage.segmentation.felzenszwalb.
type SegmentOptions struct {
	// Scale is k, the threshold's scale: larger values give larger
	// segments [1]. Pixel values are on the 0..255 scale (skimage's
	// scale/255 on 0..1 images, the same threshold).
	Scale float64
	// Sigma is the Gaussian smoothing applied first [0.8]; negative means
	// none.
	Sigma float64
	// MinSize merges segments smaller than this many pixels into a
	// neighbour after segmentation [20].
	MinSize int
}

// Segmentation labels every pixel of an image with its segment,
// 0..N-1, numbered in the order of their first pixel (raster order).
type Segmentation struct {
	W, H   int
	N      int
	Labels []int32 // at y*W+x
}

type edge struct {
	a, b int32
	w    float32
}

// Segment is Felzenszwalb and Huttenlocher's graph-based segmentation
// ("Efficient graph-based image segmentation", IJCV 2004) as skimage
// implements it: each channel is smoothed with a Gaussian of Sigma; the
// pixels are the vertices of a graph with 8-connected edges weighted by
// the Euclidean distance of the pixels' values over all channels; edges
// are visited in increasing weight and two components merge when the
// weight is at most both components' internal difference plus
// Scale/size; finally components smaller than MinSize merge along the
// lightest edges.
func Segment(p *Planes, o SegmentOptions) (*Segmentation, error) {
	if p.W <= 0 || p.H <= 0 || len(p.Pix) != p.C*p.W*p.H || p.C <= 0 {
		return nil, errors.Errorf("detection: segment: bad planes %dx%dx%d with %d values", p.C, p.H, p.W, len(p.Pix))
	}
	if o.Scale == 0 {
		o.Scale = 1
	}
	if o.Sigma == 0 {
		o.Sigma = 0.8
	}
	if o.MinSize == 0 {
		o.MinSize = 20
	}
	if o.Scale < 0 || math.IsNaN(o.Scale) || math.IsInf(o.Scale, 0) {
		return nil, errors.Errorf("detection: segment: scale %g must be positive", o.Scale)
	}
	s := Smooth(p, o.Sigma)
	w, h := p.W, p.H
	n := w * h
	edges := make([]edge, 0, 4*n)
	dist := func(i, j int) float32 {
		var d float32
		for c := 0; c < s.C; c++ {
			v := s.Pix[c*n+i] - s.Pix[c*n+j]
			d += v * v
		}
		return float32(math.Sqrt(float64(d)))
	}
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			i := y*w + x
			if x+1 < w {
				edges = append(edges, edge{int32(i), int32(i + 1), dist(i, i+1)})
			}
			if y+1 < h {
				edges = append(edges, edge{int32(i), int32(i + w), dist(i, i+w)})
			}
			if x+1 < w && y+1 < h {
				edges = append(edges, edge{int32(i), int32(i + w + 1), dist(i, i+w+1)})
			}
			if x > 0 && y+1 < h {
				edges = append(edges, edge{int32(i), int32(i + w - 1), dist(i, i+w-1)})
			}
		}
	}
	// Ties in weight go by vertex pair, a total and deterministic order.
	slices.SortFunc(edges, func(x, y edge) int {
		if c := cmp.Compare(x.w, y.w); c != 0 {
			return c
		}
		if c := cmp.Compare(x.a, y.a); c != 0 {
			return c
		}
		return cmp.Compare(x.b, y.b)
	})
	u := newUnionFind(n)
	thresh := make([]float32, n)
	k := float32(o.Scale)
	for i := range thresh {
		thresh[i] = k
	}
	for _, e := range edges {
		a, b := u.find(e.a), u.find(e.b)
		if a == b {
			continue
		}
		if e.w <= thresh[a] && e.w <= thresh[b] {
			r := u.union(a, b)
			thresh[r] = e.w + k/float32(u.size[r])
		}
	}
	for _, e := range edges {
		a, b := u.find(e.a), u.find(e.b)
		if a != b && (u.size[a] < int32(o.MinSize) || u.size[b] < int32(o.MinSize)) {
			u.union(a, b)
		}
	}
	seg := &Segmentation{W: w, H: h, Labels: make([]int32, n)}
	ids := map[int32]int32{}
	for i := 0; i < n; i++ {
		r := u.find(int32(i))
		id, ok := ids[r]
		if !ok {
			id = int32(len(ids))
			ids[r] = id
		}
		seg.Labels[i] = id
	}
	seg.N = len(ids)
	return seg, nil
}

type unionFind struct {
	parent, size []int32
}

func newUnionFind(n int) *unionFind {
	u := &unionFind{parent: make([]int32, n), size: make([]int32, n)}
	for i := range u.parent {
		u.parent[i], u.size[i] = int32(i), 1
	}
	return u
}

func (u *unionFind) find(i int32) int32 {
	for u.parent[i] != i {
		u.parent[i] = u.parent[u.parent[i]]
		i = u.parent[i]
	}
	return i
}

// union joins the roots a and b and returns the new root.
func (u *unionFind) union(a, b int32) int32 {
	if u.size[a] < u.size[b] {
		a, b = b, a
	}
	u.parent[b] = a
	u.size[a] += u.size[b]
	return a
}
