package serve

import (
	"time"

	"github.com/pkg/errors"
	"gorgonia.org/tensor"

	"github.com/goinception/googlenet/eval"
	"github.com/goinception/googlenet/inception"
)

// worker runs batches on its own graphs, one per batch size.
type worker struct {
	c        *Classifier
	graphs   []graphOf // by increasing batch size
	classes  int
	features int
}

// graphOf is one inference graph and its input buffer.
type graphOf struct {
	r   *inception.Runner
	x   *tensor.Dense
	f32 []float32 // x's backing, float32 models
	f64 []float64 // x's backing, float64 models
}

func newWorker(c *Classifier, sizes []int) (*worker, error) {
	w := &worker{c: c, classes: c.cfg.Classes}
	for _, n := range sizes {
		r, err := c.model.NewRunner(n)
		if err != nil {
			return nil, errors.Wrapf(err, "serve: graph for batch %d", n)
		}
		g := graphOf{r: r}
		shape := []int{n, c.cfg.InChannels, c.cfg.InputSize, c.cfg.InputSize}
		if c.cfg.Dtype == tensor.Float64 {
			g.f64 = make([]float64, n*c.plane)
			g.x = tensor.New(tensor.WithShape(shape...), tensor.WithBacking(g.f64))
		} else {
			g.f32 = make([]float32, n*c.plane)
			g.x = tensor.New(tensor.WithShape(shape...), tensor.WithBacking(g.f32))
		}
		w.graphs = append(w.graphs, g)
	}
	l, err := c.model.FeatureLayer(inception.DefaultFeatureLayer)
	if err != nil {
		return nil, errors.Wrap(err, "serve")
	}
	w.features = l.Output[0] // [F,1,1] for the flattened pool
	return w, nil
}

// warmup runs every graph once on zeros, allocating its activations.
func (w *worker) warmup() error {
	for _, g := range w.graphs {
		clear(g.f32)
		clear(g.f64)
		if _, err := g.r.Run(g.x); err != nil {
			return errors.Wrapf(err, "serve: warm-up of batch %d", g.r.Batch())
		}
	}
	return nil
}

func (w *worker) loop() {
	defer w.c.wg.Done()
	var batch []*item
	for {
		batch = w.c.take(batch)
		if batch == nil {
			return
		}
		w.run(batch)
	}
}

// run forwards the batch and answers every item.
func (w *worker) run(batch []*item) {
	c := w.c
	n := len(batch)
	c.running.Add(int64(n))
	g := w.graphs[len(w.graphs)-1]
	for _, h := range w.graphs {
		if h.r.Batch() >= n {
			g = h
			break
		}
	}
	plane := c.plane
	if g.f32 != nil {
		for i, it := range batch {
			copy(g.f32[i*plane:(i+1)*plane], it.x)
		}
		clear(g.f32[n*plane:])
	} else {
		for i, it := range batch {
			dst := g.f64[i*plane : (i+1)*plane]
			for j, v := range it.x {
				dst[j] = float64(v)
			}
		}
		clear(g.f64[n*plane:])
	}
	for _, it := range batch {
		c.recycle(it)
	}
	start := time.Now()
	out, err := g.r.Run(g.x)
	c.forwards.Add(int64(time.Since(start)))
	var rs []result
	if err == nil {
		rs, err = w.results(n, out)
	}
	// Counters first, so that a caller that has its answer sees them.
	c.running.Add(-int64(n))
	if err != nil {
		for _, it := range batch {
			it.done <- result{err: errors.Wrap(err, "serve")}
		}
		return
	}
	c.images.Add(int64(n))
	c.batches[n].Add(1)
	for i, it := range batch {
		it.done <- rs[i]
	}
}

// results copies each image's row of the outputs out of the graph's
// buffers.
func (w *worker) results(n int, out inception.Outputs) ([]result, error) {
	k, d := w.classes, w.features
	if s := out.Features.Shape(); len(s) != 2 || s[1] != d {
		return nil, errors.Errorf("features of shape %v, want [N %d]", s, d)
	}
	logits, err := rows(out.Logits, n*k)
	if err != nil {
		return nil, err
	}
	feats, err := rows(out.Features, n*d)
	if err != nil {
		return nil, err
	}
	rs := make([]result, n)
	for i := range rs {
		p := make([]float64, k)
		eval.Softmax(p, logits[i*k:(i+1)*k])
		f := make([]float32, d)
		for j := range f {
			f[j] = float32(feats[i*d+j])
		}
		rs[i] = result{probs: p, features: f}
	}
	return rs, nil
}

// rows returns the first n values of t as float64.
func rows(t *tensor.Dense, n int) ([]float64, error) {
	out := make([]float64, n)
	switch v := t.Data().(type) {
	case []float32:
		if len(v) < n {
			break
		}
		for i := range out {
			out[i] = float64(v[i])
		}
		return out, nil
	case []float64:
		if len(v) < n {
			break
		}
		copy(out, v)
		return out, nil
	}
	return nil, errors.Errorf("output of shape %v and dtype %v, want %d values", t.Shape(), t.Dtype(), n)
}
