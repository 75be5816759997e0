package solvers

import (
	"math"
	"slices"

	"github.com/pkg/errors"

	"github.com/goinception/googlenet/ops"
)

// ErrNonFinite is returned (wrapped) by SGD.Step when a gradient holds a NaN
// or an infinity. No parameter is changed in that case.
var ErrNonFinite = errors.New("solvers: gradient is not finite")

// clipEps is added to the gradient norm before dividing, as
// torch.nn.utils.clip_grad_norm_ does.
const clipEps = 1e-6

// SGDConfig configures stochastic gradient descent with momentum. The zero
// value is momentum 0.9, base learning rate 0.01 (bvlc_googlenet's base_lr),
// no weight decay, no clipping, a constant rate and no averaging.
type SGDConfig struct {
	// LR is the base learning rate, >= 0; 0 means 0.01. The rate of a step is
	// LR * Schedule.Factor(position).
	LR float64
	// Momentum is mu in [0, 1); 0 means 0.9. Set NoMomentum for plain SGD.
	Momentum float64
	// NoMomentum selects plain SGD (momentum 0, no velocity kept).
	NoMomentum bool
	// Nesterov uses Nesterov momentum as torch.optim.SGD(nesterov=True)
	// does. It needs momentum.
	Nesterov bool
	// WeightDecay is the L2 coefficient lambda >= 0, applied to the weights of
	// parameters whose Decay is set (the gradient of lambda/2 * |w|^2).
	WeightDecay float64
	// ClipNorm, when > 0, rescales all gradients together so that their
	// global Euclidean norm is at most ClipNorm, before weight decay is added,
	// exactly as torch.nn.utils.clip_grad_norm_(params, ClipNorm) called
	// before optimizer.step(). 0 turns clipping off.
	ClipNorm float64
	// Schedule gives the learning-rate multiplier; nil means Constant.
	Schedule Schedule
	// StepsPerEpoch converts steps to epochs for schedules that count epochs:
	// Position.Epoch = Step / StepsPerEpoch. 0 means unknown (allowed only if
	// the schedule counts steps).
	StepsPerEpoch int64
	// Averaging turns on Polyak averaging of the weights after each step.
	Averaging AveragingConfig
	// Engine runs the float32 update (ops.Engine.SGDUpdate); nil means
	// ops.Reference. Give it the model's engine. float64 parameters use
	// the reference kernel (ops.SGDUpdateFloat64); an engine that does not
	// support the update (ops.ErrNotSupported) falls back to ops.Reference.
	Engine ops.Engine
}

func (c SGDConfig) resolved() (SGDConfig, error) {
	if c.LR == 0 {
		c.LR = 0.01
	}
	if !(c.LR > 0) || math.IsInf(c.LR, 0) {
		return c, errors.Errorf("solvers: learning rate %v must be positive and finite", c.LR)
	}
	if c.NoMomentum {
		if c.Momentum != 0 {
			return c, errors.Errorf("solvers: momentum %v set together with NoMomentum", c.Momentum)
		}
		if c.Nesterov {
			return c, errors.New("solvers: Nesterov momentum needs momentum; NoMomentum is set")
		}
	} else {
		if c.Momentum == 0 {
			c.Momentum = 0.9
		}
		if !(c.Momentum > 0 && c.Momentum < 1) {
			return c, errors.Errorf("solvers: momentum %v outside [0, 1)", c.Momentum)
		}
	}
	if !(c.WeightDecay >= 0) || math.IsInf(c.WeightDecay, 0) {
		return c, errors.Errorf("solvers: weight decay %v must be >= 0 and finite", c.WeightDecay)
	}
	if !(c.ClipNorm >= 0) || math.IsInf(c.ClipNorm, 0) {
		return c, errors.Errorf("solvers: clip norm %v must be >= 0 and finite", c.ClipNorm)
	}
	if c.StepsPerEpoch < 0 {
		return c, errors.Errorf("solvers: steps per epoch %d is negative", c.StepsPerEpoch)
	}
	if c.Schedule == nil {
		c.Schedule = Constant{}
	}
	if c.Engine == nil {
		c.Engine = ops.Reference{}
	}
	if err := c.Schedule.Validate(c.StepsPerEpoch); err != nil {
		return c, errors.Wrap(err, "solvers")
	}
	var err error
	c.Averaging, err = c.Averaging.resolved()
	return c, err
}

// SGD is stochastic gradient descent with momentum and L2 weight decay, with
// the semantics of torch.optim.SGD(lr, momentum, weight_decay, nesterov)
// (dampening 0). For each parameter, with g its gradient:
//
//	g = g * clip                        (clip = min(1, ClipNorm/(|G| + 1e-6)), |G| the global norm; 1 without clipping)
//	g = g + WeightDecay*DecayMult * w   (only if the parameter's Decay is set)
//	v = g                               (first step for this parameter)
//	v = Momentum * v + g                (later steps)
//	d = g + Momentum * v  if Nesterov, else d = v
//	w = w - lr*LRMult * d
//
// LRMult and DecayMult are the parameter's multipliers (Caffe's lr_mult and
// decay_mult; 1 when zero). With both 1 this is exactly PyTorch's update;
// other multipliers are PyTorch's per-parameter-group lr and weight_decay.
//
// Decay is taken from the weights, not from the velocity (Gorgonia's
// Momentum solver takes it from the velocity), and the velocity of a
// parameter is found by its name, never by its position in the list.
// Arithmetic is done in the parameter's dtype, as PyTorch does.
//
// An SGD is not safe for concurrent use.
type SGD struct {
	cfg  SGDConfig
	step int64
	vel  map[string]buffer
	avg  *Averager
}

