package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/goinception/googlenet/detection"
	"github.com/goinception/googlenet/inception"
	"github.com/goinception/googlenet/train"
)

func runDetectTrain(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("detect train", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dataSpec := fs.String("data", "", "dataset: voc:DIR (required)")
	split := fs.String("split", "train", "training split: a list in DIR/ImageSets/Main")
	out := fs.String("out", "", "output folder of the run (required): as googlenet train writes it")
	variant := fs.String("variant", "mini", "network: mini or paper (or torchvision)")
	size := fs.Int("input-size", 0, "region size the classifier takes (0: 32 for mini, the variant's for the others)")
	context := fs.Int("context", -1, "context padding in pixels at the input size (-1: R-CNN's 16 at 227, scaled)")
	epochs := fs.Int("epochs", 3, "epochs over the region set")
	batch := fs.Int("batch", 64, "regions per step")
	lr := fs.Float64("lr", 0.05, "base learning rate (poly schedule)")
	wd := fs.Float64("weight-decay", 1e-4, "L2 weight decay")
	posFrac := fs.Float64("pos-fraction", 0.25, "fraction of positives among the regions (R-CNN: 32 of 128)")
	maxPer := fs.Int("max-per-object", 16, "positives per class and image: the best-overlapping proposals (0: all)")
	valFrac := fs.Float64("val-fraction", 0.1, "training images held out to validate the classifier on")
	augment := fs.Bool("augment", false, "the paper's photometric and crop augmentation on regions")
	seed := fs.Uint64("seed", 1, "seed: regions drawn, initialisation, data order")
	initFrom := fs.String("init-from", "", "start from the weights of a classification model (fine-tuning, R-CNN's recipe): any file googlenet train --init-from takes; the classifier starts afresh for the classes + background (the source must take RGB inputs)")
	resume := fs.Bool("resume", false, "continue the run in --out from its newest checkpoint (same flags; --epochs may grow)")
	proposals := fs.String("proposals", "", "proposals file (default: the one googlenet detect proposals caches in DIR; computed when missing)")
	skipBad := fs.Bool("skip-bad", false, "skip images with bad annotations or missing files, and count them, instead of failing")
	engine := addEngineFlag(fs)
	device := addDeviceFlag(fs)
	sf := addSearchFlags(fs)
	progress := fs.String("progress", "auto", "progress display: auto, bar, log, none")
	logEvery := fs.Duration("log-every", 30*time.Second, "interval of progress log lines")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: googlenet detect train --data voc:DIR --out RUN [--variant mini] [--epochs 3] [flags]")
		fmt.Fprintln(fs.Output(), "\nTrains GoogLeNet (from scratch, or from a classification model with --init-from) as an R-CNN region classifier (the dataset's classes and __background__):\nproposals with IoU >= 0.5 take the object's class, the rest are background, 25% positives, ground-truth\nboxes added; regions warped with context. Writes what googlenet train writes (metrics, curves, checkpoints).")
		fs.PrintDefaults()
	}
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	usageErr := func(format string, a ...any) int { return usageErrorf(stderr, "detect train", format, a...) }
	dir, err := vocDir(*dataSpec)
	if err != nil {
		return usageErr("%v", err)
	}
	if *out == "" {
		return usageErr("--out is required")
	}
	if fs.NArg() > 0 {
		return usageErr("unexpected arguments %q", fs.Args())
	}
	mc, err := inception.ConfigFor(*variant)
	if err != nil {
		return usageErr("%v", err)
	}
	if *size < 0 || *epochs <= 0 || *batch <= 0 || *lr <= 0 || *posFrac <= 0 || *posFrac > 1 || *maxPer < 0 {
		return usageErr("--input-size, --epochs, --batch, --lr, --pos-fraction (0..1] and --max-per-object must be positive")
	}
	if *size == 0 {
		*size = mc.InputSize
		if *variant == inception.VariantMini {
			*size = 32
		}
	}
	ctxPad := *context
	if ctxPad < 0 {
		ctxPad = detection.ContextFor(*size)
	} else if ctxPad == 0 {
		ctxPad = -1 // RegionOptions: negative is none
	}
	eng, release, err := useDevice(*device, *engine, stderr)
	if err != nil {
		if exitCode(err) == 2 {
			return usageErr("%v", err)
		}
		fmt.Fprintln(stderr, "googlenet detect train:", err)
		return 1
	}
	defer release()
	mc.Engine = eng
	ctx, stop := signalContext()
	defer stop()
	set, err := detection.OpenVOC(dir, *split, detection.VOCOptions{SkipBad: *skipBad})
	if err != nil {
		fmt.Fprintln(stderr, "googlenet detect train:", err)
		return 1
	}
	reportSkipped(stderr, set)
	so := sf.options()
	cache := *proposals
	if cache == "" {
		cache = defaultProposalFile(dir, *split, so)
	}
	start := time.Now()
	props, err := loadOrComputeProposals(ctx, cache, set.Images, so, *progress, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "googlenet detect train:", err)
		return 1
	}
	st := props.Measure(set.Images, 0)
	fmt.Fprintf(stderr, "proposals: %.0f per image, recall@0.5 %.4f on %d training images (%s)\n", st.PerImage, st.Recall, st.Images, time.Since(start).Round(time.Second))
	rep, ok := newReporter(*progress, stderr, *logEvery)
	if !ok {
		return usageErr("--progress %q unknown (want auto, bar, log or none)", *progress)
	}
	cfg := detection.TrainConfig{
		Images: set.Images, Classes: set.Classes, Proposals: props, ValFraction: *valFrac,
		Regions: detection.RegionOptions{Size: *size, Context: ctxPad, PosFraction: *posFrac, MaxPerObject: *maxPer, Seed: *seed},
		Train: train.Config{
			Model: mc, Epochs: *epochs, Batch: *batch, LR: *lr, WeightDecay: *wd, Augment: *augment,
			Seed: *seed, Out: *out, Schedule: train.SchedulePoly, Resume: *resume, InitFrom: *initFrom,
		},
	}
	res, counts, err := detection.TrainClassifier(ctx, cfg, rep)
	if b, ok := rep.(*barReporter); ok {
		b.finish()
	}
	if counts != nil {
		fmt.Fprintf(stderr, "regions: %d training (%d positives, %d ground truth) from %d images, %d validation (%d positives) from %d images\n",
			counts.TrainRegions, counts.TrainPositives, counts.TrainGT, counts.TrainImages, counts.ValRegions, counts.ValPositives, counts.ValImages)
	}
	if errors.Is(err, train.ErrInterrupted) {
		fmt.Fprintf(stderr, "googlenet detect train: %v\n", err)
		return exitInterrupted
	}
	if err != nil {
		fmt.Fprintln(stderr, "googlenet detect train:", err)
		return 1
	}
	if n := len(res.Metrics); n > 0 {
		m := res.Metrics[n-1]
		fmt.Fprintf(stdout, "epoch %d: region validation top-1 %.2f%% on %d regions; %.0f img/s; %s in all\n",
			m.Epoch, 100*m.ValTop1, m.ValImages, m.ImgPerSec, time.Since(start).Round(time.Second))
	}
	fmt.Fprintf(stdout, "model: %s\n", res.Model)
	return 0
}
