package eval

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/goinception/googlenet/checkpoint"
	"github.com/goinception/googlenet/data"
)

func same(a, b []float32) bool {
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			return false
		}
	}
	return true
}

// A model saved through package checkpoint loads with equal logits, and
// LoadMembers splits a comma-separated list.
func TestLoadModelRoundTrip(t *testing.T) {
	m := miniModel(t, 7, 10)
	ck, err := checkpoint.FromModel(m.Model, nil, checkpoint.Meta{Means: data.MNISTMeans, Stds: data.MNISTStds})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "m.safetensors")
	if err := ck.Save(path); err != nil {
		t.Fatal(err)
	}
	ms, err := LoadMembers(path+","+path, LoadOptions{Variant: "mini"})
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != 2 || ms[0].Meta.Source != path || ms[0].Meta.Polyak || ms[0].Meta.Labels != nil {
		t.Fatalf("members %+v", ms)
	}
	x := &Array{Shape: []int{2, 1, 28, 28}, Data: make([]float32, 2*784)}
	for i := range x.Data {
		x.Data[i] = float32(i%29) / 7
	}
	a, err := Infer(m.Model, x, 0)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Infer(ms[1].Model, x, 0)
	if err != nil {
		t.Fatal(err)
	}
	if !same(a.Data, b.Data) {
		t.Error("logits of the loaded model differ")
	}

	bad := filepath.Join(dir, "bad.safetensors")
	if err := os.WriteFile(bad, []byte("not a checkpoint"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		paths string
		o     LoadOptions
		want  string
	}{
		{path, LoadOptions{Variant: "paper"}, `holds a "mini" model, not "paper"`},
		{bad, LoadOptions{}, "bad.safetensors"},
		{filepath.Join(dir, "missing"), LoadOptions{}, "missing"},
		{path + ",", LoadOptions{}, "empty path"},
	} {
		_, err := LoadMembers(c.paths, c.o)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("LoadMembers(%q): %v, want an error with %q", c.paths, err, c.want)
		}
	}
}
