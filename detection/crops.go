package detection

import (
	"context"
	"image"
	"math/rand/v2"
	"slices"

	"github.com/pkg/errors"

	"github.com/goinception/googlenet/data"
	"github.com/goinception/googlenet/inception"
	"github.com/goinception/googlenet/train"
)

// CropOptions configures ObjectCrops. Zero fields take the defaults in
// brackets.
type CropOptions struct {
	Scene // the canvases, as MakeData makes them
	// Train and Val are the numbers of crops [30000, 2000].
	Train, Val int
	Size       int // the classifier's input size [32]
	// Context is R-CNN's context padding at Size [ContextFor(Size)];
	// negative means none.
	Context int
	// PosFraction is the fraction of object crops; the rest are
	// background [0.5].
	PosFraction float64
	Seed        uint64
}

func (o CropOptions) withDefaults() CropOptions {
	defInt(&o.Train, 30000)
	defInt(&o.Val, 2000)
	defInt(&o.Size, 32)
	if o.Context == 0 {
		o.Context = ContextFor(o.Size)
	}
	if o.Context < 0 {
		o.Context = 0
	}
	if o.PosFraction == 0 {
		o.PosFraction = 0.5
	}
	return o
}

// ObjectCrops makes a classification dataset for pretraining a region
// classifier, the step R-CNN takes with ImageNet: canvases made as
// MakeData makes its training split (the training photographs, the
// objects' training split, the same scales and colours), and from them
// warped regions (Warp, with context) labelled as a region classifier's
// outputs are: BackgroundName, then the class names in the sorted order
// OpenVOC gives them. An object crop is the object's tight
// box (a quarter of them) or a box around it with IoU >= 0.5, as
// proposals that count as the object; a background crop overlaps every
// object with IoU < 0.5: half of them are boxes near an object (parts of
// it, or it with much around), half boxes anywhere of 8 pixels up to the
// canvas. No test photograph or test object is used. The validation split
// is drawn the same way with another stream of random numbers.
func ObjectCrops(ctx context.Context, o CropOptions) (*data.Splits, error) {
	o = o.withDefaults()
	if o.Train < 1 || o.Val < 1 || o.Size < 8 || o.PosFraction <= 0 || o.PosFraction > 1 {
		return nil, errors.Errorf("detection: crops: bad options (train %d, val %d, size %d, positives %g)", o.Train, o.Val, o.Size, o.PosFraction)
	}
	mo := MakeOptions{Scene: o.Scene, Seed: o.Seed}.withDefaults()
	if mo.MinCanvas < 32 || mo.MaxCanvas < mo.MinCanvas || mo.MinObject < 8 || mo.MaxObject < mo.MinObject || mo.MaxObject > mo.MinCanvas || mo.MaxObjects < 1 {
		return nil, errors.Errorf("detection: crops: bad sizes (canvas %d-%d, object %d-%d, objects %d)", mo.MinCanvas, mo.MaxCanvas, mo.MinObject, mo.MaxObject, mo.MaxObjects)
	}
	splits, names, _, err := openObjects(ctx, mo)
	if err != nil {
		return nil, err
	}
	trainBG, _, _, err := loadBackgrounds(mo.Backgrounds, mo.MinCanvas)
	if err != nil {
		return nil, err
	}
	// The labels of a region classifier trained on a VOC layout: the
	// background and the class names sorted (OpenVOC's order), so that
	// fine-tuning keeps the classifier.
	sorted := slices.Sorted(slices.Values(names))
	classes := append([]string{BackgroundName}, sorted...)
	make1 := func(n int, stream uint64) (*RegionSet, error) {
		rng := rand.New(rand.NewPCG(o.Seed, stream))
		rs := &RegionSet{Size: o.Size, classes: classes}
		index := map[string]int{}
		for i, c := range sorted {
			index[c] = i
		}
		np := o.Size * o.Size * 3
		rs.pix = make([]uint8, 0, n*np)
		var dst *image.RGBA
		for len(rs.labels) < n {
			if err := ctx.Err(); err != nil {
				return nil, errors.Wrap(err, "detection: crops")
			}
			img, ann, err := makeImage(rng, mo, trainBG[rng.IntN(len(trainBG))], splits.Train, names)
			if err != nil {
				return nil, err
			}
			p := RGBPlanes(img)
			fill := MeanColour(p)
			// as many crops from the canvas as it has objects, times two
			for k := 0; k < 2*len(ann.Objects) && len(rs.labels) < n; k++ {
				var box Box
				label := Background
				if rng.Float64() < o.PosFraction {
					obj := ann.Objects[rng.IntN(len(ann.Objects))]
					box = positiveBox(rng, obj.Box, ann.Width, ann.Height)
					label = index[obj.Name] + 1
				} else {
					var ok bool
					if box, ok = backgroundBox(rng, ann); !ok {
						continue
					}
				}
				dst = Warp(dst, p, box, o.Size, o.Context, fill)
				for q := 0; q < o.Size*o.Size; q++ {
					rs.pix = append(rs.pix, dst.Pix[4*q], dst.Pix[4*q+1], dst.Pix[4*q+2])
				}
				rs.labels = append(rs.labels, label)
				if label != Background {
					rs.Positives++
				}
			}
		}
		// crops of one canvas are neighbours; shuffle them apart
		perm := rng.Perm(len(rs.labels))
		pix := make([]uint8, len(rs.pix))
		labels := make([]int, len(rs.labels))
		for to, from := range perm {
			copy(pix[to*np:(to+1)*np], rs.pix[from*np:(from+1)*np])
			labels[to] = rs.labels[from]
		}
		rs.pix, rs.labels = pix, labels
		return rs, nil
	}
	tr, err := make1(o.Train, 101)
	if err != nil {
		return nil, err
	}
	va, err := make1(o.Val, 102)
	if err != nil {
		return nil, err
	}
	return &data.Splits{Name: "crops", Train: tr, Val: va}, nil
}

