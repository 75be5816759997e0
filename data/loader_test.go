package data

import (
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// slowDataset delays each sample by a random few hundred microseconds, so
// workers finish out of order, and counts the samples read.
type slowDataset struct {
	Dataset
	reads atomic.Int64
}

func (s *slowDataset) Sample(i int) (Sample, error) {
	s.reads.Add(1)
	time.Sleep(time.Duration(rand.IntN(500)) * time.Microsecond)
	return s.Dataset.Sample(i)
}

func synth(t *testing.T, spec string) *Splits {
	t.Helper()
	s, err := Open(context.Background(), spec)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// drain reads a whole epoch.
func drain(t *testing.T, l *Loader, epoch int) []*Batch {
	t.Helper()
	it := l.Epoch(context.Background(), epoch)
	defer it.Close()
	var out []*Batch
	for {
		b, err := it.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, b)
	}
}

func TestLoaderOrderAndDeterminism(t *testing.T) {
	s := synth(t, "synthetic:classes=5,train=53,size=20")
	opts := LoaderOptions{BatchSize: 8, Shuffle: true, Seed: 42, Transform: TrainTransform(12, ImageNetMeans, ImageNetStds)}
	var runs [][]*Batch
	for _, workers := range []int{1, 4} {
		o := opts
		o.Workers = workers
		l, err := NewLoader(&slowDataset{Dataset: s.Train}, o)
		if err != nil {
			t.Fatal(err)
		}
		if l.Steps() != 7 {
			t.Fatalf("steps %d, want 7", l.Steps())
		}
		bs := drain(t, l, 3)
		order := l.Order(3)
		pos := 0
		for k, b := range bs {
			if b.Step != k || b.Epoch != 3 || b.C != 3 || b.H != 12 || b.W != 12 || len(b.X) != b.N*3*12*12 {
				t.Fatalf("batch %d: step %d epoch %d shape %d %d %d %d len %d", k, b.Step, b.Epoch, b.N, b.C, b.H, b.W, len(b.X))
			}
			for j, idx := range b.Indices {
				if idx != order[pos] || b.Labels[j] != idx%5 {
					t.Fatalf("batch %d sample %d: index %d label %d, want index %d", k, j, idx, b.Labels[j], order[pos])
				}
				pos++
			}
		}
		if pos != 53 {
			t.Fatalf("epoch had %d samples", pos)
		}
		runs = append(runs, bs)
	}
	for k := range runs[0] {
		a, b := runs[0][k].X, runs[1][k].X
		for i := range a {
			if a[i] != b[i] {
				t.Fatalf("batch %d differs between 1 and 4 workers", k)
			}
		}
	}
	// Resuming within an epoch gives the same remaining batches.
	lr, _ := NewLoader(s.Train, opts)
	it := lr.EpochFrom(context.Background(), 3, 5)
	for k := 5; ; k++ {
		b, err := it.Next()
		if err == io.EOF {
			if k != 7 {
				t.Fatalf("resumed epoch ended at step %d", k)
			}
			break
		}
		if err != nil || b.Step != k || !slices.Equal(b.Indices, runs[0][k].Indices) || b.X[100] != runs[0][k].X[100] {
			t.Fatalf("resumed batch %d differs (%v)", k, err)
		}
	}
	it.Close()
	// Each batch holds exactly the transform of its samples under the
	// per-sample random stream.
	l, _ := NewLoader(s.Train, opts)
	b := runs[0][2]
	smp, _ := s.Train.Sample(b.Indices[1])
	x := make([]float32, 3*12*12)
	if err := opts.Transform.Apply(x, smp.Image, 3, l.sampleRNG(3, b.Indices[1])); err != nil {
		t.Fatal(err)
	}
	for i := range x {
		if x[i] != b.X[len(x)+i] {
			t.Fatal("batch layout differs from the per-sample transform")
		}
	}
	// Epochs reshuffle; no shuffle means dataset order.
	if o3, o4 := l.Order(3), l.Order(4); slices.Equal(o3, o4) {
		t.Error("epochs 3 and 4 have the same order")
	}
	l2, _ := NewLoader(s.Train, LoaderOptions{BatchSize: 8})
	for i, v := range l2.Order(9) {
		if v != i {
			t.Fatal("unshuffled order is not the identity")
		}
	}
}

func TestLoaderShardsCoverEpoch(t *testing.T) {
	s := synth(t, "synthetic:classes=3,train=50,size=8")
	for _, world := range []int{1, 3, 4, 7} {
		seen := make([]int, 50)
		for rank := 0; rank < world; rank++ {
			l, err := NewLoader(s.Train, LoaderOptions{BatchSize: 4, Shuffle: true, Seed: 1, Rank: rank, World: world, Workers: 2})
			if err != nil {
				t.Fatal(err)
			}
			for _, b := range drain(t, l, 2) {
				for _, i := range b.Indices {
					seen[i]++
				}
			}
		}
		for i, n := range seen {
			if n != 1 {
				t.Fatalf("world %d: sample %d read %d times", world, i, n)
			}
		}
		// DropLast gives every rank the same number of full batches.
		steps := -1
		for rank := 0; rank < world; rank++ {
			l, _ := NewLoader(s.Train, LoaderOptions{BatchSize: 4, Shuffle: true, Seed: 1, Rank: rank, World: world, DropLast: true})
			bs := drain(t, l, 0)
			if steps >= 0 && len(bs) != steps {
				t.Fatalf("world %d rank %d: %d steps, rank 0 had %d", world, rank, len(bs), steps)
			}
			steps = len(bs)
			for _, b := range bs {
				if b.N != 4 {
					t.Fatalf("DropLast batch of %d", b.N)
				}
			}
		}
	}
	for _, o := range []LoaderOptions{{Rank: 3, World: 3}, {BatchSize: 20, World: 3, DropLast: true},
		{BatchSize: -1}, {Workers: -2}, {World: 51}, {Transform: Transform{Crop: CropRandom}}} {
		if _, err := NewLoader(s.Train, o); err == nil {
			t.Errorf("%+v accepted", o)
		}
	}
}

// waitGoroutines waits until the goroutine count falls to at most n.
func waitGoroutines(t *testing.T, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > n {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<16)
			t.Fatalf("%d goroutines, want at most %d:\n%s", runtime.NumGoroutine(), n, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestLoaderCancelNoLeak(t *testing.T) {
	s := synth(t, "synthetic:classes=3,train=200,size=16")
	base := runtime.NumGoroutine()
	ds := &slowDataset{Dataset: s.Train}
	l, err := NewLoader(ds, LoaderOptions{BatchSize: 2, Workers: 3, Prefetch: 2, Transform: TrainTransform(8, nil, nil)})
	if err != nil {
		t.Fatal(err)
	}
	// Cancelling the context ends the epoch with its error.
	ctx, cancel := context.WithCancel(context.Background())
	it := l.Epoch(ctx, 0)
	if _, err := it.Next(); err != nil {
		t.Fatal(err)
	}
	cancel()
	if _, err := it.Next(); !errors.Is(err, context.Canceled) {
		t.Errorf("after cancel: %v", err)
	}
	it.Close()
	it.Close() // idempotent
	waitGoroutines(t, base)

	// Closing early, with no consumer, stops workers blocked on a full
	// queue; the queue bounds the read-ahead.
	ds.reads.Store(0)
	it = l.Epoch(context.Background(), 1)
	time.Sleep(50 * time.Millisecond)
	if r := ds.reads.Load(); r > int64(2*(2+3)) {
		t.Errorf("%d samples read ahead, want at most (prefetch+workers)*batch = 10", r)
	}
	it.Close()
	waitGoroutines(t, base)
	if _, err := it.Next(); err == nil {
		t.Error("Next after Close succeeded")
	}
}

func TestLoaderSkipsCorrupt(t *testing.T) {
	dir := makeFolder(t)
	s := synth(t, "folder:"+dir)
	var mu sync.Mutex
	var reported []string
	opts := LoaderOptions{
		BatchSize: 8, Workers: 2,
		Transform: EvalTransform(16, ImageNetMeans, ImageNetStds),
		OnSkip: func(path string, err error) {
			mu.Lock()
			reported = append(reported, path)
			mu.Unlock()
		},
	}
	l, err := NewLoader(s.Train, opts)
	if err != nil {
		t.Fatal(err)
	}
	for epoch := 0; epoch < 2; epoch++ {
		bs := drain(t, l, epoch)
		if len(bs) != 1 || bs[0].N != 4 || len(bs[0].X) != 4*3*16*16 {
			t.Fatalf("got %d batches, first with %d samples", len(bs), bs[0].N)
		}
	}
	if l.SkippedCount() != 1 || !strings.HasSuffix(l.Skipped()[0].Path, "corrupt.png") || len(reported) != 2 {
		t.Errorf("skipped %v, reported %v", l.Skipped(), reported)
	}
	opts.Strict = true
	l, _ = NewLoader(s.Train, opts)
	it := l.Epoch(context.Background(), 0)
	defer it.Close()
	if _, err := it.Next(); err == nil || !strings.Contains(err.Error(), "corrupt.png") {
		t.Errorf("strict: %v", err)
	}
	// Images of different sizes without Transform.Size are an error, not
	// a panic.
	l, _ = NewLoader(s.Train, LoaderOptions{BatchSize: 8, Strict: true})
	it2 := l.Epoch(context.Background(), 0)
	defer it2.Close()
	if _, err := it2.Next(); err == nil {
		t.Error("mixed sizes accepted")
	}
}
