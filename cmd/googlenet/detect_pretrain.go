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

func runDetectPretrain(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("detect pretrain", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o detection.CropOptions
	out := fs.String("out", "", "output folder of the run (required): as googlenet train writes it")
	addSceneFlags(fs, &o.Scene)
	fs.IntVar(&o.Train, "crops", 30000, "training crops")
	fs.IntVar(&o.Val, "val-crops", 2000, "validation crops")
	fs.Float64Var(&o.PosFraction, "pos-fraction", 0.5, "fraction of object crops (the rest are background)")
	variant := fs.String("variant", "mini", "network: mini or paper (or torchvision)")
	size := fs.Int("input-size", 0, "region size (0: 32 for mini, the variant's for the others); detect train must use the same")
	context := fs.Int("context", -1, "context padding in pixels at the input size (-1: R-CNN's 16 at 227, scaled)")
	epochs := fs.Int("epochs", 2, "epochs over the crops")
	batch := fs.Int("batch", 64, "crops per step")
	lr := fs.Float64("lr", 0.05, "base learning rate (poly schedule)")
	wd := fs.Float64("weight-decay", 1e-4, "L2 weight decay")
	seed := fs.Uint64("seed", 1, "seed: crops, initialisation, data order")
	engine := addEngineFlag(fs)
	device := addDeviceFlag(fs)
	progress := fs.String("progress", "auto", "progress display: auto, bar, log, none")
	logEvery := fs.Duration("log-every", 30*time.Second, "interval of progress log lines")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: googlenet detect pretrain --out RUN [--objects mnist|fashion] [--crops 30000] [--epochs 2] [flags]")
		fmt.Fprintln(fs.Output(), "\nPretrains a region classifier (the classes and __background__) on crops made from the benchmark's\ningredients: canvases of the training photographs with objects of the training split, object crops\n(tight or IoU >= 0.5) and background crops (IoU < 0.5), warped with context. R-CNN takes this step on\nImageNet; then googlenet detect train --init-from RUN/model.safetensors fine-tunes on proposals.")
		fs.PrintDefaults()
	}
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	usageErr := func(format string, a ...any) int { return usageErrorf(stderr, "detect pretrain", format, a...) }
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
	if *size < 0 || *epochs <= 0 || *batch <= 0 || *lr <= 0 || o.Train <= 0 || o.Val <= 0 || o.PosFraction <= 0 || o.PosFraction > 1 {
		return usageErr("--input-size, --epochs, --batch, --lr, --crops, --val-crops and --pos-fraction (0..1] must be positive")
	}
	if *size == 0 {
		*size = mc.InputSize
		if *variant == inception.VariantMini {
			*size = 32
		}
	}
	o.Size, o.Seed = *size, *seed
	o.Context = *context
	if o.Context < 0 {
		o.Context = detection.ContextFor(*size)
	} else if o.Context == 0 {
		o.Context = -1 // CropOptions: negative is none
	}
	eng, release, err := useDevice(*device, *engine, stderr)
	if err != nil {
		if exitCode(err) == 2 {
			return usageErr("%v", err)
		}
		fmt.Fprintln(stderr, "googlenet detect pretrain:", err)
		return 1
	}
	defer release()
	mc.Engine = eng
	ctx, stop := signalContext()
	defer stop()
	rep, ok := newReporter(*progress, stderr, *logEvery)
	if !ok {
		return usageErr("--progress %q unknown (want auto, bar, log or none)", *progress)
	}
	start := time.Now()
	fmt.Fprintf(stderr, "making %d training and %d validation crops of %s objects\n", o.Train, o.Val, o.Objects)
	res, sp, err := detection.Pretrain(ctx, detection.PretrainConfig{Crops: o, Train: train.Config{
		Model: mc, Epochs: *epochs, Batch: *batch, LR: *lr, WeightDecay: *wd,
		Seed: *seed, Out: *out, Schedule: train.SchedulePoly,
	}}, rep)
	if b, ok := rep.(*barReporter); ok {
		b.finish()
	}
	if errors.Is(err, train.ErrInterrupted) {
		fmt.Fprintf(stderr, "googlenet detect pretrain: %v\n", err)
		return exitInterrupted
	}
	if err != nil {
		fmt.Fprintln(stderr, "googlenet detect pretrain:", err)
		return 1
	}
	if n := len(res.Metrics); n > 0 {
		m := res.Metrics[n-1]
		fmt.Fprintf(stdout, "epoch %d: crop validation top-1 %.2f%% on %d crops (%d training crops); %.0f img/s; %s in all\n",
			m.Epoch, 100*m.ValTop1, m.ValImages, sp.Train.Len(), m.ImgPerSec, time.Since(start).Round(time.Second))
	}
	fmt.Fprintf(stdout, "model: %s\n", res.Model)
	return 0
}
