package eval

import (
	"github.com/pkg/errors"
	"gorgonia.org/tensor"

	"github.com/goinception/googlenet/cuda"
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
// batch size, the tail padded with zeros, so only one inference graph (or
// one device network) is built per model. run returns the logits (float64,
// n rows of classes values) of the n CHW inputs in x (n*C*S*S values,
// n <= batch).
type forwarder interface {
	run(x []float32, n int) ([]float64, error)
	close() error
}

// newForwarder returns the forwarder of m for batches of batch images: on
// d when it is not nil (a device-resident cuda.Net in evaluation mode:
// no dropout, no auxiliary heads, batch norm with the running
// statistics, built for inference only: no gradient or momentum buffers;
// only the images go to the device and the logits come back), else m's
// inference graph on its engine.
func newForwarder(d *cuda.Device, m *inception.Model, batch int) (forwarder, error) {
	if d == nil {
		return newGraphForwarder(m, batch), nil
	}
	cfg := m.Config()
	net, err := cuda.NewNetWith(d, m, batch, cuda.NetOptions{Inference: true})
	if err != nil {
		return nil, errors.Wrap(err, "eval: building the device network")
	}
	return &deviceForwarder{net: net, batch: batch, plane: cfg.InChannels * cfg.InputSize * cfg.InputSize,
		classes: cfg.Classes, buf: make([]float32, batch*cfg.InChannels*cfg.InputSize*cfg.InputSize)}, nil
}

// closeAll closes every forwarder of fs that is not nil and returns the
// first error.
func closeAll(fs []forwarder) error {
	var first error
	for _, f := range fs {
		if f == nil {
			continue
		}
		if err := f.close(); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// checkRun checks run's arguments.
func checkRun(x []float32, n, batch, plane int) error {
	if n <= 0 || n > batch || len(x) != n*plane {
		return errors.Errorf("eval: forward of %d inputs (%d values) on batches of %d", n, len(x), batch)
	}
	return nil
}

// graphForwarder runs the model's inference graph (Model.Forward).
type graphForwarder struct {
	model   *inception.Model
	batch   int
	c, s    int
	classes int
	f32     []float32
	f64     []float64
	x       *tensor.Dense
}

func newGraphForwarder(m *inception.Model, batch int) *graphForwarder {
	cfg := m.Config()
	f := &graphForwarder{model: m, batch: batch, c: cfg.InChannels, s: cfg.InputSize, classes: cfg.Classes}
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

func (f *graphForwarder) close() error { return nil }

func (f *graphForwarder) run(x []float32, n int) ([]float64, error) {
	if err := checkRun(x, n, f.batch, f.c*f.s*f.s); err != nil {
		return nil, err
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

// deviceForwarder runs a device-resident cuda.Net in evaluation mode
// (Net.Logits).
type deviceForwarder struct {
	net                   *cuda.Net
	batch, plane, classes int
	buf                   []float32
}

func (f *deviceForwarder) close() error { return f.net.Close() }

func (f *deviceForwarder) run(x []float32, n int) ([]float64, error) {
	if err := checkRun(x, n, f.batch, f.plane); err != nil {
		return nil, err
	}
	copy(f.buf, x)
	clear(f.buf[len(x):])
	y, err := f.net.Logits(f.buf)
	if err != nil {
		return nil, errors.Wrap(err, "eval: forward on the device")
	}
	out := make([]float64, n*f.classes)
	for i := range out {
		out[i] = float64(y[i])
	}
	return out, nil
}
