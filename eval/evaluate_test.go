package eval

import (
	"context"
	"image"
	"image/color"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/pkg/errors"

	"github.com/goinception/googlenet/data"
	"github.com/goinception/googlenet/inception"
)

// memDataset is a small in-memory dataset of gray images of any size.
type memDataset struct {
	imgs   []image.Image
	labels []int
	bad    map[int]bool // samples that fail to decode
}

func (d *memDataset) Len() int             { return len(d.imgs) }
func (d *memDataset) Classes() []string    { return nil }
func (d *memDataset) Shape() (c, h, w int) { return 1, 0, 0 }
func (d *memDataset) Sample(i int) (data.Sample, error) {
	if d.bad[i] {
		return data.Sample{}, &data.SampleError{Index: i, Path: "mem", Err: errors.New("broken")}
	}
	return data.Sample{Image: d.imgs[i], Label: d.labels[i], Path: "mem"}, nil
}

// noise returns n random gray images of w x h with labels cycling over k
// classes.
func noise(n, w, h, k int, seed uint64) *memDataset {
	r := rand.New(rand.NewPCG(seed, 1))
	d := &memDataset{}
	for i := 0; i < n; i++ {
		g := image.NewGray(image.Rect(0, 0, w, h))
		for j := range g.Pix {
			g.Pix[j] = uint8(r.IntN(256))
		}
		// A bright bar whose row depends on the label, so trained models
		// could tell the classes apart.
		y := (i % k) * h / k
		for x := 0; x < w; x++ {
			g.SetGray(x, y, color.Gray{Y: 255})
		}
		d.imgs = append(d.imgs, g)
		d.labels = append(d.labels, i%k)
	}
	return d
}

// miniModel builds a small untrained mini GoogLeNet with k classes.
func miniModel(t testing.TB, seed uint64, k int) Member {
	t.Helper()
	cfg := inception.Mini()
	cfg.Classes = k
	cfg.BatchSize = 1
	cfg.Seed = seed
	m, err := inception.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return Member{Model: m, Meta: Meta{Source: "seed" + string(rune('0'+seed)), Config: cfg, Means: []float32{33}, Stds: []float32{78}}}
}

// manual computes the ensemble probabilities of one image the long way:
// every crop forwarded alone, softmax, mean over crops, mean over models.
func manual(t *testing.T, members []Member, img image.Image, s Scheme) []float64 {
	t.Helper()
	cfg := members[0].Model.Config()
	b := img.Bounds()
	crops, err := s.Crops(b.Dx(), b.Dy(), cfg.InputSize)
	if err != nil {
		t.Fatal(err)
	}
	plane := cfg.InChannels * cfg.InputSize * cfg.InputSize
	x := make([]float32, len(crops)*plane)
	if err := Render(x, img, crops, cfg.InputSize, cfg.InChannels, members[0].Meta.Means, members[0].Meta.Stds); err != nil {
		t.Fatal(err)
	}
	ens := make([]float64, cfg.Classes)
	for _, m := range members {
		f := newGraphForwarder(m.Model, 1)
		avg := make([]float64, cfg.Classes)
		for c := range crops {
			y, err := f.run(x[c*plane:(c+1)*plane], 1)
			if err != nil {
				t.Fatal(err)
			}
			p := make([]float64, cfg.Classes)
			Softmax(p, y)
			for j := range p {
				avg[j] += p[j] / float64(len(crops))
			}
		}
		for j := range avg {
			ens[j] += avg[j] / float64(len(members))
		}
	}
	return ens
}

// batchTol bounds the difference between logits of the same input forwarded
// alone and inside a batch (float32 sums in another order), carried into
// probabilities.
const batchTol = 1e-5

// Evaluate's batched, padded, averaged probabilities equal the ones computed
// crop by crop; its score follows from them; each member's own score is that
// of a one-model ensemble.
func TestEvaluateMatchesManual(t *testing.T) {
	members := []Member{miniModel(t, 1, 4), miniModel(t, 2, 4)}
	ds := noise(5, 40, 30, 4, 1)
	for _, s := range []Scheme{Center, Ten} {
		probs := map[int][]float64{}
		res, err := Evaluate(context.Background(), members, ds, Options{
			Crops: s, BatchSize: 7, Workers: 2,
			OnImage: func(i, label int, p []float64) { probs[i] = append([]float64(nil), p...) },
		})
		if err != nil {
			t.Fatal(err)
		}
		var want Score
		for i := range ds.imgs {
			m := manual(t, members, ds.imgs[i], s)
			if !near(probs[i], m, batchTol) {
				t.Errorf("%s crops, image %d: %v, crop by crop %v", s, i, probs[i], m)
			}
			want.Add(m, ds.labels[i])
		}
		if res.Score != want {
			t.Errorf("%s crops: score %+v, want %+v", s, res.Score, want)
		}
		if res.Models != 2 || res.Crops != s.N() || res.Cost != 2*s.N() || math.Abs(res.Forwards-float64(2*s.N())) > 1e-9 {
			t.Errorf("%s crops: models %d, crops %d, cost %d, forwards %v", s, res.Models, res.Crops, res.Cost, res.Forwards)
		}
		one, err := Evaluate(context.Background(), members[1:], ds, Options{Crops: s})
		if err != nil {
			t.Fatal(err)
		}
		if one.Score != res.PerModel[1].Score {
			t.Errorf("%s crops: member 1 alone %+v, in the ensemble %+v", s, one.Score, res.PerModel[1].Score)
		}
	}
}

