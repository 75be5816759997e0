package data

import (
	"context"
	"strings"
	"testing"
)

func TestSubsetSpec(t *testing.T) {
	dir := t.TempDir()
	writeMNIST(t, dir, false, 40) // labels j%10: 4 images of each digit
	s, err := Open(context.Background(), "mnist:"+dir+",classes=5-7+2,per-class=3")
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(s.Classes(), " "); got != "5 6 7 2" {
		t.Errorf("classes %q, want 5 6 7 2", got)
	}
	if s.Train.Len() != 12 {
		t.Errorf("train %d images, want 4 classes x 3", s.Train.Len())
	}
	count := map[int]int{}
	for i := 0; i < s.Train.Len(); i++ {
		smp, err := s.Train.Sample(i)
		if err != nil {
			t.Fatal(err)
		}
		count[smp.Label]++
		// The path keeps the original index; digit = index % 10.
		want := map[int]string{0: "5", 1: "6", 2: "7", 3: "2"}[smp.Label]
		idx := smp.Path[strings.LastIndex(smp.Path, "#")+1:]
		if idx[len(idx)-1:] != want {
			t.Errorf("sample %d (%s) has label %d (%s)", i, smp.Path, smp.Label, want)
		}
	}
	for l := 0; l < 4; l++ {
		if count[l] != 3 {
			t.Errorf("label %d: %d images, want 3", l, count[l])
		}
	}
	// The test split (labels 0,1,2) keeps only class 2, relabelled 3.
	if s.Val.Len() != 1 {
		t.Errorf("val %d images, want 1", s.Val.Len())
	} else if smp, _ := s.Val.Sample(0); smp.Label != 3 {
		t.Errorf("val label %d, want 3", smp.Label)
	}
	if s.Name != "mnist:"+dir+",classes=5-7+2,per-class=3" {
		t.Errorf("name %q", s.Name)
	}
}

func TestSubsetSpecErrors(t *testing.T) {
	dir := t.TempDir()
	writeMNIST(t, dir, false, 20)
	for spec, want := range map[string]string{
		"classes=3-12":                          "out of range",
		"classes=cat":                           "neither",
		"classes=4-2":                           "neither",
		"classes=1+1":                           "twice",
		"per-class=0":                           "positive",
		"per-class=x":                           "positive",
		"val-per-class=-1":                      "positive",
		"classes=":                              "neither",
		"classes=1,per-class=2,val-per-class=z": "positive",
	} {
		_, err := Open(context.Background(), "mnist:"+dir+","+spec)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v, want one containing %q", spec, err, want)
		}
	}
}

func TestFashionMNIST(t *testing.T) {
	dir := t.TempDir()
	writeMNIST(t, dir, true, 20)
	s, err := Open(context.Background(), "fashion-mnist:"+dir+",classes=Trouser+Bag")
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(s.Classes(), ","); got != "Trouser,Bag" {
		t.Errorf("classes %q", got)
	}
	if s.Train.Len() != 4 {
		t.Errorf("train %d, want 4", s.Train.Len())
	}
}

// FuzzSubsetSpec feeds arbitrary subset options to the spec parser: it must
// return options within range or an error, never panic.
func FuzzSubsetSpec(f *testing.F) {
	for _, s := range []string{"classes=5-9,per-class=100", "classes=0+2+Bag", "val-per-class=3", "classes=-1-2", "classes=9-", "x,classes=1"} {
		f.Add(s)
	}
	names := FashionMNISTClasses
	f.Fuzz(func(t *testing.T, arg string) {
		_, opts := splitSubsetSpec(arg)
		o, err := parseSubset(opts, names)
		if err != nil {
			return
		}
		for _, c := range o.Classes {
			if c < 0 || c >= len(names) {
				t.Fatalf("%q: class %d out of range", arg, c)
			}
		}
		if o.PerClass < 0 || o.ValPerClass < 0 {
			t.Fatalf("%q: negative limits %+v", arg, o)
		}
	})
}
