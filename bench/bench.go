package bench

import (
	"math"
	"math/rand/v2"
	"runtime"
	"sort"
	"strings"
	"time"

	"github.com/pkg/errors"
	"gonum.org/v1/gonum/blas/gonum"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/goinception/googlenet/cpu"
	"github.com/goinception/googlenet/inception"
	"github.com/goinception/googlenet/ops"
	"github.com/goinception/googlenet/solvers"
)

// Modes and engines accepted by Config.
const (
	ModeInfer = "infer" // Model.Forward: no auxiliary heads, dropout off
	ModeTrain = "train" // Model.Step with both aux heads, then an SGD momentum update

	EngineCPU       = "cpu"       // package cpu (OpenBLAS or the packed pure-Go GEMM)
	EngineReference = "reference" // ops.Reference and gonum's BLAS (the spec, slow)
)

// Config describes one benchmark. The zero value of every field but
// Variant means its documented default.
type Config struct {
	Variant   string // inception.Variants; "" means paper
	Mode      string // ModeInfer (default) or ModeTrain
	Batch     int    // images per batch; 0 means 8
	Iters     int    // timed iterations; 0 means 10
	Warmup    int    // untimed iterations before them; 0 means 2, negative means none
	InputSize int    // input height = width; 0 means the variant's (224, mini 28)
	Engine    string // EngineCPU (default) or EngineReference
	Seed      uint64 // weights and inputs
	// FreezeThrough, in ModeTrain, freezes the main path from the input
	// through this layer (inception.Summary.Through), as fine-tuning with a
	// frozen trunk does: the step computes no gradient for it.
	FreezeThrough string
}

func (c Config) resolved() (Config, error) {
	if c.Variant == "" {
		c.Variant = inception.VariantPaper
	}
	if c.Mode == "" {
		c.Mode = ModeInfer
	}
	if c.Mode != ModeInfer && c.Mode != ModeTrain {
		return c, errors.Errorf("bench: mode %q, want %q or %q", c.Mode, ModeInfer, ModeTrain)
	}
	if c.Batch == 0 {
		c.Batch = 8
	}
	if c.Iters == 0 {
		c.Iters = 10
	}
	if c.Warmup == 0 {
		c.Warmup = 2
	} else if c.Warmup < 0 {
		c.Warmup = 0
	}
	if c.Batch < 0 || c.Iters < 0 || c.InputSize < 0 {
		return c, errors.Errorf("bench: batch %d, iters %d and input %d must not be negative", c.Batch, c.Iters, c.InputSize)
	}
	if c.Mode == ModeTrain && c.Batch < 2 && c.Variant != inception.VariantPaper {
		// Batch norm needs more than one value per channel at 1x1 maps.
		return c, errors.Errorf("bench: training %s (batch norm) needs a batch of at least 2", c.Variant)
	}
	if c.Engine == "" {
		c.Engine = EngineCPU
	}
	if c.Engine != EngineCPU && c.Engine != EngineReference {
		return c, errors.Errorf("bench: engine %q, want %q or %q", c.Engine, EngineCPU, EngineReference)
	}
	return c, nil
}

// Result is what Run measured. The JSON names of the first six fields are
// the ones issue 6 asks for; the others describe the run.
type Result struct {
	Mode string `json:"mode"`
	// FreezeThrough is Config.FreezeThrough ("" when nothing is frozen).
	FreezeThrough string  `json:"freeze_through,omitempty"`
	Variant       string  `json:"variant"`
	Batch         int     `json:"batch"`
	ImgPerS       float64 `json:"img_per_s"`    // Batch / median batch time
	MsPerBatch    float64 `json:"ms_per_batch"` // median over the timed iterations
	PeakRSSBytes  int64   `json:"peak_rss_bytes"`

	InputSize int     `json:"input"`
	Iters     int     `json:"iters"`
	Warmup    int     `json:"warmup"`
	Engine    string  `json:"engine"` // the engine's own name, e.g. "cpu/libopenblas.so.0"
	Threads   int     `json:"threads"`
	MinMs     float64 `json:"min_ms"`
	MaxMs     float64 `json:"max_ms"`
	// MACsPerImage are the multiply-adds of one image's forward pass (main
	// path, plus the auxiliary heads in training); FLOPs per image are
	// 2·MACs for inference and 3·2·MACs for a training step (forward,
	// backward data, backward filter).
	MACsPerImage  int64   `json:"macs_per_image"`
	GFLOPs        float64 `json:"gflop_per_s"`
	SetupMs       float64 `json:"setup_ms"`         // building the model and graphs
	RSSAfterWarm  int64   `json:"rss_after_warmup"` // resident set after warm-up (VmRSS)
	RSSAtEnd      int64   `json:"rss_at_end"`       // ... and after the last iteration: flat memory means equal
	HeapAllocPerI int64   `json:"heap_alloc_per_iter_bytes"`
	// CPUMsPerBatch is the process's CPU time (user + system, all threads)
	// per timed iteration: unlike wall time it barely changes when other
	// processes share the cores, so CPUMsPerBatch/Threads estimates the
	// batch time on idle cores (a lower bound: it assumes perfect overlap).
	CPUMsPerBatch float64 `json:"cpu_ms_per_batch"`
	// Checked is what the benchmark verified about its own outputs.
	Checked string `json:"checked"`
}

