package inception

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/goinception/googlenet/graph"
)

// Layer is one row of a summary: a row of Table 1 (a stem convolution, a
// pool, an Inception module, the classifier) or a layer of an auxiliary
// head.
type Layer struct {
	Name   string // "inception_3a", "pool2/3x3_s2", "loss1/fc"
	Type   string // "convolution", "max pool", "inception", ...
	Patch  string // "7x7/2" (patch size/stride), empty when not applicable
	Output [3]int // C, H, W of one image
	Depth  int    // convolution/linear layers on the longest path
	// Inception widths (and conv2's reduce/3x3 widths).
	C1x1, C3x3Reduce, C3x3, C5x5Reduce, C5x5, PoolProj int
	Params                                             int64 // weights + biases + batch-norm affine (not running stats)
	MACs                                               int64 // multiply-adds per image
}

// Totals are parameter and multiply-add counts.
type Totals struct {
	Params int64
	MACs   int64
}

// Summary describes a configured GoogLeNet layer by layer.
type Summary struct {
	Variant string
	Input   [3]int  // C, H, W
	Layers  []Layer // main path (inference network)
	Aux     []Layer // auxiliary heads (training only)
	Total   Totals  // main path only
	AuxTot  Totals  // auxiliary heads only
}

// Summarize computes the summary of c without building any kernels (a
// shape-only build): output shapes, parameters and multiply-adds.
func Summarize(c Config) (Summary, error) {
	b := graph.New(graph.Options{ShapesOnly: true, Dtype: c.dtype()})
	x := b.Input("data", 1, c.InChannels, c.InputSize, c.InputSize)
	n, err := buildChecked(b, c, x, true)
	if err != nil {
		return Summary{}, err
	}
	return n.summary(c), nil
}

func (n *net) summary(c Config) Summary {
	s := Summary{Variant: c.Variant, Input: [3]int{c.InChannels, c.InputSize, c.InputSize}, Layers: n.layers, Aux: n.auxL}
	for _, l := range n.layers {
		s.Total.Params += l.Params
		s.Total.MACs += l.MACs
	}
	for _, l := range n.auxL {
		s.AuxTot.Params += l.Params
		s.AuxTot.MACs += l.MACs
	}
	return s
}

// Layer returns the summary row with the given name.
func (s Summary) Layer(name string) (Layer, bool) {
	for _, l := range append(append([]Layer(nil), s.Layers...), s.Aux...) {
		if l.Name == name {
			return l, true
		}
	}
	return Layer{}, false
}

// Commas formats n with thousands separators: 6998552 -> "6,998,552".
func Commas(n int64) string {
	s := fmt.Sprint(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var out []byte
	for i := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, s[i])
	}
	if neg {
		return "-" + string(out)
	}
	return string(out)
}

func blank(v int) string {
	if v == 0 {
		return ""
	}
	return fmt.Sprint(v)
}

func blank64(v int64) string {
	if v == 0 {
		return ""
	}
	return Commas(v)
}

func megas(m int64) string {
	switch {
	case m == 0:
		return ""
	case m < 100000:
		return fmt.Sprintf("%.1fK", float64(m)/1e3)
	}
	return fmt.Sprintf("%.1fM", float64(m)/1e6)
}

// total formats a multiply-add count in G (M below 0.1 G).
func total(m int64) string {
	if m < 1e8 {
		return fmt.Sprintf("%.3f M", float64(m)/1e6)
	}
	return fmt.Sprintf("%.3f G", float64(m)/1e9)
}

// WriteText writes the summary as a table laid out like the paper's Table 1
// (output size as HxWxC, params exact, ops in millions of multiply-adds),
// followed by totals.
func (s Summary) WriteText(w io.Writer) error {
	if _, err := fmt.Fprintf(w, "GoogLeNet (%s), input %dx%dx%d (HxWxC)\n", s.Variant, s.Input[1], s.Input[2], s.Input[0]); err != nil {
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	head := "name\ttype\tpatch/stride\toutput size\tdepth\t#1x1\t#3x3 reduce\t#3x3\t#5x5 reduce\t#5x5\tpool proj\tparams\tops\t\n"
	row := func(l Layer) {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%dx%dx%d\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n",
			l.Name, l.Type, l.Patch, l.Output[1], l.Output[2], l.Output[0], l.Depth,
			blank(l.C1x1), blank(l.C3x3Reduce), blank(l.C3x3), blank(l.C5x5Reduce), blank(l.C5x5), blank(l.PoolProj),
			blank64(l.Params), megas(l.MACs))
	}
	io.WriteString(tw, head)
	for _, l := range s.Layers {
		row(l)
	}
	if len(s.Aux) > 0 {
		fmt.Fprint(tw, "(auxiliary, training only)\t\t\t\t\t\t\t\t\t\t\t\t\t\n")
		for _, l := range s.Aux {
			row(l)
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintf(w, "total (main path): %s params, %s multiply-adds\nauxiliary heads:   %s params, %s multiply-adds\n",
		Commas(s.Total.Params), total(s.Total.MACs), Commas(s.AuxTot.Params), total(s.AuxTot.MACs))
	return err
}

type jsonLayer struct {
	Name   string `json:"name"`
	Type   string `json:"type"`
	Output [3]int `json:"output"`
	Params int64  `json:"params"`
	MACs   int64  `json:"macs"`
}

type jsonTotal struct {
	Params int64 `json:"params"`
	MACs   int64 `json:"macs"`
}

type jsonSummary struct {
	Variant string      `json:"variant"`
	Input   [3]int      `json:"input"`
	Layers  []jsonLayer `json:"layers"`
	Aux     []jsonLayer `json:"aux"`
	Total   jsonTotal   `json:"total"`
}

// MarshalJSON encodes the summary as
// {"variant", "input": [C,H,W], "layers": [{"name", "type", "output": [C,H,W],
// "params", "macs"}, ...], "aux": [...], "total": {"params", "macs"}} where
// total covers the main path only.
func (s Summary) MarshalJSON() ([]byte, error) {
	conv := func(ls []Layer) []jsonLayer {
		out := make([]jsonLayer, 0, len(ls))
		for _, l := range ls {
			out = append(out, jsonLayer{Name: l.Name, Type: l.Type, Output: l.Output, Params: l.Params, MACs: l.MACs})
		}
		return out
	}
	return json.Marshal(jsonSummary{Variant: s.Variant, Input: s.Input, Layers: conv(s.Layers), Aux: conv(s.Aux),
		Total: jsonTotal{Params: s.Total.Params, MACs: s.Total.MACs}})
}
