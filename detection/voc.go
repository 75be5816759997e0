package detection

import (
	"bufio"
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/pkg/errors"
)

// Object is one annotated object.
type Object struct {
	Name      string `json:"name"`
	Box       Box    `json:"box"`
	Difficult bool   `json:"difficult,omitempty"`
	Truncated bool   `json:"truncated,omitempty"`
}

// Annotation is the ground truth of one image.
type Annotation struct {
	// ID identifies the image: the file stem in a VOC layout, the image id
	// in COCO.
	ID       string `json:"id"`
	Filename string `json:"filename"`
	// Width, Height and Depth are the image's size as annotated (0 when
	// the file does not say).
	Width, Height, Depth int
	Objects              []Object `json:"objects"`
	// Path is the image file, when known.
	Path string `json:"path,omitempty"`
}

// vocXML mirrors a PASCAL VOC annotation file.
type vocXML struct {
	XMLName  xml.Name `xml:"annotation"`
	Folder   string   `xml:"folder,omitempty"`
	Filename string   `xml:"filename"`
	Size     *struct {
		Width  string `xml:"width"`
		Height string `xml:"height"`
		Depth  string `xml:"depth"`
	} `xml:"size"`
	Objects []struct {
		Name      string `xml:"name"`
		Pose      string `xml:"pose,omitempty"`
		Truncated string `xml:"truncated"`
		Difficult string `xml:"difficult"`
		Box       *struct {
			Xmin string `xml:"xmin"`
			Ymin string `xml:"ymin"`
			Xmax string `xml:"xmax"`
			Ymax string `xml:"ymax"`
		} `xml:"bndbox"`
	} `xml:"object"`
}

// maxVOCBytes bounds an annotation file; real ones are a few kilobytes.
const maxVOCBytes = 16 << 20

// ParseVOC reads a PASCAL VOC annotation (Annotations/<id>.xml). name
// appears in errors. Coordinates are 1-based inclusive pixel corners, as
// in VOC (integers, or decimals as some tools write them); a box must have
// xmin <= xmax and ymin <= ymax, and, when the file gives the image size,
// lie within it (1..width, 1..height). Missing <difficult> and <truncated>
// mean 0.
func ParseVOC(r io.Reader, name string) (*Annotation, error) {
	b, err := io.ReadAll(io.LimitReader(r, maxVOCBytes+1))
	if err != nil {
		return nil, errors.Wrapf(err, "voc %s", name)
	}
	if len(b) > maxVOCBytes {
		return nil, errors.Errorf("voc %s: larger than %d bytes", name, maxVOCBytes)
	}
	var v vocXML
	if err := xml.Unmarshal(b, &v); err != nil {
		return nil, errors.Wrapf(err, "voc %s: malformed XML", name)
	}
	a := &Annotation{Filename: strings.TrimSpace(v.Filename)}
	if v.Size != nil {
		var err error
		if a.Width, err = sizeField(v.Size.Width, "width", true); err != nil {
			return nil, errors.Wrapf(err, "voc %s", name)
		}
		if a.Height, err = sizeField(v.Size.Height, "height", true); err != nil {
			return nil, errors.Wrapf(err, "voc %s", name)
		}
		if a.Depth, err = sizeField(v.Size.Depth, "depth", false); err != nil {
			return nil, errors.Wrapf(err, "voc %s", name)
		}
		if (a.Width == 0) != (a.Height == 0) {
			return nil, errors.Errorf("voc %s: size %dx%d: width and height must both be given", name, a.Width, a.Height)
		}
	}
	for i, o := range v.Objects {
		ob := Object{Name: strings.TrimSpace(o.Name)}
		where := fmt.Sprintf("voc %s: object %d (%q)", name, i+1, ob.Name)
		if ob.Name == "" {
			return nil, errors.Errorf("%s: no <name>", where)
		}
		if ob.Difficult, err = flagField(o.Difficult, "difficult"); err != nil {
			return nil, errors.Wrap(err, where)
		}
		if ob.Truncated, err = flagField(o.Truncated, "truncated"); err != nil {
			return nil, errors.Wrap(err, where)
		}
		if o.Box == nil {
			return nil, errors.Errorf("%s: no <bndbox>", where)
		}
		var c [4]float64
		for k, s := range [4]string{o.Box.Xmin, o.Box.Ymin, o.Box.Xmax, o.Box.Ymax} {
			f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
			if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
				return nil, errors.Errorf("%s: bndbox %s %q is not a number", where, [4]string{"xmin", "ymin", "xmax", "ymax"}[k], s)
			}
			c[k] = f
		}
		if c[0] > c[2] || c[1] > c[3] {
			return nil, errors.Errorf("%s: inverted box xmin %g > xmax %g or ymin %g > ymax %g", where, c[0], c[2], c[1], c[3])
		}
		ob.Box = FromVOC(c[0], c[1], c[2], c[3])
		if a.Width > 0 && !ob.Box.Inside(a.Width, a.Height) {
			return nil, errors.Errorf("%s: box (%g,%g)-(%g,%g) outside the %dx%d image", where, c[0], c[1], c[2], c[3], a.Width, a.Height)
		}
		a.Objects = append(a.Objects, ob)
	}
	return a, nil
}

