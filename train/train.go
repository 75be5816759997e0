package train

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/pkg/errors"
	"gorgonia.org/tensor"

	"github.com/goinception/googlenet/checkpoint"
	"github.com/goinception/googlenet/cuda"
	"github.com/goinception/googlenet/data"
	"github.com/goinception/googlenet/graph"
	"github.com/goinception/googlenet/inception"
	"github.com/goinception/googlenet/mpi"
	"github.com/goinception/googlenet/solvers"
)

// ErrInterrupted is returned (wrapped, with the checkpoint written) when the
// context is cancelled during a run.
var ErrInterrupted = errors.New("train: interrupted")

// Files written in Config.Out.
const (
	MetricsFile = "metrics.jsonl"
	CurvesFile  = "curves.png"
	LabelsFile  = "labels.txt"
	// ModelFile is the final model: the weights used for evaluation (the
	// Polyak averages when enabled), without solver state.
	ModelFile = "model.safetensors"
)

var ckptRE = regexp.MustCompile(`^checkpoint-(\d+)\.safetensors$`)

// CheckpointName is the file name of the checkpoint after step optimizer
// steps.
func CheckpointName(step int64) string { return fmt.Sprintf("checkpoint-%08d.safetensors", step) }

// Checkpoints lists the checkpoints in dir, oldest (fewest steps) first.
func Checkpoints(dir string) ([]string, error) {
	es, err := os.ReadDir(dir)
	if err != nil {
		if os.IsNotExist(err) {
			return nil, nil
		}
		return nil, errors.Wrap(err, "train")
	}
	type ck struct {
		step int64
		path string
	}
	var cs []ck
	for _, e := range es {
		m := ckptRE.FindStringSubmatch(e.Name())
		if m == nil || e.IsDir() {
			continue
		}
		s, err := strconv.ParseInt(m[1], 10, 64)
		if err != nil {
			continue
		}
		cs = append(cs, ck{s, filepath.Join(dir, e.Name())})
	}
	sort.Slice(cs, func(i, j int) bool { return cs[i].step < cs[j].step })
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.path
	}
	return out, nil
}

// Result is what a run ends with.
type Result struct {
	Metrics    []Metrics // every epoch's, including those before a resume
	Checkpoint string    // the last checkpoint written
	Model      string    // the final model file ("" when interrupted)
	Steps      int64     // optimizer steps completed
	// Comm is the time this rank spent averaging gradients with the other
	// ranks (mpi.Buckets.Stats; zero with one rank).
	Comm mpi.CommStats
}

// sums accumulates an epoch's training statistics; it is saved in
// checkpoints (checkpoint.Trainer.Partial) so that a resumed epoch reports
// the whole epoch.
type sums checkpoint.EpochSums

func (s *sums) vec() []float64 {
	return []float64{float64(s.Steps), float64(s.Images), s.Main, s.Aux1, s.Aux2, s.Total, s.Top1, s.Top5}
}

// run is the state of one training run.
type run struct {
	cfg      Config
	rep      Reporter
	comm     mpi.Comm
	rank0    bool
	splits   *data.Splits
	classes  []string
	means    []float32
	stds     []float32
	model    *inception.Model
	opt      *solvers.SGD
	params   []*graph.Param // the trainable parameters, which the solver updates in place
	buckets  *mpi.Buckets
	loader   *data.Loader
	par      *epochOrder // the ranks' view of each epoch (nil for one process)
	val      *data.Loader
	steps    int // per epoch
	history  []Metrics
	steplog  *stepLog // rank 0
	lastCkpt string
	net      *cuda.Net // Config.Device's network (see device.go)
}

// Run trains a GoogLeNet as cfg says and writes its outputs to cfg.Out.
// rep may be nil. Cancelling ctx stops the run after the current step,
// writes a checkpoint and returns an error wrapping ErrInterrupted; a run
// resumed from it (Config.Resume) ends with the same weights, bit for bit,
// as one that was never interrupted.
func Run(ctx context.Context, cfg Config, rep Reporter) (*Result, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if rep == nil {
		rep = Nop{}
	}
	r := &run{cfg: cfg, rep: rep, comm: cfg.Comm, rank0: cfg.Comm.Rank() == 0}
	if !r.rank0 {
		r.rep = rankReporter{rep}
	}
	if err := os.MkdirAll(cfg.Out, 0o755); err != nil {
		return nil, errors.Wrap(err, "train: output folder")
	}
	ck, ckPath, err := r.findResumeGroup()
	if err != nil {
		return nil, err
	}
	if err := r.openData(ctx); err != nil {
		return nil, err
	}
	defer r.closeDevice()
	if err := r.build(ck); err != nil {
		return nil, err
	}
	return r.loop(ctx, ck, ckPath)
}

