package eval

import (
	"context"
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/pkg/errors"

	"github.com/goinception/googlenet/cuda"
	"github.com/goinception/googlenet/data"
)

// Options configures Evaluate. Zero fields take the defaults in brackets.
type Options struct {
	// Crops is the crop scheme [Center].
	Crops Scheme
	// BatchSize is the number of crops per forward pass [64]. The last
	// batch is padded, so every pass has the same size.
	BatchSize int
	// Limit evaluates only the first Limit images [all].
	Limit int
	// Workers is the number of goroutines that decode and crop images
	// [GOMAXPROCS].
	Workers int
	// Strict makes an unreadable image an error; otherwise it is skipped
	// and counted in Result.Skipped.
	Strict bool
	// Dedup forwards each distinct crop once and weights it by its count,
	// which gives the same averages (up to rounding) at a lower cost: the
	// 144 crops of a square image are 48 distinct ones.
	Dedup bool
	// OnImage, if set, is called for every image evaluated, in dataset
	// order, with its index, its label and the ensemble's averaged class
	// probabilities (for confusion matrices, error analysis, tests). probs
	// must not be kept.
	OnImage func(index, label int, probs []float64)
	// Progress, if set, is called after each group of images with the
	// number of images done and the total.
	Progress func(done, total int)
	// Device, when not nil, runs every member's forward passes on it as a
	// device-resident cuda.Net in evaluation mode (googlenet eval --device
	// gpu); the crops, their preprocessing and the averaging are the
	// same. nil runs each member's inference graph on its engine.
	Device *cuda.Device
}

// ModelScore is one ensemble member's own score, measured in the same pass.
type ModelScore struct {
	Source string `json:"source"`
	Polyak bool   `json:"polyak"`
	Score
	Top1Error float64 `json:"top1_error"`
	Top5Error float64 `json:"top5_error"`
}

// Result is the outcome of one evaluation: a row of the paper's Table 3.
type Result struct {
	Dataset string `json:"dataset,omitempty"`
	// Models is the number of ensemble members, Scheme the crop scheme and
	// Crops the crops per image.
	Models int    `json:"models"`
	Scheme Scheme `json:"scheme"`
	Crops  int    `json:"crops"`
	// Cost is the forward passes per image the scheme asks for, Models x
	// Crops (the paper's "cost"). Forwards counts the passes actually run
	// per image (lower with Options.Dedup).
	Cost     int     `json:"cost"`
	Forwards float64 `json:"forwards_per_image"`
	// Score is the ensemble's score; PerModel each member's alone.
	Score    Score        `json:"score"`
	PerModel []ModelScore `json:"per_model"`
	Top1Err  float64      `json:"top1_error"`
	Top5Err  float64      `json:"top5_error"`
	Skipped  int          `json:"skipped"`
	Seconds  float64      `json:"seconds"`
	// ImagesPerSecond is the evaluation throughput (decoding, cropping and
	// all forward passes).
	ImagesPerSecond float64 `json:"images_per_second"`
}

// prepared is one image cropped and normalised.
type prepared struct {
	x      []float32 // crops, CHW each
	counts []int     // multiplicity of each crop (all 1 without Dedup)
	index  int
	label  int
	err    error
}

// checkMembers verifies that the members can share one set of crops.
func checkMembers(members []Member) error {
	if len(members) == 0 {
		return errors.New("eval: no models")
	}
	c0 := members[0].Model.Config()
	for i, m := range members {
		if m.Model == nil {
			return errors.Errorf("eval: model %d is nil", i)
		}
		c := m.Model.Config()
		if c.InputSize != c0.InputSize || c.InChannels != c0.InChannels || c.Classes != c0.Classes {
			return errors.Errorf("eval: %s takes %dx%dx%d and has %d classes, %s takes %dx%dx%d with %d classes: an ensemble needs equal inputs and classes",
				m.Name(), c.InChannels, c.InputSize, c.InputSize, c.Classes, members[0].Name(), c0.InChannels, c0.InputSize, c0.InputSize, c0.Classes)
		}
		if a, b := m.Contract(), members[0].Contract(); !sameContract(a, b) {
			return errors.Errorf("eval: %s and %s normalise their inputs differently (%v; %v)", m.Name(), members[0].Name(), a, b)
		}
		if m.Meta.Labels != nil && members[0].Meta.Labels != nil && !slices.Equal(m.Meta.Labels, members[0].Meta.Labels) {
			return errors.Errorf("eval: %s and %s have different class labels", m.Name(), members[0].Name())
		}
	}
	return nil
}

