package data

import (
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"runtime"
	"sort"
	"strconv"
	"sync"

	pkgerrors "github.com/pkg/errors"
)

// LoaderOptions configures a Loader. Zero fields take the defaults in
// brackets.
type LoaderOptions struct {
	BatchSize int  // samples per batch [32]
	Shuffle   bool // shuffle each epoch by (Seed, epoch)
	Seed      uint64
	// DropLast drops the last incomplete batch. With sharding it also
	// trims every rank to the smallest shard, so all ranks take the same
	// number of steps.
	DropLast bool
	// Rank and World shard each epoch: the epoch's (shuffled) order is cut
	// into World contiguous slices, sizes differing by at most one, and
	// this loader reads slice Rank. [0 of 1]
	Rank, World int
	// Workers is the number of decoding goroutines [GOMAXPROCS].
	Workers int
	// Prefetch bounds the batches decoded ahead of the consumer [2*Workers].
	Prefetch int
	// Transform turns each image into the network input.
	Transform Transform
	// Strict makes an unreadable sample fail the epoch; otherwise it is
	// skipped (the batch is one shorter), reported to OnSkip and counted.
	Strict bool
	// OnSkip, if set, is called (from a worker goroutine) for each sample
	// skipped; it must be safe for concurrent use.
	OnSkip func(path string, err error)
}

// Batch is one mini-batch: N images as float32 NCHW, ready to copy into a
// tensor.Dense of shape (N, C, H, W), with their labels and dataset indices.
type Batch struct {
	X          []float32
	Labels     []int
	Indices    []int
	N, C, H, W int
	Epoch      int
	Step       int // batch number within the epoch, from 0
}

// Loader produces batches of a dataset with parallel decoding. Several
// epoch iterators may run at once (each has its own goroutines).
type Loader struct {
	ds      Dataset
	opts    LoaderOptions
	c, h, w int // output shape (h, w may be 0: per image)

	mu      sync.Mutex
	skipped map[string]string // path -> error message
}

// NewLoader checks the options against ds and returns a loader.
func NewLoader(ds Dataset, opts LoaderOptions) (*Loader, error) {
	if ds == nil || ds.Len() == 0 {
		return nil, pkgerrors.New("loader: empty dataset")
	}
	if opts.BatchSize == 0 {
		opts.BatchSize = 32
	}
	if opts.World == 0 {
		opts.World = 1
	}
	if opts.Workers == 0 {
		opts.Workers = runtime.GOMAXPROCS(0)
	}
	if opts.Prefetch == 0 {
		opts.Prefetch = 2 * opts.Workers
	}
	switch {
	case opts.BatchSize < 0:
		return nil, pkgerrors.Errorf("loader: batch size %d", opts.BatchSize)
	case opts.World < 1 || opts.Rank < 0 || opts.Rank >= opts.World:
		return nil, pkgerrors.Errorf("loader: rank %d of world %d", opts.Rank, opts.World)
	case opts.World > ds.Len():
		return nil, pkgerrors.Errorf("loader: world %d larger than the dataset (%d samples)", opts.World, ds.Len())
	case opts.Workers < 0 || opts.Prefetch < 0:
		return nil, pkgerrors.Errorf("loader: %d workers, prefetch %d", opts.Workers, opts.Prefetch)
	}
	c, h, w := ds.Shape()
	if err := opts.Transform.Validate(c); err != nil {
		return nil, pkgerrors.Wrap(err, "loader")
	}
	l := &Loader{ds: ds, opts: opts, skipped: map[string]string{}}
	l.c, l.h, l.w = opts.Transform.OutputShape(c, h, w)
	if l.Steps() == 0 {
		return nil, pkgerrors.Errorf("loader: batch size %d with DropLast leaves no batch of the %d samples per rank", opts.BatchSize, l.shardLen())
	}
	return l, nil
}

// Shape returns the channels, height and width of the batches (height and
// width 0 when they follow the images).
func (l *Loader) Shape() (c, h, w int) { return l.c, l.h, l.w }

