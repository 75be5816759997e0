package data

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/pkg/errors"
)

// SubsetOptions select part of a dataset: some of its classes and at most
// a number of images of each. The zero value selects everything.
type SubsetOptions struct {
	// Classes are the class indices to keep, in the order they take as new
	// labels (0, 1, ...); nil keeps every class.
	Classes []int
	// PerClass keeps the first PerClass images of each kept class (in the
	// dataset's order) in the training split; 0 keeps all of them.
	PerClass int
	// ValPerClass does the same for the validation split; 0 keeps all.
	ValPerClass int
}

// labeler is implemented by datasets that know a sample's label without
// decoding its image.
type labeler interface {
	Label(i int) int
}

// Label returns the label of image i without decoding it.
func (d *IdxDataset) Label(i int) int { return int(d.labels.Data[i]) }

// Label returns the label of image i without reading its file.
func (f *Folder) Label(i int) int { return f.labels[i] }

// Subset is a view of a dataset with some classes (relabelled 0..k-1 in the
// order chosen) and at most a number of images per class.
type Subset struct {
	ds      Dataset
	index   []int // positions in ds
	relabel map[int]int
	classes []string
}

var _ Dataset = (*Subset)(nil)

// NewSubset returns the images of ds whose class is in classes (nil: all),
// relabelled by their position in classes, keeping at most perClass of each
// class (0: all) in the dataset's order. Labels are read without decoding
// images where the dataset allows (idx and folder datasets); others are
// sampled once.
func NewSubset(ds Dataset, classes []int, perClass int) (*Subset, error) {
	all := ds.Classes()
	if classes == nil {
		for i := range all {
			classes = append(classes, i)
		}
	}
	if len(classes) == 0 {
		return nil, errors.New("subset: no classes selected")
	}
	if perClass < 0 {
		return nil, errors.Errorf("subset: per-class limit %d is negative", perClass)
	}
	s := &Subset{ds: ds, relabel: map[int]int{}}
	for i, c := range classes {
		if c < 0 || c >= len(all) {
			return nil, errors.Errorf("subset: class %d out of range (the dataset has %d classes)", c, len(all))
		}
		if _, dup := s.relabel[c]; dup {
			return nil, errors.Errorf("subset: class %q selected twice", all[c])
		}
		s.relabel[c] = i
		s.classes = append(s.classes, all[c])
	}
	lab, fast := ds.(labeler)
	count := make([]int, len(classes))
	for i := 0; i < ds.Len(); i++ {
		var l int
		if fast {
			l = lab.Label(i)
		} else {
			smp, err := ds.Sample(i)
			if err != nil {
				return nil, errors.Wrap(err, "subset")
			}
			l = smp.Label
		}
		nl, ok := s.relabel[l]
		if !ok || (perClass > 0 && count[nl] >= perClass) {
			continue
		}
		count[nl]++
		s.index = append(s.index, i)
	}
	return s, nil
}

// Len returns the number of selected images.
func (s *Subset) Len() int { return len(s.index) }

// Classes returns the selected class names in label order.
func (s *Subset) Classes() []string { return s.classes }

// Shape returns the underlying dataset's shape.
func (s *Subset) Shape() (c, h, w int) { return s.ds.Shape() }

// Sample returns selected image i with its new label.
func (s *Subset) Sample(i int) (Sample, error) {
	if i < 0 || i >= len(s.index) {
		return Sample{}, errors.Errorf("subset: index %d out of range [0,%d)", i, len(s.index))
	}
	smp, err := s.ds.Sample(s.index[i])
	if err != nil {
		return smp, err
	}
	smp.Label = s.relabel[smp.Label]
	return smp, nil
}

// Label returns the new label of selected image i.
func (s *Subset) Label(i int) int {
	if lab, ok := s.ds.(labeler); ok {
		return s.relabel[lab.Label(s.index[i])]
	}
	smp, err := s.Sample(i)
	if err != nil {
		return -1
	}
	return smp.Label
}

// Subset applies o to both splits: the same classes, PerClass images per
// class in training and ValPerClass in validation.
func (sp *Splits) Subset(o SubsetOptions) (*Splits, error) {
	tr, err := NewSubset(sp.Train, o.Classes, o.PerClass)
	if err != nil {
		return nil, errors.Wrap(err, "training split")
	}
	// Validation labels index the training classes (a folder's val may
	// lack some), so the same class indices apply.
	va, err := NewSubset(sp.Val, o.Classes, o.ValPerClass)
	if err != nil {
		return nil, errors.Wrap(err, "validation split")
	}
	if tr.Len() == 0 {
		return nil, errors.New("subset: no training images left")
	}
	return &Splits{Name: sp.Name, Train: tr, Val: va}, nil
}

// subsetKeys are the keys of a spec's subset options.
var subsetKeys = map[string]bool{"classes": true, "per-class": true, "val-per-class": true}

// splitSubsetSpec separates the subset options (classes=, per-class=,
// val-per-class=) from the rest of a spec's argument, which it returns
// with its other comma-separated parts joined again.
func splitSubsetSpec(arg string) (rest string, opts map[string]string) {
	var keep []string
	for _, part := range strings.Split(arg, ",") {
		if k, v, ok := strings.Cut(part, "="); ok && subsetKeys[k] {
			if opts == nil {
				opts = map[string]string{}
			}
			opts[k] = v
			continue
		}
		keep = append(keep, part)
	}
	return strings.Join(keep, ","), opts
}

// parseSubset turns subset options into SubsetOptions for a dataset with
// the given class names. classes is a list joined by '+' of class indices,
// index ranges (5-9) or class names.
func parseSubset(opts map[string]string, names []string) (SubsetOptions, error) {
	var o SubsetOptions
	for _, k := range []string{"per-class", "val-per-class"} {
		v, ok := opts[k]
		if !ok {
			continue
		}
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			return o, errors.Errorf("%s=%q is not a positive integer", k, v)
		}
		if k == "per-class" {
			o.PerClass = n
		} else {
			o.ValPerClass = n
		}
	}
	v, ok := opts["classes"]
	if !ok {
		return o, nil
	}
	byName := map[string]int{}
	for i, n := range names {
		byName[n] = i
	}
	o.Classes = []int{}
	for _, item := range strings.Split(v, "+") {
		if i, ok := byName[item]; ok {
			o.Classes = append(o.Classes, i)
			continue
		}
		lo, hi, isRange := strings.Cut(item, "-")
		a, errA := strconv.Atoi(lo)
		b := a
		var errB error
		if isRange {
			b, errB = strconv.Atoi(hi)
		}
		if item == "" || errA != nil || errB != nil || b < a {
			return o, errors.Errorf("classes=%q: %q is neither a class name, an index nor a range lo-hi (classes: %s)", v, item, classList(names))
		}
		for i := a; i <= b; i++ {
			if i < 0 || i >= len(names) {
				return o, errors.Errorf("classes=%q: index %d out of range (the dataset has %d classes)", v, i, len(names))
			}
			o.Classes = append(o.Classes, i)
		}
	}
	return o, nil
}

func classList(names []string) string {
	if len(names) > 12 {
		return fmt.Sprintf("%s, ... (%d)", strings.Join(names[:12], ", "), len(names))
	}
	return strings.Join(names, ", ")
}
