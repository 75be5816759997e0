package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"

	"github.com/goinception/googlenet/checkpoint"
	"github.com/goinception/googlenet/interchange/convert"
	"github.com/goinception/googlenet/preprocess"
)

// inOrder returns RGB-ordered per-channel values in the channel order o.
func inOrder(v []float32, o preprocess.ChannelOrder) []float32 {
	v = append([]float32(nil), v...)
	if o == preprocess.BGR && len(v) == 3 {
		v[0], v[2] = v[2], v[0]
	}
	return v
}

func init() {
	register(command{
		Name:    "import",
		Summary: "convert torchvision (.pth, .safetensors), ONNX or Caffe (.caffemodel) GoogLeNet weights into a checkpoint",
		Run:     runImport,
	})
}

// parseInterspersed parses flags that may come before and after positional
// arguments ("import --from onnx FILE --out CKPT") and returns the
// positional ones.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

// parseFloats parses a comma-separated list of finite numbers ("" is nil).
func parseFloats(s string) ([]float32, error) {
	if s == "" {
		return nil, nil
	}
	var out []float32
	for _, f := range strings.Split(s, ",") {
		v, err := strconv.ParseFloat(strings.TrimSpace(f), 32)
		if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, fmt.Errorf("%q is not a finite number", f)
		}
		out = append(out, float32(v))
	}
	return out, nil
}

// readLabels reads one class name per line (blank lines are an error).
func readLabels(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var labels []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		l := strings.TrimSpace(sc.Text())
		if l == "" {
			return nil, fmt.Errorf("%s: blank line %d", path, len(labels)+1)
		}
		labels = append(labels, l)
	}
	return labels, sc.Err()
}

// describe names the formats convert.Sniff tells apart.
var describe = map[convert.Format]string{
	convert.FormatCheckpoint:  "a googlenet checkpoint (nothing to import)",
	convert.FormatSafetensors: "a safetensors state dict (--from torchvision)",
	convert.FormatPth:         "a torch.save file (--from torchvision)",
	convert.FormatONNX:        "an ONNX model (--from onnx)",
	convert.FormatCaffe:       "a Caffe model (--from caffe)",
}

