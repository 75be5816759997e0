package data

import (
	"image"
	"math/rand/v2"
	"strconv"
	"strings"

	"github.com/pkg/errors"
)

// SyntheticOptions configures a generated dataset. Zero fields take the
// defaults in brackets.
type SyntheticOptions struct {
	Classes  int    // number of classes [4]
	Train    int    // training samples [256]
	Val      int    // validation samples [64]
	Size     int    // image height and width [16]
	Channels int    // 1 or 3 [3]
	Seed     uint64 // generator seed [0]
}

// Synthetic is a small generated dataset for tests and demonstrations: the
// image of class k is low-amplitude noise with a bright horizontal band in
// the k-th of Classes equal strips of rows (tinted per class when it has
// three channels). Labels cycle through the classes; every image is a pure
// function of (seed, split, index), so the dataset is deterministic and
// costs no memory.
type Synthetic struct {
	opts    SyntheticOptions
	n       int
	split   uint64
	classes []string
}

// NewSynthetic returns the training and validation splits of a generated
// dataset.
func NewSynthetic(o SyntheticOptions) (*Splits, error) {
	def := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	def(&o.Classes, 4)
	def(&o.Train, 256)
	def(&o.Val, 64)
	def(&o.Size, 16)
	def(&o.Channels, 3)
	switch {
	case o.Classes < 1 || o.Classes > 1000:
		return nil, errors.Errorf("synthetic: %d classes (want 1..1000)", o.Classes)
	case o.Train < 1 || o.Val < 1:
		return nil, errors.Errorf("synthetic: train %d and val %d must be positive", o.Train, o.Val)
	case o.Size < o.Classes || o.Size > 4096:
		return nil, errors.Errorf("synthetic: size %d (want %d..4096: one row per class at least)", o.Size, o.Classes)
	case o.Channels != 1 && o.Channels != 3:
		return nil, errors.Errorf("synthetic: %d channels (want 1 or 3)", o.Channels)
	}
	classes := make([]string, o.Classes)
	for i := range classes {
		classes[i] = "class" + strconv.Itoa(i)
	}
	name := "synthetic:" + o.String()
	return &Splits{
		Name:  name,
		Train: &Synthetic{opts: o, n: o.Train, split: 0, classes: classes},
		Val:   &Synthetic{opts: o, n: o.Val, split: 1, classes: classes},
	}, nil
}

// String formats the options as a spec ("classes=4,train=256,...").
func (o SyntheticOptions) String() string {
	return "classes=" + strconv.Itoa(o.Classes) + ",train=" + strconv.Itoa(o.Train) +
		",val=" + strconv.Itoa(o.Val) + ",size=" + strconv.Itoa(o.Size) +
		",channels=" + strconv.Itoa(o.Channels) + ",seed=" + strconv.FormatUint(o.Seed, 10)
}

// parseSynthetic parses "k=v,k=v" with the keys of SyntheticOptions in
// lower case.
func parseSynthetic(s string) (SyntheticOptions, error) {
	var o SyntheticOptions
	if s == "" {
		return o, nil
	}
	for _, kv := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return o, errors.Errorf("synthetic: %q is not key=value", kv)
		}
		if k == "seed" {
			u, err := strconv.ParseUint(v, 10, 64)
			if err != nil {
				return o, errors.Errorf("synthetic: seed %q is not an unsigned integer", v)
			}
			o.Seed = u
			continue
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return o, errors.Errorf("synthetic: %s=%q is not a non-negative integer", k, v)
		}
		switch k {
		case "classes":
			o.Classes = n
		case "train":
			o.Train = n
		case "val":
			o.Val = n
		case "size":
			o.Size = n
		case "channels":
			o.Channels = n
		default:
			return o, errors.Errorf("synthetic: unknown key %q (want classes, train, val, size, channels, seed)", k)
		}
	}
	return o, nil
}

// Len returns the number of samples.
func (s *Synthetic) Len() int { return s.n }

// Classes returns "class0", "class1", ...
func (s *Synthetic) Classes() []string { return s.classes }

// Shape returns the channels and the square image size.
func (s *Synthetic) Shape() (c, h, w int) { return s.opts.Channels, s.opts.Size, s.opts.Size }

// Sample generates sample i.
func (s *Synthetic) Sample(i int) (Sample, error) {
	if i < 0 || i >= s.n {
		return Sample{}, errors.Errorf("synthetic: index %d out of range [0,%d)", i, s.n)
	}
	o := s.opts
	k := i % o.Classes
	rng := rand.New(rand.NewPCG(o.Seed, s.split<<40|uint64(i)))
	lo, hi := k*o.Size/o.Classes, (k+1)*o.Size/o.Classes
	tint := [3]float64{1, 1, 1}
	if o.Channels == 3 {
		tint = [3]float64{0.6 + 0.4*float64(k%2), 0.6 + 0.4*float64(k/2%2), 0.6 + 0.4*float64(k/4%2)}
	}
	r := image.Rect(0, 0, o.Size, o.Size)
	var img image.Image
	if o.Channels == 1 {
		g := image.NewGray(r)
		for y := 0; y < o.Size; y++ {
			for x := 0; x < o.Size; x++ {
				v := rng.IntN(64)
				if y >= lo && y < hi {
					v += 160
				}
				g.Pix[y*g.Stride+x] = uint8(v)
			}
		}
		img = g
	} else {
		c := image.NewRGBA(r)
		for y := 0; y < o.Size; y++ {
			for x := 0; x < o.Size; x++ {
				p := c.Pix[y*c.Stride+4*x:]
				for ch := 0; ch < 3; ch++ {
					v := float64(rng.IntN(64))
					if y >= lo && y < hi {
						v += 160 * tint[ch]
					}
					p[ch] = uint8(v)
				}
				p[3] = 255
			}
		}
		img = c
	}
	return Sample{Image: img, Label: k, Path: "synthetic#" + strconv.Itoa(i)}, nil
}
