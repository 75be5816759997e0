package serve

import (
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"math"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/goinception/googlenet/cpu"
	"github.com/goinception/googlenet/eval"
	"github.com/goinception/googlenet/inception"
	"github.com/goinception/googlenet/ops"
	"github.com/goinception/googlenet/preprocess"
)

// predictTol: Classify and eval.Predict (googlenet predict) run the same
// pipeline and network; they may differ by float32 rounding of the batch
// layout.
const predictTol = 1e-5

// miniModel is a randomly initialised mini network (1x28x28, 10 classes)
// with a normalisation, as a checkpoint would carry it.
func miniModel(t testing.TB, seed uint64) (*inception.Model, eval.Meta) {
	return miniModelOn(t, seed, nil)
}

// miniModelOn is miniModel computing on engine e (nil: ops.Reference).
func miniModelOn(t testing.TB, seed uint64, e ops.Engine) (*inception.Model, eval.Meta) {
	t.Helper()
	c := inception.Mini()
	c.Engine = e
	c.Seed = seed
	c.BatchSize = 1
	m, err := inception.New(c)
	if err != nil {
		t.Fatal(err)
	}
	labels := make([]string, c.Classes)
	for i := range labels {
		labels[i] = fmt.Sprintf("class-%d", i)
	}
	return m, eval.Meta{Source: "mini", Config: c, Labels: labels, Means: []float32{33}, Stds: []float32{78}}
}

func newMini(t testing.TB, o Options) *Classifier {
	return newMiniOn(t, nil, o)
}