// Forwarding each distinct crop once, weighted by its count, gives the same
// probabilities at a third of the cost on square images.
func TestEvaluateDedup(t *testing.T) {
	members := []Member{miniModel(t, 3, 3)}
	ds := noise(2, 28, 28, 3, 2)
	get := func(dedup bool) ([][]float64, *Result) {
		var ps [][]float64
		res, err := Evaluate(context.Background(), members, ds, Options{
			Crops: MultiScale, Dedup: dedup, BatchSize: 48,
			OnImage: func(i, label int, p []float64) { ps = append(ps, append([]float64(nil), p...)) },
		})
		if err != nil {
			t.Fatal(err)
		}
		return ps, res
	}
	all, r1 := get(false)
	dd, r2 := get(true)
	for i := range all {
		if !near(all[i], dd[i], batchTol) {
			t.Errorf("image %d: %v, deduplicated %v", i, all[i], dd[i])
		}
	}
	if math.Abs(r1.Forwards-144) > 1e-9 || math.Abs(r2.Forwards-48) > 1e-9 || r2.Cost != 144 {
		t.Errorf("forwards per image %v and %v (cost %d), want 144 and 48 (144)", r1.Forwards, r2.Forwards, r2.Cost)
	}
}

func TestEvaluateSkipsAndErrors(t *testing.T) {
	m := miniModel(t, 1, 4)
	ds := noise(4, 28, 28, 4, 3)
	ds.bad = map[int]bool{2: true}
	var progress []int
	res, err := Evaluate(context.Background(), []Member{m}, ds, Options{Workers: 1, BatchSize: 1, Progress: func(done, total int) { progress = append(progress, done) }})
	if err != nil {
		t.Fatal(err)
	}
	if res.Skipped != 1 || res.Score.Images != 3 {
		t.Errorf("skipped %d, scored %d; want 1 and 3", res.Skipped, res.Score.Images)
	}
	if len(progress) == 0 || progress[len(progress)-1] != 4 {
		t.Errorf("progress %v, want to end at 4", progress)
	}
	if _, err := Evaluate(context.Background(), []Member{m}, ds, Options{Strict: true}); err == nil || !strings.Contains(err.Error(), "broken") {
		t.Errorf("strict: %v", err)
	}
	if res, err := Evaluate(context.Background(), []Member{m}, ds, Options{Limit: 2}); err != nil || res.Score.Images != 2 {
		t.Errorf("limit 2: %v, %v", res, err)
	}

	other := miniModel(t, 2, 5)
	bigLabel := noise(2, 28, 28, 6, 4)
	bigLabel.labels[1] = 4
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for _, c := range []struct {
		name    string
		members []Member
		ds      data.Dataset
		o       Options
		want    string
	}{
		{"no models", nil, ds, Options{}, "no models"},
		{"classes differ", []Member{m, other}, ds, Options{}, "equal inputs and classes"},
		{"scheme", []Member{m}, ds, Options{Crops: "7"}, "schemes"},
		{"negative batch", []Member{m}, ds, Options{BatchSize: -1}, "negative"},
		{"label", []Member{m}, bigLabel, Options{Strict: true}, "label 4"},
		{"labels vs classes", []Member{{Model: m.Model, Meta: Meta{Labels: []string{"a", "b", "c", "d"}}}}, labelled{ds}, Options{}, "classes"},
	} {
		_, err := Evaluate(context.Background(), c.members, c.ds, c.o)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want an error with %q", c.name, err, c.want)
		}
	}
	if _, err := Evaluate(ctx, []Member{m}, ds, Options{}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
	normDiff := Member{Model: other.Model, Meta: Meta{Means: []float32{1}}}
	if _, err := Evaluate(context.Background(), []Member{miniModel(t, 9, 5), normDiff}, ds, Options{}); err == nil || !strings.Contains(err.Error(), "normalise") {
		t.Errorf("normalisation differs: %v", err)
	}
}

// labelled gives a dataset class names.
type labelled struct{ *memDataset }

func (labelled) Classes() []string { return []string{"w", "x", "y", "z"} }
