package serve

import (
	"context"
	"fmt"
	"image"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pkg/errors"

	"github.com/goinception/googlenet/cpu"
	"github.com/goinception/googlenet/eval"
	"github.com/goinception/googlenet/inception"
	"github.com/goinception/googlenet/ops"
	"github.com/goinception/googlenet/preprocess"
)

// Options configures a Classifier. The zero value is the default.
type Options struct {
	// Workers is the number of inference workers, each with its own graphs
	// and activations (0: GOMAXPROCS+1, at most 3). The compute engine
	// already spreads one forward pass over every core; the other workers
	// keep the cores busy while one gathers its batch and copies results
	// (on 2 cores, 3 workers served 6% more than 2 in the same load test).
	Workers int
	// MaxBatch is the most images in one forward pass (0: 8); the largest
	// of BatchSizes when they are given.
	MaxBatch int
	// BatchSizes are the batch sizes each worker has a graph for; a batch
	// runs on the smallest graph that holds it, padded with zeros (nil:
	// 1, 2, 4, ... below MaxBatch, and MaxBatch). Each costs its
	// activations per worker: []int{8} is the leanest, at the price of
	// running a lone image as a batch of 8.
	BatchSizes []int
	// MaxWait is how long a worker that has one image waits for more
	// before it runs a partial batch (0: 2ms; negative: it takes what is
	// queued and does not wait). Under load batches fill without waiting.
	MaxWait time.Duration
	// QueueSize is the most images waiting for a worker (0: 256). A call
	// that would exceed it fails at once with an *OverloadError.
	QueueSize int
	// TopK is the number of classes in Prediction.Top (0: 5).
	TopK int
	// MinSide is the shortest image side accepted (0: 16 pixels); smaller
	// images are refused with an *InputError (a 1x1 image carries nothing
	// to classify).
	MinSide int
	// MaxPixels is the largest image accepted, in pixels (0: 1<<26, about
	// 67 megapixels); larger ones are refused with an *InputError. (A
	// server checks its own limit before decoding; see DecodeImage.)
	MaxPixels int64
	// Labels are the class names (nil: those stored with the weights, else
	// the ImageNet names for 1000 classes, else the class numbers).
	Labels []string
	// Input is the input contract applied to every image (nil: the one
	// stored with the weights; see package preprocess).
	Input *preprocess.Contract
	// NoWarmup skips running every worker's graphs once on zeros in New.
	// The warm-up allocates all activations before the first request, so
	// that memory stays flat while serving and the first requests do not
	// pay for the allocation.
	NoWarmup bool
}

// withDefaults resolves the zero values.
func (o Options) withDefaults() Options {
	if o.Workers <= 0 {
		o.Workers = min(3, runtime.GOMAXPROCS(0)+1)
	}
	if len(o.BatchSizes) > 0 {
		o.MaxBatch = slices.Max(o.BatchSizes)
	}
	if o.MaxBatch <= 0 {
		o.MaxBatch = 8
	}
	if o.MaxWait == 0 {
		o.MaxWait = 2 * time.Millisecond
	}
	if o.QueueSize <= 0 {
		o.QueueSize = 256
	}
	if o.TopK <= 0 {
		o.TopK = 5
	}
	if o.MinSide <= 0 {
		o.MinSide = 16
	}
	if o.MaxPixels <= 0 {
		o.MaxPixels = 1 << 26
	}
	return o
}

// Errors of Classify and Embed (compare with errors.Is).
var (
	// ErrClosed: the classifier was closed.
	ErrClosed = errors.New("serve: classifier closed")
	// ErrOverloaded: the queue is full (the error is an *OverloadError).
	ErrOverloaded = errors.New("serve: overloaded")
)

// OverloadError says that a call's images did not fit in the queue. It
// matches ErrOverloaded. Nothing of the call was queued.
type OverloadError struct {
	Images   int // images of the refused call
	Queued   int // images waiting when it was refused
	Capacity int // Options.QueueSize
}

func (e *OverloadError) Error() string {
	return fmt.Sprintf("serve: overloaded: %d image(s) refused, %d of %d queue places taken", e.Images, e.Queued, e.Capacity)
}

// Is makes errors.Is(err, ErrOverloaded) true.
func (e *OverloadError) Is(target error) bool { return target == ErrOverloaded }

// InputError says that image Index of a call cannot be classified (nil,
// empty, smaller than MinSide, larger than MaxPixels). Nothing of the call was queued.
type InputError struct {
	Index int
	Err   error
}

func (e *InputError) Error() string { return fmt.Sprintf("serve: image %d: %v", e.Index, e.Err) }

// Unwrap returns the reason.
func (e *InputError) Unwrap() error { return e.Err }

