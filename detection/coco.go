package detection

import (
	"encoding/json"
	"io"
	"math"
	"sort"
	"strconv"

	"github.com/pkg/errors"
)

// COCO is a COCO-style annotations file: images, annotations (boxes as
// [x, y, width, height] in pixels, from the top-left corner) and
// categories.
type COCO struct {
	Images      []COCOImage      `json:"images"`
	Annotations []COCOAnnotation `json:"annotations"`
	Categories  []COCOCategory   `json:"categories"`
}

// COCOImage is an entry of COCO.Images.
type COCOImage struct {
	ID       int64  `json:"id"`
	FileName string `json:"file_name"`
	Width    int    `json:"width"`
	Height   int    `json:"height"`
}

// COCOAnnotation is an entry of COCO.Annotations. Crowd regions (iscrowd
// 1) become difficult objects: they are neither required nor penalised.
type COCOAnnotation struct {
	ID         int64      `json:"id"`
	ImageID    int64      `json:"image_id"`
	CategoryID int64      `json:"category_id"`
	BBox       [4]float64 `json:"bbox"`
	Area       float64    `json:"area"`
	IsCrowd    int        `json:"iscrowd"`
}

// COCOCategory is an entry of COCO.Categories.
type COCOCategory struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
}

// COCOResult is one detection of a COCO results file (a JSON array).
type COCOResult struct {
	ImageID    int64      `json:"image_id"`
	CategoryID int64      `json:"category_id"`
	BBox       [4]float64 `json:"bbox"`
	Score      float64    `json:"score"`
}

const maxCOCOBytes = 1 << 30

func readJSON(r io.Reader, name string, v interface{}) error {
	dec := json.NewDecoder(io.LimitReader(r, maxCOCOBytes))
	if err := dec.Decode(v); err != nil {
		return errors.Wrapf(err, "coco %s: malformed JSON", name)
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.Errorf("coco %s: data after the JSON value", name)
	}
	return nil
}

func cocoBox(b [4]float64) (Box, error) {
	for _, v := range b {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return Box{}, errors.Errorf("bbox %v is not finite", b)
		}
	}
	if b[2] < 0 || b[3] < 0 {
		return Box{}, errors.Errorf("bbox %v has a negative width or height", b)
	}
	return Box{b[0], b[1], b[0] + b[2], b[1] + b[3]}, nil
}

// ParseCOCO reads a COCO annotations file and returns the annotations per
// image (in the file's image order, Annotation.ID the decimal image id)
// and the class names in category order. It checks that ids are unique,
// that every annotation names a known image and category, and that boxes
// are finite, not inverted and inside their image.
func ParseCOCO(r io.Reader, name string) ([]Annotation, []string, error) {
	var c COCO
	if err := readJSON(r, name, &c); err != nil {
		return nil, nil, err
	}
	cats := map[int64]string{}
	var classes []string
	for _, k := range c.Categories {
		if _, dup := cats[k.ID]; dup {
			return nil, nil, errors.Errorf("coco %s: category id %d twice", name, k.ID)
		}
		if k.Name == "" {
			return nil, nil, errors.Errorf("coco %s: category %d has no name", name, k.ID)
		}
		cats[k.ID] = k.Name
		classes = append(classes, k.Name)
	}
	imgs := map[int64]int{}
	anns := make([]Annotation, len(c.Images))
	for i, im := range c.Images {
		if _, dup := imgs[im.ID]; dup {
			return nil, nil, errors.Errorf("coco %s: image id %d twice", name, im.ID)
		}
		if im.Width < 0 || im.Height < 0 {
			return nil, nil, errors.Errorf("coco %s: image %d has size %dx%d", name, im.ID, im.Width, im.Height)
		}
		imgs[im.ID] = i
		anns[i] = Annotation{ID: strconv.FormatInt(im.ID, 10), Filename: im.FileName, Width: im.Width, Height: im.Height}
	}
	for _, a := range c.Annotations {
		i, ok := imgs[a.ImageID]
		if !ok {
			return nil, nil, errors.Errorf("coco %s: annotation %d: unknown image id %d", name, a.ID, a.ImageID)
		}
		cn, ok := cats[a.CategoryID]
		if !ok {
			return nil, nil, errors.Errorf("coco %s: annotation %d: unknown category id %d", name, a.ID, a.CategoryID)
		}
		b, err := cocoBox(a.BBox)
		if err != nil {
			return nil, nil, errors.Wrapf(err, "coco %s: annotation %d", name, a.ID)
		}
		if w, h := anns[i].Width, anns[i].Height; w > 0 && h > 0 && !b.Inside(w, h) {
			return nil, nil, errors.Errorf("coco %s: annotation %d: bbox %v outside the %dx%d image %d", name, a.ID, a.BBox, w, h, a.ImageID)
		}
		anns[i].Objects = append(anns[i].Objects, Object{Name: cn, Box: b, Difficult: a.IsCrowd != 0})
	}
	return anns, classes, nil
}

