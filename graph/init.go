package graph

import (
	"math"
	"math/rand/v2"
)

// ParamInfo describes a parameter to an Initializer.
type ParamInfo struct {
	Name  string
	Kind  Kind
	Shape []int
	FanIn int // inputs per output unit: C*R*S for a conv, In for a linear layer
}

// Initializer fills a new parameter's values (float64, converted to the
// graph's dtype afterwards) from rng, a stream private to the parameter.
type Initializer interface {
	Init(p ParamInfo, rng *rand.Rand, data []float64)
}

// Caffe is the initialisation of Caffe's bvlc_googlenet (the paper's
// release): "xavier" weights, uniform in ±sqrt(3/fan_in) (Caffe's default
// FillerParameter variance_norm FAN_IN), and constant biases. Batch-norm
// scale 1 and shift 0 (Caffe's GoogLeNet has no batch norm).
type Caffe struct {
	BiasValue float64 // bvlc_googlenet: 0.2
}

// Init implements Initializer.
func (c Caffe) Init(p ParamInfo, rng *rand.Rand, data []float64) {
	switch p.Kind {
	case Weight:
		a := math.Sqrt(3 / float64(max(p.FanIn, 1)))
		for i := range data {
			data[i] = (2*rng.Float64() - 1) * a
		}
	case Bias:
		fill(data, c.BiasValue)
	case BNScale:
		fill(data, 1)
	case BNShift:
		fill(data, 0)
	}
}

// Torchvision is the initialisation of torchvision's GoogLeNet
// (_initialize_weights): conv and linear weights from a normal distribution
// with standard deviation Std (0 means 0.01) truncated at ±2 standard
// deviations; batch-norm scale 1 and shift 0. Biases (only the linear layers
// have them) keep PyTorch's default nn.Linear init, uniform in
// ±1/sqrt(fan_in).
//
// Current torchvision calls trunc_normal_(std=0.01, a=-2, b=2) whose bounds
// are absolute, so its draws are practically untruncated; older releases
// truncated at ±2σ (scipy truncnorm(-2, 2, scale=0.01)), which is what this
// initialiser does. The difference is below 5% of the draws.
type Torchvision struct {
	Std float64
}

// Init implements Initializer.
func (t Torchvision) Init(p ParamInfo, rng *rand.Rand, data []float64) {
	std := t.Std
	if std == 0 {
		std = 0.01
	}
	switch p.Kind {
	case Weight:
		for i := range data {
			v := rng.NormFloat64()
			for v < -2 || v > 2 { // rejection: truncate at ±2σ
				v = rng.NormFloat64()
			}
			data[i] = v * std
		}
	case Bias:
		a := 1 / math.Sqrt(float64(max(p.FanIn, 1)))
		for i := range data {
			data[i] = (2*rng.Float64() - 1) * a
		}
	case BNScale:
		fill(data, 1)
	case BNShift:
		fill(data, 0)
	}
}

func fill(d []float64, v float64) {
	for i := range d {
		d[i] = v
	}
}
