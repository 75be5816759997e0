package main

import (
	"flag"
	"fmt"
	"io"
	"math"

	"github.com/goinception/googlenet/eval"
)

func init() {
	register(command{
		Name:    "infer",
		Summary: "the model's output (logits, or the probabilities an ONNX file declares) for a preprocessed float32 NCHW .npy batch, as [N, classes] float32 .npy",
		Run:     runInfer,
	})
}

func runInfer(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("infer", flag.ContinueOnError)
	fs.SetOutput(stderr)
	wf := addWeightFlags(fs, false)
	in := fs.String("in", "", "input .npy: float32 (or float64, converted) of shape [N, C, S, S] in C order, already normalised")
	out := fs.String("out", "", "output .npy: [N, classes] float32, written atomically: the logits, or what the weight file declares\n(an ONNX graph ending in Softmax, such as the model zoo's: the probabilities)")
	logits := fs.Bool("logits", false, "write the logits even when the file's declared output is the softmax of them")
	batch := fs.Int("batch", 32, "images per forward pass")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: googlenet infer --weights W --in X.npy --out Y.npy [--variant V] [--batch 32]")
		fmt.Fprintln(fs.Output(), "\nNo preprocessing is applied: X holds the network input (for checkpoints of googlenet train,")
		fmt.Fprintln(fs.Output(), "(pixel on the 0..255 scale - mean) / std with the means and stds stored in the checkpoint).")
		fs.PrintDefaults()
	}
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	usageErr := func(format string, a ...any) int {
		return usageErrorf(stderr, "infer", format, a...)
	}
	switch {
	case fs.NArg() > 0:
		return usageErr("unexpected arguments %q", fs.Args())
	case *wf.weights == "" || *in == "" || *out == "":
		return usageErr("--weights, --in and --out are required")
	case *batch <= 0:
		return usageErr("--batch %d must be positive", *batch)
	}
	fail := func(err error) int {
		fmt.Fprintln(stderr, "googlenet infer:", err)
		return 1
	}
	release, err := wf.use(stderr)
	if err != nil {
		if exitCode(err) == 2 {
			return usageErr("%v", err)
		}
		return fail(err)
	}
	defer release()
	m, meta, err := eval.LoadModel(*wf.weights, wf.loadOptions())
	if err != nil {
		return fail(err)
	}
	x, err := eval.ReadNpy(*in)
	if err != nil {
		return fail(err)
	}
	var y *eval.Array
	if d := wf.gpu(); d != nil {
		// --device gpu: the whole forward pass stays on the device.
		y, err = eval.InferDevice(d, m, x, *batch)
	} else {
		y, err = eval.Infer(m, x, *batch)
	}
	if err != nil {
		return fail(fmt.Errorf("%s: %w", *in, err))
	}
	what := "logits"
	if meta.Softmax && !*logits {
		softmaxRows(y.Data, y.Shape[len(y.Shape)-1])
		what = "probabilities (the file's declared Softmax output; --logits for the values before it)"
	}
	if err := eval.WriteNpy(*out, y); err != nil {
		return fail(err)
	}
	tag := ""
	if meta.Polyak {
		tag = " (Polyak-averaged weights)"
	}
	fmt.Fprintf(stdout, "%s: %s %v float32 from input %v%s\n", *out, what, y.Shape, x.Shape, tag)
	return 0
}

// softmaxRows replaces each row of k values of x by its softmax, computed in
// float64 with the row maximum subtracted.
func softmaxRows(x []float32, k int) {
	for r := 0; r+k <= len(x); r += k {
		row := x[r : r+k]
		m := math.Inf(-1)
		for _, v := range row {
			m = math.Max(m, float64(v))
		}
		var sum float64
		e := make([]float64, k)
		for i, v := range row {
			e[i] = math.Exp(float64(v) - m)
			sum += e[i]
		}
		for i := range row {
			row[i] = float32(e[i] / sum)
		}
	}
}
