package detection

import (
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	_ "image/gif" // background photographs
	"image/jpeg"
	_ "image/png"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/goinception/googlenet/internal/atomicfile"

	"github.com/pkg/errors"

	"github.com/goinception/googlenet/data"
)

// Default folders of the benchmark's ingredients (Debian packages).
const (
	// DefaultBackgrounds holds the photographs and textures of Debian's
	// python3-skimage.
	DefaultBackgrounds = "/usr/lib/python3/dist-packages/skimage/data"
)

// Object sources of MakeData.
const (
	ObjectsMNIST   = "mnist"
	ObjectsFashion = "fashion"
)

// Class names of the benchmark's objects.
var (
	MNISTNames   = []string{"zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"}
	FashionNames = []string{"tshirt", "trouser", "pullover", "dress", "coat", "sandal", "shirt", "sneaker", "bag", "boot"}
)

// Scene describes the canvases of the benchmark: the objects, the
// photographs they are pasted on, and the sizes. MakeData and ObjectCrops
// take the same Scene, so a region classifier is pretrained on the scenes
// it will detect in. Zero fields take the defaults in brackets.
type Scene struct {
	Objects string // mnist or fashion [mnist]
	// ObjectsDir is the idx folder of the objects: "" finds MNIST through
	// the Go module proxy (data.MNISTDir) and Fashion-MNIST in
	// data.FashionMNISTDir.
	ObjectsDir string
	// Backgrounds is a folder of photographs (PNG, JPEG, GIF; at least
	// 128 pixels on the shorter side) [DefaultBackgrounds]. They are
	// sorted by name and dealt alternately to the training and the test
	// split, so the splits never share a photograph.
	Backgrounds string
	MinCanvas   int // canvas side range [128, 160]
	MaxCanvas   int //
	MinObject   int // object size (longer side) range [20, 64]
	MaxObject   int //
	MaxObjects  int // objects per canvas, 1..MaxObjects [5]
}

func (o Scene) withDefaults() Scene {
	if o.Objects == "" {
		o.Objects = ObjectsMNIST
	}
	if o.Backgrounds == "" {
		o.Backgrounds = DefaultBackgrounds
	}
	defInt(&o.MinCanvas, 128)
	defInt(&o.MaxCanvas, 160)
	defInt(&o.MinObject, 20)
	defInt(&o.MaxObject, 64)
	defInt(&o.MaxObjects, 5)
	return o
}

// defInt sets *p to v when it is zero.
func defInt(p *int, v int) {
	if *p == 0 {
		*p = v
	}
}

// MakeOptions configures MakeData. Zero fields take the defaults in
// brackets, which make a benchmark small enough for the whole pipeline to
// run in minutes.
type MakeOptions struct {
	Out string // output folder (required)
	Scene
	Train, Test int    // images per split [240, 100]
	Seed        uint64 // everything random
}

func (o MakeOptions) withDefaults() MakeOptions {
	o.Scene = o.Scene.withDefaults()
	defInt(&o.Train, 240)
	defInt(&o.Test, 100)
	return o
}

// MakeReport says what MakeData wrote.
type MakeReport struct {
	Options           MakeOptions `json:"options"`
	Classes           []string    `json:"classes"`
	TrainPhotos       []string    `json:"train_photos"`
	TestPhotos        []string    `json:"test_photos"`
	SkippedPhotos     []string    `json:"skipped_photos,omitempty"`
	TrainObjects      int         `json:"train_objects"`
	TestObjects       int         `json:"test_objects"`
	TrainImages       int         `json:"train_images"`
	TestImages        int         `json:"test_images"`
	ObjectsFrom       string      `json:"objects_from"`
	BackgroundsFolder string      `json:"backgrounds"`
}

// MakeFile is the description MakeData writes beside the dataset.
const MakeFile = "makedata.json"