// Prediction is the result of classifying one image.
type Prediction struct {
	// Top are the Options.TopK most probable classes, largest first.
	Top []eval.Class `json:"top"`
	// Probs are the softmax probabilities of every class.
	Probs  []float64 `json:"-"`
	labels []string
}

// TopK returns the k most probable classes, largest first (k capped at
// the number of classes).
func (p Prediction) TopK(k int) []eval.Class {
	return topClasses(p.Probs, k, p.labels)
}

func topClasses(p []float64, k int, labels []string) []eval.Class {
	idx := eval.TopK(p, k)
	out := make([]eval.Class, len(idx))
	for i, c := range idx {
		l := fmt.Sprint(c)
		if labels != nil {
			l = labels[c]
		}
		out[i] = eval.Class{Index: c, Label: l, Prob: p[c]}
	}
	return out
}

// Info describes the model a Classifier serves.
type Info struct {
	Source     string              `json:"source"`
	Variant    string              `json:"variant"`
	InputSize  int                 `json:"input_size"`
	Channels   int                 `json:"channels"`
	Classes    int                 `json:"classes"`
	Labels     bool                `json:"labels"` // class names known
	Features   int                 `json:"features"`
	Weights    int64               `json:"weight_bytes"`
	Input      preprocess.Contract `json:"input"` // the input contract applied
	Workers    int                 `json:"workers"`
	MaxBatch   int                 `json:"max_batch"`
	BatchSizes []int               `json:"batch_sizes"`
}

// Stats is a snapshot of a Classifier's counters.
type Stats struct {
	Queued  int   // images waiting for a worker
	Running int   // images in forward passes now
	Images  int64 // images through the network so far
	// Batches[n] is the number of forward passes that carried n images
	// (len MaxBatch+1; Batches[0] is always 0).
	Batches  []int64
	Forwards time.Duration // time spent in forward passes, all workers
}

// Classifier classifies and embeds images with one model from many
// goroutines at once.
//
// # Memory
//
// The weights are held once (Info.Weights bytes: 53.5 MB for the paper's
// GoogLeNet in float32, its auxiliary heads included). Each
// worker has one inference graph per batch size in Info.BatchSizes (1, 2,
// 4, ... up to MaxBatch; a batch of n runs on the smallest that holds
// it, padded with zeros), whose activations are allocated on its first
// run (in New, unless NoWarmup) and kept. So the resident memory is about
//
//	weights + Workers * sum(BatchSizes) * activations per image
//
// plus the queued images (QueueSize * channels*input*input*4 bytes) and
// the process's baseline; docs/serving.md gives the measured terms.
//
// # Batching
//
// Every image of every call goes into one bounded queue. A free worker
// takes the first queued image, waits up to MaxWait for more (at most
// MaxBatch), and runs them in one forward pass, so the images of
// different callers share a pass. Under load the queue is never empty and
// batches are full without waiting.
type Classifier struct {
	model    *inception.Model
	cfg      inception.Config
	o        Options
	info     Info
	contract preprocess.Contract
	plane    int

	mu      sync.RWMutex // guards closed against queue sends
	closed  bool
	queue   chan *item
	pending atomic.Int64 // places reserved in queue
	gather  sync.Mutex   // one worker gathers a batch at a time
	wg      sync.WaitGroup

	// inputs recycles the rendered input planes: a plane (600 KB at 224)
	// goes from the request that renders it to the worker that copies it
	// into its batch, which returns it.
	inputs sync.Pool

	workers  []*worker
	running  atomic.Int64
	images   atomic.Int64
	forwards atomic.Int64 // nanoseconds
	batches  []atomic.Int64
}

// item is one image in the queue.
type item struct {
	ctx  context.Context
	x    []float32 // the input plane
	done chan result
}

// input returns a plane for one rendered image, recycled when possible.
func (c *Classifier) input() []float32 {
	if p, ok := c.inputs.Get().(*[]float32); ok {
		return *p
	}
	return make([]float32, c.plane)
}

// recycle returns the input plane of it, which nothing reads any more.
func (c *Classifier) recycle(it *item) {
	if it.x != nil {
		x := it.x
		it.x = nil
		c.inputs.Put(&x)
	}
}

type result struct {
	probs    []float64
	features []float32
	err      error
}

// Load loads the weights at path (any file eval.LoadModel reads) and
// returns a Classifier over them, computing on engine (nil: the fast CPU
// engine, cpu.New with its defaults, which also runs Gorgonia's matrix
// products).
func Load(path string, engine ops.Engine, o Options) (*Classifier, error) {
	if engine == nil {
		cpu.UseWithGorgonia()
		engine = cpu.New(cpu.Options{})
	}
	m, meta, err := eval.LoadModel(path, eval.LoadOptions{Engine: engine})
	if err != nil {
		return nil, err
	}
	return New(m, meta, o)
}

