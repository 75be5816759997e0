package detection

import (
	"image"
	"math"
	"math/rand/v2"
	"sort"

	"github.com/pkg/errors"
)

// Similarity measures of selective search, combined by adding them
// (Uijlings et al., section 3.2).
const (
	SimColour  = 1 << iota // histogram intersection of 25-bin colour histograms
	SimTexture             // of gradient-orientation histograms (8 orientations x 10 bins)
	SimSize                // 1 - (size_i + size_j) / image size: small regions merge first
	SimFill                // 1 - (bounding box - size_i - size_j) / image size: regions that fit
)

// Search modes (SearchOptions.Mode).
const (
	// ModeSingle is one strategy: HSV, k = 100, colour+texture+size+fill.
	ModeSingle = "single"
	// ModeFast is Uijlings et al.'s "Selective Search Fast": HSV and Lab,
	// k = 50 and 100, colour+texture+size+fill and texture+size+fill
	// (8 strategies).
	ModeFast = "fast"
	// ModeQuality is "Selective Search Quality": HSV, Lab, rgI, H and I;
	// k = 50, 100, 150, 300; C+T+S+F, T+S+F, F and S (80 strategies).
	ModeQuality = "quality"
)

// SearchOptions configures SelectiveSearch; the zero value is ModeFast.
type SearchOptions struct {
	Mode string // single, fast or quality [fast]
	// Spaces, Ks and Sims replace the mode's lists when set.
	Spaces []string
	Ks     []float64
	Sims   []int
	// Sigma smooths before segmenting [0.8].
	Sigma float64
	// Superpixels scales every k and minimum segment size [1]; 2 is the
	// paper's "superpixel size doubled" setting (section 8: about half
	// the proposals for the same recall).
	Superpixels float64
	// MinBoxSize drops proposals narrower or lower than this many pixels
	// [0: keep all].
	MinBoxSize int
	// MaxProposals keeps the best-ranked proposals only [0: all].
	MaxProposals int
	// Seed draws the random part of the ranking.
	Seed uint64
}

func (o SearchOptions) withDefaults() (SearchOptions, error) {
	var spaces []string
	var ks []float64
	var sims []int
	cts := SimColour | SimTexture | SimSize | SimFill
	switch o.Mode {
	case "", ModeFast:
		o.Mode = ModeFast
		spaces, ks, sims = []string{SpaceHSV, SpaceLab}, []float64{50, 100}, []int{cts, SimTexture | SimSize | SimFill}
	case ModeSingle:
		spaces, ks, sims = []string{SpaceHSV}, []float64{100}, []int{cts}
	case ModeQuality:
		spaces, ks = []string{SpaceHSV, SpaceLab, SpaceRGI, SpaceH, SpaceI}, []float64{50, 100, 150, 300}
		sims = []int{cts, SimTexture | SimSize | SimFill, SimFill, SimSize}
	default:
		return o, errors.Errorf("detection: selective search mode %q unknown (want single, fast or quality)", o.Mode)
	}
	if o.Spaces == nil {
		o.Spaces = spaces
	}
	if o.Ks == nil {
		o.Ks = ks
	}
	if o.Sims == nil {
		o.Sims = sims
	}
	if o.Sigma == 0 {
		o.Sigma = 0.8
	}
	if o.Superpixels == 0 {
		o.Superpixels = 1
	}
	if !(o.Superpixels > 0) || o.MinBoxSize < 0 || o.MaxProposals < 0 {
		return o, errors.Errorf("detection: selective search: bad options (superpixels %g, min box %d, max proposals %d)", o.Superpixels, o.MinBoxSize, o.MaxProposals)
	}
	for _, s := range o.Sims {
		if s <= 0 || s > cts {
			return o, errors.Errorf("detection: selective search: similarity set %d unknown", s)
		}
	}
	return o, nil
}

// Strategies returns the number of grouping strategies o runs.
func (o SearchOptions) Strategies() int {
	o, err := o.withDefaults()
	if err != nil {
		return 0
	}
	return len(o.Spaces) * len(o.Ks) * len(o.Sims)
}

