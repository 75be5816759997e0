package solvers

import (
	"fmt"
	"math"
	"slices"
	"sort"

	"github.com/pkg/errors"
	"gorgonia.org/tensor"
)

// AveragingMode selects how an Averager averages the weights.
type AveragingMode int

const (
	// AverageOff keeps no average. It is the zero value.
	AverageOff AveragingMode = iota
	// AverageUniform is Polyak-Juditsky averaging: the arithmetic mean of the
	// weights after every step past Start,
	//
	//	avg_n = avg_{n-1} + (w - avg_{n-1}) / n
	//
	// (torch.optim.swa_utils.AveragedModel's default).
	AverageUniform
	// AverageExponential is an exponential moving average of the weights
	// after every step past Start,
	//
	//	avg = Decay * avg + (1 - Decay) * w
	//
	// starting from the first averaged weights (TensorFlow's
	// ExponentialMovingAverage without num_updates).
	AverageExponential
)

func (m AveragingMode) String() string {
	switch m {
	case AverageOff:
		return "off"
	case AverageUniform:
		return "uniform"
	case AverageExponential:
		return "exponential"
	}
	return fmt.Sprintf("AveragingMode(%d)", int(m))
}

// AveragingConfig configures Polyak averaging. The zero value is off.
type AveragingConfig struct {
	Mode AveragingMode
	// Start is the number of optimizer steps to complete before averaging
	// begins: the weights after steps Start+1, Start+2, ... are averaged.
	// Must be >= 0.
	Start int64
	// Decay is the exponential average's weight on the old average, in
	// (0, 1); 0 means 0.999. It must be 0 for AverageUniform.
	Decay float64
}

func (c AveragingConfig) resolved() (AveragingConfig, error) {
	if c.Start < 0 {
		return c, errors.Errorf("solvers: averaging start %d is negative", c.Start)
	}
	switch c.Mode {
	case AverageOff, AverageUniform:
		if c.Decay != 0 {
			return c, errors.Errorf("solvers: averaging decay %v is only used by exponential averaging", c.Decay)
		}
	case AverageExponential:
		if c.Decay == 0 {
			c.Decay = 0.999
		}
		if !(c.Decay > 0 && c.Decay < 1) {
			return c, errors.Errorf("solvers: averaging decay %v outside (0, 1)", c.Decay)
		}
	default:
		return c, errors.Errorf("solvers: unknown averaging mode %d", int(c.Mode))
	}
	return c, nil
}

// Averager keeps a running average of parameter values beside the live
// ones, keyed by parameter name. Evaluation and export use the averages:
// SwapIn puts them into the live tensors and SwapOut puts the live values
// back. An Averager is not safe for concurrent use.
type Averager struct {
	cfg     AveragingConfig
	avg     map[string]buffer
	count   map[string]int64
	swapped bool
}

// NewAverager returns an Averager, or an error for unsupported settings.
// Mode must not be AverageOff.
func NewAverager(cfg AveragingConfig) (*Averager, error) {
	cfg, err := cfg.resolved()
	if err != nil {
		return nil, err
	}
	if cfg.Mode == AverageOff {
		return nil, errors.New("solvers: NewAverager needs a mode other than AverageOff")
	}
	return &Averager{cfg: cfg, avg: map[string]buffer{}, count: map[string]int64{}}, nil
}

// Config returns the averager's settings with defaults filled in.
func (a *Averager) Config() AveragingConfig { return a.cfg }

// Update folds the current values of params into their averages. step is the
// number of optimizer steps completed, including the one that produced the
// current values; nothing is averaged while step <= Start. Gradients are not
// used and may be nil, so non-trainable tensors such as batch-normalisation
// running statistics can be averaged too. A name seen for the first time
// starts its average from its current value.
func (a *Averager) Update(params []*Param, step int64) error {
	if a.swapped {
		return errors.New("solvers: averager update while averages are swapped in; call SwapOut first")
	}
	if step <= a.cfg.Start {
		return nil
	}
	cs, err := checkParams(params, false)
	if err != nil {
		return err
	}
	if err := a.checkShapes(cs); err != nil {
		return err
	}
	for _, c := range cs {
		name := c.p.Name
		b, ok := a.avg[name]
		if !ok {
			b = newBuffer(c.shape, c.dt)
			a.avg[name] = b
		}
		n := a.count[name] + 1
		a.count[name] = n
		uniform := a.cfg.Mode == AverageUniform
		if b.f32 != nil {
			forChunks(len(b.f32), func(lo, hi int) { blend(b.f32[lo:hi], c.w.f32[lo:hi], a.cfg.Decay, uniform, n) })
		} else {
			forChunks(len(b.f64), func(lo, hi int) { blend(b.f64[lo:hi], c.w.f64[lo:hi], a.cfg.Decay, uniform, n) })
		}
	}
	return nil
}

// checkShapes reports a parameter whose shape or dtype differs from its
// average's.
func (a *Averager) checkShapes(cs []checked) error {
	for _, c := range cs {
		if b, ok := a.avg[c.p.Name]; ok && (!slices.Equal(b.shape, c.shape) || b.dtype() != c.dt) {
			return errors.Errorf("solvers: parameter %q is %v %v but its average is %v %v",
				c.p.Name, c.dt, c.shape, b.dtype(), b.shape)
		}
	}
	return nil
}

