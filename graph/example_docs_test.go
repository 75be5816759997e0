package graph_test

// The examples in this file are quoted verbatim by docs/custom-graphs.md,
// and so are those of inception/example_docs_test.go. The tests at the end
// of this file keep the guide and the examples identical, and the links of
// the guides in docs/ working.

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/goinception/googlenet/graph"
)

// A stem of your own for 32x32 colour images: the paper's stem reduces the
// input 16x before the first module (224 -> 14 would leave 2x2 maps here),
// so this one keeps more resolution: conv 3x3 with batch norm and ReLU,
// then one ceil-mode max pool 3x3/2. Scope names the layers "stem/...".
func ExampleBuilder_Scope_stem() {
	b := graph.New(graph.Options{ShapesOnly: true})
	x := b.Input("data", 1, 3, 32, 32)
	b.Scope("stem", func() {
		x = b.Conv("conv1", x, 32, graph.ConvOpts{Kernel: 3, Pad: 1, BatchNorm: true, ReLU: true})
		x = b.MaxPool("pool1", x, graph.PoolOpts{Kernel: 3, Stride: 2, CeilMode: true})
	})
	if err := b.Err(); err != nil {
		fmt.Println(err)
		return
	}
	for _, l := range b.Layers() {
		fmt.Printf("%-14s %-9s %-11s %4d params %7d MACs\n", l.Name, l.Type, fmt.Sprint(l.Output), l.Params, l.MACs)
	}
	for _, p := range b.Params() {
		fmt.Println(p.Name, p.Shape, p.Kind, "decay:", p.Decay)
	}
	for _, s := range b.BNStats() {
		fmt.Println("running statistics:", s.Name)
	}
	// Output:
	// stem/conv1     conv      [32 32 32]   928 params  884736 MACs
	// stem/pool1     maxpool   [32 16 16]     0 params       0 MACs
	// stem/conv1/w [32 3 3 3] weight decay: true
	// stem/conv1/bn/scale [32] bn_scale decay: false
	// stem/conv1/bn/shift [32] bn_shift decay: false
	// running statistics: stem/conv1/bn
}

// A classifier head: global average pool, dropout, flatten and a linear
// layer to the classes, as at the top of Table 1. Dropout is the identity
// in an inference build; in a training build (Options.Training) it draws
// masks from the builder's RandState.
func ExampleBuilder_Linear_classifier() {
	b := graph.New(graph.Options{ShapesOnly: true})
	x := b.Input("features", 1, 112, 8, 8)
	b.Scope("head", func() {
		x = b.GlobalAvgPool("pool", x)
		x = b.Dropout("drop", x, 0.4)
		x = b.Flatten("flatten", x)
		x = b.Linear("fc", x, 10, graph.LinearOpts{})
	})
	if err := b.Err(); err != nil {
		fmt.Println(err)
		return
	}
	for _, l := range b.Layers() {
		fmt.Printf("%-12s %-13s %-9s %4d params\n", l.Name, l.Type, fmt.Sprint(l.Output), l.Params)
	}
	fmt.Println("logits", x.Shape)
	// Output:
	// head/pool    globalavgpool [112 1 1]    0 params
	// head/drop    dropout       [112 1 1]    0 params
	// head/flatten flatten       [112]        0 params
	// head/fc      linear        [10]      1130 params
	// logits [1 10]
}

// snippetRe matches a quoted snippet in a guide: a marker naming the source
// file and the function (or "imports"), then a fenced Go block.
var snippetRe = regexp.MustCompile("(?s)<!-- snippet: (\\S+) (\\S+) -->\n```go\n(.*?)```\n")

// goSnippet returns the exact source text of the function name in file (from
// "func" to its closing brace), or of the file's import declaration for
// name "imports".
func goSnippet(file, name string) (string, error) {
	src, err := os.ReadFile(file)
	if err != nil {
		return "", err
	}
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, file, src, parser.ParseComments)
	if err != nil {
		return "", err
	}
	for _, d := range f.Decls {
		switch d := d.(type) {
		case *ast.FuncDecl:
			if d.Name.Name != name {
				continue
			}
		case *ast.GenDecl:
			if name != "imports" || d.Tok != token.IMPORT {
				continue
			}
		default:
			continue
		}
		return string(src[fset.Position(d.Pos()).Offset:fset.Position(d.End()).Offset]) + "\n", nil
	}
	return "", fmt.Errorf("%s: no %s", file, name)
}

// exampleNames lists the Example functions declared in file.
func exampleNames(t *testing.T, file string) []string {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), file, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, d := range f.Decls {
		if fd, ok := d.(*ast.FuncDecl); ok && strings.HasPrefix(fd.Name.Name, "Example") {
			names = append(names, fd.Name.Name)
		}
	}
	return names
}

