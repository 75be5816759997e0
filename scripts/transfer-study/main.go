// Command transfer-study measures transfer experiment 1 of docs/training.md
// over a range of step budgets: a mini GoogLeNet trained on MNIST digits
// 0-4 (-init) is fine-tuned on digits 5-9 with 100 labelled images per
// class, frozen or not, against the same network trained from scratch on
// the same 500 images for the same number of steps, and every model is
// scored on test images of digits 5-9.
//
// Each run is what
//
//	googlenet train [--init-from W [--freeze-through L]] [--variant mini] --no-aux \
//	    --data mnist:classes=5-9,per-class=100 --batch 50 --epochs E [--steps S] \
//	    [--lr R] [--lr-mult loss3/classifier=10] --eval-limit 50 --seed N --out DIR
//	googlenet eval --weights DIR/model.safetensors --data mnist:classes=5-9 --crops full
//
// run (the mini recipe: momentum 0.9, weight decay 5e-4, poly schedule with a
// 0.1-epoch warm-up, the cpu engine), in one process so that the dataset is
// read once: a budget of B steps is E = B/10 epochs of the 10 steps that 500
// images make in batches of 50, or one epoch of S = B steps when B < 10. The
// schedule spans the budget in every case. The runs' log lines give the
// equivalent command of each. The ways of training are the variable rows; the
// runs that train every batch norm are also scored after recomputing the
// batch-norm statistics on the 500 training images (recalibrate), which a
// short run from scratch needs.
//
// The score is the test top-1 on every fourth of the 4,861 test images of
// digits 5-9 (1,216 images over the whole test set; -test-every 1 takes all).
// Results are appended to OUT/results.tsv as they come, keyed by row,
// budget, seed and starting weights, so a study that is stopped continues
// where it was, and runs from other starting weights can share the folder
// (one -test-every per folder). At the end the command prints Markdown
// tables of the test top-1 per row and budget (mean over the seeds, and each
// seed's) and, with -plot, draws the curves as a PNG.
//
// Usage:
//
//	go run ./scripts/transfer-study -init runs/mnist04/model.safetensors \
//	    [-budgets 5,10,20,50,100,200] [-seeds 1,2,3] [-rows scratch,frozen,...] \
//	    [-out runs/transfer-study] [-plot docs/transfer-study.png]
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"gorgonia.org/tensor"

	"github.com/goinception/googlenet/checkpoint"
	"github.com/goinception/googlenet/cpu"
	"github.com/goinception/googlenet/data"
	"github.com/goinception/googlenet/eval"
	"github.com/goinception/googlenet/inception"
	"github.com/goinception/googlenet/ops"
	"github.com/goinception/googlenet/train"
)

// The experiment's data: 100 training images of each of the digits 5-9;
// the validation split is the whole test set of those digits.
const (
	dataSpec  = "mnist:classes=5-9,per-class=100"
	batch     = 50
	evalLimit = 50 // per-epoch validation during training; the score is the full test set
)

// A row is one way of training the network on the 500 images.
type row struct {
	Name string
	// Desc is the row's label in the table and the plot.
	Desc string
	// Init starts from the pretrained weights; FreezeThrough freezes the
	// main path through that layer.
	Init          bool
	FreezeThrough string
	LR            float64 // 0: the recipe's 0.1
	HeadMult      float64 // learning-rate multiplier of loss3/classifier (0: none)
	// Source is the pretrained file of an Init row, and Tag names it when
	// it is the -compare one (set by run).
	Source, Tag string
	// Recal also scores the model after recomputing its batch-norm
	// statistics on the 500 training images (recalibrate), reported as the
	// row Name+"+bn". A short run from scratch evaluates with running
	// statistics that lag its fast-moving weights; this removes that
	// handicap of the baseline (it is not a googlenet flag). Only for rows
	// that freeze nothing: it would change a frozen trunk's features.
	Recal bool
}