// Evaluate runs every member on the crops of each image of ds and scores the
// ensemble: each model's softmax probabilities are averaged over the crops,
// then over the models (equal weights), and the top-1 and top-5 predictions
// are compared with the labels. Each member's own score comes from the same
// pass. Members must agree on input size, channels, classes and
// normalisation; when they carry labels, these must equal ds's classes.
func Evaluate(ctx context.Context, members []Member, ds data.Dataset, o Options) (res *Result, err error) {
	start := time.Now()
	if err := checkMembers(members); err != nil {
		return nil, err
	}
	if o.Crops == "" {
		o.Crops = Center
	}
	if _, err := ParseScheme(string(o.Crops)); err != nil {
		return nil, err
	}
	if o.BatchSize < 0 || o.Limit < 0 || o.Workers < 0 {
		return nil, errors.Errorf("eval: negative batch size, limit or workers (%d, %d, %d)", o.BatchSize, o.Limit, o.Workers)
	}
	if o.BatchSize == 0 {
		o.BatchSize = 64
	}
	if o.Workers == 0 {
		o.Workers = runtime.GOMAXPROCS(0)
	}
	cfg := members[0].Model.Config()
	meta := members[0].Meta
	if meta.Labels != nil && ds.Classes() != nil && !slices.Equal(meta.Labels, ds.Classes()) {
		return nil, errors.Errorf("eval: the dataset's classes (%d) are not the model's labels (%d)", len(ds.Classes()), len(meta.Labels))
	}
	contract := members[0].Contract()
	if err := checkContract(contract, cfg); err != nil {
		return nil, err
	}
	n := ds.Len()
	if o.Limit > 0 && o.Limit < n {
		n = o.Limit
	}
	res = &Result{Models: len(members), Scheme: o.Crops, Crops: o.Crops.N(), Cost: len(members) * o.Crops.N()}
	for _, m := range members {
		res.PerModel = append(res.PerModel, ModelScore{Source: m.Name(), Polyak: m.Meta.Polyak})
	}
	fw := make([]forwarder, len(members))
	defer func() {
		if e := closeAll(fw); e != nil && err == nil {
			res, err = nil, errors.Wrap(e, "eval: releasing the device network")
		}
	}()
	for i, m := range members {
		if fw[i], err = newForwarder(o.Device, m.Model, o.BatchSize); err != nil {
			return nil, errors.Wrapf(err, "eval: %s", m.Name())
		}
	}
	plane := cfg.InChannels * cfg.InputSize * cfg.InputSize
	prep := func(i int) prepared {
		s, err := ds.Sample(i)
		if err != nil {
			return prepared{err: err}
		}
		if s.Label < 0 || s.Label >= cfg.Classes {
			return prepared{err: errors.Errorf("eval: sample %d (%s) has label %d, the model has %d classes", i, s.Path, s.Label, cfg.Classes)}
		}
		b := s.Image.Bounds()
		crops, err := o.Crops.Crops(b.Dx(), b.Dy(), cfg.InputSize)
		if err != nil {
			return prepared{err: errors.Wrapf(err, "sample %d (%s)", i, s.Path)}
		}
		var counts []int
		if o.Dedup {
			crops, counts = Distinct(crops)
		} else {
			counts = make([]int, len(crops))
			for j := range counts {
				counts[j] = 1
			}
		}
		x := make([]float32, len(crops)*plane)
		if err := RenderContract(x, s.Image, o.Crops, crops, contract); err != nil {
			return prepared{err: errors.Wrapf(err, "sample %d (%s)", i, s.Path)}
		}
		return prepared{x: x, counts: counts, index: i, label: s.Label}
	}

	// Images go through in groups: decoded and cropped in parallel, then
	// their crops are forwarded in fixed-size batches through each model.
	group := max(o.Workers, (4*o.BatchSize+o.Crops.N()-1)/o.Crops.N())
	var forwards int
	for lo := 0; lo < n; lo += group {
		if err := ctx.Err(); err != nil {
			return nil, errors.Wrap(err, "eval")
		}
		hi := min(n, lo+group)
		imgs := make([]prepared, hi-lo)
		var wg sync.WaitGroup
		next := make(chan int)
		for w := 0; w < o.Workers; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range next {
					imgs[i-lo] = prep(i)
				}
			}()
		}
		for i := lo; i < hi; i++ {
			next <- i
		}
		close(next)
		wg.Wait()

		var ok []prepared
		for _, p := range imgs {
			if p.err != nil {
				if o.Strict {
					return nil, errors.Wrap(p.err, "eval")
				}
				res.Skipped++
				continue
			}
			ok = append(ok, p)
		}
		if len(ok) == 0 {
			continue
		}
		// All crops of the group, back to back.
		var all []float32
		for _, p := range ok {
			all = append(all, p.x...)
		}
		total := len(all) / plane
		probs := make([][][]float64, len(members)) // [model][image] averaged probabilities
		for mi, f := range fw {
			logits := make([]float64, 0, total*cfg.Classes)
			for c0 := 0; c0 < total; c0 += o.BatchSize {
				c1 := min(total, c0+o.BatchSize)
				y, err := f.run(all[c0*plane:c1*plane], c1-c0)
				if err != nil {
					return nil, errors.Wrapf(err, "eval: %s", members[mi].Name())
				}
				logits = append(logits, y...)
			}
			forwards += total
			probs[mi] = make([][]float64, len(ok))
			at := 0
			for ii, p := range ok {
				rows := make([][]float64, len(p.counts))
				for r := range rows {
					rows[r] = logits[(at+r)*cfg.Classes : (at+r+1)*cfg.Classes]
				}
				at += len(rows)
				avg, err := AverageCrops(rows, p.counts)
				if err != nil {
					return nil, err
				}
				probs[mi][ii] = avg
				res.PerModel[mi].Add(avg, p.label)
			}
		}
		for ii, p := range ok {
			per := make([][]float64, len(members))
			for mi := range members {
				per[mi] = probs[mi][ii]
			}
			avg, err := AverageModels(per)
			if err != nil {
				return nil, err
			}
			res.Score.Add(avg, p.label)
			if o.OnImage != nil {
				o.OnImage(p.index, p.label, avg)
			}
		}
		if o.Progress != nil {
			o.Progress(hi, n)
		}
	}
	if res.Score.Images == 0 {
		return nil, errors.Errorf("eval: no image could be evaluated (%d skipped)", res.Skipped)
	}
	res.Top1Err = res.Score.Top1Err()
	for i := range res.PerModel {
		res.PerModel[i].Top1Error = res.PerModel[i].Top1Err()
		res.PerModel[i].Top5Error = res.PerModel[i].Top5Err()
	}
	res.Top5Err = res.Score.Top5Err()
	res.Forwards = float64(forwards) / float64(res.Score.Images)
	res.Seconds = time.Since(start).Seconds()
	res.ImagesPerSecond = float64(res.Score.Images) / res.Seconds
	return res, nil
}
