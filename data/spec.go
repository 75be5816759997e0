package data

import (
	"context"
	"strings"

	"github.com/pkg/errors"
)

// FashionMNISTDir is where Debian's dataset-fashion-mnist package installs
// Fashion-MNIST's idx files.
const FashionMNISTDir = "/usr/share/datasets/fashion-mnist"

// FashionMNISTClasses are Fashion-MNIST's class names, by label.
var FashionMNISTClasses = []string{"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
	"Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"}

// Open opens a dataset from a spec string, as given to `googlenet train
// --data`:
//
//	mnist                 MNIST from the GoMNIST Go module (see MNISTDir)
//	mnist:DIR             MNIST idx files in DIR (gzipped or not)
//	fashion-mnist[:DIR]   Fashion-MNIST's idx files in DIR (default
//	                      FashionMNISTDir, Debian's dataset-fashion-mnist)
//	folder:DIR            DIR/train/<class>/*.{jpg,jpeg,png} and DIR/val/<class>/...
//	synthetic[:k=v,...]   a generated dataset (keys: classes, train, val,
//	                      size, channels, seed; see SyntheticOptions)
//
// mnist, fashion-mnist and folder take subset options after the kind or the
// folder, separated by commas (see SubsetOptions):
//
//	classes=LIST          keep these classes, relabelled 0.. in this order;
//	                      LIST joins class indices, ranges lo-hi and class
//	                      names with '+' (mnist:classes=5-9, folder:DIR,classes=cat+dog)
//	per-class=N           the first N training images of each kept class
//	val-per-class=N       the first N validation images of each kept class
//
// For example mnist:classes=5-9,per-class=100 is 500 training images of
// the digits 5 to 9 (labels 0 to 4) and their whole test set. ctx bounds
// the module download of the plain "mnist" spec.
func Open(ctx context.Context, spec string) (*Splits, error) {
	kind, arg, hasArg := strings.Cut(spec, ":")
	var sub map[string]string
	if kind != "synthetic" {
		arg, sub = splitSubsetSpec(arg)
	}
	var s *Splits
	var err error
	switch kind {
	case "mnist":
		dir := arg
		if dir == "" {
			if dir, err = MNISTDir(ctx); err != nil {
				return nil, errors.Wrapf(err, "data %q", spec)
			}
		}
		if s, err = LoadMNIST(dir); err != nil {
			return nil, errors.Wrapf(err, "data %q", spec)
		}
	case "fashion-mnist":
		dir := arg
		if dir == "" {
			dir = FashionMNISTDir
		}
		if s, err = LoadFashionMNIST(dir); err != nil {
			return nil, errors.Wrapf(err, "data %q", spec)
		}
	case "folder":
		if arg == "" {
			return nil, errors.Errorf("data %q: folder needs a directory (folder:DIR)", spec)
		}
		if s, err = OpenFolder(arg); err != nil {
			return nil, errors.Wrapf(err, "data %q", spec)
		}
	case "synthetic":
		o, err := parseSynthetic(arg)
		if err != nil {
			return nil, errors.Wrapf(err, "data %q", spec)
		}
		return NewSynthetic(o)
	default:
		return nil, errors.Errorf("data %q: unknown kind %q (want mnist, mnist:DIR, fashion-mnist[:DIR], folder:DIR or synthetic[:k=v,...])", spec, kind)
	}
	if sub != nil {
		o, err := parseSubset(sub, s.Classes())
		if err != nil {
			return nil, errors.Wrapf(err, "data %q", spec)
		}
		if s, err = s.Subset(o); err != nil {
			return nil, errors.Wrapf(err, "data %q", spec)
		}
	}
	if !hasArg || arg == "" || sub != nil {
		s.Name = spec
	}
	return s, nil
}
