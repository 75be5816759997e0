package train

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"image/color"
	"io"
	"os"

	"github.com/goinception/googlenet/internal/atomicfile"

	"github.com/pkg/errors"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// Metrics is one line of OUT/metrics.jsonl: the summary of one epoch.
// Losses are means over the epoch's steps (on every rank); accuracies are
// fractions in [0, 1].
type Metrics struct {
	Epoch     int     `json:"epoch"`  // epochs completed, from 1
	Step      int64   `json:"step"`   // optimizer steps completed
	Steps     int     `json:"steps"`  // steps in this epoch
	Images    int     `json:"images"` // training images in this epoch (all ranks)
	Loss      float64 `json:"loss"`   // main classifier's cross-entropy
	Aux1Loss  float64 `json:"aux1_loss"`
	Aux2Loss  float64 `json:"aux2_loss"`
	TotalLoss float64 `json:"total_loss"` // loss + aux weight * (aux1 + aux2)
	TrainTop1 float64 `json:"train_top1"` // on the training batches as trained (dropout on)
	TrainTop5 float64 `json:"train_top5"`
	ValLoss   float64 `json:"val_loss"`
	ValTop1   float64 `json:"val_top1"`
	ValTop5   float64 `json:"val_top5"`
	ValImages int     `json:"val_images"`
	// Polyak says the validation used the averaged weights.
	Polyak      bool    `json:"polyak"`
	LR          float64 `json:"lr"`        // rate of the epoch's last step
	ImgPerSec   float64 `json:"img_per_s"` // training throughput (all ranks)
	WallSeconds float64 `json:"wall_s"`    // training time of the epoch (without evaluation)
	EvalSeconds float64 `json:"eval_s"`
	Time        string  `json:"time"` // end of the epoch, RFC 3339
}

// ReadMetrics reads a metrics.jsonl file.
func ReadMetrics(path string) ([]Metrics, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, errors.Wrap(err, "train: metrics")
	}
	var ms []Metrics
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 1<<16), 1<<20)
	for line := 1; sc.Scan(); line++ {
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		var m Metrics
		dec := json.NewDecoder(bytes.NewReader(sc.Bytes()))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&m); err != nil {
			return nil, errors.Wrapf(err, "train: %s line %d", path, line)
		}
		ms = append(ms, m)
	}
	if err := sc.Err(); err != nil {
		return nil, errors.Wrapf(err, "train: %s", path)
	}
	return ms, nil
}

// writeMetrics writes ms as JSON lines to path atomically.
func writeMetrics(path string, ms []Metrics) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	for _, m := range ms {
		if err := enc.Encode(m); err != nil {
			return errors.Wrap(err, "train: metrics")
		}
	}
	return writeAtomic(path, buf.Bytes())
}

// writeAtomic writes b to path through a temporary file and a rename.
func writeAtomic(path string, b []byte) error {
	return errors.Wrap(atomicfile.WriteFile(path, 0o644, func(w io.Writer) error {
		_, err := w.Write(b)
		return err
	}), "train")
}