func newMiniOn(t testing.TB, e ops.Engine, o Options) *Classifier {
	t.Helper()
	m, meta := miniModelOn(t, 1, e)
	c, err := New(m, meta, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// noise returns a w x h colour image of random pixels.
func noise(rng *rand.Rand, w, h int) image.Image {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for i := range img.Pix {
		img.Pix[i] = uint8(rng.UintN(256))
	}
	return img
}

func sameProbs(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestConcurrentMatchesAlone shares one Classifier between many
// goroutines, each classifying and embedding images of different sizes
// one or several at a time, so batches mix callers: every result must be
// exactly the one the image gets when it is classified alone. Run it with
// -race. It runs on the reference engine and on the fast CPU engine that
// googlenet serve uses.
func TestConcurrentMatchesAlone(t *testing.T) {
	t.Run("reference", func(t *testing.T) { testConcurrentMatchesAlone(t, nil) })
	t.Run("cpu", func(t *testing.T) { testConcurrentMatchesAlone(t, cpu.New(cpu.Options{})) })
}

func testConcurrentMatchesAlone(t *testing.T, e ops.Engine) {
	c := newMiniOn(t, e, Options{Workers: 2, MaxBatch: 4, MaxWait: time.Millisecond, QueueSize: 1024})
	rng := rand.New(rand.NewPCG(1, 2))
	imgs := make([]image.Image, 12)
	for i := range imgs {
		imgs[i] = noise(rng, 20+7*i, 60-3*i)
	}
	ctx := context.Background()
	alone := make([]Prediction, len(imgs))
	embAlone := make([][]float32, len(imgs))
	for i, img := range imgs {
		p, err := c.Classify(ctx, img)
		if err != nil {
			t.Fatal(err)
		}
		alone[i] = p[0]
		e, err := c.Embed(ctx, img)
		if err != nil {
			t.Fatal(err)
		}
		embAlone[i] = e[0]
	}
	if got := len(embAlone[0]); got != c.Info().Features || got != 112 {
		t.Fatalf("embedding of %d values, Info says %d, mini's pool5 has 112", got, c.Info().Features)
	}

	// The pipeline is googlenet predict's (one center crop).
	m, meta := miniModelOn(t, 1, e)
	for i, img := range imgs[:3] {
		want, err := eval.Predict([]eval.Member{{Model: m, Meta: meta}}, img, eval.Center, 10, nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range want {
			if d := math.Abs(alone[i].Probs[w.Index] - w.Prob); d > predictTol {
				t.Errorf("image %d class %d: Classify %g, eval.Predict %g", i, w.Index, alone[i].Probs[w.Index], w.Prob)
			}
		}
	}

	const goroutines, rounds = 24, 6
	var wg sync.WaitGroup
	errs := make(chan error, goroutines)
	for g := range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(g), 9))
			for range rounds {
				k := 1 + r.IntN(3)
				idx := make([]int, k)
				batch := make([]image.Image, k)
				for j := range idx {
					idx[j] = r.IntN(len(imgs))
					batch[j] = imgs[idx[j]]
				}
				if r.IntN(2) == 0 {
					ps, err := c.Classify(ctx, batch...)
					if err != nil {
						errs <- err
						return
					}
					for j, p := range ps {
						a := alone[idx[j]]
						if !sameProbs(p.Probs, a.Probs) || p.Top[0] != a.Top[0] {
							errs <- fmt.Errorf("goroutine %d: image %d: %v, alone %v", g, idx[j], p.Top, a.Top)
							return
						}
					}
				} else {
					es, err := c.Embed(ctx, batch...)
					if err != nil {
						errs <- err
						return
					}
					for j, e := range es {
						for d, v := range e {
							if v != embAlone[idx[j]][d] {
								errs <- fmt.Errorf("goroutine %d: image %d: feature %d = %g, alone %g", g, idx[j], d, v, embAlone[idx[j]][d])
								return
							}
						}
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	s := c.Stats()
	var multi int64
	for n, b := range s.Batches {
		if n > 1 {
			multi += b
		}
	}
	if multi == 0 {
		t.Errorf("no forward pass carried more than one image: %v", s.Batches)
	}
	if s.Queued != 0 || s.Running != 0 {
		t.Errorf("idle classifier reports %d queued, %d running", s.Queued, s.Running)
	}
	t.Logf("batch sizes %v", s.Batches)
}

func TestInputErrors(t *testing.T) {
	c := newMini(t, Options{})
	ctx := context.Background()
	ok := image.NewGray(image.Rect(0, 0, 30, 30))
	for _, tc := range []struct {
		name string
		img  image.Image
	}{
		{"nil", nil},
		{"1x1", image.NewGray(image.Rect(0, 0, 1, 1))},
		{"empty", image.NewGray(image.Rect(5, 5, 5, 5))},
		{"15x40", image.NewGray(image.Rect(0, 0, 15, 40))},
	} {
		_, err := c.Classify(ctx, ok, tc.img)
		var ie *InputError
		if !errors.As(err, &ie) || ie.Index != 1 {
			t.Errorf("%s: error %v, want an *InputError for image 1", tc.name, err)
		}
	}
	if s := c.Stats(); s.Images != 0 {
		t.Errorf("%d images ran; a refused call must queue nothing", s.Images)
	}
	if ps, err := c.Classify(ctx); err != nil || len(ps) != 0 {
		t.Errorf("no images: %v, %v", ps, err)
	}
}

func TestOverload(t *testing.T) {
	c := newMini(t, Options{QueueSize: 4})
	img := image.NewGray(image.Rect(0, 0, 28, 28))
	c.pending.Store(3) // three places taken
	_, err := c.Classify(context.Background(), img, img)
	var oe *OverloadError
	if !errors.Is(err, ErrOverloaded) || !errors.As(err, &oe) || oe.Images != 2 || oe.Queued != 3 || oe.Capacity != 4 {
		t.Fatalf("error %v, want an OverloadError for 2 images with 3 of 4 queued", err)
	}
	if got := c.pending.Load(); got != 3 {
		t.Fatalf("refused call left %d places taken, want 3", got)
	}
	c.pending.Store(0)
	if _, err := c.Classify(context.Background(), img, img); err != nil {
		t.Fatal(err)
	}
}

// newStalled is newMini with the workers not started: images wait in
// the queue until the returned function starts them.
func newStalled(t *testing.T, o Options) (*Classifier, func()) {
	t.Helper()
	m, meta := miniModel(t, 1)
	c, err := build(m, meta, o)
	if err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	start := func() { once.Do(c.start) }
	t.Cleanup(func() { start(); c.Close() })
	return c, start
}

func waitQueued(t *testing.T, c *Classifier, n int) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); c.Stats().Queued < n; {
		if time.Now().After(deadline) {
			t.Fatalf("%d images queued after 10s, want %d", c.Stats().Queued, n)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestDeadlineDropsQueued(t *testing.T) {
	c, resume := newStalled(t, Options{Workers: 1})
	img := image.NewGray(image.Rect(0, 0, 28, 28))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	_, err := c.Classify(ctx, img, img)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("error %v, want the deadline", err)
	}
	cancelled, cancel2 := context.WithCancel(context.Background())
	cancel2()
	if _, err := c.Classify(cancelled, img); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled context: error %v", err)
	}
	resume()
	if _, err := c.Classify(context.Background(), img); err != nil {
		t.Fatal(err)
	}
	if s := c.Stats(); s.Images != 1 || s.Queued != 0 {
		t.Errorf("%d images ran (want 1: the expired ones are dropped), %d queued", s.Images, s.Queued)
	}
}

func TestCloseDrains(t *testing.T) {
	c, resume := newStalled(t, Options{Workers: 1, MaxBatch: 2})
	img := image.NewGray(image.Rect(0, 0, 28, 28))
	const calls = 5
	errs := make(chan error, calls)
	for range calls {
		go func() {
			_, err := c.Classify(context.Background(), img)
			errs <- err
		}()
	}
	waitQueued(t, c, calls)
	closed := make(chan struct{})
	go func() { c.Close(); close(closed) }()
	for closing := false; !closing; time.Sleep(time.Millisecond) {
		c.mu.RLock()
		closing = c.closed
		c.mu.RUnlock()
	}
	if _, err := c.Classify(context.Background(), img); !errors.Is(err, ErrClosed) {
		t.Fatalf("Classify while closing: %v, want ErrClosed", err)
	}
	resume()
	<-closed
	for range calls {
		if err := <-errs; err != nil {
			t.Errorf("queued call failed: %v", err)
		}
	}
	if s := c.Stats(); s.Images != calls {
		t.Errorf("%d images ran, want %d", s.Images, calls)
	}
	c.Close() // again: nothing
}

func TestLabelsMismatch(t *testing.T) {
	m, meta := miniModel(t, 1)
	if _, err := New(m, meta, Options{Labels: []string{"a", "b"}}); err == nil {
		t.Fatal("2 labels for 10 classes accepted")
	}
}

func TestTopK(t *testing.T) {
	c := newMini(t, Options{TopK: 3})
	var huge image.Image = image.NewUniform(color.Gray{128}) // 2e9 x 2e9 pixels
	if _, err := c.Classify(context.Background(), huge); err == nil {
		t.Fatal("an unbounded image was accepted")
	}
	img := image.NewGray(image.Rect(0, 0, 40, 40))
	ps, err := c.Classify(context.Background(), img)
	if err != nil {
		t.Fatal(err)
	}
	p := ps[0]
	if len(p.Top) != 3 || len(p.TopK(20)) != 10 || p.Top[0].Label != fmt.Sprintf("class-%d", p.Top[0].Index) {
		t.Fatalf("top %v", p.Top)
	}
	var sum float64
	for _, v := range p.Probs {
		sum += v
	}
	if math.Abs(sum-1) > 1e-9 || p.Top[0].Prob < p.Top[1].Prob {
		t.Fatalf("probabilities sum to %g; top %v", sum, p.Top)
	}
}

// TestBatchSizes: with graphs for batches of 3 only, every batch is
// padded to 3 and gives the results of the default graphs.
func TestBatchSizes(t *testing.T) {
	c3 := newMini(t, Options{BatchSizes: []int{3}, MaxWait: 50 * time.Millisecond})
	c := newMini(t, Options{})
	if got := c3.Info(); got.MaxBatch != 3 || len(got.BatchSizes) != 1 {
		t.Fatalf("info %+v", got)
	}
	rng := rand.New(rand.NewPCG(3, 4))
	imgs := []image.Image{noise(rng, 30, 30), noise(rng, 40, 20), noise(rng, 28, 28), noise(rng, 50, 50)}
	want, err := c.Classify(context.Background(), imgs...)
	if err != nil {
		t.Fatal(err)
	}
	got, err := c3.Classify(context.Background(), imgs...)
	if err != nil {
		t.Fatal(err)
	}
	for i := range imgs {
		if !sameProbs(got[i].Probs, want[i].Probs) {
			t.Errorf("image %d: %v with batches of 3, %v by default", i, got[i].Top, want[i].Top)
		}
	}
	if s := c3.Stats(); s.Images != 4 || s.Batches[0] != 0 || len(s.Batches) != 4 {
		t.Errorf("stats %+v", s)
	}
	m, meta := miniModel(t, 1)
	if _, err := New(m, meta, Options{BatchSizes: []int{0, 2}}); err == nil {
		t.Error("batch size 0 accepted")
	}
}

// TestContract: the contract stored with the weights (meta.Input) or given
// in Options.Input is the one applied, as eval.Predict applies it, and a
// contract that does not fit the model is refused.
func TestContract(t *testing.T) {
	m, meta := miniModel(t, 1)
	ct := preprocess.Native(1, 28, []float32{100}, []float32{20})
	ct.Resize, ct.Size, ct.Interp = preprocess.Whole, 28, preprocess.Nearest
	meta.Input = &ct
	img := noise(rand.New(rand.NewPCG(5, 6)), 50, 30)
	want, err := eval.Predict([]eval.Member{{Model: m, Meta: meta}}, img, eval.Center, 10, nil)
	if err != nil {
		t.Fatal(err)
	}
	c, err := New(m, meta, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if got := c.Info().Input.String(); got != ct.String() {
		t.Errorf("Info().Input %s, want %s", got, ct)
	}
	ps, err := c.Classify(context.Background(), img)
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range want {
		if d := math.Abs(ps[0].Probs[w.Index] - w.Prob); d > predictTol {
			t.Errorf("class %d: Classify %g, eval.Predict %g", w.Index, ps[0].Probs[w.Index], w.Prob)
		}
	}
	m2, meta2 := miniModel(t, 1)
	rgb := preprocess.Torchvision()
	if _, err := New(m2, meta2, Options{Input: &rgb}); err == nil {
		t.Error("a 3-channel 224 contract accepted for a 1x28x28 model")
	}
}
