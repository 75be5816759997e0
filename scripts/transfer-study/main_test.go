package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/goinception/googlenet/data"
)

// TestTable: the means, the comparison lines with their >= 10 marks, the
// per-seed rows, and results.tsv read back.
func TestTable(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "results.tsv")
	lines := []string{
		"scratch\t5\t1\t0.200000\t0.2\t1.0\tscratch",
		"scratch\t5\t2\t0.300000\t0.2\t1.0\tscratch",
		"scratch+bn\t5\t1\t0.500000\t0.2\t0.0\tscratch",
		"scratch+bn\t5\t2\t0.600000\t0.2\t0.0\tscratch",
		"frozen\t5\t1\t0.700000\t0.6\t1.0\tw.safetensors",
		"frozen\t5\t2\t0.800000\t0.6\t1.0\tw.safetensors",
		"scratch\t50\t1\t0.900000\t0.9\t1.0\tscratch",
		"frozen\t50\t1\t0.850000\t0.9\t1.0\tw.safetensors",
	}
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	done, err := readResults(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(done) != len(lines) {
		t.Fatalf("%d results, want %d", len(done), len(lines))
	}
	sel, err := selectRows("scratch,frozen")
	if err != nil {
		t.Fatal(err)
	}
	sel[1].Source = "w.safetensors"
	var b strings.Builder
	if err := tabulate(sel, []int{5, 50}, []int{1, 2}, done).markdown(&b); err != nil {
		t.Fatal(err)
	}
	got := b.String()
	for _, want := range []string{
		"| scratch (rate 0.1, the recipe) | 25.0% | 90.0% |",
		"| scratch (rate 0.1, the recipe), BN statistics recomputed | 55.0% | |",
		"| frozen trunk (through 4b), new head | 75.0% | 85.0% |",
		"| **frozen trunk minus scratch, both at the recipe's rate, points** | **+50.0** (>= 10) | **-5.0** |",
		"| **frozen trunk (better rate) minus scratch (best rate, BN statistics recomputed or not), points** | **+20.0** (>= 10) | **-5.0** |",
		"| frozen | 5 | 70.00% | 80.00% | 75.00% |",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("table lacks %q:\n%s", want, got)
		}
	}
	if err := tabulate(sel, []int{5, 50}, []int{1, 2}, done).plot(filepath.Join(dir, "p.png"), "test"); err != nil {
		t.Fatal(err)
	}
}

func TestRunUsage(t *testing.T) {
	for _, args := range [][]string{
		{"-budgets", "5,15"},
		{"-budgets", "x"},
		{"-rows", "nothing"},
		{"-rows", "frozen"}, // needs -init
		{"-init", "w", "-compare", "v", "-compare-rows", "scratch"},
		{"-test-every", "0"},
	} {
		var o, e strings.Builder
		if code := run(args, &o, &e); code != 2 || e.Len() == 0 {
			t.Errorf("%q: exit %d, stderr %q; want 2 and a message", args, code, e.String())
		}
	}
}

func TestStrided(t *testing.T) {
	ds, err := data.Open(t.Context(), "synthetic:classes=2,train=4,val=10,size=8,channels=1")
	if err != nil {
		t.Fatal(err)
	}
	s := strided{ds.Val, 4}
	if s.Len() != 3 {
		t.Fatalf("Len %d, want 3 (images 0, 4, 8)", s.Len())
	}
	for i, j := range []int{0, 4, 8} {
		a, err1 := s.Sample(i)
		b, err2 := ds.Val.Sample(j)
		if err1 != nil || err2 != nil || a.Label != b.Label {
			t.Errorf("sample %d: %v %v, labels %d and %d", i, err1, err2, a.Label, b.Label)
		}
	}
}

// FuzzReadResults: any file is read or refused, never a panic.
func FuzzReadResults(f *testing.F) {
	f.Add("scratch\t5\t1\t0.2\t0.2\t1.0\tscratch\n")
	f.Add("a\tb\n")
	f.Fuzz(func(t *testing.T, s string) {
		path := filepath.Join(t.TempDir(), "r.tsv")
		if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
		_, _ = readResults(path)
	})
}
