package train

import (
	"context"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"time"

	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/goinception/googlenet/checkpoint"
	"github.com/goinception/googlenet/data"
	"github.com/goinception/googlenet/mpi"
)

// endEpoch averages statistics over the ranks, evaluates, writes the
// metrics, the curves and a checkpoint. It reports whether the context
// stopped the evaluation (nothing is written then).
func (r *run) endEpoch(ctx context.Context, epoch int, acc sums) (Metrics, bool, error) {
	g := acc
	if r.comm.Size() > 1 {
		v := acc.vec()
		if err := r.comm.AllreduceSumFloat64(v); err != nil {
			return Metrics{}, false, errors.Wrap(err, "train: epoch statistics")
		}
		g = sums{Steps: int(v[0]) / r.comm.Size(), Images: int(v[1]), Main: v[2], Aux1: v[3], Aux2: v[4], Total: v[5], Top1: v[6], Top5: v[7], Seconds: acc.Seconds}
		g.Main, g.Aux1, g.Aux2, g.Total = g.Main/float64(r.comm.Size()), g.Aux1/float64(r.comm.Size()), g.Aux2/float64(r.comm.Size()), g.Total/float64(r.comm.Size())
		if err := r.averageBN(); err != nil {
			return Metrics{}, false, err
		}
		// Synchronous SGD keeps the ranks' weights bit-identical; check it
		// (one 8-byte all-gather of a hash).
		var ws [][]float32
		for _, p := range r.params {
			ws = append(ws, p.Value.Data().([]float32))
		}
		if err := mpi.CheckIdentical(r.comm, fmt.Sprintf("weights after epoch %d", epoch+1), ws...); err != nil {
			return Metrics{}, false, errors.Wrap(err, "train")
		}
	}
	r.rep.Evaluating(epoch)
	began := time.Now()
	ev, stopped, err := r.evaluate(ctx)
	if err != nil || stopped {
		return Metrics{}, stopped, err
	}
	steps := float64(max(g.Steps, 1))
	m := Metrics{
		Epoch: epoch + 1, Step: r.opt.Steps(), Steps: g.Steps, Images: g.Images,
		Loss: g.Main / steps, Aux1Loss: g.Aux1 / steps, Aux2Loss: g.Aux2 / steps, TotalLoss: g.Total / steps,
		TrainTop1: g.Top1 / float64(max(g.Images, 1)), TrainTop5: g.Top5 / float64(max(g.Images, 1)),
		ValLoss: ev.loss, ValTop1: ev.top1, ValTop5: ev.top5, ValImages: ev.n, Polyak: ev.polyak,
		LR: r.lastLR(), WallSeconds: g.Seconds, EvalSeconds: time.Since(began).Seconds(),
		Time: time.Now().UTC().Format(time.RFC3339),
	}
	if g.Seconds > 0 {
		m.ImgPerSec = float64(g.Images) / g.Seconds
	}
	r.history = append(r.history, m)
	if r.rank0 {
		if err := writeMetrics(filepath.Join(r.cfg.Out, MetricsFile), r.history); err != nil {
			return m, false, err
		}
		if err := PlotCurves(filepath.Join(r.cfg.Out, CurvesFile), r.history, r.steplog.points()); err != nil {
			return m, false, err
		}
	}
	if err := r.checkpoint(epoch+1, 0, sums{}); err != nil {
		return m, false, err
	}
	return m, false, nil
}

// lastLR is the rate of the last step taken.
func (r *run) lastLR() float64 {
	st := r.opt.Steps()
	if st == 0 {
		return r.opt.LR()
	}
	p := r.opt.Position()
	p.Step = st - 1
	p.Epoch = float64(p.Step) / float64(r.steps)
	return r.cfg.LR * r.opt.Config().Schedule.Factor(p)
}

// averageBN replaces every rank's batch-norm running statistics with their
// mean over the ranks.
func (r *run) averageBN() error {
	var xs [][]float64
	for _, e := range r.model.BNStats() {
		xs = append(xs, e.Stats.Mean, e.Stats.Var)
	}
	if len(xs) == 0 {
		return nil
	}
	return errors.Wrap(mpi.AverageFloat64s(r.comm, xs), "train: averaging batch-norm statistics")
}

type evalResult struct {
	loss, top1, top5 float64
	n                int
	polyak           bool
}

