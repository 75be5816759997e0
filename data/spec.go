package data

import (
	"context"
	"strings"

	"github.com/pkg/errors"
)

// Open opens a dataset from a spec string, as given to `googlenet train
// --data`:
//
//	mnist                 MNIST from the GoMNIST Go module (see MNISTDir)
//	mnist:DIR             MNIST idx files in DIR (gzipped or not)
//	folder:DIR            DIR/train/<class>/*.{jpg,jpeg,png} and DIR/val/<class>/...
//	synthetic[:k=v,...]   a generated dataset (keys: classes, train, val,
//	                      size, channels, seed; see SyntheticOptions)
//
// ctx bounds the module download of the plain "mnist" spec.
func Open(ctx context.Context, spec string) (*Splits, error) {
	kind, arg, hasArg := strings.Cut(spec, ":")
	switch kind {
	case "mnist":
		dir := arg
		if !hasArg || dir == "" {
			d, err := MNISTDir(ctx)
			if err != nil {
				return nil, errors.Wrapf(err, "data %q", spec)
			}
			dir = d
		}
		s, err := LoadMNIST(dir)
		if err != nil {
			return nil, errors.Wrapf(err, "data %q", spec)
		}
		if !hasArg {
			s.Name = "mnist"
		}
		return s, nil
	case "folder":
		if arg == "" {
			return nil, errors.Errorf("data %q: folder needs a directory (folder:DIR)", spec)
		}
		s, err := OpenFolder(arg)
		if err != nil {
			return nil, errors.Wrapf(err, "data %q", spec)
		}
		return s, nil
	case "synthetic":
		o, err := parseSynthetic(arg)
		if err != nil {
			return nil, errors.Wrapf(err, "data %q", spec)
		}
		return NewSynthetic(o)
	}
	return nil, errors.Errorf("data %q: unknown kind %q (want mnist, mnist:DIR, folder:DIR or synthetic[:k=v,...])", spec, kind)
}
