package eval

import (
	"context"
	"image"
	"io"
	"os"
	"runtime"
	"strconv"
	"sync"

	"github.com/pkg/errors"
	"gorgonia.org/tensor"

	"github.com/goinception/googlenet/data"
	"github.com/goinception/googlenet/inception"
	"github.com/goinception/googlenet/internal/atomicfile"
)

// EmbedOptions configures Embed. Zero fields take the defaults in brackets.
type EmbedOptions struct {
	// Layer is the layer whose activations are the embedding, a name
	// inception.Model.Features takes [inception.DefaultFeatureLayer, pool5].
	Layer string
	// Crop is how an image becomes the network's input: Full (the whole
	// image scaled to the input size, then encoded by the member's input
	// contract) or Center (the contract's own geometry, as Evaluate's
	// one-crop scheme) [Full for datasets of fixed-size images such as
	// MNIST, as training validates them without augmentation; Center
	// otherwise].
	Crop Scheme
	// BatchSize is the number of images per forward pass [64]; the last
	// batch is padded so that one graph serves every pass.
	BatchSize int
	// Limit embeds only the first Limit images [all].
	Limit int
	// Workers is the number of goroutines that decode and crop images
	// [GOMAXPROCS].
	Workers int
	// Strict makes an unreadable image an error; otherwise it is skipped
	// (Embedding.Skipped names it) and has no row.
	Strict bool
	// Progress, if set, is called after each batch with the number of
	// images done and the total.
	Progress func(done, total int)
}

// Embedding is the output of Embed: one row per image.
type Embedding struct {
	// X is [N, D]: the layer's activations of each image, flattened.
	X *Array
	// Paths name each row's image (a file, or "file#index" in an idx
	// dataset); Labels are their labels in the dataset (-1 for plain image
	// files). Both are in row order.
	Paths  []string
	Labels []int
	// Layer is the summary row the embedding comes from.
	Layer inception.Layer
	// Skipped lists the unreadable images, with the reason.
	Skipped []string
}