// SelectiveSearch returns object proposals for img by Uijlings et al.'s
// selective search ("Selective Search for Object Recognition", IJCV 2013):
// for every strategy (a colour space, a k, a set of similarities) the image
// is over-segmented (Segment with Scale k and MinSize k, as the authors'
// code does), and the two most similar neighbouring regions are merged
// until one region remains; every region of the hierarchy is a proposal.
// Proposals of all strategies are ranked as in the paper: a region's
// position in its hierarchy (1 for the whole image, counting towards the
// initial segments) times a random number in (0, 1), lowest first;
// duplicates are removed.
func SelectiveSearch(img image.Image, o SearchOptions) ([]Box, error) {
	o, err := o.withDefaults()
	if err != nil {
		return nil, err
	}
	rgb := RGBPlanes(img)
	if rgb.W < 2 || rgb.H < 2 {
		return nil, errors.Errorf("detection: selective search: image %dx%d too small", rgb.W, rgb.H)
	}
	type ranked struct {
		box Box
		v   float64
	}
	var all []ranked
	strategy := 0
	for _, space := range o.Spaces {
		cs, err := ToSpace(rgb, space)
		if err != nil {
			return nil, err
		}
		feat := newPixelFeatures(cs)
		for _, k := range o.Ks {
			kk := k * o.Superpixels
			seg, err := Segment(cs, SegmentOptions{Scale: kk, Sigma: o.Sigma, MinSize: int(math.Round(kk))})
			if err != nil {
				return nil, err
			}
			for _, sims := range o.Sims {
				rng := rand.New(rand.NewPCG(o.Seed, uint64(strategy)))
				strategy++
				regs := groupRegions(seg, feat, sims)
				for i, r := range regs {
					pos := len(regs) - i // 1 for the last merge (the whole image)
					all = append(all, ranked{r, float64(pos) * (1 - rng.Float64())})
				}
			}
		}
	}
	sort.SliceStable(all, func(i, j int) bool { return all[i].v < all[j].v })
	seen := map[Box]bool{}
	var out []Box
	for _, r := range all {
		if seen[r.box] {
			continue
		}
		seen[r.box] = true
		if o.MinBoxSize > 0 && (r.box.W() < float64(o.MinBoxSize) || r.box.H() < float64(o.MinBoxSize)) {
			continue
		}
		out = append(out, r.box)
		if o.MaxProposals > 0 && len(out) == o.MaxProposals {
			break
		}
	}
	return out, nil
}

const (
	colourBins  = 25
	textureBins = 10
	orients     = 8
)

// pixelFeatures holds per-pixel histogram bins of one colour space.
type pixelFeatures struct {
	c, n   int
	colour []uint8 // [c][n] colour bin
	tex    []uint8 // [c][orients][n] texture bin
	texW   []float32
}

func newPixelFeatures(p *Planes) *pixelFeatures {
	n := p.W * p.H
	f := &pixelFeatures{c: p.C, n: n, colour: make([]uint8, p.C*n), tex: make([]uint8, p.C*orients*n), texW: make([]float32, p.C*orients*n)}
	for i, v := range p.Pix {
		b := int(v * colourBins / 256)
		if b >= colourBins {
			b = colourBins - 1
		}
		if b < 0 {
			b = 0
		}
		f.colour[i] = uint8(b)
	}
	// Gaussian derivatives (sigma 1) in 8 orientations, half-wave
	// rectified, binned into 10 bins of [0, max] per channel.
	s := Smooth(p, 1)
	resp := make([]float32, orients*n)
	var cos, sin [orients]float32
	for o := range cos {
		th := float64(o) * math.Pi / 4
		cos[o], sin[o] = float32(math.Cos(th)), float32(math.Sin(th))
	}
	for c := 0; c < p.C; c++ {
		pl := s.Plane(c)
		var mx float32
		for y := 0; y < p.H; y++ {
			for x := 0; x < p.W; x++ {
				xl, xr, yu, yd := x-1, x+1, y-1, y+1
				if xl < 0 {
					xl = 0
				}
				if xr >= p.W {
					xr = p.W - 1
				}
				if yu < 0 {
					yu = 0
				}
				if yd >= p.H {
					yd = p.H - 1
				}
				gx := (pl[y*p.W+xr] - pl[y*p.W+xl]) / 2
				gy := (pl[yd*p.W+x] - pl[yu*p.W+x]) / 2
				for o := 0; o < orients; o++ {
					r := gx*cos[o] + gy*sin[o]
					if r < 0 {
						r = 0
					}
					resp[o*n+y*p.W+x] = r
					if r > mx {
						mx = r
					}
				}
			}
		}
		if mx == 0 {
			mx = 1
		}
		for o := 0; o < orients; o++ {
			for i := 0; i < n; i++ {
				b := int(resp[o*n+i] / mx * textureBins)
				if b >= textureBins {
					b = textureBins - 1
				}
				f.tex[(c*orients+o)*n+i] = uint8(b)
			}
		}
	}
	return f
}

// region is a node of the grouping hierarchy.
type region struct {
	size           int
	x1, y1, x2, y2 int // inclusive pixel bounds
	colour, tex    []float32
}

func (r *region) box() Box {
	return Box{float64(r.x1), float64(r.y1), float64(r.x2 + 1), float64(r.y2 + 1)}
}

