package train

import (
	"math"
	"strings"

	"github.com/pkg/errors"
	"gorgonia.org/tensor"

	"github.com/goinception/googlenet/cuda"
	"github.com/goinception/googlenet/data"
	"github.com/goinception/googlenet/inception"
	"github.com/goinception/googlenet/solvers"
)

// This file is the device side of a run with Config.Device: the model's
// network runs as a device-resident cuda.Net, the solver's update and the
// Polyak averages live on the device, and the host model and solver are
// brought up to date (syncFromDevice) only to write a checkpoint or the
// final model. The host solver keeps the step count (so the schedule, the
// metrics and the checkpoint names are the CPU path's) and the settings.

// checkDevice refuses, at the start of a run, what the device does not
// implement (the model mc, the run's settings), naming it, rather than
// training something else than the CPU would.
func (c Config) checkDevice(mc inception.Config) error {
	if c.Device == nil {
		return nil
	}
	var bad []string
	if c.Comm.Size() > 1 {
		bad = append(bad, "data-parallel training (several ranks)")
	}
	if c.GradHook != nil {
		bad = append(bad, "a gradient hook (GradHook: the gradients stay on the device)")
	}
	if mc.Dtype != tensor.Float32 {
		bad = append(bad, "a "+mc.Dtype.String()+" model (the device computes in float32)")
	}
	if len(bad) == 0 {
		return nil
	}
	return errors.Errorf("train: the device does not implement %s; train on the CPU", strings.Join(bad, "; "))
}

// buildDevice makes the run's device network from the model (its weights,
// batch-norm statistics and dropout state, as build left them: initialised,
// transferred or resumed) and uploads the solver's momentum buffers and
// Polyak averages (a resumed run's).
func (r *run) buildDevice() error {
	net, err := cuda.NewNet(r.cfg.Device, r.model, r.cfg.Batch)
	if err != nil {
		return errors.Wrap(err, "train: the device network")
	}
	r.net = net
	r.rep.Logf("the training step runs on the device (cuda.Net): batch %d, weights, momentum and averages device-resident", r.cfg.Batch)
	st, err := r.opt.State()
	if err != nil {
		return errors.Wrap(err, "train: solver state")
	}
	for name, t := range st.Velocity {
		if err := r.net.SetVelocity(name, t.Float32); err != nil {
			return errors.Wrap(err, "train: resume")
		}
	}
	for name, t := range st.Average {
		if err := r.net.SetAverage(name, t.Float32, st.AverageCount[name]); err != nil {
			return errors.Wrap(err, "train: resume")
		}
	}
	return nil
}

// closeDevice releases the device network.
func (r *run) closeDevice() {
	if r.net != nil {
		_ = r.net.Close()
		r.net = nil
	}
}

// deviceStep is one training step on the device: forward, losses,
// backward, the SGD update at the schedule's rate, then the Polyak
// average. It returns what the host step returns.
func (r *run) deviceStep(b *data.Batch) (ls inception.Losses, t1, t5 float64, info solvers.StepInfo, err error) {
	labels := make([]int32, len(b.Labels))
	for i, l := range b.Labels {
		labels[i] = int32(l)
	}
	dl, err := r.net.Step(b.X, labels)
	if err != nil {
		return ls, 0, 0, info, err
	}
	ls = inception.Losses{Main: dl.Main, Aux1: dl.Aux1, Aux2: dl.Aux2, Total: dl.Total}
	if math.IsNaN(ls.Total) || math.IsInf(ls.Total, 0) {
		// The host solver checks every gradient; the device checks the
		// loss they come from, and the weights are left unchanged.
		return ls, 0, 0, info, errors.Wrapf(solvers.ErrNonFinite, "loss on the device (losses %+v)", ls)
	}
	logits, err := r.net.LastLogits()
	if err != nil {
		return ls, 0, 0, info, err
	}
	if t1, t5, err = topK(tensor.New(tensor.WithShape(b.N, r.net.Classes()), tensor.WithBacking(logits)), b.Labels); err != nil {
		return ls, 0, 0, info, err
	}
	sc := r.opt.Config()
	info = solvers.StepInfo{Step: r.opt.Steps() + 1, LR: r.opt.LR()}
	if !(info.LR >= 0) || math.IsInf(info.LR, 0) {
		return ls, 0, 0, info, errors.Errorf("solvers: schedule %T gives learning rate %v at step %d", sc.Schedule, info.LR, info.Step-1)
	}
	if err := r.net.Update(info.LR, sc.Momentum, sc.WeightDecay); err != nil {
		return ls, 0, 0, info, err
	}
	// The host solver counts the step (the schedule's position); its
	// momentum and averages are the device's, copied at checkpoints.
	if err := r.opt.SetState(solvers.State{Version: solvers.StateVersion, Step: info.Step}); err != nil {
		return ls, 0, 0, info, errors.Wrap(err, "train: solver step")
	}
	if a := sc.Averaging; a.Mode != solvers.AverageOff && info.Step > a.Start {
		if err := r.net.Average(a.Mode == solvers.AverageUniform, a.Decay); err != nil {
			return ls, 0, 0, info, err
		}
	}
	return ls, t1, t5, info, nil
}

// deviceForward is the validation forward on the device (evaluation mode).
func (r *run) deviceForward(x *tensor.Dense) (*tensor.Dense, error) {
	n := x.Shape()[0]
	y, err := r.net.Infer(x.Data().([]float32), n)
	if err != nil {
		return nil, err
	}
	return tensor.New(tensor.WithShape(n, r.net.Classes()), tensor.WithBacking(y)), nil
}

// syncFromDevice copies the device's state into the host model and solver:
// the weights, the batch norms' running statistics, the dropout stream, the
// momentum buffers and the Polyak averages, so that a checkpoint written
// from them resumes exactly.
func (r *run) syncFromDevice() error {
	if r.net == nil {
		return nil
	}
	if err := r.net.SyncToSource(r.model); err != nil {
		return errors.Wrap(err, "train: weights from the device")
	}
	*r.model.Rand() = r.net.Rand()
	st := solvers.State{Version: solvers.StateVersion, Step: r.opt.Steps(), Velocity: map[string]solvers.Tensor{}}
	for _, p := range r.params {
		shape := []int(p.Value.Shape().Clone())
		if st.Step > 0 {
			v, err := r.net.Velocity(p.Name)
			if err != nil {
				return errors.Wrap(err, "train: solver state from the device")
			}
			st.Velocity[p.Name] = solvers.Tensor{Shape: shape, Float32: v}
		}
		avg, count, err := r.net.Averaged(p.Name)
		if err != nil {
			return errors.Wrap(err, "train: solver state from the device")
		}
		if avg != nil {
			if st.Average == nil {
				st.Average, st.AverageCount = map[string]solvers.Tensor{}, map[string]int64{}
			}
			st.Average[p.Name], st.AverageCount[p.Name] = solvers.Tensor{Shape: shape, Float32: avg}, count
		}
	}
	return errors.Wrap(r.opt.SetState(st), "train: solver state from the device")
}
