package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"image"
	_ "image/jpeg" // decoders for image.Decode
	_ "image/png"
	"io"
	"os"
	"strings"

	"github.com/goinception/googlenet/data"
	"github.com/goinception/googlenet/eval"
	imagenet "github.com/goinception/googlenet/labels"
)

func init() {
	register(command{
		Name:    "predict",
		Summary: "top-k classes with probabilities for JPEG or PNG images",
		Run:     runPredict,
	})
}

// prediction is one image's line of `predict --json`.
type prediction struct {
	Path  string       `json:"path"`
	Top   []eval.Class `json:"top,omitempty"`
	Error string       `json:"error,omitempty"`
}

func decodeImage(path string) (image.Image, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	img, _, err := image.Decode(f)
	if err != nil {
		return nil, fmt.Errorf("decode: %w", err)
	}
	if img.Bounds().Empty() {
		return nil, errors.New("empty image")
	}
	return img, nil
}

func runPredict(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("predict", flag.ContinueOnError)
	fs.SetOutput(stderr)
	wf := addWeightFlags(fs, true)
	labelsFile := fs.String("labels", "", "class names, one a line (default: the labels stored with the weights, else the ImageNet names for 1000 classes, else class numbers)")
	topk := fs.Int("topk", 5, "classes to print per image")
	crops := fs.String("crops", "1", "crop scheme: 1 (center), 10, 144 or full (the whole image)")
	asJSON := fs.Bool("json", false, "print one JSON array instead of one line per image")
	cf := addContractFlags(fs)
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: googlenet predict --weights W[,W...] [--labels FILE] [--topk 5] [--crops 1] [--json] IMAGE...")
		fmt.Fprintln(fs.Output(), "\nJPEG and PNG; gray, colour and RGBA images are converted to the model's channels (alpha ignored).")
		fmt.Fprintln(fs.Output(), "An unreadable image is reported with its path and the others are still predicted; the exit status is then 1.")
		fmt.Fprintln(fs.Output(), "The input contract (resize, crop, channel order, normalisation) comes with the weights and is printed on stderr;")
		fmt.Fprintln(fs.Output(), "--input and the --input-* flags override it (docs/pretrained.md). --crops 1 is the contract's own geometry.")
		fs.PrintDefaults()
	}
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	usageErr := func(format string, a ...any) int {
		return usageErrorf(stderr, "predict", format, a...)
	}
	if *wf.weights == "" {
		return usageErr("--weights is required")
	}
	if fs.NArg() == 0 {
		return usageErr("no images given")
	}
	if *topk < 1 {
		return usageErr("--topk %d must be at least 1", *topk)
	}
	scheme, err := eval.ParseScheme(*crops)
	if err != nil {
		return usageErr("--crops %q: want 1, 10, 144 or full", *crops)
	}
	release, err := wf.use(stderr)
	if err != nil {
		if exitCode(err) == 2 {
			return usageErr("%v", err)
		}
		fmt.Fprintln(stderr, "googlenet predict:", err)
		return 1
	}
	defer release()
	members, err := wf.load()
	if err != nil {
		fmt.Fprintln(stderr, "googlenet predict:", err)
		return 1
	}
	contract, err := cf.applyMembers(members)
	if err != nil {
		return usageErr("%v", err)
	}
	fmt.Fprintf(stderr, "googlenet predict: input %s\n", contract)
	var labels []string
	if *labelsFile != "" {
		if labels, err = data.ReadLabels(*labelsFile); err != nil {
			fmt.Fprintln(stderr, "googlenet predict:", err)
			return 1
		}
		if k := members[0].Model.Config().Classes; len(labels) != k {
			fmt.Fprintf(stderr, "googlenet predict: %s has %d labels, the model has %d classes\n", *labelsFile, len(labels), k)
			return 1
		}
	}
	if labels == nil && members[0].Meta.Labels == nil {
		labels = imagenet.For(members[0].Model.Config().Classes)
	}
	pr, err := eval.NewPredictor(members, wf.gpu())
	if err != nil {
		fmt.Fprintln(stderr, "googlenet predict:", err)
		return 1
	}
	defer func() {
		if err := pr.Close(); err != nil {
			fmt.Fprintln(stderr, "googlenet predict:", err)
		}
	}()
	failed := 0
	var all []prediction
	for _, path := range fs.Args() {
		p := prediction{Path: path}
		img, err := decodeImage(path)
		if err == nil {
			p.Top, err = pr.Predict(img, scheme, *topk, labels)
		}
		if err != nil {
			failed++
			p.Error = err.Error()
			fmt.Fprintf(stderr, "googlenet predict: %s: %v\n", path, err)
		}
		if *asJSON {
			all = append(all, p)
			continue
		}
		if p.Error == "" {
			parts := make([]string, len(p.Top))
			for i, c := range p.Top {
				parts[i] = fmt.Sprintf("%s %.4f", c.Label, c.Prob)
			}
			fmt.Fprintf(stdout, "%s: %s\n", path, strings.Join(parts, ", "))
		}
	}
	if *asJSON {
		b, err := json.MarshalIndent(all, "", "  ")
		if err != nil {
			fmt.Fprintln(stderr, "googlenet predict:", err)
			return 1
		}
		fmt.Fprintln(stdout, string(b))
	}
	if failed > 0 {
		fmt.Fprintf(stderr, "googlenet predict: %d of %d image(s) could not be read\n", failed, fs.NArg())
		return 1
	}
	return 0
}
