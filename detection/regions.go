package detection

import (
	"context"
	"image"
	"math/rand/v2"
	"sort"

	"github.com/pkg/errors"

	"github.com/goinception/googlenet/data"
)

// RegionSet is a classification dataset of warped regions (a
// data.Dataset): RGB crops of Size x Size pixels labelled with the class
// index + 1, or Background (0). Classes()[0] is BackgroundName.
type RegionSet struct {
	Size    int
	classes []string
	pix     []uint8 // Size*Size*3 per region
	labels  []int
	// Positives counts the regions that are not background, GT those that
	// are ground-truth boxes.
	Positives, GT int
}

var _ data.Dataset = (*RegionSet)(nil)

// Len returns the number of regions.
func (r *RegionSet) Len() int { return len(r.labels) }

// Classes returns BackgroundName and the object classes.
func (r *RegionSet) Classes() []string { return r.classes }

// Shape returns 3 channels of Size x Size.
func (r *RegionSet) Shape() (c, h, w int) { return 3, r.Size, r.Size }

// Sample returns region i as an *image.RGBA.
func (r *RegionSet) Sample(i int) (data.Sample, error) {
	if i < 0 || i >= len(r.labels) {
		return data.Sample{}, errors.Errorf("detection: region %d out of range [0,%d)", i, len(r.labels))
	}
	n := r.Size * r.Size
	img := image.NewRGBA(image.Rect(0, 0, r.Size, r.Size))
	src := r.pix[i*3*n : (i+1)*3*n]
	for p := 0; p < n; p++ {
		copy(img.Pix[4*p:4*p+3], src[3*p:3*p+3])
		img.Pix[4*p+3] = 255
	}
	return data.Sample{Image: img, Label: r.labels[i], Path: "region"}, nil
}

// RegionOptions configures BuildRegions.
type RegionOptions struct {
	Size int // the classifier's input size [32]
	// Context is R-CNN's context padding at Size [ContextFor(Size)];
	// negative means none.
	Context int
	// PosIoU is the overlap that makes a proposal a positive [0.5].
	PosIoU float64
	// PosFraction is the fraction of positives in the set [0.25].
	PosFraction float64
	// MaxPerObject caps the proposals kept as positives per class and
	// image (the best-overlapping ones; ground-truth boxes are always
	// kept) [0: all].
	MaxPerObject int
	Seed         uint64
}

func (o RegionOptions) withDefaults() RegionOptions {
	if o.Size == 0 {
		o.Size = 32
	}
	if o.Context == 0 {
		o.Context = ContextFor(o.Size)
	}
	if o.Context < 0 {
		o.Context = 0
	}
	if o.PosIoU == 0 {
		o.PosIoU = 0.5
	}
	if o.PosFraction == 0 {
		o.PosFraction = 0.25
	}
	return o
}

// BuildRegions labels the proposals of anns with R-CNN's rule
// (LabelProposals), draws a set with PosFraction positives (Balance) and
// warps the chosen regions (Warp, the image's mean colour outside it).
// classes are the object classes (the set's Classes add the background).
func BuildRegions(ctx context.Context, anns []Annotation, props *Proposals, classes []string, o RegionOptions) (*RegionSet, error) {
	o = o.withDefaults()
	index := map[string]int{}
	for i, c := range classes {
		index[c] = i
	}
	type item struct {
		img int
		Labelled
	}
	var all []Labelled
	var owner []int
	for i, a := range anns {
		ps, ok := props.Boxes[a.ID]
		if !ok {
			return nil, errors.Errorf("detection: no proposals for image %s", a.ID)
		}
		ls := LabelProposals(ps, a.Objects, index, o.PosIoU)
		if o.MaxPerObject > 0 {
			ls = capPositives(ls, o.MaxPerObject)
		}
		for _, l := range ls {
			all = append(all, l)
			owner = append(owner, i)
		}
	}
	// Balance by index so that every region keeps its image.
	tagged := make([]Labelled, len(all))
	for i, l := range all {
		tagged[i] = l
		tagged[i].IoU = float64(i) // carries the index through Balance
	}
	chosen := Balance(tagged, o.PosFraction, o.Seed)
	if chosen == nil {
		return nil, errors.New("detection: no positive regions (no objects of the classes?)")
	}
	byImage := make([][]int, len(anns))
	for _, c := range chosen {
		k := int(c.IoU)
		byImage[owner[k]] = append(byImage[owner[k]], k)
	}
	rs := &RegionSet{Size: o.Size, classes: append([]string{BackgroundName}, classes...)}
	n := o.Size * o.Size * 3
	rs.pix = make([]uint8, 0, len(chosen)*n)
	var dst *image.RGBA
	for i := range anns {
		if len(byImage[i]) == 0 {
			continue
		}
		if err := ctx.Err(); err != nil {
			return nil, errors.Wrap(err, "detection: regions")
		}
		img, err := LoadImage(&anns[i])
		if err != nil {
			return nil, err
		}
		p := RGBPlanes(img)
		fill := MeanColour(p)
		for _, k := range byImage[i] {
			l := all[k]
			dst = Warp(dst, p, l.Box, o.Size, o.Context, fill)
			for q := 0; q < o.Size*o.Size; q++ {
				rs.pix = append(rs.pix, dst.Pix[4*q], dst.Pix[4*q+1], dst.Pix[4*q+2])
			}
			rs.labels = append(rs.labels, l.Label)
			if l.Label != Background {
				rs.Positives++
			}
			if l.GT {
				rs.GT++
			}
		}
	}
	// Shuffle so that the first images (whose statistics normalise the
	// inputs) are a fair sample.
	rng := rand.New(rand.NewPCG(o.Seed, 7))
	perm := rng.Perm(len(rs.labels))
	pix := make([]uint8, len(rs.pix))
	labels := make([]int, len(rs.labels))
	for to, from := range perm {
		copy(pix[to*n:(to+1)*n], rs.pix[from*n:(from+1)*n])
		labels[to] = rs.labels[from]
	}
	rs.pix, rs.labels = pix, labels
	return rs, nil
}

// capPositives keeps, for every object, the ground-truth box and its max
// best-overlapping proposals; background regions are kept.
func capPositives(ls []Labelled, max int) []Labelled {
	// Group positives by label and keep the highest IoU ones per label
	// within an image: objects of one class in one image share the cap,
	// which is close enough for the benchmark's few objects.
	type grp struct{ idx []int }
	groups := map[int]*grp{}
	var out []Labelled
	for i, l := range ls {
		if l.Label == Background || l.GT {
			out = append(out, l)
			continue
		}
		g := groups[l.Label]
		if g == nil {
			g = &grp{}
			groups[l.Label] = g
		}
		g.idx = append(g.idx, i)
	}
	keys := make([]int, 0, len(groups))
	for k := range groups {
		keys = append(keys, k)
	}
	sort.Ints(keys)
	for _, k := range keys {
		idx := groups[k].idx
		// selection of the max highest IoUs
		for a := 0; a < len(idx); a++ {
			for b := a + 1; b < len(idx); b++ {
				if ls[idx[b]].IoU > ls[idx[a]].IoU {
					idx[a], idx[b] = idx[b], idx[a]
				}
			}
		}
		if len(idx) > max {
			idx = idx[:max]
		}
		for _, i := range idx {
			out = append(out, ls[i])
		}
	}
	return out
}