// findResume loads the newest checkpoint when resuming, and refuses to
// overwrite a previous run otherwise.
func (r *run) findResume() (*checkpoint.Checkpoint, string, error) {
	cks, err := Checkpoints(r.cfg.Out)
	if err != nil {
		return nil, "", err
	}
	if !r.cfg.Resume {
		if len(cks) > 0 {
			return nil, "", errors.Errorf("train: %s already holds checkpoints (%s); resume it or choose another output folder", r.cfg.Out, filepath.Base(cks[len(cks)-1]))
		}
		return nil, "", nil
	}
	if len(cks) == 0 {
		return nil, "", errors.Errorf("train: nothing to resume: no checkpoint-*.safetensors in %s", r.cfg.Out)
	}
	path := cks[len(cks)-1]
	ck, err := checkpoint.Load(path)
	if err != nil {
		return nil, "", errors.Wrap(err, "train: resume")
	}
	if ck.Solver == nil {
		return nil, "", errors.Errorf("train: resume: %s has no solver state", path)
	}
	if err := r.cfg.checkResumable(ck, path); err != nil {
		return nil, "", err
	}
	return ck, path, nil
}

func (r *run) openData(ctx context.Context) error {
	cfg := r.cfg
	sp := cfg.Splits
	if sp == nil {
		var err error
		if sp, err = data.Open(ctx, cfg.Data); err != nil {
			return errors.Wrap(err, "train: dataset")
		}
	}
	if sp.Train == nil || sp.Val == nil {
		return errors.New("train: the dataset needs training and validation splits")
	}
	r.splits = sp
	r.classes = sp.Classes()
	c, h, w := sp.Train.Shape()
	switch {
	case strings.HasPrefix(cfg.Data, "mnist") && c == 1:
		r.means, r.stds = data.MNISTMeans, data.MNISTStds
	case h == 0 || w == 0:
		// Photographs of varying size: the usual ImageNet statistics.
		r.means, r.stds = data.ImageNetMeans, data.ImageNetStds
		if c == 1 {
			r.means, r.stds = []float32{116.3}, []float32{57.6}
		}
	default:
		n := sp.Train.Len()
		if n > 1000 {
			n = 1000
		}
		var err error
		if r.means, r.stds, err = data.MeanStd(sp.Train, n); err != nil {
			return errors.Wrap(err, "train: dataset statistics")
		}
		for i, s := range r.stds {
			if s < 1 {
				r.stds[i] = 1
			}
		}
	}
	return nil
}