// positiveBox returns the tight box t (a quarter of the time) or a box
// whose corners are moved by up to a quarter of t's size with IoU >= 0.5
// with t, inside the w x h canvas.
func positiveBox(rng *rand.Rand, t Box, w, h int) Box {
	if rng.IntN(4) == 0 {
		return t
	}
	for try := 0; try < 20; try++ {
		j := func(s float64) float64 { return (2*rng.Float64() - 1) * 0.25 * s }
		b := Box{t.X1 + j(t.W()), t.Y1 + j(t.H()), t.X2 + j(t.W()), t.Y2 + j(t.H())}.Clip(w, h)
		if b.Valid() && IoU(b, t) >= 0.5 {
			return b
		}
	}
	return t
}

// backgroundBox returns a box of at least 8 pixels a side that overlaps
// every object of a with IoU < 0.5: half the time one near an object (its
// corners moved by up to 0.8 of its size), else one anywhere; false when
// 20 draws found none.
func backgroundBox(rng *rand.Rand, a *Annotation) (Box, bool) {
	near := rng.IntN(2) == 0
	for try := 0; try < 20; try++ {
		var b Box
		if near {
			t := a.Objects[rng.IntN(len(a.Objects))].Box
			j := func(s float64) float64 { return (2*rng.Float64() - 1) * 0.8 * s }
			b = Box{t.X1 + j(t.W()), t.Y1 + j(t.H()), t.X2 + j(t.W()), t.Y2 + j(t.H())}
		} else {
			bw := 8 + rng.Float64()*float64(a.Width-8)
			bh := 8 + rng.Float64()*float64(a.Height-8)
			x, y := rng.Float64()*(float64(a.Width)-bw), rng.Float64()*(float64(a.Height)-bh)
			b = Box{x, y, x + bw, y + bh}
		}
		b = b.Clip(a.Width, a.Height)
		if !b.Valid() || b.W() < 8 || b.H() < 8 {
			continue
		}
		ok := true
		for _, o := range a.Objects {
			if IoU(b, o.Box) >= 0.5 {
				ok = false
				break
			}
		}
		if ok {
			return b, true
		}
	}
	return Box{}, false
}

// PretrainConfig configures Pretrain.
type PretrainConfig struct {
	Crops CropOptions
	// Train is the training run (model, epochs, batch, rates, Out, seed);
	// its Data and Splits are set here and Model.InputSize is Crops.Size.
	Train train.Config
}

// Pretrain trains a region classifier's starting point on ObjectCrops:
// the classification model that R-CNN takes from ImageNet, here learnt from
// the benchmark's ingredients (training photographs and training objects).
// TrainConfig's Train.InitFrom then starts from its model. rep may be nil.
func Pretrain(ctx context.Context, c PretrainConfig, rep train.Reporter) (*train.Result, *data.Splits, error) {
	sp, err := ObjectCrops(ctx, c.Crops)
	if err != nil {
		return nil, nil, err
	}
	tc := c.Train
	tc.Data = ""
	tc.Splits = sp
	if len(tc.Model.Table) == 0 {
		tc.Model = inception.Mini()
	}
	tc.Model.InputSize = c.Crops.withDefaults().Size
	res, err := train.Run(ctx, tc, rep)
	return res, sp, err
}