// WriteCOCO writes anns as a COCO annotations file. Image ids are the
// annotations' IDs when they are all decimal integers and 1, 2, ...
// otherwise; categories are numbered 1, 2, ... in the order of classes.
// Objects of classes not in classes are an error.
func WriteCOCO(w io.Writer, anns []Annotation, classes []string) error {
	cat := map[string]int64{}
	var c COCO
	c.Images, c.Annotations, c.Categories = []COCOImage{}, []COCOAnnotation{}, []COCOCategory{}
	for i, n := range classes {
		cat[n] = int64(i + 1)
		c.Categories = append(c.Categories, COCOCategory{ID: int64(i + 1), Name: n})
	}
	ids := cocoIDs(anns)
	var next int64 = 1
	for i, a := range anns {
		fn := a.Filename
		c.Images = append(c.Images, COCOImage{ID: ids[i], FileName: fn, Width: a.Width, Height: a.Height})
		for _, ob := range a.Objects {
			k, ok := cat[ob.Name]
			if !ok {
				return errors.Errorf("coco: image %s: object of class %q not in the class list", a.ID, ob.Name)
			}
			c.Annotations = append(c.Annotations, COCOAnnotation{
				ID: next, ImageID: ids[i], CategoryID: k, BBox: [4]float64{ob.Box.X1, ob.Box.Y1, ob.Box.W(), ob.Box.H()},
				Area: ob.Box.Area(), IsCrowd: b2i(ob.Difficult),
			})
			next++
		}
	}
	enc := json.NewEncoder(w)
	return errors.Wrap(enc.Encode(&c), "coco: write")
}

// cocoIDs returns the numeric image ids WriteCOCO uses.
func cocoIDs(anns []Annotation) []int64 {
	ids := make([]int64, len(anns))
	seen := map[int64]bool{}
	for i, a := range anns {
		v, err := strconv.ParseInt(a.ID, 10, 64)
		if err != nil || seen[v] {
			for j := range ids {
				ids[j] = int64(j + 1)
			}
			return ids
		}
		seen[v] = true
		ids[i] = v
	}
	return ids
}

// COCOImageIDs returns the numeric image ids WriteCOCO gives anns, by
// Annotation.ID.
func COCOImageIDs(anns []Annotation) map[string]int64 {
	ids := cocoIDs(anns)
	out := make(map[string]int64, len(anns))
	for i, a := range anns {
		out[a.ID] = ids[i]
	}
	return out
}

// WriteCOCOResults writes dets as a COCO results file: an array of
// {image_id, category_id, bbox, score}. imageIDs maps Detection.Image to
// the COCO image id (COCOImageIDs, or the ids of an existing annotations
// file) and categoryIDs maps class names (classes[Detection.Class]) to
// category ids (nil: 1 + the class index, as WriteCOCO numbers them).
func WriteCOCOResults(w io.Writer, dets []Detection, classes []string, imageIDs, categoryIDs map[string]int64) error {
	out := make([]COCOResult, 0, len(dets))
	for _, d := range dets {
		id, ok := imageIDs[d.Image]
		if !ok {
			return errors.Errorf("coco: detection in image %q, which has no COCO image id", d.Image)
		}
		if d.Class < 0 || d.Class >= len(classes) {
			return errors.Errorf("coco: detection of class %d (have %d classes)", d.Class, len(classes))
		}
		cat := int64(d.Class + 1)
		if categoryIDs != nil {
			if cat, ok = categoryIDs[classes[d.Class]]; !ok {
				return errors.Errorf("coco: class %q has no category id", classes[d.Class])
			}
		}
		out = append(out, COCOResult{ImageID: id, CategoryID: cat,
			BBox: [4]float64{d.Box.X1, d.Box.Y1, d.Box.W(), d.Box.H()}, Score: d.Score})
	}
	return errors.Wrap(json.NewEncoder(w).Encode(out), "coco: write results")
}

// ParseCOCOResults reads a COCO results file. Category ids are mapped to
// class indices through categories (as ParseCOCO's file lists them: the
// i-th category is class i); image ids become Detection.Image as decimal
// strings. Unknown categories, non-finite scores and inverted boxes are
// errors naming the entry.
func ParseCOCOResults(r io.Reader, name string, categories []COCOCategory) ([]Detection, error) {
	var rs []COCOResult
	if err := readJSON(r, name, &rs); err != nil {
		return nil, err
	}
	idx := map[int64]int{}
	for i, c := range categories {
		idx[c.ID] = i
	}
	dets := make([]Detection, 0, len(rs))
	for i, x := range rs {
		c, ok := idx[x.CategoryID]
		if !ok {
			return nil, errors.Errorf("coco %s: result %d: unknown category id %d", name, i, x.CategoryID)
		}
		b, err := cocoBox(x.BBox)
		if err != nil {
			return nil, errors.Wrapf(err, "coco %s: result %d", name, i)
		}
		if math.IsNaN(x.Score) || math.IsInf(x.Score, 0) {
			return nil, errors.Errorf("coco %s: result %d: score %v", name, i, x.Score)
		}
		dets = append(dets, Detection{Image: strconv.FormatInt(x.ImageID, 10), Class: c, Box: b, Score: x.Score})
	}
	return dets, nil
}

// CategoriesOf returns the categories WriteCOCO writes for classes.
func CategoriesOf(classes []string) []COCOCategory {
	out := make([]COCOCategory, len(classes))
	for i, n := range classes {
		out[i] = COCOCategory{ID: int64(i + 1), Name: n}
	}
	return out
}

// sortDetections orders detections by image, class and decreasing score.
func sortDetections(ds []Detection) {
	sort.SliceStable(ds, func(i, j int) bool {
		if ds[i].Image != ds[j].Image {
			return ds[i].Image < ds[j].Image
		}
		if ds[i].Class != ds[j].Class {
			return ds[i].Class < ds[j].Class
		}
		return ds[i].Score > ds[j].Score
	})
}