// groupRegions runs the hierarchical grouping on seg and returns the boxes
// of every region in creation order (initial segments first).
func groupRegions(seg *Segmentation, f *pixelFeatures, sims int) []Box {
	n, w := seg.W*seg.H, seg.W
	nc, nt := f.c*colourBins, f.c*orients*textureBins
	regs := make([]*region, seg.N, 2*seg.N)
	for i := range regs {
		regs[i] = &region{x1: math.MaxInt32, y1: math.MaxInt32, x2: -1, y2: -1,
			colour: make([]float32, nc), tex: make([]float32, nt)}
	}
	for i := 0; i < n; i++ {
		r := regs[seg.Labels[i]]
		x, y := i%w, i/w
		r.size++
		r.x1, r.y1 = min(r.x1, x), min(r.y1, y)
		r.x2, r.y2 = max(r.x2, x), max(r.y2, y)
		for c := 0; c < f.c; c++ {
			r.colour[c*colourBins+int(f.colour[c*n+i])]++
			for o := 0; o < orients; o++ {
				k := (c*orients + o)
				r.tex[k*textureBins+int(f.tex[k*n+i])]++
			}
		}
	}
	for _, r := range regs {
		normalise(r.colour)
		normalise(r.tex)
	}
	type pair struct{ a, b int }
	nb := make([]map[int]bool, seg.N, 2*seg.N)
	for i := range nb {
		nb[i] = map[int]bool{}
	}
	link := func(a, b int) {
		if a != b {
			nb[a][b], nb[b][a] = true, true
		}
	}
	for y := 0; y < seg.H; y++ {
		for x := 0; x < seg.W; x++ {
			l := int(seg.Labels[y*w+x])
			if x+1 < seg.W {
				link(l, int(seg.Labels[y*w+x+1]))
			}
			if y+1 < seg.H {
				link(l, int(seg.Labels[(y+1)*w+x]))
			}
		}
	}
	total := float64(n)
	sim := func(a, b *region) float64 {
		var s float64
		if sims&SimColour != 0 {
			s += intersect(a.colour, b.colour)
		}
		if sims&SimTexture != 0 {
			s += intersect(a.tex, b.tex)
		}
		if sims&SimSize != 0 {
			s += 1 - float64(a.size+b.size)/total
		}
		if sims&SimFill != 0 {
			bw := max(a.x2, b.x2) - min(a.x1, b.x1) + 1
			bh := max(a.y2, b.y2) - min(a.y1, b.y1) + 1
			s += 1 - float64(bw*bh-a.size-b.size)/total
		}
		return s
	}
	S := map[pair]float64{}
	for a := range nb {
		for b := range nb[a] {
			if a < b {
				S[pair{a, b}] = sim(regs[a], regs[b])
			}
		}
	}
	out := make([]Box, 0, 2*seg.N)
	for _, r := range regs {
		out = append(out, r.box())
	}
	for len(S) > 0 {
		best, bs := pair{-1, -1}, math.Inf(-1)
		for p, s := range S {
			if s > bs || (s == bs && (p.a < best.a || (p.a == best.a && p.b < best.b))) {
				best, bs = p, s
			}
		}
		a, b := regs[best.a], regs[best.b]
		t := &region{size: a.size + b.size, x1: min(a.x1, b.x1), y1: min(a.y1, b.y1), x2: max(a.x2, b.x2), y2: max(a.y2, b.y2),
			colour: make([]float32, nc), tex: make([]float32, nt)}
		wa, wb := float32(a.size)/float32(t.size), float32(b.size)/float32(t.size)
		for i := range t.colour {
			t.colour[i] = wa*a.colour[i] + wb*b.colour[i]
		}
		for i := range t.tex {
			t.tex[i] = wa*a.tex[i] + wb*b.tex[i]
		}
		ti := len(regs)
		regs = append(regs, t)
		nb = append(nb, map[int]bool{})
		for _, old := range [2]int{best.a, best.b} {
			for m := range nb[old] {
				delete(S, pair{min(old, m), max(old, m)})
				delete(nb[m], old)
				if m != best.a && m != best.b {
					nb[ti][m], nb[m][ti] = true, true
				}
			}
			nb[old] = nil
		}
		for m := range nb[ti] {
			S[pair{m, ti}] = sim(regs[m], t)
		}
		// The merged regions' features are no longer needed.
		a.colour, a.tex, b.colour, b.tex = nil, nil, nil, nil
		out = append(out, t.box())
	}
	return out
}

func normalise(h []float32) {
	var s float32
	for _, v := range h {
		s += v
	}
	if s > 0 {
		for i := range h {
			h[i] /= s
		}
	}
}

func intersect(a, b []float32) float64 {
	var s float32
	for i, v := range a {
		s += min(v, b[i])
	}
	return float64(s)
}