// TestCustomGraphsDocInSync checks that every Go block of
// docs/custom-graphs.md is, byte for byte, the Example it names, and that
// every Example of the files it quotes appears in it: the guide cannot
// drift from code that go test runs and checks.
func TestCustomGraphsDocInSync(t *testing.T) {
	const doc = "../docs/custom-graphs.md"
	md, err := os.ReadFile(doc)
	if err != nil {
		t.Fatal(err)
	}
	quoted := map[string]bool{}
	files := map[string]bool{}
	matches := snippetRe.FindAllStringSubmatch(string(md), -1)
	if len(matches) < 8 {
		t.Fatalf("%s: %d quoted snippets, want at least 8", doc, len(matches))
	}
	for _, m := range matches {
		file, name, got := m[1], m[2], m[3]
		files[file], quoted[file+" "+name] = true, true
		want, err := goSnippet(filepath.Join("..", filepath.FromSlash(file)), name)
		if err != nil {
			t.Errorf("%s: %v", doc, err)
			continue
		}
		if got != want {
			gl, wl := strings.Split(got, "\n"), strings.Split(want, "\n")
			i := 0
			for i < len(gl) && i < len(wl) && gl[i] == wl[i] {
				i++
			}
			var g, w string
			if i < len(gl) {
				g = gl[i]
			}
			if i < len(wl) {
				w = wl[i]
			}
			t.Errorf("%s: snippet %s %s differs from the source at its line %d:\n doc:    %q\n source: %q", doc, file, name, i+1, g, w)
		}
	}
	for file := range files {
		for _, name := range exampleNames(t, filepath.Join("..", filepath.FromSlash(file))) {
			if !quoted[file+" "+name] {
				t.Errorf("%s does not quote %s from %s", doc, name, file)
			}
		}
	}
}

// TestDocsLinks checks that the relative links of the guides written with
// these examples (the docs index, architecture.md, custom-graphs.md) point
// at files that exist.
func TestDocsLinks(t *testing.T) {
	linkRe := regexp.MustCompile(`\]\(([^)\s]+)\)`)
	for _, name := range []string{"README.md", "architecture.md", "custom-graphs.md"} {
		path := filepath.Join("..", "docs", name)
		md, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range linkRe.FindAllStringSubmatch(string(md), -1) {
			link := m[1]
			if strings.Contains(link, "://") || strings.HasPrefix(link, "#") || strings.HasPrefix(link, "mailto:") {
				continue
			}
			link, _, _ = strings.Cut(link, "#")
			if _, err := os.Stat(filepath.Join("..", "docs", filepath.FromSlash(link))); err != nil {
				t.Errorf("%s: broken link %q: %v", path, m[1], err)
			}
		}
	}
}

// TestArchitectureDrawingCurrent checks that docs/architecture.svg was drawn
// from the current docs/architecture.dot: the same nodes and edges (Graphviz
// puts each one's name in a <title>). It needs no Graphviz; after editing
// the .dot, run dot -Tsvg docs/architecture.dot -o docs/architecture.svg.
func TestArchitectureDrawingCurrent(t *testing.T) {
	dot, err := os.ReadFile("../docs/architecture.dot")
	if err != nil {
		t.Fatal(err)
	}
	svg, err := os.ReadFile("../docs/architecture.svg")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{}
	for _, line := range strings.Split(string(dot), "\n") {
		line = strings.TrimSpace(line)
		if strings.HasPrefix(line, "//") {
			continue
		}
		if m := regexp.MustCompile(`^(\w+)\s*\[label=`).FindStringSubmatch(line); m != nil {
			want[m[1]] = true
		}
		for _, e := range regexp.MustCompile(`(\w+)\s*->\s*(\w+)`).FindAllStringSubmatch(line, -1) {
			want[e[1]+"->"+e[2]] = true
		}
	}
	got := map[string]bool{}
	for _, m := range regexp.MustCompile(`<g id="(?:node|edge)\d+" class="(?:node|edge)">\s*<title>([^<]*)</title>`).FindAllStringSubmatch(string(svg), -1) {
		got[strings.ReplaceAll(m[1], "&#45;&gt;", "->")] = true
	}
	if len(want) < 20 {
		t.Fatalf("architecture.dot: only %d nodes and edges found", len(want))
	}
	for k := range want {
		if !got[k] {
			t.Errorf("architecture.svg lacks %q of architecture.dot: redraw it", k)
		}
	}
	for k := range got {
		if !want[k] {
			t.Errorf("architecture.svg has %q, which architecture.dot no longer has: redraw it", k)
		}
	}
}