// Run builds the model described by c, checks that its outputs are finite
// and depend on the input, and times c.Iters iterations after c.Warmup.
// The model runs on the engine c.Engine names (inception.Config.Engine);
// Gorgonia's own matrix products, which have no engine value, go through
// gorgonia.Use, which Run sets to the same BLAS and leaves set.
func Run(c Config) (Result, error) {
	c, err := c.resolved()
	if err != nil {
		return Result{}, err
	}
	eng := useEngine(c.Engine)
	mc, err := inception.ConfigFor(c.Variant)
	if err != nil {
		return Result{}, errors.Wrap(err, "bench")
	}
	mc.BatchSize = c.Batch
	mc.Seed = c.Seed
	mc.Engine = eng
	if c.InputSize > 0 {
		mc.InputSize = c.InputSize
	}
	start := time.Now()
	var o inception.Options
	if c.FreezeThrough != "" {
		if c.Mode != ModeTrain {
			return Result{}, errors.New("bench: FreezeThrough needs the train mode")
		}
		s, err := inception.Summarize(mc)
		if err != nil {
			return Result{}, errors.Wrap(err, "bench: model")
		}
		prefixes, err := s.Through(c.FreezeThrough)
		if err != nil {
			return Result{}, errors.Wrap(err, "bench")
		}
		o.Frozen = func(name string) bool {
			for _, p := range prefixes {
				if strings.HasPrefix(name, p) {
					return true
				}
			}
			return false
		}
	}
	m, err := inception.NewWith(mc, o)
	if err != nil {
		return Result{}, errors.Wrap(err, "bench: model")
	}
	r := Result{Mode: c.Mode, FreezeThrough: c.FreezeThrough, Variant: mc.Variant, Batch: c.Batch, InputSize: mc.InputSize,
		Iters: c.Iters, Warmup: c.Warmup, Engine: eng.Name(), Threads: runtime.GOMAXPROCS(0)}
	sum := m.Summary()
	r.MACsPerImage = sum.Total.MACs
	flopsPerImage := 2 * float64(sum.Total.MACs)
	if c.Mode == ModeTrain {
		r.MACsPerImage += sum.AuxTot.MACs
		flopsPerImage = 3 * 2 * float64(r.MACsPerImage)
	}

	// Two different inputs (and labels): iterations alternate between them.
	shape := []int{c.Batch, mc.InChannels, mc.InputSize, mc.InputSize}
	xs := [2]*tensor.Dense{randomInput(mc.Dtype, shape, c.Seed+1), randomInput(mc.Dtype, shape, c.Seed+2)}
	labels := [2][]int{make([]int, c.Batch), make([]int, c.Batch)}
	for i := range labels[0] {
		labels[0][i] = (7 * i) % mc.Classes
		labels[1][i] = (7*i + 3) % mc.Classes
	}

	r.SetupMs = ms(time.Since(start))
	var iter func(i int) error
	switch c.Mode {
	case ModeInfer:
		if r.Checked, err = checkInfer(m, xs); err != nil {
			return r, err
		}
		iter = func(i int) error {
			y, err := m.Forward(xs[i%2])
			if err != nil {
				return err
			}
			if !finiteDense(y) {
				return errors.Errorf("bench: iteration %d: logits are not finite", i)
			}
			return nil
		}
	case ModeTrain:
		// Activations and their gradients share memory by liveness
		// (Model.PlanTrainingMemory).
		if _, err := m.PlanTrainingMemory(); err != nil {
			return r, errors.Wrap(err, "bench")
		}
		if r.Checked, err = checkTrain(m, xs, labels); err != nil {
			return r, err
		}
		sgd, err := solvers.NewSGD(solvers.SGDConfig{LR: 0.01, Momentum: 0.9, WeightDecay: 2e-4, Engine: m.Config().Engine})
		if err != nil {
			return r, errors.Wrap(err, "bench")
		}
		params := m.Trainable()
		iter = func(i int) error {
			out, err := m.Step(xs[i%2], labels[i%2])
			if err != nil {
				return err
			}
			if !isFinite(out.Total) {
				return errors.Errorf("bench: iteration %d: loss %v is not finite", i, out.Total)
			}
			if _, err := sgd.Step(params); err != nil {
				return errors.Wrapf(err, "bench: iteration %d: SGD", i)
			}
			return nil
		}
	}

	for i := 0; i < c.Warmup; i++ {
		if err := iter(i); err != nil {
			return r, err
		}
	}
	r.RSSAfterWarm = currentRSS()
	var ms0, ms1 runtime.MemStats
	runtime.ReadMemStats(&ms0)
	cpu0 := cpuTime()
	times := make([]float64, c.Iters)
	for i := range times {
		t := time.Now()
		if err := iter(c.Warmup + i); err != nil {
			return r, err
		}
		times[i] = ms(time.Since(t))
	}
	cpu1 := cpuTime()
	runtime.ReadMemStats(&ms1)
	r.RSSAtEnd = currentRSS()
	r.PeakRSSBytes = PeakRSS()
	if c.Iters > 0 {
		r.HeapAllocPerI = int64(ms1.TotalAlloc-ms0.TotalAlloc) / int64(c.Iters)
		r.CPUMsPerBatch = ms(cpu1-cpu0) / float64(c.Iters)
		sort.Float64s(times)
		r.MsPerBatch = median(times)
		r.MinMs, r.MaxMs = times[0], times[len(times)-1]
		r.ImgPerS = float64(c.Batch) / (r.MsPerBatch / 1e3)
		if c.FreezeThrough == "" { // a frozen step's work is not 3x the forward's
			r.GFLOPs = flopsPerImage * r.ImgPerS / 1e9
		}
	}
	return r, nil
}

