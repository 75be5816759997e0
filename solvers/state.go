package solvers

import (
	"github.com/pkg/errors"
)

// StateVersion is the version of the State layout. A checkpoint writer
// stores it so that a later layout can be told apart.
const StateVersion = 1

// State is everything an SGD solver needs to continue exactly where it
// stopped, as plain values a checkpoint writer can serialise (gob, JSON,
// protobuf, ...): the step count, which is also the schedule's position
// (schedules are pure functions of it), the momentum velocities and the
// Polyak averages, all keyed by parameter name. Configuration (rates,
// schedule, averaging mode) is not state: the trainer recreates the solver
// with the same SGDConfig and then calls SetState.
type State struct {
	Version int
	// Step is the number of optimizer steps completed.
	Step int64
	// Velocity holds the momentum buffer of every parameter that has one.
	Velocity map[string]Tensor
	// Average holds the Polyak average of every averaged parameter, and
	// AverageCount how many values each average has absorbed.
	Average      map[string]Tensor
	AverageCount map[string]int64
}

// State returns a deep copy of the solver's state. It fails while Polyak
// averages are swapped into the live parameters.
func (s *SGD) State() (State, error) {
	st := State{Version: StateVersion, Step: s.step, Velocity: make(map[string]Tensor, len(s.vel))}
	for n, v := range s.vel {
		st.Velocity[n] = v.export()
	}
	if s.avg != nil {
		if s.avg.Swapped() {
			return State{}, errors.New("solvers: state requested while Polyak averages are swapped in; call SwapOut first")
		}
		s.avg.exportState(&st)
	}
	return st, nil
}

// SetState replaces the solver's state with a deep copy of st, after
// checking it: a known version, a non-negative step, well-formed finite
// buffers, no velocities when momentum is off and no averages when averaging
// is off. On error the solver is unchanged. Shapes are checked against the
// parameters at the next Step.
func (s *SGD) SetState(st State) error {
	if st.Version != StateVersion {
		return errors.Errorf("solvers: state version %d; this solver reads version %d", st.Version, StateVersion)
	}
	if st.Step < 0 {
		return errors.Errorf("solvers: state step %d is negative", st.Step)
	}
	if s.cfg.NoMomentum && len(st.Velocity) > 0 {
		return errors.New("solvers: state has velocities but the solver has no momentum")
	}
	vel := make(map[string]buffer, len(st.Velocity))
	for n, t := range st.Velocity {
		b, err := importTensor(n, t)
		if err != nil {
			return errors.Wrap(err, "velocity")
		}
		if err := checkFinite(n, b); err != nil {
			return errors.Wrap(err, "velocity")
		}
		vel[n] = b
	}
	if s.avg == nil {
		if len(st.Average) > 0 || len(st.AverageCount) > 0 {
			return errors.New("solvers: state has Polyak averages but averaging is off")
		}
	} else {
		if s.avg.Swapped() {
			return errors.New("solvers: SetState while Polyak averages are swapped in; call SwapOut first")
		}
		// Validate into a scratch averager so that s is unchanged on error.
		scratch := &Averager{cfg: s.avg.cfg}
		if err := scratch.importState(st); err != nil {
			return err
		}
		s.avg.avg, s.avg.count = scratch.avg, scratch.count
	}
	s.step, s.vel = st.Step, vel
	return nil
}
