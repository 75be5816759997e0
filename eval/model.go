package eval

import (
	"github.com/pkg/errors"
	"gorgonia.org/tensor"

	"github.com/goinception/googlenet/inception"
	"github.com/goinception/googlenet/preprocess"
)

// Meta describes a trained model beyond its weights: what its outputs mean
// and how its inputs were normalised.
type Meta struct {
	// Source names where the model came from (a checkpoint path).
	Source string `json:"source"`
	// Config is the model's configuration (variant, input size, channels,
	// classes).
	Config inception.Config `json:"-"`
	// Labels are the class names, one per output; nil when unknown.
	Labels []string `json:"labels,omitempty"`
	// Means and Stds are the per-channel input normalisation on the 0..255
	// scale, (x - mean) / std, as training applied it; nil skips.
	Means []float32 `json:"means,omitempty"`
	Stds  []float32 `json:"stds,omitempty"`
	// Input is the input contract (package preprocess): how an image
	// becomes the model's input. nil means the project's native contract
	// with Means and Stds (see Member.Contract).
	Input *preprocess.Contract `json:"input,omitempty"`
	// Softmax says that the weight file's declared output is softmax
	// probabilities (an ONNX graph ending in Softmax, as the model zoo's);
	// the model itself returns the logits before it.
	Softmax bool `json:"softmax,omitempty"`
	// Polyak says that the weights are the Polyak averages of the training
	// weights (the checkpoint had them), not the last iterate.
	Polyak bool `json:"polyak"`
	// Step and Epoch locate the checkpoint in its training run.
	Step  int64 `json:"step"`
	Epoch int   `json:"epoch"`
}

// Member is one model of an evaluation: a network and its metadata.
type Member struct {
	Model *inception.Model
	Meta  Meta
}

// Contract returns the member's input contract: Meta.Input when set, else
// preprocess.Native with the model's channels and input size and the
// Meta's Means and Stds.
func (m Member) Contract() preprocess.Contract {
	if m.Meta.Input != nil {
		return m.Meta.Input.Clone()
	}
	cfg := m.Model.Config()
	return preprocess.Native(cfg.InChannels, cfg.InputSize, m.Meta.Means, m.Meta.Stds)
}

// Name returns the member's source, or "model" when it has none.
func (m Member) Name() string {
	if m.Meta.Source != "" {
		return m.Meta.Source
	}
	return "model"
}

// forwarder runs a model on fixed-size batches: every call uses the same
// batch size, the tail padded with zeros, so only one inference graph is
// built per model.
type forwarder struct {
	model   *inception.Model
	batch   int
	c, s    int
	classes int
	f32     []float32
	f64     []float64
	x       *tensor.Dense
}

func newForwarder(m *inception.Model, batch int) *forwarder {
	cfg := m.Config()
	f := &forwarder{model: m, batch: batch, c: cfg.InChannels, s: cfg.InputSize, classes: cfg.Classes}
	n := batch * f.c * f.s * f.s
	if cfg.Dtype == tensor.Float64 {
		f.f64 = make([]float64, n)
		f.x = tensor.New(tensor.WithShape(batch, f.c, f.s, f.s), tensor.WithBacking(f.f64))
	} else {
		f.f32 = make([]float32, n)
		f.x = tensor.New(tensor.WithShape(batch, f.c, f.s, f.s), tensor.WithBacking(f.f32))
	}
	return f
}

// run returns the logits (float64, n rows of classes values) of the n
// CHW inputs in x (n*C*S*S values, n <= batch).
func (f *forwarder) run(x []float32, n int) ([]float64, error) {
	plane := f.c * f.s * f.s
	if n <= 0 || n > f.batch || len(x) != n*plane {
		return nil, errors.Errorf("eval: forward of %d inputs (%d values) on batches of %d", n, len(x), f.batch)
	}
	if f.f64 != nil {
		for i, v := range x {
			f.f64[i] = float64(v)
		}
		clear(f.f64[len(x):])
	} else {
		copy(f.f32, x)
		clear(f.f32[len(x):])
	}
	y, err := f.model.Forward(f.x)
	if err != nil {
		return nil, errors.Wrap(err, "eval: forward")
	}
	out := make([]float64, n*f.classes)
	switch v := y.Data().(type) {
	case []float32:
		for i := range out {
			out[i] = float64(v[i])
		}
	case []float64:
		copy(out, v[:len(out)])
	default:
		return nil, errors.Errorf("eval: logits of dtype %v", y.Dtype())
	}
	return out, nil
}
