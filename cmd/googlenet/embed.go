package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/goinception/googlenet/data"
	"github.com/goinception/googlenet/eval"
	"github.com/goinception/googlenet/inception"
)

func init() {
	register(command{
		Name:    "embed",
		Summary: "a layer's activations (pool5 by default) of images or a dataset, written as [N, D] float32 .npy",
		Run:     runEmbed,
	})
}

func runEmbed(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("embed", flag.ContinueOnError)
	fs.SetOutput(stderr)
	wf := addWeightFlags(fs, false)
	layer := fs.String("layer", inception.DefaultFeatureLayer, "layer to embed with: a row of `googlenet summary` (inception_4e, pool5/7x7_s1, ...) or a scope meaning its last row (pool5: the pooled 1024-d vector of the paper variants)")
	out := fs.String("out", "", "output .npy: [N, D] float32, one row per image, written atomically")
	index := fs.String("index", "", "text file naming each row's image (default: --out with .txt for .npy); dataset rows add a tab, the label index, a tab and the class name")
	dataSpec := fs.String("data", "", "embed a dataset instead of image files: mnist, fashion-mnist, folder:DIR, ... with subset options (as for train)")
	split := fs.String("split", "val", "with --data: the split, val (held-out; MNIST's test set) or train")
	limit := fs.Int("limit", 0, "embed the first N images only (0: all)")
	crop := fs.String("crop", "", "full (the whole image scaled to the input) or 1 (the center crop of eval --crops 1); default full for fixed-size datasets such as MNIST (as training validates them), 1 for image files and folders")
	batch := fs.Int("batch", 64, "images per forward pass")
	strict := fs.Bool("strict", false, "fail on an unreadable image instead of skipping it")
	workers := fs.Int("workers", 0, "image decoding goroutines (0: one per CPU)")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: googlenet embed --weights W [--layer pool5] --out F.npy (IMAGE... | --data SPEC [--split val])")
		fmt.Fprintln(fs.Output(), "\nImages are cropped (--crop) and normalised as eval does; the network runs only up to --layer.")
		fmt.Fprintln(fs.Output(), "An unreadable image is skipped and reported (its row left out), or fails the run with --strict.")
		fs.PrintDefaults()
	}
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	usageErr := func(format string, a ...any) int {
		return usageErrorf(stderr, "embed", format, a...)
	}
	switch {
	case *wf.weights == "" || *out == "":
		return usageErr("--weights and --out are required")
	case strings.Contains(*wf.weights, ","):
		return usageErr("--weights takes one model")
	case *dataSpec == "" && fs.NArg() == 0:
		return usageErr("give image files or --data")
	case *dataSpec != "" && fs.NArg() > 0:
		return usageErr("give image files or --data, not both")
	case *split != "val" && *split != "train":
		return usageErr("--split %q: want val or train", *split)
	case *crop != "" && *crop != string(eval.Full) && *crop != string(eval.Center):
		return usageErr("--crop %q: want full or 1", *crop)
	case *limit < 0 || *batch <= 0 || *workers < 0:
		return usageErr("--limit and --workers must not be negative, --batch must be positive")
	}
	if *index == "" {
		*index = strings.TrimSuffix(*out, ".npy") + ".txt"
	}
	fail := func(err error) int {
		fmt.Fprintln(stderr, "googlenet embed:", err)
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
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	m, meta, err := eval.LoadModel(*wf.weights, wf.loadOptions())
	if err != nil {
		return fail(err)
	}
	if _, err := m.FeatureLayer(*layer); err != nil {
		return usageErr("--layer: %v", err)
	}
	var ds data.Dataset
	var classes []string
	if *dataSpec != "" {
		splits, err := data.Open(ctx, *dataSpec)
		if err != nil {
			return fail(err)
		}
		ds = splits.Val
		if *split == "train" {
			ds = splits.Train
		}
		classes = ds.Classes()
	} else {
		ds = eval.NewFiles(fs.Args(), m.Config().InChannels)
	}
	start, last := time.Now(), time.Now()
	o := eval.EmbedOptions{Layer: *layer, Crop: eval.Scheme(*crop), BatchSize: *batch, Limit: *limit, Workers: *workers, Strict: *strict,
		Progress: func(done, total int) {
			if done < total && time.Since(last) < 10*time.Second {
				return
			}
			last = time.Now()
			el := time.Since(start)
			fmt.Fprintf(stderr, "embed: %d/%d images, %.0f img/s, %s\n", done, total, float64(done)/el.Seconds(), el.Round(time.Second))
		}}
	e, err := eval.Embed(ctx, eval.Member{Model: m, Meta: meta}, ds, o)
	if err != nil {
		return fail(err)
	}
	for _, s := range e.Skipped {
		fmt.Fprintln(stderr, "googlenet embed: skipped:", s)
	}
	if err := eval.WriteNpy(*out, e.X); err != nil {
		return fail(err)
	}
	if err := e.WriteIndex(*index, classes); err != nil {
		return fail(err)
	}
	fmt.Fprintf(stdout, "%s: %v float32 (%s, %v per image)\n%s: the rows' images\n", *out, e.X.Shape, e.Layer.Name, e.Layer.Output, *index)
	if len(e.Skipped) > 0 {
		fmt.Fprintf(stderr, "googlenet embed: %d image(s) could not be read\n", len(e.Skipped))
		return 1
	}
	return 0
}
