package eval

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/pkg/errors"
)

// WriteTable writes results as a table in the style of the paper's Table 3:
// models, crops, cost (forward passes per image), top-1 and top-5 error (in
// percent), the change of both relative to the first row ("compared to
// base"; the paper compares top-5 error, MNIST needs top-1),
// images evaluated and the wall time. Each ensemble row is followed by its
// members' own errors, named at the end of the line.
func WriteTable(w io.Writer, results []*Result) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "models\tcrops\tcost\ttop-1 error\ttop-5 error\tcompared to base (top-1, top-5)\timages\ttime\timg/s\t")
	var base1, base5 float64
	for i, r := range results {
		if r == nil {
			return errors.Errorf("eval: result %d is nil", i)
		}
		if i == 0 {
			base1, base5 = r.Top1Err, r.Top5Err
		}
		cmp := "base"
		if i > 0 {
			cmp = fmt.Sprintf("%+.2f%%, %+.2f%%", 100*(r.Top1Err-base1), 100*(r.Top5Err-base5))
		}
		crops := strconv.Itoa(r.Crops)
		if r.Scheme == Full {
			crops = "1 (full)"
		}
		fmt.Fprintf(tw, "%d\t%s\t%d\t%.2f%%\t%.2f%%\t%s\t%d\t%.1fs\t%.1f\t\n",
			r.Models, crops, r.Cost, 100*r.Top1Err, 100*r.Top5Err, cmp, r.Score.Images, r.Seconds, r.ImagesPerSecond)
		if r.Models > 1 {
			for _, m := range r.PerModel {
				fmt.Fprintf(tw, "\t\t\t%.2f%%\t%.2f%%\t\t\t\t\t  member %s\n", 100*m.Top1Err(), 100*m.Top5Err(), shortName(m.Source))
			}
		}
	}
	if err := tw.Flush(); err != nil {
		return errors.Wrap(err, "eval: write table")
	}
	return nil
}

// shortName keeps the last two path elements of a long source name.
func shortName(s string) string {
	parts := strings.Split(s, "/")
	if len(parts) > 2 {
		return ".../" + strings.Join(parts[len(parts)-2:], "/")
	}
	return s
}

// WriteJSON writes results as one indented JSON array.
func WriteJSON(w io.Writer, results []*Result) error {
	b, err := json.MarshalIndent(results, "", "  ")
	if err != nil {
		return errors.Wrap(err, "eval: encode results")
	}
	if _, err := w.Write(append(b, '\n')); err != nil {
		return errors.Wrap(err, "eval: write results")
	}
	return nil
}
