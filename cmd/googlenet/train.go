package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/goinception/googlenet/cuda"
	"github.com/goinception/googlenet/inception"
	"github.com/goinception/googlenet/mpi"
	"github.com/goinception/googlenet/train"
)

func init() {
	register(command{
		Name:    "train",
		Summary: "train a GoogLeNet on a dataset (checkpoints, metrics, curves, resume)",
		Run:     runTrain,
	})
}

// exitInterrupted is the exit status of a run stopped by SIGINT or SIGTERM
// after writing its checkpoint (128 + SIGINT, the shell's convention).
const exitInterrupted = 130

// trainDefaults are a variant's training recipe: the mini one is tuned for
// MNIST (docs/training.md), the others follow Caffe's bvlc_googlenet solver.
type trainDefaults struct {
	batch        int
	lr, wd       float64
	schedule     string
	warmupEpochs float64
}

var recipes = map[string]trainDefaults{
	inception.VariantMini:        {batch: 128, lr: 0.1, wd: 5e-4, schedule: train.SchedulePoly, warmupEpochs: 0.1},
	inception.VariantPaper:       {batch: 32, lr: 0.01, wd: 2e-4, schedule: train.ScheduleStep},
	inception.VariantTorchvision: {batch: 32, lr: 0.01, wd: 1e-4, schedule: train.ScheduleStep},
}