var rows = []row{
	{Name: "scratch", Desc: "scratch (rate 0.1, the recipe)", Recal: true},
	{Name: "scratch-lr0.03", Desc: "scratch, rate 0.03", LR: 0.03, Recal: true},
	{Name: "scratch-lr0.3", Desc: "scratch, rate 0.3", LR: 0.3, Recal: true},
	{Name: "frozen", Desc: "frozen trunk (through 4b), new head", Init: true, FreezeThrough: "inception_4b"},
	{Name: "frozen-x10", Desc: "frozen trunk, new head x10", Init: true, FreezeThrough: "inception_4b", HeadMult: 10},
	{Name: "frozen3b-x10", Desc: "frozen through 3b, head x10", Init: true, FreezeThrough: "inception_3b", HeadMult: 10},
	{Name: "all", Desc: "fine-tune everything", Init: true, Recal: true},
}

// ID names a row in the tables: Name, or Name@Tag for a -compare row.
func (r row) ID() string {
	if r.Tag != "" {
		return r.Name + "@" + r.Tag
	}
	return r.Name
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("transfer-study", flag.ContinueOnError)
	fs.SetOutput(stderr)
	initPath := fs.String("init", "", "the pretrained model (a mini model trained on mnist:classes=0-4)")
	budgetList := fs.String("budgets", "5,10,20,50,100,200", "step budgets, comma-separated (below 10, or multiples of 10)")
	seedList := fs.String("seeds", "1,2,3", "seeds, comma-separated")
	rowList := fs.String("rows", "", "rows to run, comma-separated (default all: "+rowNames()+")")
	out := fs.String("out", "runs/transfer-study", "folder of the runs and results.tsv")
	plotPath := fs.String("plot", "", "draw the test top-1 against the budget as this PNG")
	title := fs.String("title", "MNIST digits 0-4 -> 5-9, 100 labelled images per class", "title of the plot")
	compare := fs.String("compare", "", "a second pretrained model: the -compare-rows run from it too, as rows NAME@FOLDER")
	compareRows := fs.String("compare-rows", "frozen,frozen-x10", "the rows run from -compare as well")
	testEvery := fs.Int("test-every", 4, "score on every N-th test image (1: all 4,861; 4: 1,216 spread over the whole test set)")
	keep := fs.Bool("keep", false, "keep each run's folder (checkpoints, metrics, curves); otherwise only results.tsv")
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return 0
		}
		return 2
	}
	usage := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "transfer-study: "+format+"\n", a...)
		return 2
	}
	if fs.NArg() > 0 {
		return usage("unexpected arguments %q", fs.Args())
	}
	budgets, err := parseInts(*budgetList)
	if err != nil {
		return usage("-budgets: %v", err)
	}
	for _, b := range budgets {
		if b <= 0 || (b > 10 && b%10 != 0) {
			return usage("-budgets: %d is not 1-10 or a multiple of 10", b)
		}
	}
	if *testEvery < 1 {
		return usage("-test-every %d must be positive", *testEvery)
	}
	seeds, err := parseInts(*seedList)
	if err != nil {
		return usage("-seeds: %v", err)
	}
	sel, err := selectRows(*rowList)
	if err != nil {
		return usage("-rows: %v", err)
	}
	needInit := slices.ContainsFunc(sel, func(r row) bool { return r.Init })
	if needInit && *initPath == "" {
		return usage("-init is required for the rows that start from pretrained weights")
	}
	for i := range sel {
		if sel[i].Init {
			sel[i].Source = *initPath
		}
	}
	if *compare != "" {
		more, err := selectRows(*compareRows)
		if err != nil {
			return usage("-compare-rows: %v", err)
		}
		tag := filepath.Base(filepath.Dir(*compare))
		for _, r := range more {
			if !r.Init {
				return usage("-compare-rows: %s starts from scratch", r.Name)
			}
			r.Source, r.Tag, r.Desc = *compare, tag, r.Desc+" ["+tag+"]"
			sel = append(sel, r)
		}
	}
	if err := study(sel, budgets, seeds, *out, *plotPath, *title, *testEvery, *keep, stdout, stderr); err != nil {
		fmt.Fprintln(stderr, "transfer-study:", err)
		return 1
	}
	return 0
}

