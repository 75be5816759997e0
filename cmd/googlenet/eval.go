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

	"github.com/schollz/progressbar/v3"

	"github.com/goinception/googlenet/cuda"
	"github.com/goinception/googlenet/data"
	"github.com/goinception/googlenet/eval"
	"github.com/goinception/googlenet/ops"
)

func init() {
	register(command{
		Name:    "eval",
		Summary: "top-1/top-5 accuracy of a model or an ensemble with the paper's 1, 10 or 144 crops (Table 3)",
		Run:     runEval,
	})
}

// weightFlags are the flags every command that loads a model shares; all
// of them load through eval.LoadMembers.
type weightFlags struct {
	weights     *string
	variant     *string
	lastIterate *bool
	engine      *string
	device      *string
	strict      *bool
	eng         ops.Engine // set by use
}

func addWeightFlags(fs *flag.FlagSet, ensemble bool) *weightFlags {
	help := "model weights: a checkpoint written by googlenet train or import (.safetensors), or a foreign file:\na torchvision state dict (.pth, .pt, .safetensors), an ONNX model (.onnx) or a Caffe model (.caffemodel), see docs/pretrained.md"
	if ensemble {
		help += "; several, comma-separated, form an ensemble"
	}
	return &weightFlags{
		weights:     fs.String("weights", "", help),
		variant:     fs.String("variant", "", "the variant the weights must be for (empty: the one they record)"),
		lastIterate: fs.Bool("last-iterate", false, "use a checkpoint's last weights even when it has Polyak averages (default: the averages)"),
		engine:      addEngineFlag(fs),
		device:      addDeviceFlag(fs),
		strict:      addStrictFlag(fs),
	}
}

// use starts the engine of --device and --engine (see useDevice); the
// models that load and loadOptions give run on it.
func (w *weightFlags) use(stderr io.Writer) (func(), error) {
	eng, release, err := useDeviceWith(*w.device, *w.engine, *w.strict, stderr)
	w.eng = eng
	return release, err
}

// gpu returns the device of --device gpu (after use), nil for cpu: the
// commands then run their forward passes as a device-resident cuda.Net
// (eval.Options.Device, eval.NewPredictor, eval.InferDevice).
func (w *weightFlags) gpu() *cuda.Device {
	if ce, ok := w.eng.(*cuda.Engine); ok {
		return ce.Device()
	}
	return nil
}

// loadOptions are the eval.LoadOptions of the flags, with use's engine.
func (w *weightFlags) loadOptions() eval.LoadOptions {
	return eval.LoadOptions{Variant: *w.variant, LastIterate: *w.lastIterate, Engine: w.eng}
}

func (w *weightFlags) load() ([]eval.Member, error) {
	return eval.LoadMembers(*w.weights, w.loadOptions())
}