func runTrain(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("train", flag.ContinueOnError)
	fs.SetOutput(stderr)
	variant := fs.String("variant", inception.VariantMini, "network: "+strings.Join(inception.Variants, ", "))
	dataSpec := fs.String("data", "mnist", "dataset: mnist, mnist:DIR, fashion-mnist[:DIR], folder:DIR (DIR/train/<class>/*.jpg, DIR/val/...), synthetic[:k=v,...];\nmnist, fashion-mnist and folder take subset options after a comma: classes=LIST (indices, ranges lo-hi and names joined by +,\nrelabelled 0.. in that order), per-class=N (first N training images of each class), val-per-class=N;\nfor example mnist:classes=5-9,per-class=100 or folder:photos,classes=cat+dog")
	epochs := fs.Int("epochs", 3, "epochs to train (in total, counting those before a resume)")
	batch := fs.Int("batch", 0, "images per step, on each rank with --distributed (0: the variant's default; mini 128, others 32)")
	lr := fs.Float64("lr", 0, "base learning rate (0: the variant's default; mini 0.1, others 0.01)")
	momentum := fs.Float64("momentum", 0.9, "SGD momentum")
	wd := fs.Float64("weight-decay", -1, "L2 weight decay on weights (-1: the variant's default; mini 5e-4, paper 2e-4)")
	schedule := fs.String("schedule", "", "learning-rate schedule: step (x0.96 every 8 epochs), poly (linear to 0 over the run), constant (empty: the variant's default; mini poly, others step)")
	stepGamma := fs.Float64("step-gamma", 0.96, "step schedule: factor per period")
	stepPeriod := fs.Float64("step-period", 8, "step schedule: period in epochs")
	polyPower := fs.Float64("poly-power", 1, "poly schedule: power")
	warmup := fs.Float64("warmup", -1, "linear warm-up in epochs (-1: the variant's default; mini 0.1, others 0)")
	auxWeight := fs.Float64("aux-weight", 0.3, "weight of the auxiliary classifiers' losses")
	polyak := fs.Bool("polyak", false, "evaluate and export Polyak-averaged weights")
	polyakStart := fs.Int64("polyak-start", 0, "steps before Polyak averaging starts")
	polyakDecay := fs.Float64("polyak-decay", 0, "exponential averaging decay (0: uniform average)")
	augment := fs.Bool("augment", false, "the paper's augmentation (random-sized crops, interpolation, mirror, colour); off: resize and normalise only")
	seed := fs.Uint64("seed", 1, "seed for initialisation, data order and dropout")
	out := fs.String("out", "", "output folder (default runs/<variant>)")
	resume := fs.Bool("resume", false, "continue from the newest checkpoint in --out")
	keep := fs.Int("keep", 3, "checkpoints to keep")
	strict := fs.Bool("strict", false, "fail on an unreadable image instead of skipping it")
	inputSize := fs.Int("input-size", 0, "input height and width (0: the variant's default; mini 28, others 224)")
	steps := fs.Int("steps", 0, "limit the steps per epoch (0: whole epochs), for quick demonstrations")
	evalLimit := fs.Int("eval-limit", 0, "evaluate on the first N validation images only (0: all)")
	workers := fs.Int("workers", 0, "image decoding goroutines (0: one per CPU)")
	engine := addEngineFlag(fs)
	device := addDeviceFlag(fs)
	strictFP32 := addStrictFlag(fs)
	progress := fs.String("progress", "auto", "progress display: auto (a bar on a terminal, log lines otherwise), bar, log, none")
	logEvery := fs.Duration("log-every", 30*time.Second, "interval of progress log lines")
	initFrom := fs.String("init-from", "", "start from these weights (fine-tuning): a checkpoint (any class count), a torchvision state dict (.pth, .pt, .safetensors) or an ONNX GoogLeNet;\nthe network is theirs with the dataset's classes; tensors whose name and shape match are loaded, the classifiers start afresh when the classes differ")
	noAux := fs.Bool("no-aux", false, "drop the auxiliary classifiers")
	freeze := fs.String("freeze", "", "comma-separated parameter-name prefixes not to train (e.g. conv1/,conv2/,inception_3); see googlenet summary for the names")
	freezeThrough := fs.String("freeze-through", "", "freeze the main path from the input through this layer (e.g. inception_4e, pool1)")
	lrMult := fs.String("lr-mult", "", "learning-rate multipliers PREFIX=M[,...] like Caffe's lr_mult (e.g. loss3/classifier=10); the last matching one wins")
	decayMult := fs.String("decay-mult", "", "weight-decay multipliers PREFIX=M[,...] like Caffe's decay_mult (0: no decay)")
	cf := addEncodingFlags(fs)
	verbose := fs.Bool("verbose", false, "list every tensor --init-from loaded, re-initialised or dropped")
	distributed := fs.Bool("distributed", false, "data-parallel training over the ranks of an MPI job (build with -tags mpi, start with mpirun; --batch is per rank, give --lr for the global batch; see docs/distributed.md)")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: googlenet train [--variant mini] [--data mnist] [--epochs 3] [--out DIR] [--resume] [flags]")
		fmt.Fprintln(fs.Output(), "       googlenet train --init-from W [--freeze-through inception_4e] [--lr-mult loss3/classifier=10] [--input NAME] --data SPEC [flags]")
		fmt.Fprintln(fs.Output(), "\nWrites DIR/metrics.jsonl, DIR/curves.png, DIR/labels.txt, DIR/checkpoint-*.safetensors and DIR/model.safetensors.")
		fmt.Fprintln(fs.Output(), "SIGINT or SIGTERM stops after the current step and writes a checkpoint (exit status 130); --resume continues it.")
		fs.PrintDefaults()
	}
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	usageErr := func(format string, a ...any) int {
		return usageErrorf(stderr, "train", format, a...)
	}
	if fs.NArg() > 0 {
		return usageErr("unexpected arguments %q", fs.Args())
	}
	mc, err := inception.ConfigFor(*variant)
	if err != nil {
		return usageErr("%v", err)
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	lrm, err := train.ParseMults(*lrMult)
	if err != nil {
		return usageErr("--lr-mult: %v", err)
	}
	for _, m := range lrm {
		if m.Value == 0 {
			return usageErr("--lr-mult %s=0: freeze the parameters instead (--freeze %s)", m.Prefix, m.Prefix)
		}
	}
	dm, err := train.ParseMults(*decayMult)
	if err != nil {
		return usageErr("--decay-mult: %v", err)
	}
	var freezes []string
	for _, p := range strings.Split(*freeze, ",") {
		if p = strings.TrimSpace(p); p != "" {
			freezes = append(freezes, p)
		} else if *freeze != "" {
			return usageErr("--freeze %q has an empty prefix", *freeze)
		}
	}
	var init *train.InitWeights
	if *initFrom != "" {
		if !*resume {
			// Read the weights first: a bad file fails at once, and the
			// recipe defaults are those of its variant.
			if init, err = train.LoadInit(*initFrom); err != nil {
				fmt.Fprintln(stderr, "googlenet train:", err)
				return 1
			}
			if set["variant"] && init.Config.Variant != *variant {
				return usageErr("--variant %s, but --init-from %s holds a %s model", *variant, *initFrom, init.Config.Variant)
			}
			*variant = init.Config.Variant
		}
		// The architecture comes from the weights; flags override.
		mc = inception.Config{AuxWeight: *auxWeight}
		if set["variant"] {
			mc.Variant = *variant
		}
	}
	rec, ok := recipes[*variant]
	if !ok {
		rec = recipes[inception.VariantMini]
	}
	cfg := train.Config{
		Model: mc, Data: *dataSpec, Epochs: *epochs, Batch: rec.batch, LR: rec.lr, Momentum: *momentum,
		WeightDecay: rec.wd, Schedule: rec.schedule, StepGamma: *stepGamma, StepPeriod: *stepPeriod,
		PolyPower: *polyPower, WarmupEpochs: rec.warmupEpochs, WarmupStart: 0.1, Polyak: *polyak,
		PolyakStart: *polyakStart, PolyakDecay: *polyakDecay, Augment: *augment, Seed: *seed,
		Out: *out, Resume: *resume, KeepLast: *keep, Strict: *strict, StepsPerEpoch: *steps,
		EvalLimit: *evalLimit, Workers: *workers,
		InitFrom: *initFrom, Init: init, NoAux: *noAux, Freeze: freezes, FreezeThrough: *freezeThrough,
		LRMult: lrm, DecayMult: dm, Verbose: *verbose,
	}
	if set["batch"] {
		cfg.Batch = *batch
	}
	if set["lr"] {
		cfg.LR = *lr
	}
	if *wd >= 0 {
		cfg.WeightDecay = *wd
	} else if set["weight-decay"] {
		return usageErr("--weight-decay %g must not be negative", *wd)
	}
	if *schedule != "" {
		cfg.Schedule = *schedule
	}
	if *warmup >= 0 {
		cfg.WarmupEpochs = *warmup
	} else if set["warmup"] {
		return usageErr("--warmup %g must not be negative", *warmup)
	}
	cfg.Model.AuxWeight = *auxWeight
	if *inputSize < 0 {
		return usageErr("--input-size %d must not be negative", *inputSize)
	} else if *inputSize > 0 {
		cfg.Model.InputSize = *inputSize
	}
	if cf.set() {
		// The contract of --init-from's weights, changed.
		if *initFrom == "" {
			return usageErr("--input and the --input-* flags change the input contract of the --init-from weights; give --init-from")
		}
		src := init
		if src == nil { // resuming: read the weights only for their contract
			if src, err = train.LoadInit(*initFrom); err != nil {
				fmt.Fprintln(stderr, "googlenet train:", err)
				return 1
			}
		}
		mcfg := src.Config
		if *inputSize > 0 {
			mcfg.InputSize = *inputSize
		}
		base := src.Input.Clone()
		if base.Crop != mcfg.InputSize { // training's geometry is its own
			base.Size = max(mcfg.InputSize, base.Size*mcfg.InputSize/max(base.Crop, 1))
			base.Crop = mcfg.InputSize
		}
		c, err := cf.apply(base, mcfg)
		if err != nil {
			return usageErr("%v", err)
		}
		cfg.Input = &c
	}
	if cfg.Out == "" {
		cfg.Out = "runs/" + *variant
	}
	switch {
	case cfg.Epochs <= 0:
		return usageErr("--epochs %d must be positive", cfg.Epochs)
	case cfg.Batch <= 0:
		return usageErr("--batch %d must be positive", cfg.Batch)
	case cfg.LR <= 0:
		return usageErr("--lr %g must be positive", cfg.LR)
	case cfg.Momentum <= 0 || cfg.Momentum >= 1:
		return usageErr("--momentum %g must be in (0, 1)", cfg.Momentum)
	case cfg.Schedule != train.ScheduleStep && cfg.Schedule != train.SchedulePoly && cfg.Schedule != train.ScheduleConstant:
		return usageErr("--schedule %q unknown (want step, poly or constant)", cfg.Schedule)
	case cfg.KeepLast <= 0:
		return usageErr("--keep %d must be positive", cfg.KeepLast)
	case *steps < 0 || *evalLimit < 0 || *workers < 0:
		return usageErr("--steps, --eval-limit and --workers must not be negative")
	case *auxWeight < 0:
		return usageErr("--aux-weight %g must not be negative", *auxWeight)
	}
	eng, release, err := useDeviceWith(*device, *engine, *strictFP32, stderr)
	if err != nil {
		if exitCode(err) == 2 {
			return usageErr("%v", err)
		}
		fmt.Fprintln(stderr, "googlenet train:", err)
		return 1
	}
	defer release()
	cfg.Model.Engine = eng
	if ce, ok := eng.(*cuda.Engine); ok {
		// --device gpu: the whole training step runs as a device-resident
		// cuda.Net (train.Config.Device).
		cfg.Device = ce.Device()
	}
	// From here on stderr says which rank writes (with several ranks).
	comm, stderr, code := openGroup(*distributed, stderr)
	if code != 0 {
		return code
	}
	if comm != nil {
		defer mpi.Finalize()
		cfg.Comm = comm
	}
	rep, ok := newReporter(*progress, stderr, *logEvery)
	if !ok {
		return usageErr("--progress %q unknown (want auto, bar, log or none)", *progress)
	}
	if comm != nil && comm.Size() > 1 {
		if _, bar := rep.(*barReporter); bar {
			// mpirun merges the ranks' output: bars would overwrite each other.
			rep = newLogReporter(stderr, *logEvery)
		}
		if comm.Rank() != 0 && *progress != "none" {
			rep = &rankLogReporter{w: stderr, every: *logEvery}
		}
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		stop() // a second signal ends the process at once
	}()
	start := time.Now()
	res, err := train.Run(ctx, cfg, rep)
	if b, ok := rep.(*barReporter); ok {
		b.finish()
	}
	if errors.Is(err, train.ErrInterrupted) {
		if comm != nil && comm.Size() > 1 && res != nil {
			printComm(stderr, res.Comm)
		}
		fmt.Fprintf(stderr, "googlenet train: %v\ncontinue with the same flags and --resume\n", err)
		return exitInterrupted
	}
	if err != nil {
		fmt.Fprintln(stderr, "googlenet train:", err)
		if comm != nil && comm.Size() > 1 {
			comm.Abort(1) // the other ranks would wait in a collective
		}
		return 1
	}
	if comm != nil && comm.Size() > 1 {
		printComm(stderr, res.Comm)
		if comm.Rank() != 0 {
			return 0
		}
	}
	if n := len(res.Metrics); n > 0 {
		m := res.Metrics[n-1]
		fmt.Fprintf(stdout, "epoch %d: validation top-1 %.2f%%, top-5 %.2f%% on %d images; %.0f img/s; %s in all\n",
			m.Epoch, 100*m.ValTop1, 100*m.ValTop5, m.ValImages, m.ImgPerSec, time.Since(start).Round(time.Second))
	}
	fmt.Fprintf(stdout, "model: %s\ncheckpoint: %s\n", res.Model, res.Checkpoint)
	return 0
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// quietReporter prints only events and epoch summaries.
type quietReporter struct {
	train.Nop
	w io.Writer
}

func (q quietReporter) EpochEnd(m train.Metrics) { printEpoch(q.w, m) }
func (q quietReporter) Logf(format string, a ...interface{}) {
	fmt.Fprintf(q.w, format+"\n", a...)
}

func printStart(w io.Writer, i train.Info) {
	fmt.Fprintf(w, "training %s on %s: %d classes, %s parameters, %d training and %d validation images\n",
		i.Variant, i.Data, len(i.Classes), inception.Commas(i.Params), i.TrainImages, i.ValImages)
	fmt.Fprintf(w, "%d epochs of %d steps, batch %d", i.Epochs, i.StepsPerEpoch, i.Batch)
	if i.Ranks > 1 {
		fmt.Fprintf(w, " on each of %d ranks (global batch %d)", i.Ranks, i.Batch*i.Ranks)
	}
	fmt.Fprintln(w)
	if i.ResumedFrom != "" {
		fmt.Fprintf(w, "resuming from %s at epoch %d, step %d\n", i.ResumedFrom, i.StartEpoch+1, i.StartStep)
	}
}

func printEpoch(w io.Writer, m train.Metrics) {
	fmt.Fprintf(w, "epoch %d: loss %.4f (aux %.4f, %.4f), train top-1 %.2f%%, val top-1 %.2f%% top-5 %.2f%%%s, lr %.4g, %.0f img/s, %.0fs (+%.0fs eval)\n",
		m.Epoch, m.Loss, m.Aux1Loss, m.Aux2Loss, 100*m.TrainTop1, 100*m.ValTop1, 100*m.ValTop5,
		map[bool]string{true: " (Polyak)", false: ""}[m.Polyak], m.LR, m.ImgPerSec, m.WallSeconds, m.EvalSeconds)
}

// logReporter writes a plain line at most every interval (and at the end
// of each epoch), for logs and pipes.
type logReporter struct {
	w     io.Writer
	every time.Duration
	last  time.Time
}

// newReporter returns the progress reporter that --progress names: a bar
// on a terminal and log lines every logEvery otherwise ("auto"), "bar",
// "log" or "none"; ok is false for any other name.
func newReporter(progress string, stderr io.Writer, logEvery time.Duration) (rep train.Reporter, ok bool) {
	switch progress {
	case "auto":
		if isTerminal(stderr) {
			return newBarReporter(stderr), true
		}
		return newLogReporter(stderr, logEvery), true
	case "bar":
		return newBarReporter(stderr), true
	case "log":
		return newLogReporter(stderr, logEvery), true
	case "none":
		return quietReporter{w: stderr}, true
	}
	return nil, false
}

func newLogReporter(w io.Writer, every time.Duration) *logReporter {
	return &logReporter{w: w, every: every}
}

func (l *logReporter) Start(i train.Info) { printStart(l.w, i); l.last = time.Now() }
func (l *logReporter) Step(p train.Progress) {
	if time.Since(l.last) < l.every && p.Step != p.Steps {
		return
	}
	l.last = time.Now()
	eta := time.Duration(0)
	if p.ImgPerSec > 0 && p.Step > 0 {
		eta = time.Duration(float64(p.Elapsed) / float64(p.Step) * float64(p.Steps-p.Step))
	}
	fmt.Fprintf(l.w, "epoch %d/%d step %d/%d: loss %.4f (mean %.4f), lr %.4g, %.0f img/s%s, eta %s\n",
		p.Epoch+1, p.Epochs, p.Step, p.Steps, p.Losses.Main, p.MeanLoss, p.LR, p.ImgPerSec, commNote(p), eta.Round(time.Second))
}
func (l *logReporter) Evaluating(int)           {}
func (l *logReporter) EpochEnd(m train.Metrics) { printEpoch(l.w, m) }
func (l *logReporter) Logf(format string, a ...interface{}) {
	fmt.Fprintf(l.w, format+"\n", a...)
}

// barReporter draws one progress bar per epoch on a terminal.
type barReporter struct {
	w   io.Writer
	bar *progressbar.ProgressBar
}

func newBarReporter(w io.Writer) *barReporter { return &barReporter{w: w} }

func (b *barReporter) Start(i train.Info) { printStart(b.w, i) }
func (b *barReporter) Step(p train.Progress) {
	if b.bar == nil {
		b.bar = progressbar.NewOptions(p.Steps,
			progressbar.OptionSetWriter(b.w),
			progressbar.OptionSetDescription(fmt.Sprintf("epoch %d/%d", p.Epoch+1, p.Epochs)),
			progressbar.OptionShowCount(),
			progressbar.OptionSetPredictTime(true),
			progressbar.OptionSetElapsedTime(true),
			progressbar.OptionSetWidth(30),
			progressbar.OptionThrottle(200*time.Millisecond),
		)
		_ = b.bar.Set(p.Step - 1)
	}
	b.bar.Describe(fmt.Sprintf("epoch %d/%d loss %.4f %.0f img/s", p.Epoch+1, p.Epochs, p.MeanLoss, p.ImgPerSec))
	_ = b.bar.Set(p.Step)
}
func (b *barReporter) Evaluating(epoch int) {
	b.finish()
	fmt.Fprintf(b.w, "evaluating epoch %d...\n", epoch+1)
}
func (b *barReporter) EpochEnd(m train.Metrics) { printEpoch(b.w, m) }
func (b *barReporter) Logf(format string, a ...interface{}) {
	if b.bar != nil {
		_ = b.bar.Clear()
	}
	fmt.Fprintf(b.w, format+"\n", a...)
}
func (b *barReporter) finish() {
	if b.bar != nil {
		_ = b.bar.Finish()
		fmt.Fprintln(b.w)
		b.bar = nil
	}
}