func study(sel []row, budgets, seeds []int, out, plotPath, title string, testEvery int, keep bool, stdout, stderr io.Writer) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	resultsPath := filepath.Join(out, "results.tsv")
	done, err := readResults(resultsPath)
	if err != nil {
		return err
	}
	inits := map[string]*train.InitWeights{}
	for _, r := range sel {
		if r.Init && inits[r.Source] == nil {
			if inits[r.Source], err = train.LoadInit(r.Source); err != nil {
				return err
			}
		}
	}
	splits, err := data.Open(ctx, dataSpec)
	if err != nil {
		return err
	}
	test := data.Dataset(strided{splits.Val, testEvery})
	fmt.Fprintf(stderr, "%s: %d training images; scoring on %d of the %d test images\n", dataSpec, splits.Train.Len(), test.Len(), splits.Val.Len())
	cpu.UseWithGorgonia()
	eng := cpu.New(cpu.Options{})
	f, err := os.OpenFile(resultsPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	defer f.Close()
	total, n := len(sel)*len(budgets)*len(seeds), 0
	for _, b := range budgets {
		for _, r := range sel {
			for _, s := range seeds {
				n++
				k := key{r.Name, b, s, source(r)}
				if _, ok := done[k]; ok {
					continue
				}
				start := time.Now()
				res, err := runOne(ctx, r, b, s, inits[r.Source], splits, test, eng, filepath.Join(out, runDir(r, b, s)), keep)
				if err != nil {
					return runError(r, b, s, err)
				}
				res.key = k
				done[k] = res
				line := fmt.Sprintf("%s\t%d\t%d\t%.6f\t%.6f\t%.1f\t%s\n", r.Name, b, s, res.Test, res.Train, time.Since(start).Seconds(), k.Init)
				recal := ""
				if r.Recal {
					rk := key{r.Name + "+bn", b, s, k.Init}
					done[rk] = outcome{key: rk, Test: res.Recal, Train: res.Train}
					line += fmt.Sprintf("%s\t%d\t%d\t%.6f\t%.6f\t%.1f\t%s\n", rk.Row, b, s, res.Recal, res.Train, 0.0, k.Init)
					recal = fmt.Sprintf(", %.2f%% with recomputed batch-norm statistics", 100*res.Recal)
				}
				if _, err := io.WriteString(f, line); err != nil { // both lines at once
					return err
				}
				fmt.Fprintf(stderr, "[%d/%d] %-15s %3d steps seed %d: test top-1 %.2f%%%s (train %.2f%%), %.0fs\n  %s\n",
					n, total, r.ID(), b, s, 100*res.Test, recal, 100*res.Train, time.Since(start).Seconds(), commandOf(r, b, s))
			}
		}
	}
	tab := tabulate(sel, budgets, seeds, done)
	if err := tab.markdown(stdout); err != nil {
		return err
	}
	if plotPath != "" {
		if err := tab.plot(plotPath, title); err != nil {
			return err
		}
	}
	return nil
}

func runError(r row, b, s int, err error) error {
	return fmt.Errorf("%s, %d steps, seed %d: %w", r.Name, b, s, err)
}

// runDir is the folder of a run in the study's folder.
func runDir(r row, b, s int) string {
	d := fmt.Sprintf("%s-b%d-s%d", r.Name, b, s)
	if r.Init {
		d += "-" + filepath.Base(filepath.Dir(r.Source))
	}
	return d
}

// source is what a row starts from: the pretrained file or "scratch".
func source(r row) string {
	if r.Init {
		return r.Source
	}
	return "scratch"
}

// schedule returns the epochs and steps per epoch of a budget of b steps
// (10 steps make an epoch of 500 images).
func schedule(b int) (epochs, steps int) {
	if b < 10 {
		return 1, b
	}
	return b / 10, 0
}

