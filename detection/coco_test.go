package detection

import (
	"bytes"
	"strings"
	"testing"
)

const cocoSample = `{"images":[{"id":7,"file_name":"a.jpg","width":100,"height":80},{"id":9,"file_name":"b.jpg","width":50,"height":50}],
"annotations":[{"id":1,"image_id":7,"category_id":3,"bbox":[10,20,30,40],"area":1200,"iscrowd":0},
{"id":2,"image_id":9,"category_id":5,"bbox":[0,0,50,50],"area":2500,"iscrowd":1}],
"categories":[{"id":3,"name":"cat"},{"id":5,"name":"dog"}]}`

func TestCOCORoundTrip(t *testing.T) {
	anns, classes, err := ParseCOCO(strings.NewReader(cocoSample), "a.json")
	if err != nil {
		t.Fatal(err)
	}
	if len(anns) != 2 || len(classes) != 2 || classes[1] != "dog" {
		t.Fatalf("anns %+v classes %v", anns, classes)
	}
	if anns[0].ID != "7" || anns[0].Objects[0].Box != (Box{10, 20, 40, 60}) || !anns[1].Objects[0].Difficult {
		t.Errorf("anns %+v", anns)
	}
	var buf bytes.Buffer
	if err := WriteCOCO(&buf, anns, classes); err != nil {
		t.Fatal(err)
	}
	again, cl2, err := ParseCOCO(&buf, "again")
	if err != nil || len(again) != 2 || again[0].ID != "7" || again[0].Objects[0] != anns[0].Objects[0] || cl2[0] != "cat" {
		t.Errorf("round trip: %v %+v", err, again)
	}
	dets := []Detection{{Image: "9", Class: 1, Box: Box{1, 2, 11, 12}, Score: 0.75}}
	buf.Reset()
	if err := WriteCOCOResults(&buf, dets, classes, COCOImageIDs(anns), nil); err != nil {
		t.Fatal(err)
	}
	back, err := ParseCOCOResults(&buf, "res.json", CategoriesOf(classes))
	if err != nil || len(back) != 1 || back[0] != dets[0] {
		t.Errorf("results round trip: %v %+v", err, back)
	}
}

func TestCOCOErrors(t *testing.T) {
	for name, doc := range map[string]string{
		"malformed":        `{"images":[`,
		"unknown image":    `{"images":[],"annotations":[{"id":1,"image_id":3,"category_id":1,"bbox":[0,0,1,1]}],"categories":[{"id":1,"name":"a"}]}`,
		"unknown category": `{"images":[{"id":3}],"annotations":[{"id":1,"image_id":3,"category_id":2,"bbox":[0,0,1,1]}],"categories":[{"id":1,"name":"a"}]}`,
		"negative box":     `{"images":[{"id":3}],"annotations":[{"id":1,"image_id":3,"category_id":1,"bbox":[0,0,-1,1]}],"categories":[{"id":1,"name":"a"}]}`,
		"outside":          `{"images":[{"id":3,"width":5,"height":5}],"annotations":[{"id":1,"image_id":3,"category_id":1,"bbox":[2,2,4,1]}],"categories":[{"id":1,"name":"a"}]}`,
		"duplicate image":  `{"images":[{"id":3},{"id":3}],"annotations":[],"categories":[]}`,
		"trailing data":    `{"images":[]} {}`,
	} {
		if _, _, err := ParseCOCO(strings.NewReader(doc), "f.json"); err == nil || !strings.Contains(err.Error(), "f.json") {
			t.Errorf("%s: error %v", name, err)
		}
	}
	if _, err := ParseCOCOResults(strings.NewReader(`[{"image_id":1,"category_id":9,"bbox":[0,0,1,1],"score":1}]`), "r.json", CategoriesOf([]string{"a"})); err == nil {
		t.Error("unknown category in results accepted")
	}
}

func FuzzParseCOCO(f *testing.F) {
	f.Add([]byte(cocoSample))
	f.Add([]byte(`{"images":[{"id":1,"width":4,"height":4}],"annotations":[{"id":1,"image_id":1,"category_id":1,"bbox":[0,0,4,4]}],"categories":[{"id":1,"name":"a"}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		anns, classes, err := ParseCOCO(bytes.NewReader(b), "fuzz")
		if err != nil {
			return
		}
		for _, a := range anns {
			for _, o := range a.Objects {
				if o.Box.X1 > o.Box.X2 || o.Box.Y1 > o.Box.Y2 {
					t.Fatalf("inverted box %v", o.Box)
				}
			}
		}
		var buf bytes.Buffer
		if err := WriteCOCO(&buf, anns, classes); err != nil {
			return // e.g. two categories with one name
		}
		if _, _, err := ParseCOCO(&buf, "again"); err != nil {
			t.Fatalf("written file does not parse: %v", err)
		}
	})
}

func FuzzParseCOCOResults(f *testing.F) {
	f.Add([]byte(`[{"image_id":1,"category_id":1,"bbox":[0,0,1,1],"score":0.5}]`))
	f.Fuzz(func(t *testing.T, b []byte) {
		dets, err := ParseCOCOResults(bytes.NewReader(b), "fuzz", CategoriesOf([]string{"a", "b"}))
		if err != nil {
			return
		}
		for _, d := range dets {
			if d.Class < 0 || d.Class > 1 || d.Box.X1 > d.Box.X2 {
				t.Fatalf("bad detection %+v", d)
			}
		}
	})
}