// PlotCurves draws the losses (top) and accuracies (bottom) into a PNG
// written atomically to path, with epochs on both x axes. The training loss
// is drawn per step from steps (the raw batch losses faint, a moving
// average over about a twentieth of the steps bold), so that a run of one
// epoch shows a curve; without steps it is the per-epoch mean of ms. The
// validation loss and the accuracies are per epoch.
func PlotCurves(path string, ms []Metrics, steps []StepLoss) error {
	xy := func(f func(Metrics) float64) plotter.XYs {
		pts := make(plotter.XYs, len(ms))
		for i, m := range ms {
			pts[i].X, pts[i].Y = float64(m.Epoch), f(m)
		}
		return pts
	}
	colors := []color.Color{
		color.RGBA{R: 31, G: 119, B: 180, A: 255},
		color.RGBA{R: 255, G: 127, B: 14, A: 255},
		color.RGBA{R: 44, G: 160, B: 44, A: 255},
		color.RGBA{R: 214, G: 39, B: 40, A: 255},
	}
	panel := func(title, ylabel string, names []string, fs []func(Metrics) float64, first int) (*plot.Plot, error) {
		p := plot.New()
		p.Title.Text = title
		p.X.Label.Text = "epoch"
		p.Y.Label.Text = ylabel
		p.Legend.Top = true
		for i, f := range fs {
			l, s, err := plotter.NewLinePoints(xy(f))
			if err != nil {
				return nil, err
			}
			c := colors[(first+i)%len(colors)]
			l.Color, s.Color = c, c
			p.Add(l, s)
			p.Legend.Add(names[i], l, s)
		}
		p.Add(plotter.NewGrid())
		return p, nil
	}
	var loss *plot.Plot
	var err error
	if len(steps) > 0 {
		loss, err = panel("Loss", "cross-entropy", []string{"validation"},
			[]func(Metrics) float64{func(m Metrics) float64 { return m.ValLoss }}, 2)
		if err == nil {
			err = addStepLoss(loss, steps, colors[0])
		}
	} else {
		loss, err = panel("Loss", "cross-entropy", []string{"train (main)", "train (total)", "validation"},
			[]func(Metrics) float64{
				func(m Metrics) float64 { return m.Loss },
				func(m Metrics) float64 { return m.TotalLoss },
				func(m Metrics) float64 { return m.ValLoss },
			}, 0)
	}
	if err != nil {
		return errors.Wrap(err, "train: curves")
	}
	acc, err := panel("Accuracy", "accuracy", []string{"train top-1", "val top-1", "val top-5"},
		[]func(Metrics) float64{
			func(m Metrics) float64 { return m.TrainTop1 },
			func(m Metrics) float64 { return m.ValTop1 },
			func(m Metrics) float64 { return m.ValTop5 },
		}, 0)
	if err != nil {
		return errors.Wrap(err, "train: curves")
	}
	acc.Legend.Top = false
	img := vgimg.New(7*vg.Inch, 8*vg.Inch)
	dc := draw.New(img)
	t := draw.Tiles{Rows: 2, Cols: 1, PadX: vg.Millimeter, PadY: 4 * vg.Millimeter, PadTop: 2 * vg.Millimeter, PadBottom: 2 * vg.Millimeter, PadLeft: 2 * vg.Millimeter, PadRight: 4 * vg.Millimeter}
	cs := plot.Align([][]*plot.Plot{{loss}, {acc}}, t, dc)
	loss.Draw(cs[0][0])
	acc.Draw(cs[1][0])
	var buf bytes.Buffer
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(&buf); err != nil {
		return errors.Wrap(err, "train: curves")
	}
	return writeAtomic(path, buf.Bytes())
}

// addStepLoss adds the per-step training loss to p: the raw values faint,
// their trailing moving average bold.
func addStepLoss(p *plot.Plot, steps []StepLoss, c color.Color) error {
	raw := make(plotter.XYs, len(steps))
	for i, s := range steps {
		raw[i].X, raw[i].Y = s.Epoch, s.Loss
	}
	w := min(max(len(steps)/20, 1), 200)
	smooth := make(plotter.XYs, len(steps))
	sum := 0.0
	for i := range steps {
		sum += raw[i].Y
		if i >= w {
			sum -= raw[i-w].Y
		}
		smooth[i].X, smooth[i].Y = raw[i].X, sum/float64(min(i+1, w))
	}
	lr, err := plotter.NewLine(raw)
	if err != nil {
		return err
	}
	r, g, b, _ := c.RGBA()
	lr.Color = color.NRGBA{R: uint8(r >> 8), G: uint8(g >> 8), B: uint8(b >> 8), A: 70}
	ls, err := plotter.NewLine(smooth)
	if err != nil {
		return err
	}
	ls.Color, ls.Width = c, 2*vg.Points(1)
	p.Add(lr, ls)
	p.Legend.Add("train per step (raw)", lr)
	p.Legend.Add(fmt.Sprintf("train (mean of %d steps)", w), ls)
	return nil
}