// evaluate runs the validation set (its first EvalLimit images) through the
// inference graph, with the Polyak averages swapped in when there are any.
func (r *run) evaluate(ctx context.Context) (ev evalResult, stopped bool, err error) {
	forward := r.model.Forward
	if r.net != nil {
		forward = r.deviceForward
		if r.net.HasAverages() {
			if err := r.net.SwapAverages(); err != nil {
				return ev, false, errors.Wrap(err, "train: Polyak weights")
			}
			ev.polyak = true
			defer func() {
				if e := r.net.SwapAverages(); e != nil && err == nil {
					err = errors.Wrap(e, "train: Polyak weights")
				}
			}()
		}
	} else if a := r.opt.Averager(); a != nil && len(a.Names()) > 0 {
		if err := a.SwapIn(r.params); err != nil {
			return ev, false, errors.Wrap(err, "train: Polyak weights")
		}
		ev.polyak = true
		defer func() {
			if e := a.SwapOut(r.params); e != nil && err == nil {
				err = errors.Wrap(e, "train: Polyak weights")
			}
		}()
	}
	lctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	it := r.val.Epoch(lctx, 0)
	defer it.Close()
	limit := r.cfg.EvalLimit
	if limit > 0 && r.comm.Size() > 1 {
		lo, hi := data.ShardRange(limit, r.comm.Rank(), r.comm.Size())
		limit = hi - lo
	}
	var loss, t1, t5 float64
	n := 0
	for limit == 0 || n < limit {
		// Ranks may hold different numbers of validation batches, so only a
		// single process stops in the middle of an evaluation.
		if r.comm.Size() == 1 && ctx.Err() != nil {
			return ev, true, nil
		}
		b, err := it.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return ev, false, errors.Wrap(err, "train: validation")
		}
		if limit > 0 && n+b.N > limit {
			k := limit - n
			b.X, b.Labels, b.N = b.X[:k*b.C*b.H*b.W], b.Labels[:k], k
		}
		x := tensor.New(tensor.WithShape(b.N, b.C, b.H, b.W), tensor.WithBacking(b.X))
		logits, err := forward(x)
		if err != nil {
			return ev, false, errors.Wrap(err, "train: validation")
		}
		a1, a5, err := topK(logits, b.Labels)
		if err != nil {
			return ev, false, err
		}
		l, err := crossEntropySum(logits, b.Labels)
		if err != nil {
			return ev, false, err
		}
		t1, t5, loss, n = t1+a1, t5+a5, loss+l, n+b.N
	}
	v := []float64{loss, t1, t5, float64(n)}
	if err := r.comm.AllreduceSumFloat64(v); err != nil {
		return ev, false, errors.Wrap(err, "train: validation statistics")
	}
	if v[3] > 0 {
		ev.loss, ev.top1, ev.top5 = v[0]/v[3], v[1]/v[3], v[2]/v[3]
	}
	ev.n = int(v[3])
	return ev, false, nil
}

// checkpoint writes a checkpoint after epoch complete epochs and step steps
// of the next one (rank 0), and removes old ones beyond KeepLast.
func (r *run) checkpoint(epoch, step int, partial sums) error {
	if !r.rank0 {
		return nil
	}
	if err := r.syncFromDevice(); err != nil {
		return err
	}
	ck, err := checkpoint.FromModel(r.model, r.opt, r.meta(epoch, step))
	if err != nil {
		return errors.Wrap(err, "train")
	}
	// Rank 0's dropout stream is the single-process one (build).
	ck.Trainer = &checkpoint.Trainer{Recipe: r.cfg.recipe(), Partial: checkpoint.EpochSums(partial), Dropout: *r.model.Rand()}
	path := filepath.Join(r.cfg.Out, CheckpointName(r.opt.Steps()))
	if err := ck.Save(path); err != nil {
		return errors.Wrap(err, "train")
	}
	r.lastCkpt = path
	cks, err := Checkpoints(r.cfg.Out)
	if err != nil {
		return err
	}
	for len(cks) > r.cfg.KeepLast {
		if err := os.Remove(cks[0]); err != nil {
			return errors.Wrap(err, "train: removing an old checkpoint")
		}
		cks = cks[1:]
	}
	r.rep.Logf("checkpoint %s (epoch %d, step %d)", path, epoch, r.opt.Steps())
	return nil
}

func (r *run) meta(epoch, step int) checkpoint.Meta {
	return checkpoint.Meta{
		Classes: r.classes, Means: r.means, Stds: r.stds, Epoch: epoch, EpochStep: step,
		Seed: r.cfg.Seed,
	}
}