// New returns a Classifier over m, whose input normalisation and labels
// are described by meta (as eval.LoadModel returns them). The Classifier
// owns m from now on: nothing else may use or change it until Close
// returns. It builds every worker's graphs before returning.
func New(m *inception.Model, meta eval.Meta, o Options) (*Classifier, error) {
	c, err := build(m, meta, o)
	if err != nil {
		return nil, err
	}
	c.start()
	return c, nil
}

// build is New without starting the workers: calls queue their images
// until start (tests use it to hold the workers).
func build(m *inception.Model, meta eval.Meta, o Options) (*Classifier, error) {
	o = o.withDefaults()
	cfg := m.Config()
	meta.Config = cfg
	labels, err := labelsOf(cfg, meta, o)
	if err != nil {
		return nil, err
	}
	o.Labels = labels
	contract, err := contractOf(m, meta, o)
	if err != nil {
		return nil, err
	}
	o.Input = &contract
	if o.TopK > cfg.Classes {
		o.TopK = cfg.Classes
	}
	c := &Classifier{
		model: m, cfg: cfg, o: o, contract: contract,
		plane:   cfg.InChannels * cfg.InputSize * cfg.InputSize,
		queue:   make(chan *item, o.QueueSize),
		batches: make([]atomic.Int64, o.MaxBatch+1),
	}
	sizes, err := batchSizes(o)
	if err != nil {
		return nil, err
	}
	var weights int64
	for _, p := range m.Params() {
		weights += int64(p.Value.MemSize())
	}
	c.info = Info{
		Source: meta.Source, Variant: cfg.Variant, InputSize: cfg.InputSize, Channels: cfg.InChannels,
		Classes: cfg.Classes, Labels: labels != nil, Weights: weights, Input: contract,
		Workers: o.Workers, MaxBatch: o.MaxBatch, BatchSizes: sizes,
	}
	workers := make([]*worker, o.Workers)
	for i := range workers {
		w, err := newWorker(c, sizes)
		if err != nil {
			return nil, err
		}
		workers[i] = w
	}
	c.info.Features = workers[0].features
	if !o.NoWarmup {
		for _, w := range workers {
			if err := w.warmup(); err != nil {
				return nil, err
			}
		}
	}
	c.workers = workers
	c.wg.Add(len(workers)) // Close waits for workers started later
	return c, nil
}

// start runs the workers.
func (c *Classifier) start() {
	for _, w := range c.workers {
		go w.loop()
	}
}

// batchSizes are the graph batch sizes of a worker, increasing: the
// options' or powers of two below MaxBatch, and MaxBatch.
func batchSizes(o Options) ([]int, error) {
	if len(o.BatchSizes) > 0 {
		s := slices.Clone(o.BatchSizes)
		slices.Sort(s)
		s = slices.Compact(s)
		if s[0] < 1 {
			return nil, errors.Errorf("serve: batch size %d", s[0])
		}
		return s, nil
	}
	var s []int
	for n := 1; n < o.MaxBatch; n *= 2 {
		s = append(s, n)
	}
	return append(s, o.MaxBatch), nil
}

// Info describes the served model and the classifier's settings.
func (c *Classifier) Info() Info { return c.info }

// Stats returns the current counters.
func (c *Classifier) Stats() Stats {
	s := Stats{
		Queued: int(c.pending.Load()), Running: int(c.running.Load()), Images: c.images.Load(),
		Batches: make([]int64, len(c.batches)), Forwards: time.Duration(c.forwards.Load()),
	}
	for i := range c.batches {
		s.Batches[i] = c.batches[i].Load()
	}
	return s
}

// Classify returns the prediction of each image (decoded, of any size;
// the input contract of the weights is applied here). It blocks until
// every image has been through the network, ctx is done (ctx.Err() is
// returned; images still queued are dropped unrun), or fails at once with
// an *InputError, an *OverloadError or ErrClosed.
func (c *Classifier) Classify(ctx context.Context, imgs ...image.Image) ([]Prediction, error) {
	rs, err := c.submit(ctx, imgs)
	if err != nil {
		return nil, err
	}
	out := make([]Prediction, len(rs))
	for i, r := range rs {
		out[i] = Prediction{Top: topClasses(r.probs, c.o.TopK, c.o.Labels), Probs: r.probs, labels: c.o.Labels}
	}
	return out, nil
}

// Embed returns the pool5 features of each image (Info.Features values
// each, 1024 for Table 1): the input of the classifier, for retrieval or
// transfer learning. Errors as Classify.
func (c *Classifier) Embed(ctx context.Context, imgs ...image.Image) ([][]float32, error) {
	rs, err := c.submit(ctx, imgs)
	if err != nil {
		return nil, err
	}
	out := make([][]float32, len(rs))
	for i, r := range rs {
		out[i] = r.features
	}
	return out, nil
}

