package main

import (
	"bytes"
	"fmt"
	"image/color"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// table holds the test top-1 of every run: cells[row][budget] has one
// value per seed (NaN-free; a missing run is left out).
type table struct {
	rows    []row
	budgets []int
	seeds   []int
	cells   [][][]float64
}

// tabulate collects the results of the rows sel (each followed by its
// "+bn" row when it has one).
func tabulate(sel []row, budgets, seeds []int, done map[key]outcome) *table {
	t := &table{budgets: budgets, seeds: seeds}
	for _, r := range sel {
		t.rows = append(t.rows, r)
		if r.Recal {
			t.rows = append(t.rows, row{Name: r.Name + "+bn", Desc: r.Desc + ", BN statistics recomputed", Init: r.Init, Source: r.Source, Tag: r.Tag})
		}
	}
	for _, r := range t.rows {
		var byBudget [][]float64
		for _, b := range budgets {
			var v []float64
			for _, s := range seeds {
				if o, ok := done[key{r.Name, b, s, source(r)}]; ok {
					v = append(v, o.Test)
				}
			}
			byBudget = append(byBudget, v)
		}
		t.cells = append(t.cells, byBudget)
	}
	return t
}

func mean(v []float64) float64 {
	s := 0.0
	for _, x := range v {
		s += x
	}
	return s / float64(len(v))
}

// markdown writes the table of means (in percent), the comparison of the
// best frozen-trunk row with the best scratch row at each budget, and every
// seed's value.
func (t *table) markdown(w io.Writer) error {
	var b strings.Builder
	b.WriteString("| test top-1 (mean of seeds) |")
	for _, n := range t.budgets {
		fmt.Fprintf(&b, " %d steps |", n)
	}
	b.WriteString("\n|---|")
	b.WriteString(strings.Repeat("---:|", len(t.budgets)))
	b.WriteString("\n")
	for i, r := range t.rows {
		fmt.Fprintf(&b, "| %s |", r.Desc)
		for j := range t.budgets {
			if len(t.cells[i][j]) == 0 {
				b.WriteString(" |")
				continue
			}
			fmt.Fprintf(&b, " %.1f%% |", 100*mean(t.cells[i][j]))
		}
		b.WriteString("\n")
	}
	// The frozen trunk against training from scratch, budget by budget:
	// both with the recipe; each at its best rate; and the scratch runs also
	// with their batch-norm statistics recomputed ("frozen3b-x10" trains 4a
	// and 4b too and is not the frozen trunk).
	for _, c := range []struct {
		label           string
		frozen, scratch []string
	}{
		{"frozen trunk minus scratch, both at the recipe's rate", []string{"frozen"}, []string{"scratch"}},
		{"frozen trunk (better rate) minus scratch (best rate)", []string{"frozen", "frozen-x10"}, []string{"scratch", "scratch-lr0.03", "scratch-lr0.3"}},
		{"frozen trunk (better rate) minus scratch (best rate, BN statistics recomputed or not)", []string{"frozen", "frozen-x10"},
			[]string{"scratch", "scratch-lr0.03", "scratch-lr0.3", "scratch+bn", "scratch-lr0.03+bn", "scratch-lr0.3+bn"}},
	} {
		for _, tag := range t.tags() {
			c := c
			label := c.label
			if tag != "" {
				label = strings.Replace(label, "frozen trunk", "frozen trunk ["+tag+"]", 1)
				c.frozen = slices.Clone(c.frozen)
				for i := range c.frozen {
					c.frozen[i] += "@" + tag
				}
			}
			t.compare(&b, label, c.frozen, c.scratch)
		}
	}
	b.WriteString("\n| run | steps |")
	for _, s := range t.seeds {
		fmt.Fprintf(&b, " seed %d |", s)
	}
	b.WriteString(" mean |\n|---|---:|")
	b.WriteString(strings.Repeat("---:|", len(t.seeds)+1))
	b.WriteString("\n")
	for i, r := range t.rows {
		for j, n := range t.budgets {
			v := t.cells[i][j]
			if len(v) == 0 {
				continue
			}
			fmt.Fprintf(&b, "| %s | %d |", r.ID(), n)
			for k := range t.seeds {
				if k < len(v) {
					fmt.Fprintf(&b, " %.2f%% |", 100*v[k])
				} else {
					b.WriteString(" |")
				}
			}
			fmt.Fprintf(&b, " %.2f%% |\n", 100*mean(v))
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// tags lists "" and the tags of the -compare rows.
func (t *table) tags() []string {
	tags := []string{""}
	for _, r := range t.rows {
		if r.Tag != "" && !slices.Contains(tags, r.Tag) {
			tags = append(tags, r.Tag)
		}
	}
	return tags
}

// compare writes a table row: the best of the rows frozen minus the best of
// the rows scratch (IDs), budget by budget, in points.
func (t *table) compare(b *strings.Builder, label string, frozen, scratch []string) {
	fv, fi := t.bestOf(frozen...)
	sv, si := t.bestOf(scratch...)
	if !hasAny(fi) || !hasAny(si) {
		return
	}
	fmt.Fprintf(b, "| **%s, points** |", label)
	for j := range t.budgets {
		if si[j] < 0 || fi[j] < 0 {
			b.WriteString(" |")
			continue
		}
		d := 100 * (fv[j] - sv[j])
		mark := ""
		if d >= 10 {
			mark = " (>= 10)"
		}
		fmt.Fprintf(b, " **%+.1f**%s |", d, mark)
	}
	b.WriteString("\n")
}

// bestOf is the best mean over the rows whose IDs are names.
func (t *table) bestOf(names ...string) (vals []float64, idx []int) {
	for j := range t.budgets {
		v, k := 0.0, -1
		for i, r := range t.rows {
			if !containsString(names, r.ID()) || len(t.cells[i][j]) == 0 {
				continue
			}
			if m := mean(t.cells[i][j]); k < 0 || m > v {
				v, k = m, i
			}
		}
		vals, idx = append(vals, v), append(idx, k)
	}
	return vals, idx
}

func containsString(s []string, x string) bool {
	for _, y := range s {
		if y == x {
			return true
		}
	}
	return false
}

func hasAny(idx []int) bool {
	for _, i := range idx {
		if i >= 0 {
			return true
		}
	}
	return false
}

// palette has a colour per run row (a "+bn" row takes its run's): blues
// for training from scratch, warm colours for the frozen trunk.
var palette = []color.Color{
	color.RGBA{R: 31, G: 119, B: 180, A: 255},
	color.RGBA{R: 120, G: 170, B: 220, A: 255},
	color.RGBA{R: 23, G: 190, B: 207, A: 255},
	color.RGBA{R: 214, G: 39, B: 40, A: 255},
	color.RGBA{R: 255, G: 127, B: 14, A: 255},
	color.RGBA{R: 44, G: 160, B: 44, A: 255},
	color.RGBA{R: 148, G: 103, B: 189, A: 255},
	color.RGBA{R: 140, G: 86, B: 75, A: 255},
	color.RGBA{R: 227, G: 119, B: 194, A: 255},
	color.RGBA{R: 127, G: 127, B: 127, A: 255},
}

// plot draws each row's mean test top-1 against the budget (log scale),
// with each seed's value as a faint point.
func (t *table) plot(path, title string) error {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = "training steps (batch 50; 10 steps = 1 epoch of the 500 images)"
	p.Y.Label.Text = "test top-1 (%), digits 5-9"
	p.X.Scale = plot.LogScale{}
	var ticks []plot.Tick
	for _, b := range t.budgets {
		ticks = append(ticks, plot.Tick{Value: float64(b), Label: fmt.Sprint(b)})
	}
	p.X.Tick.Marker = plot.ConstantTicks(ticks)
	legend := plot.NewLegend()
	legend.Top, legend.Left = true, true
	p.Add(plotter.NewGrid())
	ci := -1
	for i, r := range t.rows {
		recal := strings.HasSuffix(r.Name, "+bn")
		if !recal {
			ci++ // a "+bn" row has its run's colour
		}
		c := palette[ci%len(palette)]
		var line, seeds plotter.XYs
		for j, b := range t.budgets {
			v := t.cells[i][j]
			if len(v) == 0 {
				continue
			}
			line = append(line, plotter.XY{X: float64(b), Y: 100 * mean(v)})
			for _, x := range v {
				seeds = append(seeds, plotter.XY{X: float64(b), Y: 100 * x})
			}
		}
		if len(line) == 0 {
			continue
		}
		l, pts, err := plotter.NewLinePoints(line)
		if err != nil {
			return err
		}
		l.Color, pts.Color = c, c
		l.Width = 1.5 * vg.Points(1)
		switch {
		case recal:
			l.Dashes = []vg.Length{vg.Points(1.5), vg.Points(2)}
			pts.Shape = draw.TriangleGlyph{}
		case r.Init:
			pts.Shape = draw.BoxGlyph{}
		default:
			l.Dashes = []vg.Length{vg.Points(5), vg.Points(3)}
		}
		s, err := plotter.NewScatter(seeds)
		if err != nil {
			return err
		}
		cr, cg, cb, _ := c.RGBA()
		s.Color = color.NRGBA{R: uint8(cr >> 8), G: uint8(cg >> 8), B: uint8(cb >> 8), A: 90}
		s.Radius = vg.Points(1.5)
		p.Add(l, pts, s)
		legend.Add(r.Desc, l, pts)
	}
	// The legend beside the plot: there is no free corner inside it.
	img := vgimg.New(11.6*vg.Inch, 6*vg.Inch)
	c := draw.New(img)
	p.Draw(draw.Crop(c, 0, -4.5*vg.Inch, 0, 0))
	legend.Draw(draw.Crop(c, 7.2*vg.Inch, 0, 0, -0.4*vg.Inch))
	var buf bytes.Buffer
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(&buf); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".transfer-study-*.png")
	if err != nil {
		return err
	}
	if _, err := tmp.Write(buf.Bytes()); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	return os.Rename(tmp.Name(), path)
}