// MakeData writes a detection benchmark in PASCAL VOC layout made from real
// images: canvases cut from photographs, each with 1 to MaxObjects objects
// (MNIST digits or Fashion-MNIST items, training objects from the
// datasets' training splits and test objects from their test splits)
// pasted at random scales, coloured to stand out from the photograph, with
// tight boxes (the pixels whose opacity is at least one half). Objects of
// one image overlap by at most a fifth of the smaller. It writes
// JPEGImages/*.jpg, Annotations/*.xml, ImageSets/Main/{train,test}.txt,
// test.json (COCO) and makedata.json. progress, when not nil, is called
// after every image.
func MakeData(ctx context.Context, o MakeOptions, progress func(done, total int)) (*MakeReport, error) {
	o = o.withDefaults()
	if o.Out == "" {
		return nil, errors.New("detection: make-data: no output folder")
	}
	if o.Train < 1 || o.Test < 1 || o.MinCanvas < 32 || o.MaxCanvas < o.MinCanvas || o.MinObject < 8 ||
		o.MaxObject < o.MinObject || o.MaxObject > o.MinCanvas || o.MaxObjects < 1 {
		return nil, errors.Errorf("detection: make-data: bad sizes (train %d, test %d, canvas %d-%d, object %d-%d, objects %d)",
			o.Train, o.Test, o.MinCanvas, o.MaxCanvas, o.MinObject, o.MaxObject, o.MaxObjects)
	}
	splits, names, from, err := openObjects(ctx, o)
	if err != nil {
		return nil, err
	}
	trainBG, testBG, skipped, err := loadBackgrounds(o.Backgrounds, o.MinCanvas)
	if err != nil {
		return nil, err
	}
	rep := &MakeReport{Options: o, Classes: names, SkippedPhotos: skipped, ObjectsFrom: from, BackgroundsFolder: o.Backgrounds}
	for _, b := range trainBG {
		rep.TrainPhotos = append(rep.TrainPhotos, b.name)
	}
	for _, b := range testBG {
		rep.TestPhotos = append(rep.TestPhotos, b.name)
	}
	for _, d := range []string{"JPEGImages", "Annotations", filepath.Join("ImageSets", "Main")} {
		if err := os.MkdirAll(filepath.Join(o.Out, d), 0o755); err != nil {
			return nil, errors.Wrap(err, "detection: make-data")
		}
	}
	total := o.Train + o.Test
	done := 0
	var testAnns []Annotation
	for _, sp := range []struct {
		name  string
		n     int
		bg    []background
		objs  data.Dataset
		count *int
		imgs  *int
	}{
		{"train", o.Train, trainBG, splits.Train, &rep.TrainObjects, &rep.TrainImages},
		{"test", o.Test, testBG, splits.Val, &rep.TestObjects, &rep.TestImages},
	} {
		rng := rand.New(rand.NewPCG(o.Seed, uint64(len(sp.name))))
		var ids []string
		for i := 0; i < sp.n; i++ {
			if err := ctx.Err(); err != nil {
				return nil, errors.Wrap(err, "detection: make-data")
			}
			id := fmt.Sprintf("%s_%06d", sp.name, i+1)
			img, ann, err := makeImage(rng, o, sp.bg[rng.IntN(len(sp.bg))], sp.objs, names)
			if err != nil {
				return nil, err
			}
			ann.ID, ann.Filename = id, id+".jpg"
			if err := writeAtomic(filepath.Join(o.Out, "JPEGImages", ann.Filename), func(w io.Writer) error {
				return jpeg.Encode(w, img, &jpeg.Options{Quality: 95})
			}); err != nil {
				return nil, err
			}
			if err := writeAtomic(filepath.Join(o.Out, "Annotations", id+".xml"), func(w io.Writer) error { return WriteVOC(w, ann) }); err != nil {
				return nil, err
			}
			if sp.name == "test" {
				testAnns = append(testAnns, *ann)
			}
			ids = append(ids, id)
			*sp.count += len(ann.Objects)
			*sp.imgs++
			done++
			if progress != nil {
				progress(done, total)
			}
		}
		if err := writeAtomic(SplitFile(o.Out, sp.name), func(w io.Writer) error {
			_, err := io.WriteString(w, strings.Join(ids, "\n")+"\n")
			return err
		}); err != nil {
			return nil, err
		}
	}
	if err := writeAtomic(filepath.Join(o.Out, "test.json"), func(w io.Writer) error { return WriteCOCO(w, testAnns, names) }); err != nil {
		return nil, err
	}
	if err := writeAtomic(filepath.Join(o.Out, MakeFile), func(w io.Writer) error {
		b, err := json.MarshalIndent(rep, "", "  ")
		if err != nil {
			return err
		}
		_, err = w.Write(append(b, '\n'))
		return err
	}); err != nil {
		return nil, err
	}
	return rep, nil
}

