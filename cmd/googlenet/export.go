package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/goinception/googlenet/checkpoint"
	"github.com/goinception/googlenet/inception"
	"github.com/goinception/googlenet/interchange/convert"
	"github.com/goinception/googlenet/interchange/onnx"
	"github.com/goinception/googlenet/interchange/onnxexport"
	"github.com/goinception/googlenet/preprocess"
)

func init() {
	register(command{
		Name:    "export",
		Summary: "write a model's inference graph as ONNX (opset 13) for other runtimes",
		Run:     runExport,
	})
}

func runExport(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("export", flag.ContinueOnError)
	fs.SetOutput(stderr)
	format := fs.String("format", "onnx", "output format (onnx)")
	out := fs.String("out", "", "file to write (atomically)")
	softmax := fs.Bool("softmax", false, "end the graph with a Softmax: output \"prob\" instead of \"logits\"")
	outputs := fs.String("outputs", "logits", "graph outputs, comma-separated: logits (prob with --softmax), then layers as embed --layer takes them (pool5, inception_4e, ...), e.g. logits,pool5")
	last := fs.Bool("last-iterate", false, "export the last weights even when the checkpoint carries Polyak averages")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: googlenet export --format onnx WEIGHTS --out FILE [--softmax] [--outputs logits,pool5] [--last-iterate]")
		fmt.Fprintln(fs.Output(), "\nWEIGHTS is a checkpoint, or any file import reads (.pth, .safetensors, .onnx, .caffemodel). The input contract goes into the metadata.")
		fs.PrintDefaults()
	}
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	usageErr := func(format string, a ...any) int {
		return usageErrorf(stderr, "export", format, a...)
	}
	switch {
	case len(pos) != 1:
		return usageErr("want exactly one weights file, got %q", pos)
	case *out == "":
		return usageErr("--out is required")
	case *format != "onnx":
		return usageErr("--format %q: only onnx is supported", *format)
	}
	fail := func(err error) int {
		fmt.Fprintln(stderr, "googlenet export:", err)
		return 1
	}
	var (
		m    *inception.Model
		opts onnxexport.Options
		tag  string
	)
	ld, err := convert.LoadForeign(pos[0], convert.LoadOptions{})
	switch {
	case err != nil:
		return fail(err)
	case ld != nil:
		m, opts = ld.Model, onnxexport.Options{Labels: ld.Labels, Means: ld.Means, Stds: ld.Stds, Input: ld.Input}
		if opts.Input == nil {
			cfg := m.Config()
			in := preprocess.Native(cfg.InChannels, cfg.InputSize, ld.Means, ld.Stds)
			opts.Input = &in
		}
	default:
		ck, err := checkpoint.Load(pos[0])
		if err != nil {
			return fail(err)
		}
		if !*last && ck.Solver != nil && len(ck.Solver.Average) > 0 {
			if ck, err = ck.Averaged(); err != nil {
				return fail(err)
			}
			tag = " (Polyak-averaged weights)"
		}
		if m, err = ck.NewModel(1); err != nil {
			return fail(err)
		}
		in := ck.Meta.InputContract()
		opts = onnxexport.Options{Labels: ck.Meta.Classes, Means: ck.Meta.Means, Stds: ck.Meta.Stds, Input: &in}
	}
	opts.Softmax = *softmax
	for i, o := range strings.Split(*outputs, ",") {
		o = strings.TrimSpace(o)
		switch {
		case i == 0 && (o == "logits" || o == "prob"):
		case o == "" || o == "logits" || o == "prob":
			return usageErr("--outputs %q: logits (or prob) comes first, then layer names", *outputs)
		default:
			if _, err := m.FeatureLayer(o); err != nil {
				return usageErr("--outputs: %v", err)
			}
			opts.Outputs = append(opts.Outputs, o)
		}
	}
	om, err := onnxexport.GoogLeNet(m, opts)
	if err != nil {
		return fail(err)
	}
	if err := onnx.WriteFile(*out, om); err != nil {
		return fail(err)
	}
	cfg := m.Config()
	fmt.Fprintf(stdout, "%s: ONNX opset %d, %s variant, input data [N %d %d %d], output %s [N %d], %d nodes%s\n",
		*out, onnxexport.Opset, cfg.Variant, cfg.InChannels, cfg.InputSize, cfg.InputSize,
		om.Graph.Outputs[0].Name, cfg.Classes, len(om.Graph.Nodes), tag)
	for _, v := range om.Graph.Outputs[1:] {
		fmt.Fprintf(stdout, "%s: output %s %v\n", *out, v.Name, dimString(v.Shape))
	}
	return 0
}

// dimString writes ONNX dimensions as [N 1024].
func dimString(ds []onnx.Dim) string {
	parts := make([]string, len(ds))
	for i, d := range ds {
		parts[i] = strconv.FormatInt(d.Value, 10)
		if d.Param != "" {
			parts[i] = d.Param
		}
	}
	return "[" + strings.Join(parts, " ") + "]"
}