// Dataset returns the loader's dataset.
func (l *Loader) Dataset() Dataset { return l.ds }

// ShardRange returns the half-open range [lo, hi) of an n-sample epoch
// order that rank reads out of world: contiguous, the first n%world ranks
// one longer.
func ShardRange(n, rank, world int) (lo, hi int) {
	q, r := n/world, n%world
	lo = rank*q + min(rank, r)
	hi = lo + q
	if rank < r {
		hi++
	}
	return lo, hi
}

// Order returns the dataset indices this loader reads in epoch, in order:
// a permutation of 0..Len-1 drawn from (Seed, epoch) when shuffling, then
// this rank's shard of it.
func (l *Loader) Order(epoch int) []int {
	n := l.ds.Len()
	order := make([]int, n)
	for i := range order {
		order[i] = i
	}
	if l.opts.Shuffle {
		rng := rand.New(rand.NewPCG(l.opts.Seed, 0x5eed0000_00000000^uint64(epoch)))
		rng.Shuffle(n, func(i, j int) { order[i], order[j] = order[j], order[i] })
	}
	lo, _ := ShardRange(n, l.opts.Rank, l.opts.World)
	return order[lo : lo+l.shardLen()]
}

// shardLen is the number of samples this rank reads per epoch.
func (l *Loader) shardLen() int {
	n := l.ds.Len()
	if l.opts.DropLast {
		return n / l.opts.World
	}
	lo, hi := ShardRange(n, l.opts.Rank, l.opts.World)
	return hi - lo
}

// Steps returns the number of batches this loader yields per epoch.
func (l *Loader) Steps() int {
	n := l.shardLen()
	if l.opts.DropLast {
		return n / l.opts.BatchSize
	}
	return (n + l.opts.BatchSize - 1) / l.opts.BatchSize
}

// Skipped returns the samples skipped so far (each path once, sorted),
// with the error that made each one unreadable.
func (l *Loader) Skipped() []SkipRecord {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]SkipRecord, 0, len(l.skipped))
	for p, e := range l.skipped {
		out = append(out, SkipRecord{Path: p, Err: e})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out
}

// SkippedCount returns the number of distinct samples skipped so far.
func (l *Loader) SkippedCount() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.skipped)
}

// SkipRecord names a skipped sample and why it was skipped.
type SkipRecord struct {
	Path string
	Err  string
}

// sampleRNG gives each (seed, epoch, index) its own random stream, so the
// augmentation of a sample does not depend on which goroutine decodes it.
func (l *Loader) sampleRNG(epoch, index int) *rand.Rand {
	return rand.New(rand.NewPCG(l.opts.Seed^0x9e3779b97f4a7c15, uint64(epoch)<<40^uint64(index)))
}

type result struct {
	b   *Batch
	err error
}

type job struct {
	step    int
	indices []int
	out     chan result
}

// Epoch starts decoding epoch number epoch and returns its iterator. The
// iterator must be closed (Close), which stops its goroutines; cancelling
// ctx stops them too.
func (l *Loader) Epoch(ctx context.Context, epoch int) *EpochIter {
	return l.EpochFrom(ctx, epoch, 0)
}

// EpochFrom is Epoch starting at batch number start (for resuming a run
// interrupted within an epoch): the batches are those Epoch yields from
// that step on, identical in content and numbering. A start beyond the
// last batch gives an empty epoch.
func (l *Loader) EpochFrom(ctx context.Context, epoch, start int) *EpochIter {
	ctx, cancel := context.WithCancel(ctx)
	it := &EpochIter{cancel: cancel, ctx: ctx}
	order := l.Order(epoch)
	bs := l.opts.BatchSize
	steps := l.Steps()
	jobs := make(chan job)
	it.pending = make(chan chan result, l.opts.Prefetch)
	it.wg.Add(1 + l.opts.Workers)
	go func() { // producer: hands out batches in order, at most Prefetch ahead
		defer it.wg.Done()
		defer close(jobs)
		defer close(it.pending)
		for s := max(start, 0); s < steps; s++ {
			idx := order[s*bs : min((s+1)*bs, len(order))]
			j := job{step: s, indices: idx, out: make(chan result, 1)}
			select {
			case it.pending <- j.out:
			case <-ctx.Done():
				return
			}
			select {
			case jobs <- j:
			case <-ctx.Done():
				return
			}
		}
	}()
	for w := 0; w < l.opts.Workers; w++ {
		go func() {
			defer it.wg.Done()
			for j := range jobs {
				b, err := l.makeBatch(ctx, epoch, j.step, j.indices)
				j.out <- result{b, err} // buffered: never blocks
			}
		}()
	}
	return it
}