func openObjects(ctx context.Context, o MakeOptions) (*data.Splits, []string, string, error) {
	dir := o.ObjectsDir
	var names []string
	switch o.Objects {
	case ObjectsMNIST:
		names = MNISTNames
		if dir == "" {
			d, err := data.MNISTDir(ctx)
			if err != nil {
				return nil, nil, "", errors.Wrap(err, "detection: make-data")
			}
			dir = d
		}
	case ObjectsFashion:
		names = FashionNames
		if dir == "" {
			dir = data.FashionMNISTDir
			if _, err := os.Stat(dir); err != nil {
				return nil, nil, "", errors.Errorf("detection: make-data: Fashion-MNIST not found in %s: install Debian's dataset-fashion-mnist (apt-get install dataset-fashion-mnist) or name its idx folder", dir)
			}
		}
	default:
		return nil, nil, "", errors.Errorf("detection: make-data: objects %q unknown (want mnist or fashion)", o.Objects)
	}
	s, err := data.LoadMNIST(dir)
	if err != nil {
		return nil, nil, "", errors.Wrapf(err, "detection: make-data: %s objects", o.Objects)
	}
	if len(s.Classes()) != len(names) {
		return nil, nil, "", errors.Errorf("detection: make-data: %s has %d classes, want %d", dir, len(s.Classes()), len(names))
	}
	return s, names, dir, nil
}

type background struct {
	name string
	img  *Planes
}

