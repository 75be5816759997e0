package detection

import (
	"context"
	"math/rand/v2"

	"github.com/pkg/errors"

	"github.com/goinception/googlenet/data"
	"github.com/goinception/googlenet/inception"
	"github.com/goinception/googlenet/train"
)

// TrainConfig configures TrainClassifier.
type TrainConfig struct {
	// Images are the training split's annotated images and Classes the
	// object classes (VOCSet.Images and Classes).
	Images  []Annotation
	Classes []string
	// Proposals holds every image's proposals.
	Proposals *Proposals
	// ValFraction of the images (drawn by Regions.Seed) make the
	// validation regions that train reports on [0.1].
	ValFraction float64
	Regions     RegionOptions
	// Train is the training run: model, epochs, batch, rates, Out, seed.
	// Its Data and Splits are set here; Model.InputSize is Regions.Size.
	Train train.Config
}

// RegionCounts describes the region sets of a run.
type RegionCounts struct {
	TrainRegions, TrainPositives, TrainGT int
	ValRegions, ValPositives              int
	TrainImages, ValImages                int
}

// TrainClassifier fine-tunes a GoogLeNet as an R-CNN region classifier
// (the classes plus BackgroundName): regions of the training images are
// labelled and balanced (BuildRegions: IoU >= 0.5 positives, the rest
// background, 25% positives, ground-truth boxes as positives), warped with
// context, and train.Run trains on them with validation on regions of
// held-out training images. rep may be nil.
func TrainClassifier(ctx context.Context, c TrainConfig, rep train.Reporter) (*train.Result, *RegionCounts, error) {
	if len(c.Images) < 2 {
		return nil, nil, errors.Errorf("detection: train: %d images; need at least 2 (some are held out for validation)", len(c.Images))
	}
	if c.Proposals == nil {
		return nil, nil, errors.New("detection: train: no proposals")
	}
	if c.ValFraction == 0 {
		c.ValFraction = 0.1
	}
	if c.ValFraction < 0 || c.ValFraction >= 1 {
		return nil, nil, errors.Errorf("detection: train: ValFraction %g must be in (0, 1)", c.ValFraction)
	}
	ro := c.Regions.withDefaults()
	rng := rand.New(rand.NewPCG(ro.Seed, 11))
	perm := rng.Perm(len(c.Images))
	nVal := max(1, int(float64(len(c.Images))*c.ValFraction+0.5))
	var tr, va []Annotation
	for i, k := range perm {
		if i < nVal {
			va = append(va, c.Images[k])
		} else {
			tr = append(tr, c.Images[k])
		}
	}
	trainSet, err := BuildRegions(ctx, tr, c.Proposals, c.Classes, ro)
	if err != nil {
		return nil, nil, errors.Wrap(err, "detection: training regions")
	}
	vo := ro
	vo.Seed++
	valSet, err := BuildRegions(ctx, va, c.Proposals, c.Classes, vo)
	if err != nil {
		return nil, nil, errors.Wrap(err, "detection: validation regions")
	}
	counts := &RegionCounts{
		TrainRegions: trainSet.Len(), TrainPositives: trainSet.Positives, TrainGT: trainSet.GT,
		ValRegions: valSet.Len(), ValPositives: valSet.Positives, TrainImages: len(tr), ValImages: len(va),
	}
	tc := c.Train
	tc.Data = ""
	tc.Splits = &data.Splits{Name: "regions", Train: trainSet, Val: valSet}
	if len(tc.Model.Table) == 0 {
		tc.Model = inception.Mini()
	}
	tc.Model.InputSize = ro.Size
	res, err := train.Run(ctx, tc, rep)
	return res, counts, err
}