// build makes the model, loaders and solver, restoring ck when resuming.
func (r *run) build(ck *checkpoint.Checkpoint) error {
	cfg := r.cfg
	c, h, w := r.splits.Train.Shape()
	mc := cfg.Model
	var init *InitWeights
	switch {
	case ck != nil:
		mc = ck.Meta.Config
		mc.Engine = cfg.Model.Engine // not stored: the run's engine
		if len(ck.Meta.Means) == c && len(ck.Meta.Stds) == c {
			r.means, r.stds = ck.Meta.Means, ck.Meta.Stds
		}
	case cfg.Init != nil || cfg.InitFrom != "":
		init = cfg.Init
		if init == nil {
			var err error
			if init, err = LoadInit(cfg.InitFrom); err != nil {
				return err
			}
		}
		var err error
		if mc, err = cfg.initConfig(init, len(r.classes), c); err != nil {
			return err
		}
		if cfg.Input != nil {
			in := *init
			in.Input = cfg.Input.Clone()
			init = &in
		}
		means, stds, _, err := contractStats(init.Input)
		if err != nil {
			return errors.Wrapf(err, "train: init from %s", init.Path)
		}
		if len(means) == c {
			r.means, r.stds = means, stds
			if cfg.Input != nil {
				r.rep.Logf("input %v instead of %s's: (pixel - %v) / %v on 0..255", init.Input, init.Path, means, stds)
			}
		} else if cfg.Input != nil {
			return errors.Errorf("train: input %v has %d channels, the dataset %d", *cfg.Input, len(means), c)
		}
	default:
		mc.Classes = len(r.classes)
		mc.InChannels = c
		if mc.InputSize == 0 {
			mc.InputSize = h
		}
		mc.Seed = cfg.Seed
		if cfg.Input != nil {
			means, stds, _, err := contractStats(*cfg.Input)
			if err != nil {
				return err
			}
			if len(means) != c {
				return errors.Errorf("train: input %v has %d channels, the dataset %d", *cfg.Input, len(means), c)
			}
			r.means, r.stds = means, stds
			r.rep.Logf("input %v: (pixel - %v) / %v on 0..255", *cfg.Input, means, stds)
		}
	}
	mc.BatchSize = cfg.Batch
	if cfg.NoAux && ck == nil {
		mc = mc.WithoutAux()
	}
	if mc.Classes != len(r.classes) || mc.InChannels != c {
		return errors.Errorf("train: the checkpoint's model takes %d classes of %d channels, the dataset has %d of %d", mc.Classes, mc.InChannels, len(r.classes), c)
	}
	if err := cfg.checkDevice(mc); err != nil {
		return err
	}
	size := mc.InputSize
	trainT := data.Transform{Size: size, Channels: c, Means: r.means, Stds: r.stds}
	if cfg.Augment {
		trainT = data.TrainTransform(size, r.means, r.stds)
		trainT.Channels = c
		if c == 1 {
			trainT.Saturation, trainT.Lighting = 0, 0
		}
	}
	evalT := data.Transform{Size: size, Channels: c, Means: r.means, Stds: r.stds}
	if h == 0 || w == 0 || cfg.Augment {
		evalT = data.EvalTransform(size, r.means, r.stds)
		evalT.Channels = c
	}
	world, rank := cfg.Comm.Size(), cfg.Comm.Rank()
	var err error
	r.loader, r.par, err = newTrainLoader(r.splits.Train, data.LoaderOptions{
		BatchSize: cfg.Batch, Shuffle: true, Seed: cfg.Seed, DropLast: true,
		Workers: cfg.Workers, Transform: trainT, Strict: cfg.Strict,
		OnSkip: func(path string, err error) { /* counted by the loader, reported per epoch */ },
	}, rank, world)
	if err != nil {
		return errors.Wrap(err, "train: training loader")
	}
	r.val, err = data.NewLoader(r.splits.Val, data.LoaderOptions{
		BatchSize: cfg.Batch, Rank: rank, World: world, Workers: cfg.Workers, Transform: evalT, Strict: cfg.Strict,
	})
	if err != nil {
		return errors.Wrap(err, "train: validation loader")
	}
	r.steps = r.loader.Steps()
	if cfg.StepsPerEpoch > 0 && cfg.StepsPerEpoch < r.steps {
		r.steps = cfg.StepsPerEpoch
	}
	if r.steps == 0 {
		return errors.Errorf("train: %d training images on each of %d ranks make no full batch of %d", r.splits.Train.Len()/world, world, cfg.Batch)
	}
	frozen, err := cfg.frozenPrefixes(mc)
	if err != nil {
		return err
	}
	var isFrozen func(string) bool
	if len(frozen) > 0 {
		isFrozen = func(name string) bool { return hasAnyPrefix(name, frozen) }
	}
	if r.model, err = inception.NewWith(mc, inception.Options{Frozen: isFrozen}); err != nil {
		return errors.Wrap(err, "train: model")
	}
	if err := cfg.checkPrefixes(r.model); err != nil {
		return err
	}
	// Activations and their gradients share buffers by liveness; the trainer
	// reads only the losses, the logits and the parameter gradients, which
	// keep buffers of their own.
	if cfg.Device == nil {
		if _, err := r.model.PlanTrainingMemory(); err != nil {
			return errors.Wrap(err, "train")
		}
	}
	sc := cfg.sgdConfig(r.steps)
	sc.Engine = mc.Engine // the update runs on the model's engine
	if r.opt, err = solvers.NewSGD(sc); err != nil {
		return errors.Wrap(err, "train: solver")
	}
	r.params = r.model.Trainable()
	cfg.setMults(r.params)
	if init != nil {
		if err := r.transfer(init); err != nil {
			return err
		}
	}
	if ck != nil {
		if err := ck.Apply(r.model); err != nil {
			return errors.Wrap(err, "train: resume")
		}
		if err := r.opt.SetState(*ck.Solver); err != nil {
			return errors.Wrap(err, "train: resume: solver state")
		}
		*r.model.Rand() = ck.Trainer.Dropout
	}
	if world > 1 {
		// Each rank draws its own dropout masks (its images differ);
		// rank 0 keeps the single-process stream.
		r.model.Rand().Seed ^= uint64(rank) * 0x9e3779b97f4a7c15
		if err := r.setupParallel(); err != nil {
			return err
		}
	}
	if cfg.Device != nil {
		return r.buildDevice()
	}
	return nil
}