// NewSGD returns a solver, or an error for unsupported settings.
func NewSGD(cfg SGDConfig) (*SGD, error) {
	cfg, err := cfg.resolved()
	if err != nil {
		return nil, err
	}
	s := &SGD{cfg: cfg, vel: map[string]buffer{}}
	if cfg.Averaging.Mode != AverageOff {
		if s.avg, err = NewAverager(cfg.Averaging); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// Config returns the solver's settings with defaults filled in.
func (s *SGD) Config() SGDConfig { return s.cfg }

// Steps returns the number of steps completed.
func (s *SGD) Steps() int64 { return s.step }

// Position returns the position of the next step.
func (s *SGD) Position() Position { return s.positionAt(s.step) }

func (s *SGD) positionAt(step int64) Position {
	p := Position{Step: step}
	if s.cfg.StepsPerEpoch > 0 {
		p.Epoch = float64(step) / float64(s.cfg.StepsPerEpoch)
	}
	return p
}

// LR returns the learning rate the next step will use.
func (s *SGD) LR() float64 { return s.cfg.LR * s.cfg.Schedule.Factor(s.Position()) }

// Averager returns the Polyak averager, or nil when averaging is off.
func (s *SGD) Averager() *Averager { return s.avg }

// StepInfo describes one completed step.
type StepInfo struct {
	Step     int64   // steps completed, including this one
	LR       float64 // learning rate used
	GradNorm float64 // global gradient norm before clipping
	Clipped  bool    // whether the gradients were scaled down
}

// Step applies one update to params using their gradients, then folds the
// new weights into the Polyak averages if averaging is on. Every parameter
// is validated before any is changed; a non-finite gradient returns
// ErrNonFinite (wrapped) and changes nothing. Gradients are read, never
// written.
func (s *SGD) Step(params []*Param) (StepInfo, error) {
	if s.avg != nil && s.avg.Swapped() {
		return StepInfo{}, errors.New("solvers: step while the Polyak averages are swapped in; call SwapOut first")
	}
	cs, err := checkParams(params, true)
	if err != nil {
		return StepInfo{}, err
	}
	for _, c := range cs {
		if v, ok := s.vel[c.p.Name]; ok && (!slices.Equal(v.shape, c.shape) || v.dtype() != c.dt) {
			return StepInfo{}, errors.Errorf("solvers: parameter %q is %v %v but its velocity is %v %v",
				c.p.Name, c.dt, c.shape, v.dtype(), v.shape)
		}
	}
	if s.avg != nil {
		if err := s.avg.checkShapes(cs); err != nil {
			return StepInfo{}, err
		}
	}
	norm := globalNorm(cs)
	if math.IsNaN(norm) || math.IsInf(norm, 0) {
		for _, c := range cs {
			if !finite(c.g) {
				return StepInfo{}, errors.Wrapf(ErrNonFinite, "parameter %q", c.p.Name)
			}
		}
		return StepInfo{}, errors.Wrap(ErrNonFinite, "global gradient norm overflows")
	}
	info := StepInfo{Step: s.step + 1, LR: s.LR(), GradNorm: norm}
	if !(info.LR >= 0) || math.IsInf(info.LR, 0) {
		return StepInfo{}, errors.Errorf("solvers: schedule %T gives learning rate %v at step %d", s.cfg.Schedule, info.LR, s.step)
	}
	scale := 1.0
	if s.cfg.ClipNorm > 0 {
		// PyTorch multiplies by the clamped coefficient unconditionally.
		scale = math.Min(1, s.cfg.ClipNorm/(norm+clipEps))
		info.Clipped = scale < 1
	}
	mu := s.cfg.Momentum
	if s.cfg.NoMomentum {
		mu = 0
	}
	for _, c := range cs {
		wd := 0.0
		if c.p.Decay {
			wd = s.cfg.WeightDecay * mult(c.p.DecayMult)
		}
		u := ops.SGDStep{LR: info.LR * mult(c.p.LRMult), Scale: scale, Clip: s.cfg.ClipNorm > 0, WeightDecay: wd, Momentum: mu, Nesterov: s.cfg.Nesterov}
		var v buffer
		if mu != 0 {
			var ok bool
			if v, ok = s.vel[c.p.Name]; !ok {
				v = newBuffer(c.shape, c.dt)
				s.vel[c.p.Name] = v
				u.First = true
			}
		}
		var err error
		if c.w.f32 != nil {
			e := s.cfg.Engine
			if err = e.SGDUpdate(u, c.w.f32, c.g.f32, v.f32); errors.Is(err, ops.ErrNotSupported) {
				err = ops.Reference{}.SGDUpdate(u, c.w.f32, c.g.f32, v.f32)
			}
			err = errors.Wrapf(err, "solvers: parameter %q: update on %s", c.p.Name, e.Name())
		} else {
			err = errors.Wrapf(ops.SGDUpdateFloat64(u, c.w.f64, c.g.f64, v.f64), "solvers: parameter %q", c.p.Name)
		}
		if err != nil {
			// The engine failed after validation (a device error): the
			// parameters updated before this one keep their update.
			return info, err
		}
		c.w.flush()
	}
	s.step++
	if s.avg != nil {
		if err := s.avg.Update(params, s.step); err != nil {
			// Unreachable: the parameters were validated above.
			return info, errors.Wrap(err, "solvers: weights updated but averaging failed")
		}
	}
	return info, nil
}

func finite(d data) bool {
	if d.f32 != nil {
		for _, x := range d.f32 {
			if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
				return false
			}
		}
		return true
	}
	for _, x := range d.f64 {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return false
		}
	}
	return true
}