// makeBatch decodes and transforms the samples of one batch.
func (l *Loader) makeBatch(ctx context.Context, epoch, step int, indices []int) (*Batch, error) {
	b := &Batch{C: l.c, H: l.h, W: l.w, Epoch: epoch, Step: step}
	dc, _, _ := l.ds.Shape()
	t := &l.opts.Transform
	for _, i := range indices {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		s, err := l.ds.Sample(i)
		if err == nil {
			h, w := b.H, b.W
			if h == 0 { // size follows the images: the first one fixes it
				bb := s.Image.Bounds()
				h, w = bb.Dy(), bb.Dx()
			}
			size := b.C * h * w
			if b.N == 0 && cap(b.X) < len(indices)*size {
				b.X = make([]float32, 0, len(indices)*size)
			}
			if b.N > 0 && (h != b.H || w != b.W) {
				err = pkgerrors.Errorf("image is %dx%d, batch is %dx%d (set Transform.Size)", w, h, b.W, b.H)
			} else if err = t.Apply(b.X[len(b.X):len(b.X)+size], s.Image, dc, l.sampleRNG(epoch, i)); err == nil {
				b.H, b.W = h, w
				b.X = b.X[:len(b.X)+size]
				b.Labels = append(b.Labels, s.Label)
				b.Indices = append(b.Indices, i)
				b.N++
				continue
			}
		}
		path := s.Path
		var se *SampleError
		if errors.As(err, &se) {
			path = se.Path
		}
		if path == "" {
			path = "#" + strconv.Itoa(i)
		}
		if l.opts.Strict {
			return nil, pkgerrors.Wrapf(err, "loader: epoch %d: sample %s", epoch, path)
		}
		l.mu.Lock()
		l.skipped[path] = err.Error()
		l.mu.Unlock()
		if l.opts.OnSkip != nil {
			l.opts.OnSkip(path, err)
		}
	}
	return b, nil
}

// EpochIter yields the batches of one epoch in order.
type EpochIter struct {
	ctx     context.Context
	cancel  context.CancelFunc
	pending chan chan result
	wg      sync.WaitGroup
	err     error
}

// Next returns the next batch, io.EOF after the last one, the context's
// error once it is cancelled or the iterator closed (context.Canceled), or
// a sample error in Strict mode. After an
// error every later call returns the same error.
func (it *EpochIter) Next() (*Batch, error) {
	if it.err != nil {
		return nil, it.err
	}
	if err := it.ctx.Err(); err != nil { // cancelled or closed
		it.err = err
		return nil, err
	}
	var ch chan result
	var ok bool
	select {
	case ch, ok = <-it.pending:
	case <-it.ctx.Done():
		it.err = it.ctx.Err()
		return nil, it.err
	}
	if !ok {
		if err := it.ctx.Err(); err != nil {
			it.err = err
		} else {
			it.err = io.EOF
		}
		return nil, it.err
	}
	select {
	case r := <-ch:
		if r.err != nil {
			it.err = r.err
			it.cancel()
			return nil, r.err
		}
		return r.b, nil
	case <-it.ctx.Done():
		it.err = it.ctx.Err()
		return nil, it.err
	}
}

// Close stops the epoch's goroutines and waits for them to exit. It is safe
// to call more than once.
func (it *EpochIter) Close() {
	it.cancel()
	it.wg.Wait()
}