// loadBackgrounds decodes the photographs of dir, in name order, and deals
// them alternately to the training and test splits.
func loadBackgrounds(dir string, minSide int) (train, test []background, skipped []string, err error) {
	es, err := os.ReadDir(dir)
	if err != nil {
		return nil, nil, nil, backgroundsError(dir, DefaultBackgrounds, err)
	}
	var names []string
	for _, e := range es {
		ext := strings.ToLower(filepath.Ext(e.Name()))
		if !e.IsDir() && (ext == ".png" || ext == ".jpg" || ext == ".jpeg" || ext == ".gif") {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	var all []background
	for _, n := range names {
		img, err := decodeImageFile(filepath.Join(dir, n))
		if err != nil {
			skipped = append(skipped, n+": "+err.Error())
			continue
		}
		b := img.Bounds()
		if b.Dx() < minSide || b.Dy() < minSide {
			skipped = append(skipped, fmt.Sprintf("%s: %dx%d, smaller than %d", n, b.Dx(), b.Dy(), minSide))
			continue
		}
		all = append(all, background{n, RGBPlanes(img)})
	}
	for i, b := range all {
		if i%2 == 0 {
			train = append(train, b)
		} else {
			test = append(test, b)
		}
	}
	if len(train) == 0 || len(test) == 0 {
		return nil, nil, nil, errors.Errorf("detection: make-data: %s has %d usable photographs (at least %d pixels a side); need 2 or more", dir, len(all), minSide)
	}
	return train, test, skipped, nil
}

// backgroundsError explains an unreadable background folder; a missing
// default folder names the Debian package that provides it.
func backgroundsError(dir, def string, err error) error {
	if os.IsNotExist(err) && dir == def {
		return errors.Errorf("detection: make-data: the default background folder %s is missing: install Debian's python3-skimage (apt-get install python3-skimage) or name a folder of photographs with --backgrounds", dir)
	}
	return errors.Wrap(err, "detection: make-data: backgrounds")
}

func decodeImageFile(path string) (img image.Image, err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	defer func() {
		// A few decoders panic on some corrupt files; report instead.
		if r := recover(); r != nil {
			img, err = nil, errors.Errorf("decoding %s: %v", path, r)
		}
	}()
	img, _, err = image.Decode(f)
	if err != nil {
		return nil, errors.Wrapf(err, "decoding %s", path)
	}
	return img, nil
}

// makeImage cuts a canvas from bg and pastes objects on it.
func makeImage(rng *rand.Rand, o MakeOptions, bg background, objs data.Dataset, names []string) (*image.RGBA, *Annotation, error) {
	w := o.MinCanvas + rng.IntN(o.MaxCanvas-o.MinCanvas+1)
	h := o.MinCanvas + rng.IntN(o.MaxCanvas-o.MinCanvas+1)
	// a crop of the photograph between the canvas size and its whole
	// shorter side, resampled to the canvas
	p := bg.img
	maxScale := math.Min(float64(p.W)/float64(w), float64(p.H)/float64(h))
	s := 1 + rng.Float64()*(maxScale-1)
	cw, ch := float64(w)*s, float64(h)*s
	x0, y0 := rng.Float64()*(float64(p.W)-cw), rng.Float64()*(float64(p.H)-ch)
	canvas := resampleRect(p, Box{x0, y0, x0 + cw, y0 + ch}, w, h)
	ann := &Annotation{Width: w, Height: h, Depth: 3}
	n := 1 + rng.IntN(o.MaxObjects)
	var boxes []Box
	for k := 0; k < n; k++ {
		idx := rng.IntN(objs.Len())
		smp, err := objs.Sample(idx)
		if err != nil {
			return nil, nil, errors.Wrap(err, "detection: make-data")
		}
		if smp.Label < 0 || smp.Label >= len(names) {
			return nil, nil, errors.Errorf("detection: make-data: object %s has label %d", smp.Path, smp.Label)
		}
		alpha, shade := objectMask(smp.Image)
		if alpha == nil {
			continue
		}
		size := o.MinObject + rng.IntN(o.MaxObject-o.MinObject+1)
		ow, oh := size, size
		if alpha.W > alpha.H {
			oh = max(4, int(math.Round(float64(size)*float64(alpha.H)/float64(alpha.W))))
		} else {
			ow = max(4, int(math.Round(float64(size)*float64(alpha.W)/float64(alpha.H))))
		}
		for try := 0; try < 50; try++ {
			px, py := rng.IntN(w-ow+1), rng.IntN(h-oh+1)
			cand := Box{float64(px), float64(py), float64(px + ow), float64(py + oh)}
			ok := true
			for _, b := range boxes {
				in := cand.Intersect(b)
				if !in.Empty() && in.Area() > 0.2*math.Min(cand.Area(), b.Area()) {
					ok = false
					break
				}
			}
			if !ok {
				continue
			}
			tight, pasted := paste(rng, canvas, alpha, shade, px, py, ow, oh, o.Objects == ObjectsFashion)
			if !pasted {
				break
			}
			boxes = append(boxes, cand)
			ann.Objects = append(ann.Objects, Object{Name: names[smp.Label], Box: tight})
			break
		}
	}
	if len(ann.Objects) == 0 {
		return nil, nil, errors.New("detection: make-data: could not place any object (objects too large for the canvas?)")
	}
	return canvas, ann, nil
}

// objectMask crops a dataset image (a light object on black) to its
// non-black pixels and returns them as opacity and shade planes (0..1).
func objectMask(img image.Image) (alpha, shade *Planes) {
	p := RGBPlanes(img)
	x1, y1, x2, y2 := p.W, p.H, -1, -1
	for y := 0; y < p.H; y++ {
		for x := 0; x < p.W; x++ {
			if p.At(0, x, y) > 25 {
				x1, y1, x2, y2 = min(x1, x), min(y1, y), max(x2, x), max(y2, y)
			}
		}
	}
	if x2 < 0 {
		return nil, nil
	}
	w, h := x2-x1+1, y2-y1+1
	alpha = &Planes{C: 1, W: w, H: h, Pix: make([]float32, w*h)}
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			alpha.Pix[y*w+x] = p.At(0, x1+x, y1+y)
		}
	}
	return alpha, alpha
}

