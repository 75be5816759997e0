package solvers

import (
	"fmt"
	"math"

	"github.com/pkg/errors"
)

// Position is where training stands when a learning rate is needed: Step
// optimizer steps have been completed (the next step is number Step+1,
// counting from one) and Epoch = Step / StepsPerEpoch epochs have been
// completed, as a fraction. Because a schedule is a pure function of the
// position, a run resumed from a saved step count gets exactly the learning
// rates of an uninterrupted run.
type Position struct {
	Step  int64
	Epoch float64
}

// Unit says whether a schedule's lengths count epochs or optimizer steps.
type Unit int

const (
	// Epochs measures schedule lengths in (fractional) epochs. It is the zero
	// value, so schedules count epochs unless told otherwise.
	Epochs Unit = iota
	// Steps measures schedule lengths in optimizer steps (Caffe's
	// iterations).
	Steps
)

func (u Unit) String() string {
	switch u {
	case Epochs:
		return "epochs"
	case Steps:
		return "steps"
	}
	return fmt.Sprintf("Unit(%d)", int(u))
}

// of returns the position measured in unit u.
func (u Unit) of(p Position) float64 {
	if u == Steps {
		return float64(p.Step)
	}
	return p.Epoch
}

func (u Unit) validate(stepsPerEpoch int64) error {
	switch u {
	case Steps:
		return nil
	case Epochs:
		if stepsPerEpoch <= 0 {
			return errors.New("schedule counts epochs but StepsPerEpoch is not set")
		}
		return nil
	}
	return errors.Errorf("unknown unit %d", int(u))
}

// Schedule gives the learning-rate multiplier at a training position. The
// learning rate of a step is the solver's base rate times Factor.
type Schedule interface {
	// Factor returns the multiplier for the step taken at position p.
	Factor(p Position) float64
	// Validate reports settings the schedule does not support, given the
	// solver's steps per epoch (0 when unknown).
	Validate(stepsPerEpoch int64) error
}

// Constant is the schedule whose factor is always 1.
type Constant struct{}

// Factor returns 1.
func (Constant) Factor(Position) float64 { return 1 }

// Validate returns nil: every setting is supported.
func (Constant) Validate(int64) error { return nil }

// StepDecay is the paper's schedule: the rate is multiplied by Gamma every
// Period units,
//
//	factor = Gamma^floor(t / Period)
//
// where t is the position in Unit. The zero value is the paper's setting:
// Gamma 0.96 every 8 epochs (a 4% decrease every 8 epochs; Caffe's
// bvlc_googlenet solver uses gamma 0.96 every 320,000 iterations of batch
// 32). Defined per epoch, the factor changes at the first step of epochs 8,
// 16, ...; PyTorch's StepLR(step_size, gamma) is the Steps form.
type StepDecay struct {
	Gamma  float64 // multiplier per period, in (0, 1]; 0 means 0.96
	Period float64 // length of a period in Unit, > 0; 0 means 8
	Unit   Unit    // Epochs (the zero value) or Steps
}

func (s StepDecay) resolved() StepDecay {
	if s.Gamma == 0 {
		s.Gamma = 0.96
	}
	if s.Period == 0 {
		s.Period = 8
	}
	return s
}

// Factor returns Gamma^floor(t/Period).
func (s StepDecay) Factor(p Position) float64 {
	s = s.resolved()
	return math.Pow(s.Gamma, math.Floor(s.Unit.of(p)/s.Period))
}

// Validate rejects a Gamma outside (0, 1], a negative or non-finite Period,
// and epoch units without steps per epoch.
func (s StepDecay) Validate(stepsPerEpoch int64) error {
	s = s.resolved()
	if !(s.Gamma > 0 && s.Gamma <= 1) {
		return errors.Errorf("step schedule: gamma %v outside (0, 1]", s.Gamma)
	}
	if !(s.Period > 0) || math.IsInf(s.Period, 0) {
		return errors.Errorf("step schedule: period %v must be positive and finite", s.Period)
	}
	return errors.Wrap(s.Unit.validate(stepsPerEpoch), "step schedule")
}

// Poly is Caffe's "poly" policy, used by bvlc_googlenet's quick_solver
// (power 0.5 over 2.4M iterations, about 60 epochs):
//
//	factor = (1 - min(t, Max) / Max)^Power
//
// where t is the position in Unit. The factor reaches 0 at t = Max and stays
// there. PyTorch's PolynomialLR(total_iters=Max, power) is the Steps form.
type Poly struct {
	Max   float64 // length of the schedule in Unit, required, > 0
	Power float64 // > 0; 0 means 0.5
	Unit  Unit    // Epochs (the zero value) or Steps
}

func (s Poly) resolved() Poly {
	if s.Power == 0 {
		s.Power = 0.5
	}
	return s
}

// Factor returns (1 - min(t, Max)/Max)^Power.
func (s Poly) Factor(p Position) float64 {
	s = s.resolved()
	t := math.Min(math.Max(s.Unit.of(p), 0), s.Max)
	return math.Pow(1-t/s.Max, s.Power)
}

// Validate rejects a missing or non-positive Max, a negative Power, and epoch
// units without steps per epoch.
func (s Poly) Validate(stepsPerEpoch int64) error {
	s = s.resolved()
	if !(s.Max > 0) || math.IsInf(s.Max, 0) {
		return errors.Errorf("poly schedule: max %v must be positive and finite", s.Max)
	}
	if !(s.Power > 0) || math.IsInf(s.Power, 0) {
		return errors.Errorf("poly schedule: power %v must be positive and finite", s.Power)
	}
	return errors.Wrap(s.Unit.validate(stepsPerEpoch), "poly schedule")
}

// Warmup ramps the rate up linearly over the first Length units and then
// hands over to Then, evaluated at the same position (not shifted):
//
//	factor = Then(t) * (Start + (1 - Start) * t / Length)   for t < Length
//	factor = Then(t)                                         for t >= Length
//
// Start is the fraction of the rate used at t = 0; the zero value starts from
// a rate of 0. This is PyTorch's LinearLR(start_factor=Start,
// total_iters=Length) chained with Then's scheduler.
type Warmup struct {
	Length float64  // length of the ramp in Unit, > 0
	Start  float64  // factor at t = 0, in [0, 1)
	Unit   Unit     // Epochs (the zero value) or Steps
	Then   Schedule // the schedule after (and under) the ramp; nil means Constant
}

// Factor returns the ramp times Then's factor.
func (w Warmup) Factor(p Position) float64 {
	then := 1.0
	if w.Then != nil {
		then = w.Then.Factor(p)
	}
	t := math.Max(w.Unit.of(p), 0)
	if t >= w.Length {
		return then
	}
	return then * (w.Start + (1-w.Start)*t/w.Length)
}

// Validate rejects a non-positive Length, a Start outside [0, 1), epoch units
// without steps per epoch, and whatever Then rejects.
func (w Warmup) Validate(stepsPerEpoch int64) error {
	if !(w.Length > 0) || math.IsInf(w.Length, 0) {
		return errors.Errorf("warm-up: length %v must be positive and finite", w.Length)
	}
	if !(w.Start >= 0 && w.Start < 1) {
		return errors.Errorf("warm-up: start %v outside [0, 1)", w.Start)
	}
	if err := w.Unit.validate(stepsPerEpoch); err != nil {
		return errors.Wrap(err, "warm-up")
	}
	if w.Then != nil {
		return errors.Wrap(w.Then.Validate(stepsPerEpoch), "warm-up")
	}
	return nil
}