// useEngine returns the engine named e, after routing Gorgonia's own
// matrix products to the same BLAS.
func useEngine(e string) ops.Engine {
	if e == EngineReference {
		G.Use(gonum.Implementation{})
		return ops.Reference{}
	}
	eng := cpu.New(cpu.Options{})
	G.Use(cpu.NewBLAS(eng))
	return eng
}

// checkInfer runs x0, x1, x0 and requires finite logits, equal logits for
// the repeated input and different logits for the other one: the network
// computes from its input every time. An untrained network with batch norm
// in inference mode (running statistics 0 and 1) shrinks its activations
// layer after layer until the logits are the classifier's bias to float32
// precision, so the comparison runs with that bias set to zero (restored
// afterwards) and compares the logits relative to their size.
func checkInfer(m *inception.Model, xs [2]*tensor.Dense) (string, error) {
	if p, ok := m.Param(classifierBias); ok && p.Value != nil {
		saved := p.Value.Clone().(*tensor.Dense)
		p.Value.Zero()
		defer func() { _ = tensor.Copy(p.Value, saved) }()
	}
	var ys [3]*tensor.Dense
	for i, k := range []int{0, 1, 0} {
		y, err := m.Forward(xs[k])
		if err != nil {
			return "", errors.Wrap(err, "bench: check")
		}
		if !finiteDense(y) {
			return "", errors.New("bench: check: logits are not finite")
		}
		ys[i] = y
	}
	scale := maxAbs(ys[0])
	if d := maxAbsDiff(ys[0], ys[2]); d > repeatTol*scale {
		return "", errors.Errorf("bench: check: the same input gave logits %g apart (largest %g)", d, scale)
	}
	if d := maxAbsDiff(ys[0], ys[1]); !(d > changeTol*scale) || scale == 0 {
		return "", errors.Errorf("bench: check: different inputs gave logits only %g apart (largest %g)", d, scale)
	}
	return "logits finite every iteration; same input twice gives the same logits, a different input different ones", nil
}