func sizeField(s, what string, required bool) (int, error) {
	s = strings.TrimSpace(s)
	if s == "" && !required {
		return 0, nil
	}
	// Some tools write "500.0".
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f < 0 || f != math.Trunc(f) || f > 1<<20 {
		return 0, errors.Errorf("size %s %q is not a non-negative integer", what, s)
	}
	return int(f), nil
}

func flagField(s, what string) (bool, error) {
	switch strings.TrimSpace(s) {
	case "", "0", "false":
		return false, nil
	case "1", "true":
		return true, nil
	}
	return false, errors.Errorf("<%s> %q is not 0 or 1", what, s)
}

// WriteVOC writes a as a PASCAL VOC annotation file.
func WriteVOC(w io.Writer, a *Annotation) error {
	var buf bytes.Buffer
	esc := func(s string) string {
		var b bytes.Buffer
		_ = xml.EscapeText(&b, []byte(s))
		return b.String()
	}
	fmt.Fprintf(&buf, "<annotation>\n\t<folder>JPEGImages</folder>\n\t<filename>%s</filename>\n", esc(a.Filename))
	fmt.Fprintf(&buf, "\t<size>\n\t\t<width>%d</width>\n\t\t<height>%d</height>\n\t\t<depth>%d</depth>\n\t</size>\n", a.Width, a.Height, a.Depth)
	for _, o := range a.Objects {
		x1, y1, x2, y2 := o.Box.VOC()
		fmt.Fprintf(&buf, "\t<object>\n\t\t<name>%s</name>\n\t\t<pose>Unspecified</pose>\n\t\t<truncated>%d</truncated>\n\t\t<difficult>%d</difficult>\n", esc(o.Name), b2i(o.Truncated), b2i(o.Difficult))
		fmt.Fprintf(&buf, "\t\t<bndbox>\n\t\t\t<xmin>%s</xmin>\n\t\t\t<ymin>%s</ymin>\n\t\t\t<xmax>%s</xmax>\n\t\t\t<ymax>%s</ymax>\n\t\t</bndbox>\n\t</object>\n",
			num(x1), num(y1), num(x2), num(y2))
	}
	buf.WriteString("</annotation>\n")
	_, err := w.Write(buf.Bytes())
	return err
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

func num(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

// VOCOptions configures OpenVOC.
type VOCOptions struct {
	// Classes is the class list; objects of other classes are errors (or
	// skipped images with SkipBad). nil takes the sorted names found in the
	// split's annotations.
	Classes []string
	// SkipBad skips images whose annotation is malformed, whose boxes are
	// outside the image or inverted, whose classes are unknown or whose
	// image file is missing, and lists them in VOCSet.Skipped, instead of
	// failing on the first.
	SkipBad bool
}

// VOCSet is one split of a dataset in PASCAL VOC layout.
type VOCSet struct {
	Dir, Split string
	Classes    []string
	Images     []Annotation // in the order of the split's list; Path set
	// Skipped holds one error per image skipped under SkipBad.
	Skipped []error
}

// SplitFile is the list of a split's image ids in a VOC layout.
func SplitFile(dir, split string) string {
	return filepath.Join(dir, "ImageSets", "Main", split+".txt")
}

// OpenVOC reads split (e.g. "train", "test", "val", "trainval") of the
// PASCAL VOC layout in dir: the ids listed in ImageSets/Main/<split>.txt,
// their annotations Annotations/<id>.xml and images JPEGImages/<filename>
// (or <id>.jpg, <id>.jpeg, <id>.png when the annotation names no file).
// Errors name the file at fault.
func OpenVOC(dir, split string, o VOCOptions) (*VOCSet, error) {
	listPath := SplitFile(dir, split)
	ids, err := readIDs(listPath)
	if err != nil {
		return nil, err
	}
	s := &VOCSet{Dir: dir, Split: split}
	known := map[string]bool{}
	for _, c := range o.Classes {
		known[c] = true
	}
	for _, id := range ids {
		a, err := readVOCItem(dir, id)
		if err == nil && o.Classes != nil {
			for _, ob := range a.Objects {
				if !known[ob.Name] {
					err = errors.Errorf("voc %s: unknown class %q (classes: %s)", filepath.Join(dir, "Annotations", id+".xml"), ob.Name, strings.Join(o.Classes, ", "))
					break
				}
			}
		}
		if err != nil {
			if o.SkipBad {
				s.Skipped = append(s.Skipped, err)
				continue
			}
			return nil, err
		}
		s.Images = append(s.Images, *a)
	}
	if len(s.Images) == 0 {
		return nil, errors.Errorf("voc %s: no usable images in split %q (%d listed, %d skipped)", dir, split, len(ids), len(s.Skipped))
	}
	s.Classes = o.Classes
	if s.Classes == nil {
		s.Classes = ClassNames(s.Images)
	}
	return s, nil
}

// ClassNames returns the sorted distinct object names of anns.
func ClassNames(anns []Annotation) []string {
	seen := map[string]bool{}
	var out []string
	for _, a := range anns {
		for _, ob := range a.Objects {
			if !seen[ob.Name] {
				seen[ob.Name] = true
				out = append(out, ob.Name)
			}
		}
	}
	sort.Strings(out)
	return out
}

func readIDs(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, errors.Wrap(err, "voc: split list")
	}
	defer f.Close()
	var ids []string
	sc := bufio.NewScanner(f)
	line := 0
	for sc.Scan() {
		line++
		fs := strings.Fields(sc.Text())
		if len(fs) == 0 {
			continue
		}
		id := fs[0]
		if strings.ContainsAny(id, `/\`) || id == "." || id == ".." {
			return nil, errors.Errorf("voc %s:%d: bad image id %q", path, line, id)
		}
		ids = append(ids, id)
	}
	if err := sc.Err(); err != nil {
		return nil, errors.Wrapf(err, "voc %s", path)
	}
	if len(ids) == 0 {
		return nil, errors.Errorf("voc %s: no image ids", path)
	}
	return ids, nil
}

func readVOCItem(dir, id string) (*Annotation, error) {
	xmlPath := filepath.Join(dir, "Annotations", id+".xml")
	f, err := os.Open(xmlPath)
	if err != nil {
		return nil, errors.Wrap(err, "voc: annotation")
	}
	a, err := ParseVOC(f, xmlPath)
	f.Close()
	if err != nil {
		return nil, err
	}
	a.ID = id
	var cands []string
	if a.Filename != "" {
		if strings.ContainsAny(a.Filename, `/\`) {
			return nil, errors.Errorf("voc %s: filename %q must not name a folder", xmlPath, a.Filename)
		}
		cands = append(cands, a.Filename)
	}
	cands = append(cands, id+".jpg", id+".jpeg", id+".png", id+".JPG")
	for _, c := range cands {
		p := filepath.Join(dir, "JPEGImages", c)
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			a.Path = p
			return a, nil
		}
	}
	return nil, errors.Errorf("voc %s: image %s not found", xmlPath, filepath.Join(dir, "JPEGImages", cands[0]))
}
