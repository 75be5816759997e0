package detection

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const vocSample = `<annotation>
	<folder>VOC2007</folder>
	<filename>000005.jpg</filename>
	<size><width>500</width><height>375</height><depth>3</depth></size>
	<object><name>chair</name><pose>Rear</pose><truncated>0</truncated><difficult>0</difficult>
		<bndbox><xmin>263</xmin><ymin>211</ymin><xmax>324</xmax><ymax>339</ymax></bndbox></object>
	<object><name>chair</name><truncated>1</truncated><difficult>1</difficult>
		<bndbox><xmin>5.5</xmin><ymin>244</ymin><xmax>67</xmax><ymax>374</ymax></bndbox></object>
</annotation>`

func TestParseVOC(t *testing.T) {
	a, err := ParseVOC(strings.NewReader(vocSample), "000005.xml")
	if err != nil {
		t.Fatal(err)
	}
	if a.Filename != "000005.jpg" || a.Width != 500 || a.Height != 375 || a.Depth != 3 || len(a.Objects) != 2 {
		t.Fatalf("parsed %+v", a)
	}
	o := a.Objects[0]
	if o.Name != "chair" || o.Box != (Box{262, 210, 324, 339}) || o.Difficult || o.Truncated {
		t.Errorf("object 0 %+v", o)
	}
	if !a.Objects[1].Difficult || !a.Objects[1].Truncated || a.Objects[1].Box.X1 != 4.5 {
		t.Errorf("object 1 %+v", a.Objects[1])
	}
	// Round trip.
	var buf bytes.Buffer
	if err := WriteVOC(&buf, a); err != nil {
		t.Fatal(err)
	}
	b, err := ParseVOC(&buf, "again")
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Objects) != 2 || b.Objects[1] != a.Objects[1] || b.Width != 500 {
		t.Errorf("round trip %+v", b)
	}
}

func TestParseVOCErrors(t *testing.T) {
	for name, doc := range map[string]string{
		"malformed XML": `<annotation><object>`,
		"inverted":      `<annotation><size><width>50</width><height>50</height></size><object><name>a</name><bndbox><xmin>30</xmin><ymin>1</ymin><xmax>20</xmax><ymax>10</ymax></bndbox></object></annotation>`,
		"outside":       `<annotation><size><width>50</width><height>50</height></size><object><name>a</name><bndbox><xmin>30</xmin><ymin>1</ymin><xmax>51</xmax><ymax>10</ymax></bndbox></object></annotation>`,
		"not a number":  `<annotation><object><name>a</name><bndbox><xmin>x</xmin><ymin>1</ymin><xmax>5</xmax><ymax>10</ymax></bndbox></object></annotation>`,
		"no box":        `<annotation><object><name>a</name></object></annotation>`,
		"no name":       `<annotation><object><bndbox><xmin>1</xmin><ymin>1</ymin><xmax>5</xmax><ymax>10</ymax></bndbox></object></annotation>`,
		"bad difficult": `<annotation><object><name>a</name><difficult>2</difficult><bndbox><xmin>1</xmin><ymin>1</ymin><xmax>5</xmax><ymax>10</ymax></bndbox></object></annotation>`,
		"bad size":      `<annotation><size><width>-3</width><height>50</height></size></annotation>`,
	} {
		if _, err := ParseVOC(strings.NewReader(doc), "f.xml"); err == nil {
			t.Errorf("%s: no error", name)
		} else if !strings.Contains(err.Error(), "f.xml") {
			t.Errorf("%s: error %q does not name the file", name, err)
		}
	}
}

func FuzzParseVOC(f *testing.F) {
	f.Add([]byte(vocSample))
	f.Add([]byte(`<annotation><size><width>5</width><height>5</height></size><object><name>a</name><bndbox><xmin>1</xmin><ymin>1</ymin><xmax>5</xmax><ymax>5</ymax></bndbox></object></annotation>`))
	f.Fuzz(func(t *testing.T, b []byte) {
		a, err := ParseVOC(bytes.NewReader(b), "fuzz")
		if err != nil {
			return
		}
		for _, o := range a.Objects {
			if o.Box.X1 > o.Box.X2 || o.Box.Y1 > o.Box.Y2 {
				t.Fatalf("inverted box accepted: %v", o.Box)
			}
			if a.Width > 0 && !o.Box.Inside(a.Width, a.Height) {
				t.Fatalf("box %v outside %dx%d accepted", o.Box, a.Width, a.Height)
			}
		}
		var buf bytes.Buffer
		if err := WriteVOC(&buf, a); err != nil {
			t.Fatal(err)
		}
		b2, err := ParseVOC(&buf, "again")
		if err != nil {
			t.Fatalf("written annotation does not parse: %v\n%s", err, buf.String())
		}
		if len(b2.Objects) != len(a.Objects) {
			t.Fatalf("round trip lost objects")
		}
	})
}

func writeFile(t *testing.T, path, s string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestOpenVOC(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, SplitFile(dir, "test"), "a\nb\nc\nd\n")
	ann := func(name string) string {
		return `<annotation><filename>` + name + `.jpg</filename><size><width>20</width><height>20</height><depth>3</depth></size><object><name>cat</name><bndbox><xmin>1</xmin><ymin>1</ymin><xmax>5</xmax><ymax>5</ymax></bndbox></object></annotation>`
	}
	writeFile(t, filepath.Join(dir, "Annotations", "a.xml"), ann("a"))
	writeFile(t, filepath.Join(dir, "JPEGImages", "a.jpg"), "x")
	writeFile(t, filepath.Join(dir, "Annotations", "b.xml"), ann("b")) // image missing
	writeFile(t, filepath.Join(dir, "Annotations", "c.xml"), `<annotation><object>`)
	writeFile(t, filepath.Join(dir, "Annotations", "d.xml"), strings.Replace(ann("d"), "cat", "emu", 1))
	writeFile(t, filepath.Join(dir, "JPEGImages", "d.jpg"), "x")

	_, err := OpenVOC(dir, "test", VOCOptions{})
	if err == nil || !strings.Contains(err.Error(), "b.jpg") {
		t.Errorf("missing image: error %v does not name b.jpg", err)
	}
	s, err := OpenVOC(dir, "test", VOCOptions{SkipBad: true, Classes: []string{"cat"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Images) != 1 || s.Images[0].ID != "a" || len(s.Skipped) != 3 {
		t.Errorf("images %d, skipped %v", len(s.Images), s.Skipped)
	}
	if !strings.Contains(s.Skipped[2].Error(), `unknown class "emu"`) || !strings.Contains(s.Skipped[2].Error(), "d.xml") {
		t.Errorf("unknown class error %v", s.Skipped[2])
	}
	if _, err := OpenVOC(dir, "train", VOCOptions{}); err == nil || !strings.Contains(err.Error(), "train.txt") {
		t.Errorf("missing split: %v", err)
	}
}