// Embed computes the activations of one layer for every image of ds: each
// image is cropped (o.Crop) and encoded as Evaluate does (the member's
// input contract, Member.Contract), run through an inference graph that stops at that
// layer, and flattened into one row of D values.
func Embed(ctx context.Context, mb Member, ds data.Dataset, o EmbedOptions) (*Embedding, error) {
	if mb.Model == nil {
		return nil, errors.New("eval: embed: no model")
	}
	if o.Layer == "" {
		o.Layer = inception.DefaultFeatureLayer
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
	if o.Crop == "" {
		o.Crop = Center
		if _, h, w := ds.Shape(); h > 0 && w > 0 {
			o.Crop = Full
		}
	}
	if o.Crop != Full && o.Crop != Center {
		return nil, errors.Errorf("eval: embed: crop scheme %q: want full or 1 (center)", o.Crop)
	}
	m := mb.Model
	row, err := m.FeatureLayer(o.Layer)
	if err != nil {
		return nil, errors.Wrap(err, "eval: embed")
	}
	cfg := m.Config()
	contract := mb.Contract()
	if err := checkContract(contract, cfg); err != nil {
		return nil, err
	}
	dim := row.Output[0] * row.Output[1] * row.Output[2]
	n := ds.Len()
	if o.Limit > 0 && o.Limit < n {
		n = o.Limit
	}
	plane := cfg.InChannels * cfg.InputSize * cfg.InputSize
	bs := min(o.BatchSize, max(n, 1))
	x := newBatch(cfg, bs)
	out := &Embedding{X: &Array{Shape: []int{0, dim}}, Layer: row}
	type prepared struct {
		x     []float32
		path  string
		label int
		err   error
	}
	prep := func(i int) prepared {
		s, err := ds.Sample(i)
		if err != nil {
			return prepared{err: err, path: s.Path}
		}
		b := s.Image.Bounds()
		crops, err := o.Crop.Crops(b.Dx(), b.Dy(), cfg.InputSize)
		if err == nil {
			p := prepared{x: make([]float32, plane), path: s.Path, label: s.Label}
			if err = RenderContract(p.x, s.Image, o.Crop, crops, contract); err == nil {
				return p
			}
		}
		return prepared{err: errors.Wrapf(err, "sample %d (%s)", i, s.Path), path: s.Path}
	}
	for lo := 0; lo < n; lo += bs {
		if err := ctx.Err(); err != nil {
			return nil, errors.Wrap(err, "eval: embed")
		}
		hi := min(n, lo+bs)
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
		k := 0
		for _, p := range imgs {
			if p.err != nil {
				if o.Strict {
					return nil, errors.Wrap(p.err, "eval: embed")
				}
				out.Skipped = append(out.Skipped, p.err.Error())
				continue
			}
			x.set(k, p.x)
			out.Paths = append(out.Paths, p.path)
			out.Labels = append(out.Labels, p.label)
			k++
		}
		if k > 0 {
			x.clearFrom(k)
			fs, err := m.Features(x.t, o.Layer)
			if err != nil {
				return nil, errors.Wrap(err, "eval: embed")
			}
			out.X.Data = appendRows(out.X.Data, fs[0], k*dim)
		}
		if o.Progress != nil {
			o.Progress(hi, n)
		}
	}
	out.X.Shape[0] = len(out.Paths)
	if len(out.Paths) == 0 {
		return nil, errors.Errorf("eval: embed: no image could be read (%d skipped)", len(out.Skipped))
	}
	return out, nil
}

// batch is a fixed-size input tensor of the model's dtype.
type batch struct {
	t     *tensor.Dense
	f32   []float32
	f64   []float64
	plane int
}

func newBatch(cfg inception.Config, n int) *batch {
	b := &batch{plane: cfg.InChannels * cfg.InputSize * cfg.InputSize}
	shape := tensor.WithShape(n, cfg.InChannels, cfg.InputSize, cfg.InputSize)
	if cfg.Dtype == tensor.Float64 {
		b.f64 = make([]float64, n*b.plane)
		b.t = tensor.New(shape, tensor.WithBacking(b.f64))
	} else {
		b.f32 = make([]float32, n*b.plane)
		b.t = tensor.New(shape, tensor.WithBacking(b.f32))
	}
	return b
}

// set copies image i (CHW) into the batch.
func (b *batch) set(i int, x []float32) {
	if b.f64 != nil {
		for j, v := range x {
			b.f64[i*b.plane+j] = float64(v)
		}
		return
	}
	copy(b.f32[i*b.plane:], x)
}

// clearFrom zeroes images i.. (padding).
func (b *batch) clearFrom(i int) {
	if b.f64 != nil {
		clear(b.f64[i*b.plane:])
	} else {
		clear(b.f32[i*b.plane:])
	}
}

// appendRows appends the first n values of d to dst as float32.
func appendRows(dst []float32, d *tensor.Dense, n int) []float32 {
	switch v := d.Data().(type) {
	case []float32:
		return append(dst, v[:n]...)
	case []float64:
		for _, x := range v[:n] {
			dst = append(dst, float32(x))
		}
	}
	return dst
}

// Files is a dataset of image files (JPEG or PNG) without labels: Sample
// returns label -1. Images are decoded on demand.
type Files struct {
	paths    []string
	channels int
}

var _ data.Dataset = (*Files)(nil)

// NewFiles returns the dataset of the given image files; channels is what
// the transforms convert them to (1 gray, 3 RGB).
func NewFiles(paths []string, channels int) *Files {
	return &Files{paths: append([]string(nil), paths...), channels: channels}
}

// Len returns the number of files.
func (f *Files) Len() int { return len(f.paths) }

// Classes returns nil: plain files have no classes.
func (f *Files) Classes() []string { return nil }

// Shape returns the channels and 0, 0 (sizes vary).
func (f *Files) Shape() (c, h, w int) { return f.channels, 0, 0 }

// Sample decodes file i.
func (f *Files) Sample(i int) (data.Sample, error) {
	if i < 0 || i >= len(f.paths) {
		return data.Sample{}, errors.Errorf("eval: file index %d out of range [0,%d)", i, len(f.paths))
	}
	path := f.paths[i]
	fail := func(err error) (data.Sample, error) {
		return data.Sample{Path: path, Label: -1}, &data.SampleError{Index: i, Path: path, Err: err}
	}
	fh, err := os.Open(path)
	if err != nil {
		return fail(err)
	}
	defer fh.Close()
	img, _, err := image.Decode(fh)
	if err != nil {
		return fail(errors.Wrap(err, "decode"))
	}
	if img.Bounds().Empty() {
		return fail(errors.New("empty image"))
	}
	return data.Sample{Image: img, Label: -1, Path: path}, nil
}

// WriteIndex writes the rows of e as text to path, atomically: one line per
// row, the image path, and for images with a label a tab, the label index, a
// tab and the class name (classes[label], or the index again when classes
// does not name it).
func (e *Embedding) WriteIndex(path string, classes []string) (err error) {
	var buf []byte
	for i, p := range e.Paths {
		buf = append(buf, p...)
		if l := e.Labels[i]; l >= 0 {
			name := strconv.Itoa(l)
			if l < len(classes) {
				name = classes[l]
			}
			buf = append(buf, '\t')
			buf = strconv.AppendInt(buf, int64(l), 10)
			buf = append(buf, '\t')
			buf = append(buf, name...)
		}
		buf = append(buf, '\n')
	}
	return errors.Wrap(atomicfile.WriteFile(path, 0o644, func(w io.Writer) error {
		_, err := w.Write(buf)
		return err
	}), "eval: write index")
}