func runEval(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("eval", flag.ContinueOnError)
	fs.SetOutput(stderr)
	wf := addWeightFlags(fs, true)
	dataSpec := fs.String("data", "mnist", "dataset: mnist, mnist:DIR, fashion-mnist[:DIR], folder:DIR, synthetic[:k=v,...], with subset options (as for train)")
	split := fs.String("split", "val", "split to evaluate: val (the held-out images; MNIST's test set) or train")
	crops := fs.String("crops", "1", "crop schemes, comma-separated, one table row each: 1 (center), 10, 144 (the paper's), full (the whole image, as training validates without augmentation)")
	asJSON := fs.Bool("json", false, "print the rows as a JSON array instead of a table")
	limit := fs.Int("limit", 0, "evaluate the first N images only (0: all)")
	batch := fs.Int("batch", 64, "crops per forward pass")
	dedup := fs.Bool("dedup", true, "forward identical crops once (the 144 crops of a square image are 48 distinct ones); the result is the same")
	strict := fs.Bool("strict", false, "fail on an unreadable image instead of skipping it")
	workers := fs.Int("workers", 0, "image decoding goroutines (0: one per CPU)")
	progress := fs.String("progress", "auto", "progress display: auto (a bar on a terminal, log lines otherwise), bar, log, none")
	cf := addContractFlags(fs)
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: googlenet eval --weights W[,W...] [--data mnist] [--crops 1|10|144|full[,...]] [--json] [--limit N] [flags]")
		fmt.Fprintln(fs.Output(), "\nScores a model, or an ensemble (probabilities averaged over crops, then models), as rows of the paper's Table 3.")
		fs.PrintDefaults()
	}
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	usageErr := func(format string, a ...any) int {
		return usageErrorf(stderr, "eval", format, a...)
	}
	if fs.NArg() > 0 {
		return usageErr("unexpected arguments %q", fs.Args())
	}
	if *wf.weights == "" {
		return usageErr("--weights is required")
	}
	var schemes []eval.Scheme
	for _, c := range strings.Split(*crops, ",") {
		s, err := eval.ParseScheme(strings.TrimSpace(c))
		if err != nil {
			return usageErr("--crops %q: want 1, 10, 144 or full (comma-separated)", c)
		}
		schemes = append(schemes, s)
	}
	if *limit < 0 || *batch <= 0 || *workers < 0 {
		return usageErr("--limit and --workers must not be negative, --batch must be positive")
	}
	if *split != "val" && *split != "train" {
		return usageErr("--split %q: want val or train", *split)
	}
	switch *progress {
	case "auto", "bar", "log", "none":
	default:
		return usageErr("--progress %q unknown (want auto, bar, log or none)", *progress)
	}
	fail := func(err error) int {
		fmt.Fprintln(stderr, "googlenet eval:", err)
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
	members, err := wf.load()
	if err != nil {
		return fail(err)
	}
	contract, err := cf.applyMembers(members)
	if err != nil {
		return usageErr("%v", err)
	}
	if *progress != "none" {
		fmt.Fprintf(stderr, "googlenet eval: input %s\n", contract)
	}
	splits, err := data.Open(ctx, *dataSpec)
	if err != nil {
		return fail(err)
	}
	ds := splits.Val
	if *split == "train" {
		ds = splits.Train
	}
	n := ds.Len()
	if *limit > 0 && *limit < n {
		n = *limit
	}
	mode := *progress
	if mode == "auto" {
		mode = "log"
		if isTerminal(stderr) {
			mode = "bar"
		}
	}
	var results []*eval.Result
	for _, s := range schemes {
		o := eval.Options{Crops: s, BatchSize: *batch, Limit: *limit, Workers: *workers, Strict: *strict, Dedup: *dedup,
			Device: wf.gpu()}
		desc := fmt.Sprintf("%d model(s), %s crop(s)", len(members), s)
		var bar *progressbar.ProgressBar
		switch mode {
		case "bar":
			bar = progressbar.NewOptions(n,
				progressbar.OptionSetWriter(stderr),
				progressbar.OptionSetDescription(desc),
				progressbar.OptionShowCount(),
				progressbar.OptionShowIts(),
				progressbar.OptionSetItsString("img"),
				progressbar.OptionSetPredictTime(true),
				progressbar.OptionSetWidth(30),
				progressbar.OptionClearOnFinish())
			o.Progress = func(done, total int) { _ = bar.Set(done) }
		case "log":
			start, last := time.Now(), time.Now()
			o.Progress = func(done, total int) {
				if done < total && time.Since(last) < 10*time.Second {
					return
				}
				last = time.Now()
				el := time.Since(start)
				fmt.Fprintf(stderr, "%s: %d/%d images, %.0f img/s, %s\n", desc, done, total, float64(done)/el.Seconds(), el.Round(time.Second))
			}
		}
		r, err := eval.Evaluate(ctx, members, ds, o)
		if bar != nil {
			_ = bar.Finish()
		}
		if err != nil {
			return fail(err)
		}
		r.Dataset = *dataSpec + " (" + *split + ")"
		if r.Skipped > 0 {
			fmt.Fprintf(stderr, "googlenet eval: %d unreadable image(s) skipped\n", r.Skipped)
		}
		results = append(results, r)
	}
	if *asJSON {
		if err := eval.WriteJSON(stdout, results); err != nil {
			return fail(err)
		}
		return 0
	}
	fmt.Fprintf(stdout, "%s (%s): %d images; models:", *dataSpec, *split, results[0].Score.Images)
	for _, m := range members {
		tag := ""
		if m.Meta.Polyak {
			tag = " (Polyak average)"
		}
		fmt.Fprintf(stdout, " %s%s", m.Name(), tag)
	}
	fmt.Fprintln(stdout)
	if err := eval.WriteTable(stdout, results); err != nil {
		return fail(err)
	}
	return 0
}