// paste draws the object scaled to ow x oh at (px, py) and returns its
// tight box. MNIST digits are opaque where the digit is bright; Fashion
// items are opaque over their silhouette and shaded by their gray levels.
func paste(rng *rand.Rand, canvas *image.RGBA, alpha, shade *Planes, px, py, ow, oh int, shaded bool) (Box, bool) {
	a := resampleRect(alpha, Box{0, 0, float64(alpha.W), float64(alpha.H)}, ow, oh)
	// colour: a random hue, bright on dark surroundings, dark on bright ones
	var lum float64
	for y := 0; y < oh; y++ {
		for x := 0; x < ow; x++ {
			c := canvas.RGBAAt(px+x, py+y)
			lum += 0.299*float64(c.R) + 0.587*float64(c.G) + 0.114*float64(c.B)
		}
	}
	lum /= float64(ow * oh)
	v := 0.85 + 0.15*rng.Float64()
	if lum > 128 {
		v = 0.1 + 0.2*rng.Float64()
	}
	r, g, b := hsvToRGB(rng.Float64(), 0.6+0.4*rng.Float64(), v)
	x1, y1, x2, y2 := ow, oh, -1, -1
	for y := 0; y < oh; y++ {
		for x := 0; x < ow; x++ {
			s := float64(a.Pix[(y*ow+x)*4]) / 255
			op, k := s, 1.0
			if shaded {
				op = math.Min(1, s*4)
				k = 0.45 + 0.55*s
			}
			op = math.Min(1, op*1.3)
			if op >= 0.5 {
				x1, y1, x2, y2 = min(x1, x), min(y1, y), max(x2, x), max(y2, y)
			}
			if op <= 0 {
				continue
			}
			c := canvas.RGBAAt(px+x, py+y)
			mix := func(bg uint8, fg float64) uint8 {
				return uint8(clamp(math.Round(float64(bg)*(1-op)+fg*k*255*op), 0, 255))
			}
			canvas.SetRGBA(px+x, py+y, color.RGBA{mix(c.R, r), mix(c.G, g), mix(c.B, b), 255})
		}
	}
	if x2 < 0 {
		return Box{}, false
	}
	return Box{float64(px + x1), float64(py + y1), float64(px + x2 + 1), float64(py + y2 + 1)}, true
}

// resampleRect resamples the rectangle r of p to a w x h RGBA image (area
// averaging when shrinking, bilinear otherwise; see Warp).
func resampleRect(p *Planes, r Box, w, h int) *image.RGBA {
	if w == h {
		return Warp(nil, p, r, w, 0, [3]uint8{})
	}
	// Warp makes squares; stretch the rectangle to a square of the larger
	// side and then read back the w x h part by scaling r.
	side := max(w, h)
	sq := Box{r.X1, r.Y1, r.X1 + r.W()*float64(side)/float64(w), r.Y1 + r.H()*float64(side)/float64(h)}
	full := Warp(nil, p, sq, side, 0, [3]uint8{})
	out := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		copy(out.Pix[y*out.Stride:y*out.Stride+4*w], full.Pix[y*full.Stride:y*full.Stride+4*w])
	}
	return out
}

func hsvToRGB(h, s, v float64) (r, g, b float64) {
	i := math.Floor(h * 6)
	f := h*6 - i
	p, q, t := v*(1-s), v*(1-f*s), v*(1-(1-f)*s)
	switch int(i) % 6 {
	case 0:
		return v, t, p
	case 1:
		return q, v, p
	case 2:
		return p, v, t
	case 3:
		return p, q, v
	case 4:
		return t, p, v
	}
	return v, p, q
}

// writeAtomic writes path through a temporary file and a rename, so that a
// failure leaves no half-written file.
func writeAtomic(path string, write func(io.Writer) error) error {
	return errors.Wrap(atomicfile.WriteFile(path, 0o644, write), "detection")
}