// config is the train.Config of googlenet train with the row's flags.
func config(r row, b, seed int, init *train.InitWeights, splits *data.Splits, eng ops.Engine, out string) train.Config {
	mc, _ := inception.ConfigFor(inception.VariantMini)
	if r.Init {
		mc = inception.Config{AuxWeight: 0.3} // the architecture is the source's
	}
	mc.Engine = eng
	epochs, steps := schedule(b)
	c := train.Config{
		Model: mc, Data: dataSpec, Splits: splits, Epochs: epochs, StepsPerEpoch: steps, Batch: batch,
		LR: 0.1, Momentum: 0.9, WeightDecay: 5e-4, Schedule: train.SchedulePoly, StepGamma: 0.96,
		StepPeriod: 8, PolyPower: 1, WarmupEpochs: 0.1, WarmupStart: 0.1, Seed: uint64(seed),
		Out: out, KeepLast: 1, EvalLimit: evalLimit, NoAux: true,
	}
	if r.LR > 0 {
		c.LR = r.LR
	}
	if r.Init {
		c.Init, c.InitFrom = init, init.Path
		c.FreezeThrough = r.FreezeThrough
	}
	if r.HeadMult > 0 {
		c.LRMult = []train.Mult{{Prefix: "loss3/classifier", Value: r.HeadMult}}
	}
	return c
}

// commandOf is the googlenet train command line of a run.
func commandOf(r row, b, seed int) string {
	var a []string
	if r.Init {
		a = append(a, "--init-from", r.Source)
		if r.FreezeThrough != "" {
			a = append(a, "--freeze-through", r.FreezeThrough)
		}
	} else {
		a = append(a, "--variant", "mini")
	}
	epochs, steps := schedule(b)
	a = append(a, "--no-aux", "--data", dataSpec, "--batch", strconv.Itoa(batch), "--epochs", strconv.Itoa(epochs))
	if steps > 0 {
		a = append(a, "--steps", strconv.Itoa(steps))
	}
	if r.LR > 0 {
		a = append(a, "--lr", strconv.FormatFloat(r.LR, 'g', -1, 64))
	}
	if r.HeadMult > 0 {
		a = append(a, "--lr-mult", "loss3/classifier="+strconv.FormatFloat(r.HeadMult, 'g', -1, 64))
	}
	a = append(a, "--eval-limit", strconv.Itoa(evalLimit), "--seed", strconv.Itoa(seed))
	return "googlenet train " + strings.Join(a, " ")
}

type outcome struct {
	key
	Test, Train float64 // test top-1 on the whole test set; training top-1 of the last epoch
	Recal       float64 // test top-1 after recalibrate (Row.Recal)
}

// runOne trains one model and scores it on test (whole images, as
// training validates).
func runOne(ctx context.Context, r row, b, seed int, init *train.InitWeights, splits *data.Splits, test data.Dataset, eng ops.Engine, dir string, keep bool) (outcome, error) {
	if err := os.RemoveAll(dir); err != nil {
		return outcome{}, err
	}
	res, err := train.Run(ctx, config(r, b, seed, init, splits, eng, dir), nil)
	if err != nil {
		return outcome{}, err
	}
	m, meta, err := eval.LoadModel(res.Model, eval.LoadOptions{Engine: eng})
	if err != nil {
		return outcome{}, err
	}
	o := outcome{}
	if o.Test, err = score(ctx, eval.Member{Model: m, Meta: meta}, test); err != nil {
		return o, err
	}
	if n := len(res.Metrics); n > 0 {
		o.Train = res.Metrics[n-1].TrainTop1
	}
	if r.Recal {
		m, err := recalibrate(ctx, res.Model, splits.Train, eng)
		if err != nil {
			return o, err
		}
		if o.Recal, err = score(ctx, eval.Member{Model: m, Meta: meta}, test); err != nil {
			return o, err
		}
	}
	if !keep {
		if err := os.RemoveAll(dir); err != nil {
			return o, err
		}
	}
	return o, nil
}

// score is the test top-1 of mb on ds: whole images (the crop scheme
// "full"), as googlenet eval --crops full gives it.
func score(ctx context.Context, mb eval.Member, ds data.Dataset) (float64, error) {
	er, err := eval.Evaluate(ctx, []eval.Member{mb}, ds, eval.Options{Crops: eval.Full, BatchSize: 64, Dedup: true})
	if err != nil {
		return 0, err
	}
	return er.Score.Top1Acc(), nil
}