// Check returns an *InputError when img cannot be classified (nil, empty,
// a side under MinSide, over MaxPixels). Classify and Embed check every image this way.
func (c *Classifier) Check(img image.Image) error {
	if img == nil {
		return &InputError{Err: errors.New("nil image")}
	}
	b := img.Bounds()
	if b.Dx() < c.o.MinSide || b.Dy() < c.o.MinSide {
		return &InputError{Err: errors.Errorf("image of %dx%d pixels is smaller than the minimum %dx%d", b.Dx(), b.Dy(), c.o.MinSide, c.o.MinSide)}
	}
	if px := int64(b.Dx()) * int64(b.Dy()); px > c.o.MaxPixels {
		return &InputError{Err: errors.Errorf("image of %dx%d = %d pixels is over the limit of %d", b.Dx(), b.Dy(), px, c.o.MaxPixels)}
	}
	return nil
}

func (c *Classifier) submit(ctx context.Context, imgs []image.Image) ([]result, error) {
	if len(imgs) == 0 {
		return nil, nil
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	c.mu.RLock()
	closed := c.closed
	c.mu.RUnlock()
	if closed {
		return nil, ErrClosed
	}
	items := make([]*item, len(imgs))
	for i, img := range imgs {
		if err := c.Check(img); err != nil {
			err.(*InputError).Index = i
			c.recycleAll(items[:i])
			return nil, err
		}
		it := &item{ctx: ctx, x: c.input(), done: make(chan result, 1)}
		items[i] = it
		if err := render(c.contract, it.x, img); err != nil {
			c.recycleAll(items[:i+1])
			return nil, &InputError{Index: i, Err: err}
		}
	}
	if err := c.enqueue(items); err != nil {
		c.recycleAll(items)
		return nil, err
	}
	rs := make([]result, len(items))
	for i, it := range items {
		select {
		case r := <-it.done:
			if r.err != nil {
				return nil, r.err
			}
			rs[i] = r
		case <-ctx.Done():
			// Queued items see ctx done and are dropped by the worker
			// that takes them.
			return nil, ctx.Err()
		}
	}
	return rs, nil
}

// recycleAll recycles the planes of items that never reached the queue.
func (c *Classifier) recycleAll(items []*item) {
	for _, it := range items {
		c.recycle(it)
	}
}

// enqueue reserves queue places for all items or none, then sends them.
func (c *Classifier) enqueue(items []*item) error {
	n := int64(len(items))
	for {
		q := c.pending.Load()
		if q+n > int64(c.o.QueueSize) {
			return &OverloadError{Images: len(items), Queued: int(q), Capacity: c.o.QueueSize}
		}
		if c.pending.CompareAndSwap(q, q+n) {
			break
		}
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.closed {
		c.pending.Add(-n)
		return ErrClosed
	}
	for _, it := range items {
		c.queue <- it // never blocks: the places are reserved
	}
	return nil
}

// Close stops accepting images (calls fail with ErrClosed), lets the
// workers finish every queued image, and returns when they are done.
// Calling it again does nothing.
func (c *Classifier) Close() error {
	c.mu.Lock()
	if !c.closed {
		c.closed = true
		close(c.queue)
	}
	c.mu.Unlock()
	c.wg.Wait()
	return nil
}

// take returns the next batch: the first queued image whose context is
// alive, then more until max images or until MaxWait passed. It returns
// nil when the queue is closed and empty.
func (c *Classifier) take(batch []*item) []*item {
	c.gather.Lock()
	defer c.gather.Unlock()
	batch = batch[:0]
	add := func(it *item) {
		c.pending.Add(-1)
		if err := it.ctx.Err(); err != nil {
			c.recycle(it)
			it.done <- result{err: err}
			return
		}
		batch = append(batch, it)
	}
	for len(batch) == 0 {
		it, ok := <-c.queue
		if !ok {
			return nil
		}
		add(it)
	}
	var timeout <-chan time.Time
	if c.o.MaxWait > 0 {
		t := time.NewTimer(c.o.MaxWait)
		defer t.Stop()
		timeout = t.C
	}
	for len(batch) < c.o.MaxBatch {
		if timeout == nil {
			select {
			case it, ok := <-c.queue:
				if !ok {
					return batch
				}
				add(it)
				continue
			default:
				return batch
			}
		}
		select {
		case it, ok := <-c.queue:
			if !ok {
				return batch
			}
			add(it)
		case <-timeout:
			return batch
		}
	}
	return batch
}