// blend folds the n-th value w into avg. The first value is copied in both
// modes; after that the uniform mean uses the incremental form
// avg += (w - avg)/n (as AveragedModel does) and the exponential one
// avg = keep*avg + (1-keep)*w.
func blend[T float32 | float64](avg, w []T, keep float64, uniform bool, n int64) {
	if n == 1 {
		copy(avg, w)
		return
	}
	if uniform {
		d := T(n)
		for i := range avg {
			avg[i] += (w[i] - avg[i]) / d
		}
		return
	}
	k, m := T(keep), T(1-keep)
	for i := range avg {
		avg[i] = k*avg[i] + m*w[i]
	}
}

// Names returns the names that have an average, sorted.
func (a *Averager) Names() []string {
	names := make([]string, 0, len(a.avg))
	for n := range a.avg {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Count returns how many values have been folded into name's average.
func (a *Averager) Count(name string) int64 { return a.count[name] }

// Average returns a copy of the averaged value of the named parameter, or an
// error if it has none yet or the averages are swapped in.
func (a *Averager) Average(name string) (*tensor.Dense, error) {
	if a.swapped {
		return nil, errors.New("solvers: averages are swapped into the live parameters; read those or call SwapOut")
	}
	b, ok := a.avg[name]
	if !ok {
		return nil, errors.Errorf("solvers: no average for parameter %q", name)
	}
	return b.dense(), nil
}

// Swapped reports whether the averages are currently in the live tensors.
func (a *Averager) Swapped() bool { return a.swapped }

// SwapIn exchanges the values of params with their averages, so the live
// tensors hold the averaged weights (for evaluation or export) and the
// averager holds the training weights. Every param must have an average of
// the same shape and dtype; nothing is changed on error. Call SwapOut with
// the same params to continue training.
func (a *Averager) SwapIn(params []*Param) error {
	if a.swapped {
		return errors.New("solvers: averages are already swapped in")
	}
	if err := a.exchange(params); err != nil {
		return err
	}
	a.swapped = true
	return nil
}

// SwapOut undoes SwapIn: the live tensors get their training values back.
func (a *Averager) SwapOut(params []*Param) error {
	if !a.swapped {
		return errors.New("solvers: averages are not swapped in")
	}
	if err := a.exchange(params); err != nil {
		return err
	}
	a.swapped = false
	return nil
}

func (a *Averager) exchange(params []*Param) error {
	cs, err := checkParams(params, false)
	if err != nil {
		return err
	}
	for _, c := range cs {
		b, ok := a.avg[c.p.Name]
		if !ok {
			return errors.Errorf("solvers: no average for parameter %q", c.p.Name)
		}
		if !slices.Equal(b.shape, c.shape) || b.dtype() != c.dt {
			return errors.Errorf("solvers: parameter %q is %v %v but its average is %v %v",
				c.p.Name, c.dt, c.shape, b.dtype(), b.shape)
		}
	}
	for _, c := range cs {
		b := a.avg[c.p.Name]
		if b.f32 != nil {
			swap(b.f32, c.w.f32)
		} else {
			swap(b.f64, c.w.f64)
		}
		c.w.flush()
	}
	return nil
}

func swap[T any](a, b []T) {
	for i := range a {
		a[i], b[i] = b[i], a[i]
	}
}

// exportState copies the averages into s.
func (a *Averager) exportState(s *State) {
	s.Average = make(map[string]Tensor, len(a.avg))
	s.AverageCount = make(map[string]int64, len(a.avg))
	for n, b := range a.avg {
		s.Average[n] = b.export()
		s.AverageCount[n] = a.count[n]
	}
}

// importState replaces the averages with deep copies of those in s.
func (a *Averager) importState(s State) error {
	avg := make(map[string]buffer, len(s.Average))
	count := make(map[string]int64, len(s.Average))
	for n, t := range s.Average {
		b, err := importTensor(n, t)
		if err != nil {
			return errors.Wrap(err, "average")
		}
		c, ok := s.AverageCount[n]
		if !ok || c <= 0 {
			return errors.Errorf("solvers: average %q has count %d; want > 0", n, c)
		}
		if err := checkFinite(n, b); err != nil {
			return errors.Wrap(err, "average")
		}
		avg[n], count[n] = b, c
	}
	for n := range s.AverageCount {
		if _, ok := s.Average[n]; !ok {
			return errors.Errorf("solvers: average count for %q without an average", n)
		}
	}
	a.avg, a.count, a.swapped = avg, count, false
	return nil
}

// State returns a deep copy of the averages (only the Average fields of
// State are set). It fails while the averages are swapped in.
func (a *Averager) State() (State, error) {
	if a.swapped {
		return State{}, errors.New("solvers: averager state requested while averages are swapped in; call SwapOut first")
	}
	var s State
	a.exportState(&s)
	return s, nil
}

// SetState replaces the averages with deep copies of s.Average and
// s.AverageCount; other fields of s are ignored.
// It fails while the averages are swapped in.
func (a *Averager) SetState(s State) error {
	if a.swapped {
		return errors.New("solvers: averager SetState while averages are swapped in; call SwapOut first")
	}
	return a.importState(s)
}

func checkFinite(name string, b buffer) error {
	ok := true
	if b.f32 != nil {
		for _, v := range b.f32 {
			ok = ok && !math.IsNaN(float64(v)) && !math.IsInf(float64(v), 0)
		}
	} else {
		for _, v := range b.f64 {
			ok = ok && !math.IsNaN(v) && !math.IsInf(v, 0)
		}
	}
	if !ok {
		return errors.Errorf("solvers: %q holds a NaN or infinite value", name)
	}
	return nil
}