// recalibrate loads the model at path and replaces its batch-norm running
// statistics by their average over one pass of the training set ds in
// batches of 50 (the training graph's forward pass, batch statistics,
// averaged with equal weights); the weights are unchanged.
func recalibrate(ctx context.Context, path string, ds data.Dataset, eng ops.Engine) (*inception.Model, error) {
	ck, err := checkpoint.Load(path)
	if err != nil {
		return nil, err
	}
	ck.Meta.Config.Engine = eng
	m, err := ck.NewModel(batch)
	if err != nil {
		return nil, err
	}
	cfg := m.Config()
	ld, err := data.NewLoader(ds, data.LoaderOptions{BatchSize: batch, DropLast: true,
		Transform: data.Transform{Size: cfg.InputSize, Channels: cfg.InChannels, Means: ck.Meta.Means, Stds: ck.Meta.Stds}})
	if err != nil {
		return nil, err
	}
	it := ld.Epoch(ctx, 0)
	defer it.Close()
	for k := 0; ; k++ {
		b, err := it.Next()
		if err == io.EOF {
			break
		} else if err != nil {
			return nil, err
		}
		for _, e := range m.BNStats() {
			e.Stats.Momentum = 1 / float64(k+1) // the running mean of the batches' statistics
		}
		x := tensor.New(tensor.WithShape(b.N, b.C, b.H, b.W), tensor.WithBacking(b.X))
		if _, err := m.Step(x, b.Labels); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// strided is every every-th sample of a dataset, from the first: a subset
// spread over the whole of it (the first half of MNIST's test set is
// cleaner than the second, so a prefix would not do).
type strided struct {
	data.Dataset
	every int
}

func (s strided) Len() int { return (s.Dataset.Len() + s.every - 1) / s.every }

func (s strided) Sample(i int) (data.Sample, error) { return s.Dataset.Sample(i * s.every) }

// key identifies a run in results.tsv; Init is the pretrained file, or
// "scratch".
type key struct {
	Row          string
	Budget, Seed int
	Init         string
}

// readResults reads the runs already done (none when the file is missing).
func readResults(path string) (map[key]outcome, error) {
	done := map[key]outcome{}
	f, err := os.Open(path)
	if os.IsNotExist(err) {
		return done, nil
	} else if err != nil {
		return nil, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		p := strings.Split(sc.Text(), "\t")
		if len(p) != 7 {
			return nil, fmt.Errorf("%s:%d: want 7 tab-separated fields", path, line)
		}
		var o outcome
		var err1, err2, err3, err4 error
		o.Row, o.Init = p[0], p[6]
		o.Budget, err1 = strconv.Atoi(p[1])
		o.Seed, err2 = strconv.Atoi(p[2])
		o.Test, err3 = strconv.ParseFloat(p[3], 64)
		o.Train, err4 = strconv.ParseFloat(p[4], 64)
		for _, err := range []error{err1, err2, err3, err4} {
			if err != nil {
				return nil, fmt.Errorf("%s:%d: %v", path, line, err)
			}
		}
		done[o.key] = o
	}
	return done, sc.Err()
}

func rowNames() string {
	var n []string
	for _, r := range rows {
		n = append(n, r.Name)
	}
	return strings.Join(n, ",")
}

func selectRows(list string) ([]row, error) {
	if strings.TrimSpace(list) == "" {
		return rows, nil
	}
	var sel []row
	for _, name := range strings.Split(list, ",") {
		i := slices.IndexFunc(rows, func(r row) bool { return r.Name == strings.TrimSpace(name) })
		if i < 0 {
			return nil, fmt.Errorf("unknown row %q (want some of %s)", name, rowNames())
		}
		sel = append(sel, rows[i])
	}
	return sel, nil
}

func parseInts(s string) ([]int, error) {
	var v []int
	for _, p := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(p))
		if err != nil {
			return nil, fmt.Errorf("%q is not an integer", p)
		}
		v = append(v, n)
	}
	return v, nil
}
