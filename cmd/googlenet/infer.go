package main

import (
	"flag"
	"fmt"
	"io"

	"github.com/goinception/googlenet/eval"
)

func init() {
	register(command{
		Name:    "infer",
		Summary: "logits of a preprocessed float32 NCHW .npy batch, written as [N, classes] float32 .npy",
		Run:     runInfer,
	})
}

func runInfer(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("infer", flag.ContinueOnError)
	fs.SetOutput(stderr)
	wf := addWeightFlags(fs, false)
	in := fs.String("in", "", "input .npy: float32 (or float64, converted) of shape [N, C, S, S] in C order, already normalised")
	out := fs.String("out", "", "output .npy: the logits [N, classes] as float32, written atomically")
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
	y, err := eval.Infer(m, x, *batch)
	if err != nil {
		return fail(fmt.Errorf("%s: %w", *in, err))
	}
	if err := eval.WriteNpy(*out, y); err != nil {
		return fail(err)
	}
	tag := ""
	if meta.Polyak {
		tag = " (Polyak-averaged weights)"
	}
	fmt.Fprintf(stdout, "%s: logits %v float32 from input %v%s\n", *out, y.Shape, x.Shape, tag)
	return 0
}