// setupParallel lays out the gradient buckets and gives every rank rank 0's
// trainable weights (frozen ones are the same on every rank: the same
// initialisation or source file).
func (r *run) setupParallel() error {
	var names []string
	var lens []int
	var ws [][]float32
	for _, p := range r.params {
		v, ok := p.Value.Data().([]float32)
		if !ok {
			return errors.New("train: data-parallel training needs a float32 model")
		}
		names, lens, ws = append(names, p.Name), append(lens, len(v)), append(ws, v)
	}
	var err error
	if r.buckets, err = mpi.NewBuckets(names, lens, 0); err != nil {
		return errors.Wrap(err, "train: gradient buckets")
	}
	if err := r.buckets.CheckLayout(r.comm); err != nil {
		return errors.Wrap(err, "train: gradient buckets")
	}
	return errors.Wrap(r.buckets.Broadcast(r.comm, 0, ws), "train: broadcasting the weights")
}

// averageGrads is the data-parallel gradient hook: every rank's gradients
// are replaced by their mean over the ranks.
func (r *run) averageGrads() error {
	if r.buckets == nil {
		return nil
	}
	gs := make([][]float32, len(r.params))
	for i, p := range r.params {
		gs[i] = p.Grad.Data().([]float32)
	}
	return errors.Wrap(r.buckets.AllreduceMean(r.comm, gs), "train: averaging gradients")
}

// agreeStop makes all ranks stop at the same step: one rank's cancellation
// stops every rank.
func (r *run) agreeStop(ctx context.Context) (bool, error) {
	stop := ctx.Err() != nil
	if r.comm.Size() == 1 {
		return stop, nil
	}
	f := []float32{0}
	if stop {
		f[0] = 1
	}
	if err := r.comm.AllreduceSumFloat32(f); err != nil {
		return false, errors.Wrap(err, "train: agreeing to stop")
	}
	return f[0] > 0, nil
}

func (r *run) loop(ctx context.Context, ck *checkpoint.Checkpoint, ckPath string) (*Result, error) {
	cfg := r.cfg
	startEpoch, startStep := 0, 0
	var acc sums
	metricsPath := filepath.Join(cfg.Out, MetricsFile)
	if ck != nil {
		startEpoch, startStep = ck.Meta.Epoch, ck.Meta.EpochStep
		if startStep > 0 {
			acc = sums(ck.Trainer.Partial)
		}
		ms, err := ReadMetrics(metricsPath)
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, errors.Wrap(err, "train: resume")
		}
		for _, m := range ms {
			if m.Epoch <= startEpoch {
				r.history = append(r.history, m)
			}
		}
		r.lastCkpt = ckPath
	}
	if r.rank0 {
		if err := data.WriteLabels(filepath.Join(cfg.Out, LabelsFile), r.classes); err != nil {
			return nil, errors.Wrap(err, "train")
		}
		if err := writeMetrics(metricsPath, r.history); err != nil {
			return nil, err
		}
		var done int64
		if ck != nil {
			done = ck.Meta.Step
		}
		var err error
		if r.steplog, err = openStepLog(filepath.Join(cfg.Out, StepsFile), done); err != nil {
			return nil, err
		}
		defer r.steplog.close()
	}
	var nParams int64
	for _, p := range r.model.Params() {
		nParams += p.Size()
	}
	r.rep.Start(Info{
		Variant: r.model.Config().Variant, Data: r.splits.Name, Classes: r.classes, Params: nParams,
		TrainImages: r.splits.Train.Len(), ValImages: r.splits.Val.Len(), Epochs: cfg.Epochs,
		StepsPerEpoch: r.steps, Batch: cfg.Batch, Ranks: r.comm.Size(),
		StartEpoch: startEpoch, StartStep: startStep, ResumedFrom: ckPath,
	})
	res := &Result{}
	skipped := r.loader.SkippedCount()
	for epoch := startEpoch; epoch < cfg.Epochs; epoch++ {
		stopped, err := r.trainEpoch(ctx, epoch, startStep, &acc)
		if err != nil {
			return nil, err
		}
		if stopped {
			return r.interrupt(epoch, acc)
		}
		if n := r.loader.SkippedCount(); n > skipped {
			r.rep.Logf("epoch %d: %d unreadable images skipped so far", epoch+1, n)
			skipped = n
		}
		m, stopped, err := r.endEpoch(ctx, epoch, acc)
		if err != nil {
			return nil, err
		}
		if stopped {
			return r.interrupt(epoch, acc)
		}
		r.rep.EpochEnd(m)
		acc, startStep = sums{}, 0
	}
	res.Metrics, res.Checkpoint, res.Steps, res.Comm = r.history, r.lastCkpt, r.opt.Steps(), r.commStats()
	if r.rank0 {
		res.Model = filepath.Join(cfg.Out, ModelFile)
		if err := r.writeModel(res.Model); err != nil {
			return nil, err
		}
	}
	return res, nil
}