// interrupt writes the checkpoint of a run stopped within epoch and
// returns the interruption error.
func (r *run) interrupt(epoch int, acc sums) (*Result, error) {
	if r.comm.Size() > 1 {
		if err := r.averageBN(); err != nil {
			return nil, err
		}
	}
	if err := r.checkpoint(epoch, acc.Steps, acc); err != nil {
		return nil, err
	}
	res := &Result{Metrics: r.history, Checkpoint: r.lastCkpt, Steps: r.opt.Steps(), Comm: r.commStats()}
	where := r.lastCkpt
	if !r.rank0 {
		where = "written by rank 0"
	}
	return res, errors.Wrapf(ErrInterrupted, "stopped at epoch %d, step %d of %d, checkpoint %s", epoch+1, acc.Steps, r.steps, where)
}

// writeModel writes the final model: the Polyak averages when there are any,
// the live weights otherwise, without solver state.
func (r *run) writeModel(path string) error {
	if err := r.syncFromDevice(); err != nil {
		return err
	}
	ck, err := checkpoint.FromModel(r.model, r.opt, r.meta(r.cfg.Epochs, 0))
	if err != nil {
		return errors.Wrap(err, "train: final model")
	}
	if ck.Solver != nil && len(ck.Solver.Average) > 0 {
		if ck, err = ck.Averaged(); err != nil {
			return errors.Wrap(err, "train: final model")
		}
	}
	ck.Solver = nil
	return errors.Wrap(ck.Save(path), "train: final model")
}

// topK counts the rows of logits whose label is the top-1 and within the
// top-5 (top-k with k = min(5, classes)) classes. A label ranks by the number
// of classes with a strictly greater score, so ties favour the label.
func topK(v G.Value, labels []int) (top1, top5 float64, err error) {
	d, ok := v.(*tensor.Dense)
	if !ok || d == nil || d.Dims() != 2 {
		return 0, 0, errors.New("train: logits are not a matrix")
	}
	rows, cols := d.Shape()[0], d.Shape()[1]
	if rows != len(labels) {
		return 0, 0, errors.Errorf("train: %d logits rows for %d labels", rows, len(labels))
	}
	at := floatsOf(d)
	if at == nil {
		return 0, 0, errors.Errorf("train: logits of dtype %v", d.Dtype())
	}
	k := min(5, cols)
	for i, l := range labels {
		s := at(i*cols + l)
		greater := 0
		for j := 0; j < cols; j++ {
			if at(i*cols+j) > s {
				greater++
			}
		}
		if greater == 0 {
			top1++
		}
		if greater < k {
			top5++
		}
	}
	return top1, top5, nil
}

// crossEntropySum returns the summed softmax cross-entropy of the rows of
// logits, in float64.
func crossEntropySum(d *tensor.Dense, labels []int) (float64, error) {
	rows, cols := d.Shape()[0], d.Shape()[1]
	at := floatsOf(d)
	if at == nil || rows != len(labels) {
		return 0, errors.New("train: bad logits")
	}
	var sum float64
	for i, l := range labels {
		mx := math.Inf(-1)
		for j := 0; j < cols; j++ {
			mx = math.Max(mx, at(i*cols+j))
		}
		var z float64
		for j := 0; j < cols; j++ {
			z += math.Exp(at(i*cols+j) - mx)
		}
		sum += math.Log(z) + mx - at(i*cols+l)
	}
	return sum, nil
}

func floatsOf(d *tensor.Dense) func(int) float64 {
	switch v := d.Data().(type) {
	case []float32:
		return func(i int) float64 { return float64(v[i]) }
	case []float64:
		return func(i int) float64 { return v[i] }
	}
	return nil
}

// padBatch fills a batch made short by skipped images up to n by repeating
// its images from the first.
func padBatch(b *data.Batch, n int) *data.Batch {
	if b.N == 0 || b.N >= n {
		return b
	}
	px := b.C * b.H * b.W
	out := *b
	out.X = append([]float32(nil), b.X[:b.N*px]...)
	out.Labels = append([]int(nil), b.Labels[:b.N]...)
	for i := 0; out.N < n; i = (i + 1) % b.N {
		out.X = append(out.X, b.X[i*px:(i+1)*px]...)
		out.Labels = append(out.Labels, b.Labels[i])
		out.N++
	}
	return &out
}