// classifierBias is the bias of the main classifier (Caffe's name).
const classifierBias = "loss3/classifier/b"

// Tolerances of the output checks, relative to the largest logit (or the
// loss): a repeated input may differ by reduction order (it should not at
// all); a different input must move the logits by far more than rounding.
const (
	repeatTol = 1e-4
	changeTol = 1e-3
	// lossChangeTol: different inputs must move the loss by more than
	// float32 rounding of a sum over the batch.
	lossChangeTol = 1e-6
)

// checkTrain runs training steps (without updates) on x0, x1, x0 with the
// same dropout masks and requires finite losses, the same loss for the
// repeated input and a different one for the other input.
func checkTrain(m *inception.Model, xs [2]*tensor.Dense, labels [2][]int) (string, error) {
	step := m.Rand().Step
	var ls [3]float64
	for i, k := range []int{0, 1, 0} {
		m.Rand().Step = step
		l, err := m.Step(xs[k], labels[0])
		if err != nil {
			return "", errors.Wrap(err, "bench: check")
		}
		if !isFinite(l.Total) || !isFinite(l.Aux1) || !isFinite(l.Aux2) {
			return "", errors.Errorf("bench: check: losses %+v are not finite", l)
		}
		ls[i] = l.Total
	}
	m.Rand().Step = step
	if d := math.Abs(ls[0] - ls[2]); d > repeatTol*math.Max(1, math.Abs(ls[0])) {
		return "", errors.Errorf("bench: check: the same input gave losses %g and %g", ls[0], ls[2])
	}
	if d := math.Abs(ls[0] - ls[1]); !(d > lossChangeTol*math.Max(1, math.Abs(ls[0]))) {
		return "", errors.Errorf("bench: check: different inputs gave losses only %g apart", d)
	}
	for _, p := range m.Trainable() {
		if p.Grad == nil || !finiteDense(p.Grad) {
			return "", errors.Errorf("bench: check: gradient of %s missing or not finite", p.Name)
		}
	}
	return "losses and gradients finite; same input and dropout masks give the same loss, a different input a different one; loss finite every step", nil
}

func randomInput(dt tensor.Dtype, shape []int, seed uint64) *tensor.Dense {
	r := rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15))
	n := 1
	for _, d := range shape {
		n *= d
	}
	if dt == tensor.Float64 {
		v := make([]float64, n)
		for i := range v {
			v[i] = r.NormFloat64()
		}
		return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(v))
	}
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(r.NormFloat64())
	}
	return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(v))
}

func isFinite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

func finiteDense(t *tensor.Dense) bool {
	switch d := t.Data().(type) {
	case []float32:
		for _, v := range d {
			if !isFinite(float64(v)) {
				return false
			}
		}
	case []float64:
		for _, v := range d {
			if !isFinite(v) {
				return false
			}
		}
	default:
		return false
	}
	return true
}

func maxAbsDiff(a, b *tensor.Dense) float64 {
	fa, fb := toF64(a), toF64(b)
	if len(fa) != len(fb) {
		return math.Inf(1)
	}
	var m float64
	for i := range fa {
		m = math.Max(m, math.Abs(fa[i]-fb[i]))
	}
	return m
}

func maxAbs(t *tensor.Dense) float64 {
	var m float64
	for _, v := range toF64(t) {
		m = math.Max(m, math.Abs(v))
	}
	return m
}

func toF64(t *tensor.Dense) []float64 {
	switch d := t.Data().(type) {
	case []float32:
		out := make([]float64, len(d))
		for i, v := range d {
			out[i] = float64(v)
		}
		return out
	case []float64:
		return d
	}
	return nil
}

func median(sorted []float64) float64 {
	n := len(sorted)
	if n%2 == 1 {
		return sorted[n/2]
	}
	return (sorted[n/2-1] + sorted[n/2]) / 2
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