func runImport(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("import", flag.ContinueOnError)
	fs.SetOutput(stderr)
	from := fs.String("from", "", "source: torchvision (a state dict of torchvision.models.googlenet, .pth/.pt or .safetensors), onnx or caffe (a .caffemodel, e.g. bvlc_googlenet.caffemodel)")
	prototxt := fs.String("prototxt", "", "Caffe only: a deploy.prototxt whose layer parameters are checked against GoogLeNet's as well")
	out := fs.String("out", "", "checkpoint to write (safetensors, written atomically)")
	size := fs.Int("input-size", 0, "input size for files that do not fix it (0: 224)")
	labelsPath := fs.String("labels", "", "optional text file of class names, one per line, stored in the checkpoint")
	means := fs.String("means", "", "per-channel input means on the 0..255 scale in RGB order, comma-separated: replaces the input contract's\nnormalisation (pixel scale 255, no affine step); prefer --input-mean (default: the publisher's contract, see docs/pretrained.md)")
	stds := fs.String("stds", "", "per-channel input standard deviations on the 0..255 scale in RGB order, comma-separated (see --means)")
	cf := addContractFlags(fs)
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: googlenet import --from torchvision|onnx|caffe FILE --out CKPT [--prototxt deploy.prototxt] [--input-size S] [--labels FILE] [--means M,M,M --stds S,S,S]")
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
		return usageErrorf(stderr, "import", format, a...)
	}
	switch {
	case len(pos) != 1:
		return usageErr("want exactly one input file, got %q", pos)
	case *out == "":
		return usageErr("--out is required")
	case *from != "torchvision" && *from != "onnx" && *from != "caffe":
		return usageErr("--from %q: want torchvision, onnx or caffe", *from)
	case *prototxt != "" && *from != "caffe":
		return usageErr("--prototxt is for --from caffe")
	case *size < 0:
		return usageErr("--input-size %d must be positive", *size)
	}
	mv, err := parseFloats(*means)
	if err != nil {
		return usageErr("--means: %v", err)
	}
	sv, err := parseFloats(*stds)
	if err != nil {
		return usageErr("--stds: %v", err)
	}
	for _, s := range sv {
		if !(s > 0) {
			return usageErr("--stds %q: standard deviations must be positive", *stds)
		}
	}
	fail := func(err error) int {
		fmt.Fprintln(stderr, "googlenet import:", err)
		return 1
	}
	format, err := convert.Sniff(pos[0])
	if err != nil {
		return fail(err)
	}
	want := map[string][]convert.Format{"torchvision": {convert.FormatPth, convert.FormatSafetensors}, "onnx": {convert.FormatONNX}, "caffe": {convert.FormatCaffe}}[*from]
	if format != want[0] && (len(want) < 2 || format != want[1]) {
		return fail(fmt.Errorf("%s holds %s, not what --from %s reads", pos[0], describe[format], *from))
	}
	ld, err := convert.Load(pos[0], convert.LoadOptions{InputSize: *size, Prototxt: *prototxt})
	if err != nil {
		return fail(err)
	}
	if *labelsPath != "" {
		labels, err := readLabels(*labelsPath)
		if err != nil {
			return fail(err)
		}
		if n := ld.Model.Config().Classes; len(labels) != n {
			return fail(fmt.Errorf("%s has %d labels, the model %d classes", *labelsPath, len(labels), n))
		}
		ld.Labels = labels
	}
	c := ld.Model.Config().InChannels
	for _, f := range []struct {
		name string
		v    []float32
		dst  *[]float32
	}{{"means", mv, &ld.Means}, {"stds", sv, &ld.Stds}} {
		if f.v == nil {
			continue
		}
		if len(f.v) != c {
			return fail(fmt.Errorf("--%s has %d values, the model takes %d channels", f.name, len(f.v), c))
		}
		*f.dst = f.v
	}
	cfg := ld.Model.Config()
	in := preprocess.Native(cfg.InChannels, cfg.InputSize, ld.Means, ld.Stds)
	if ld.Input != nil {
		in = ld.Input.Clone()
	}
	if mv != nil || sv != nil {
		// The legacy flags: normalisation on the 0..255 scale in RGB order.
		in.Scale, in.Affine = 255, nil
		if mv != nil {
			in.Means = inOrder(mv, in.Channels)
		} else {
			in.Means = inOrder(ld.Means, in.Channels)
		}
		if sv != nil {
			in.Stds = inOrder(sv, in.Channels)
		} else {
			in.Stds = inOrder(ld.Stds, in.Channels)
		}
	}
	if in, err = cf.apply(in, cfg); err != nil {
		return usageErr("%v", err)
	}
	ld.Input = &in
	ck, err := checkpoint.FromModel(ld.Model, nil, checkpoint.Meta{Classes: ld.Labels, Means: ld.Means, Stds: ld.Stds, Input: ld.Input})
	if err != nil {
		return fail(err)
	}
	if err := ck.Save(*out); err != nil {
		return fail(err)
	}
	fmt.Fprintf(stdout, "%s: %s GoogLeNet (%s variant, %d tensors, %dx%dx%d -> %d classes) from %s\n",
		*out, *from, cfg.Variant, len(ck.Weights)+len(ck.Stats), cfg.InChannels, cfg.InputSize, cfg.InputSize, cfg.Classes, pos[0])
	fmt.Fprintf(stdout, "input %s\n", in)
	if ld.Softmax {
		fmt.Fprintln(stdout, "note: the ONNX graph ends in a Softmax; the checkpoint's model outputs the logits before it")
	}
	return 0
}
