package data

import (
	"image"
	_ "image/jpeg" // register the JPEG decoder
	_ "image/png"  // register the PNG decoder
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/pkg/errors"
)

// imageExts are the file extensions a folder dataset reads (any case).
var imageExts = map[string]bool{".jpg": true, ".jpeg": true, ".png": true}

// Folder is a dataset of image files laid out as ROOT/<class>/<file>.
// Images are decoded on demand and always have three channels (gray
// images are expanded by the transforms).
type Folder struct {
	root    string
	classes []string
	paths   []string
	labels  []int
}

// OpenFolder opens an image-folder dataset: DIR/train/<class>/*.{jpg,jpeg,png}
// and DIR/val/<class>/... Class names are the sorted folder names under
// train; val must not contain a class that train lacks (it may lack some).
// Only file names are read here; decoding errors show up per sample.
func OpenFolder(dir string) (*Splits, error) {
	train, err := scanFolder(filepath.Join(dir, "train"), nil)
	if err != nil {
		return nil, err
	}
	val, err := scanFolder(filepath.Join(dir, "val"), train.classes)
	if err != nil {
		return nil, err
	}
	return &Splits{Name: "folder:" + dir, Train: train, Val: val}, nil
}

// NewFolder reads the class folders under root. When classes is nil they
// are the sorted sub-folder names; otherwise every sub-folder must be one of
// classes, and labels index into classes.
func NewFolder(root string, classes []string) (*Folder, error) {
	return scanFolder(root, classes)
}

func scanFolder(root string, classes []string) (*Folder, error) {
	entries, err := os.ReadDir(root)
	if err != nil {
		return nil, errors.Wrap(err, "folder dataset")
	}
	var dirs []string
	for _, e := range entries {
		if e.IsDir() && !strings.HasPrefix(e.Name(), ".") {
			dirs = append(dirs, e.Name())
		}
	}
	sort.Strings(dirs)
	if len(dirs) == 0 {
		return nil, errors.Errorf("folder dataset %s: no class folders", root)
	}
	if classes == nil {
		classes = dirs
	}
	index := make(map[string]int, len(classes))
	for i, c := range classes {
		index[c] = i
	}
	f := &Folder{root: root, classes: classes}
	for _, d := range dirs {
		label, ok := index[d]
		if !ok {
			return nil, errors.Errorf("folder dataset %s: class folder %q is not among the training classes", root, d)
		}
		files, err := os.ReadDir(filepath.Join(root, d))
		if err != nil {
			return nil, errors.Wrap(err, "folder dataset")
		}
		for _, e := range files {
			if e.IsDir() || !imageExts[strings.ToLower(filepath.Ext(e.Name()))] {
				continue
			}
			f.paths = append(f.paths, filepath.Join(root, d, e.Name()))
			f.labels = append(f.labels, label)
		}
	}
	if len(f.paths) == 0 {
		return nil, errors.Errorf("folder dataset %s: no .jpg, .jpeg or .png files", root)
	}
	return f, nil
}

// Len returns the number of image files.
func (f *Folder) Len() int { return len(f.paths) }

// Classes returns the class names (sorted folder names).
func (f *Folder) Classes() []string { return f.classes }

// Shape returns 3 channels and 0, 0: image sizes vary.
func (f *Folder) Shape() (c, h, w int) { return 3, 0, 0 }

// Path returns the file of sample i.
func (f *Folder) Path(i int) string { return f.paths[i] }

// Sample decodes image file i. A file that cannot be opened or decoded
// gives a *SampleError naming it.
func (f *Folder) Sample(i int) (Sample, error) {
	if i < 0 || i >= len(f.paths) {
		return Sample{}, errors.Errorf("folder dataset %s: index %d out of range [0,%d)", f.root, i, len(f.paths))
	}
	p := f.paths[i]
	img, err := decodeFile(p)
	if err != nil {
		return Sample{}, &SampleError{Index: i, Path: p, Err: err}
	}
	return Sample{Image: img, Label: f.labels[i], Path: p}, nil
}

// WriteLabels writes the class names, one a line, to path atomically.
func (f *Folder) WriteLabels(path string) error { return WriteLabels(path, f.classes) }

func decodeFile(path string) (img image.Image, err error) {
	r, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	// The standard decoders return errors for malformed input; the recover
	// keeps a decoder bug on a hostile file from killing a training run.
	defer func() {
		if p := recover(); p != nil {
			img, err = nil, errors.Errorf("decoder panic: %v", p)
		}
	}()
	img, _, err = image.Decode(r)
	if err != nil {
		return nil, errors.Wrap(err, "decoding")
	}
	b := img.Bounds()
	if b.Dx() <= 0 || b.Dy() <= 0 {
		return nil, errors.Errorf("empty image %v", b)
	}
	return img, nil
}

// WriteLabels writes class names, one a line, to path atomically (a
// temporary file, then a rename). Names may not contain line breaks.
func WriteLabels(path string, classes []string) error {
	for _, c := range classes {
		if strings.ContainsAny(c, "\r\n") {
			return errors.Errorf("labels %s: class name %q contains a line break", path, c)
		}
	}
	return writeAtomic(path, func(w io.Writer) error {
		for _, c := range classes {
			if _, err := io.WriteString(w, c+"\n"); err != nil {
				return err
			}
		}
		return nil
	})
}

// ReadLabels reads a labels file written by WriteLabels.
func ReadLabels(path string) ([]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, errors.Wrap(err, "labels")
	}
	s := strings.TrimSuffix(string(b), "\n")
	if s == "" {
		return nil, errors.Errorf("labels %s: empty", path)
	}
	return strings.Split(s, "\n"), nil
}
