package data

import (
	"image"
	"strconv"

	"github.com/pkg/errors"
)

// Dataset is an indexed collection of labelled images.
type Dataset interface {
	// Len returns the number of samples.
	Len() int
	// Classes returns the class names; labels index into it.
	Classes() []string
	// Shape returns the channel count and the stored image height and
	// width. Datasets whose images vary in size (folders) report 0 for
	// height and width; the channel count is what Sample's images are
	// converted to by the transforms (1: gray, 3: RGB).
	Shape() (c, h, w int)
	// Sample returns sample i, 0 <= i < Len(). A sample that cannot be read
	// or decoded returns an error naming its source (a *SampleError).
	Sample(i int) (Sample, error)
}

// Sample is one decoded image with its label.
type Sample struct {
	Image image.Image
	Label int
	// Path names the source of the image: a file for folder datasets,
	// "file#index" for idx datasets.
	Path string
}

// SampleError reports a sample that could not be read or decoded.
type SampleError struct {
	Index int
	Path  string
	Err   error
}

func (e *SampleError) Error() string {
	return "data: sample " + strconv.Itoa(e.Index) + " (" + e.Path + "): " + e.Err.Error()
}

// Unwrap returns the underlying error.
func (e *SampleError) Unwrap() error { return e.Err }

// Splits holds the training and the held-out (validation or test) parts of
// a dataset.
type Splits struct {
	// Name is the spec the splits were opened from.
	Name  string
	Train Dataset
	// Val is the validation set (folders) or the test set (MNIST).
	Val Dataset
}

// Classes returns the training set's class names.
func (s *Splits) Classes() []string { return s.Train.Classes() }

// IdxDataset is a dataset held in memory as idx arrays: images of unsigned
// bytes with dimensions [N, H, W] (gray) or [N, H, W, C] (C = 1 or 3,
// interleaved), and labels of unsigned bytes with dimension [N].
type IdxDataset struct {
	images, labels *Idx
	name           string
	n, c, h, w     int
	classes        []string
}

// NewIdxDataset checks that images and labels agree and returns a dataset.
// Class names are "0", "1", ... up to the largest label unless classes is
// given, in which case every label must index into it. name (a file name)
// appears in error messages and sample paths.
func NewIdxDataset(name string, images, labels *Idx, classes []string) (*IdxDataset, error) {
	if images == nil || labels == nil {
		return nil, errors.Errorf("idx dataset %s: nil images or labels", name)
	}
	if images.Type != IdxUint8 || labels.Type != IdxUint8 {
		return nil, errors.Errorf("idx dataset %s: images (%s) and labels (%s) must be unsigned bytes", name, idxString(images), idxString(labels))
	}
	d := &IdxDataset{images: images, labels: labels, name: name, c: 1}
	switch len(images.Dims) {
	case 3:
		d.n, d.h, d.w = images.Dims[0], images.Dims[1], images.Dims[2]
	case 4:
		d.n, d.h, d.w, d.c = images.Dims[0], images.Dims[1], images.Dims[2], images.Dims[3]
		if d.c != 1 && d.c != 3 {
			return nil, errors.Errorf("idx dataset %s: images %v have %d channels (want 1 or 3)", name, images.Dims, d.c)
		}
	default:
		return nil, errors.Errorf("idx dataset %s: images have dims %v (want [N H W] or [N H W C])", name, images.Dims)
	}
	if len(images.Data) != d.n*d.h*d.w*d.c {
		return nil, errors.Errorf("idx dataset %s: %d image bytes for dims %v", name, len(images.Data), images.Dims)
	}
	if len(labels.Dims) != 1 || labels.Dims[0] != d.n || len(labels.Data) != d.n {
		return nil, errors.Errorf("idx dataset %s: labels dims %v do not match %d images", name, labels.Dims, d.n)
	}
	maxLabel := 0
	for _, l := range labels.Data {
		if int(l) > maxLabel {
			maxLabel = int(l)
		}
	}
	if classes == nil {
		for i := 0; i <= maxLabel; i++ {
			classes = append(classes, strconv.Itoa(i))
		}
	} else if maxLabel >= len(classes) {
		return nil, errors.Errorf("idx dataset %s: label %d but only %d classes", name, maxLabel, len(classes))
	}
	d.classes = classes
	return d, nil
}

// Len returns the number of images.
func (d *IdxDataset) Len() int { return d.n }

// Classes returns the class names.
func (d *IdxDataset) Classes() []string { return d.classes }

// Shape returns the stored channels, height and width.
func (d *IdxDataset) Shape() (c, h, w int) { return d.c, d.h, d.w }

// Sample returns image i without copying the pixels: an *image.Gray for
// one channel, an *image.RGBA (opaque) for three.
func (d *IdxDataset) Sample(i int) (Sample, error) {
	if i < 0 || i >= d.n {
		return Sample{}, errors.Errorf("idx dataset %s: index %d out of range [0,%d)", d.name, i, d.n)
	}
	size := d.h * d.w * d.c
	pix := d.images.Data[i*size : (i+1)*size : (i+1)*size]
	var img image.Image
	if d.c == 1 {
		img = &image.Gray{Pix: pix, Stride: d.w, Rect: image.Rect(0, 0, d.w, d.h)}
	} else {
		rgba := image.NewRGBA(image.Rect(0, 0, d.w, d.h))
		for p := 0; p < d.h*d.w; p++ {
			copy(rgba.Pix[4*p:4*p+3], pix[3*p:3*p+3])
			rgba.Pix[4*p+3] = 255
		}
		img = rgba
	}
	return Sample{Image: img, Label: int(d.labels.Data[i]), Path: d.name + "#" + strconv.Itoa(i)}, nil
}