// trainEpoch runs the steps of epoch from start on, accumulating into acc.
// It reports whether the context stopped it.
func (r *run) trainEpoch(ctx context.Context, epoch, start int, acc *sums) (bool, error) {
	if start >= r.steps {
		return false, nil
	}
	// The loader's context is separate, so a cancellation cannot abort a
	// batch the ranks have agreed to train.
	lctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	r.par.prepare(epoch)
	it := r.loader.EpochFrom(lctx, epoch, start)
	defer it.Close()
	began := time.Now()
	base := acc.Seconds
	comm0 := r.commStats()
	var images int
	for s := start; s < r.steps; s++ {
		if stop, err := r.agreeStop(ctx); err != nil || stop {
			return stop, err
		}
		b, err := it.Next()
		if err != nil {
			if err == io.EOF {
				return false, errors.Errorf("train: epoch %d ended after %d of %d steps", epoch+1, s, r.steps)
			}
			return false, errors.Wrapf(err, "train: epoch %d step %d", epoch+1, s+1)
		}
		if b.N != r.cfg.Batch {
			// A skipped image made the batch short: pad by repeating its
			// first images so the fixed-size graph can run.
			b = padBatch(b, r.cfg.Batch)
		}
		var ls inception.Losses
		var t1, t5 float64
		var info solvers.StepInfo
		if r.net != nil {
			ls, t1, t5, info, err = r.deviceStep(b)
		} else {
			ls, t1, t5, info, err = r.hostStep(b)
		}
		if err != nil {
			return false, errors.Wrapf(err, "train: epoch %d step %d", epoch+1, s+1)
		}
		if err := r.steplog.add(StepLoss{Step: info.Step, Epoch: float64(info.Step) / float64(r.steps),
			Loss: ls.Main, Total: ls.Total, LR: info.LR}); err != nil {
			return false, err
		}
		acc.Steps++
		acc.Images += b.N
		images += b.N
		acc.Main += ls.Main
		acc.Aux1 += ls.Aux1
		acc.Aux2 += ls.Aux2
		acc.Total += ls.Total
		acc.Top1 += t1
		acc.Top5 += t5
		el := time.Since(began)
		acc.Seconds = base + el.Seconds()
		r.rep.Step(Progress{
			Epoch: epoch, Epochs: r.cfg.Epochs, Step: s + 1, Steps: r.steps, GlobalStep: info.Step,
			Losses: ls, MeanLoss: acc.Main / float64(acc.Steps), LR: info.LR,
			ImgPerSec: float64(images*r.comm.Size()) / el.Seconds(), Elapsed: el,
			Comm: commPerStep(r.commStats(), comm0),
		})
	}
	return false, nil
}

// hostStep is one training step of the model's graph and the host solver:
// the losses, the batch's top-1 and top-5 counts and the solver's step.
func (r *run) hostStep(b *data.Batch) (ls inception.Losses, t1, t5 float64, info solvers.StepInfo, err error) {
	x := tensor.New(tensor.WithShape(b.N, b.C, b.H, b.W), tensor.WithBacking(b.X))
	out, err := r.model.Step(x, b.Labels)
	if err != nil {
		return ls, 0, 0, info, err
	}
	ls = out.Losses
	if t1, t5, err = topK(out.Logits, b.Labels); err != nil {
		return ls, 0, 0, info, err
	}
	if err := r.averageGrads(); err != nil {
		return ls, 0, 0, info, err
	}
	if r.cfg.GradHook != nil {
		if err := r.cfg.GradHook(r.opt.Steps(), r.params); err != nil {
			return ls, 0, 0, info, errors.Wrap(err, "train: gradient hook")
		}
	}
	if info, err = r.opt.Step(r.params); err != nil {
		return ls, 0, 0, info, errors.Wrapf(err, "losses %+v", ls)
	}
	return ls, t1, t5, info, nil
}
