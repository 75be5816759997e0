package eval

import (
	"strings"

	"github.com/pkg/errors"

	"github.com/goinception/googlenet/checkpoint"
	"github.com/goinception/googlenet/inception"
	"github.com/goinception/googlenet/interchange/convert"
	"github.com/goinception/googlenet/ops"
)

// LoadOptions configures LoadModel. The zero value is the default.
type LoadOptions struct {
	// Variant, when set, is the variant the weights must be for; a
	// checkpoint that records another variant is an error. (Weight files
	// that record no variant take it from here.)
	Variant string
	// LastIterate uses the checkpoint's last weights even when it carries
	// Polyak averages. By default the averages are used, as the paper
	// builds its final models.
	LastIterate bool
	// Engine runs the model's kernels (inception.Config.Engine); nil is
	// ops.Reference.
	Engine ops.Engine
}

// LoadModel loads a model for inference from a weights file: our
// safetensors checkpoints (package checkpoint), or a foreign file that
// package interchange/convert reads (a torchvision state dict as .pth, .pt
// or .safetensors, or an ONNX model), told apart by their first bytes.
// Every command that takes --weights goes through this one function, so
// that supporting another format here supports it everywhere. A foreign
// file has no Polyak averages, step or epoch; its labels, means and stds
// are those convert.Loaded reports. When the checkpoint carries Polyak
// averages of every weight, they replace the last weights (Meta.Polyak
// says so) unless o.LastIterate is set. The model is built with a training
// batch of 1 (its inference graphs take any batch).
func LoadModel(path string, o LoadOptions) (*inception.Model, Meta, error) {
	ld, err := convert.LoadForeign(path, convert.LoadOptions{})
	if err != nil {
		return nil, Meta{}, errors.Wrap(err, "eval: load weights")
	}
	if ld != nil {
		cfg := ld.Model.Config()
		if o.Variant != "" && cfg.Variant != o.Variant {
			return nil, Meta{}, errors.Errorf("eval: %s holds a %q model, not %q", path, cfg.Variant, o.Variant)
		}
		m := ld.Model
		if o.Engine != nil {
			if m, err = m.OnEngine(o.Engine); err != nil {
				return nil, Meta{}, errors.Wrapf(err, "eval: %s", path)
			}
		}
		return m, Meta{Source: path, Config: m.Config(), Labels: ld.Labels, Means: ld.Means, Stds: ld.Stds, Input: ld.Input, Softmax: ld.Softmax}, nil
	}
	ck, err := checkpoint.Load(path)
	if err != nil {
		return nil, Meta{}, errors.Wrap(err, "eval: load weights")
	}
	cm := ck.Meta
	if o.Variant != "" && cm.Config.Variant != o.Variant {
		return nil, Meta{}, errors.Errorf("eval: %s holds a %q model, not %q", path, cm.Config.Variant, o.Variant)
	}
	meta := Meta{
		Source: path, Config: cm.Config, Labels: cm.Classes,
		Means: cm.Means, Stds: cm.Stds, Step: cm.Step, Epoch: cm.Epoch, Input: cm.Input,
	}
	if len(meta.Labels) == 0 {
		meta.Labels = nil
	}
	if !o.LastIterate && ck.Solver != nil && len(ck.Solver.Average) > 0 {
		avg, err := ck.Averaged()
		if err != nil {
			return nil, Meta{}, errors.Wrapf(err, "eval: %s", path)
		}
		ck, meta.Polyak = avg, true
	}
	ck.Meta.Config.Engine = o.Engine
	m, err := ck.NewModel(1)
	if err != nil {
		return nil, Meta{}, errors.Wrapf(err, "eval: %s", path)
	}
	meta.Config = m.Config()
	return m, meta, nil
}

// LoadMembers loads each comma-separated path of paths (as `--weights
// a,b,c` gives them) with LoadModel: the members of an ensemble.
func LoadMembers(paths string, o LoadOptions) ([]Member, error) {
	var ms []Member
	for _, p := range strings.Split(paths, ",") {
		p = strings.TrimSpace(p)
		if p == "" {
			return nil, errors.Errorf("eval: empty path in weights list %q", paths)
		}
		m, meta, err := LoadModel(p, o)
		if err != nil {
			return nil, err
		}
		ms = append(ms, Member{Model: m, Meta: meta})
	}
	return ms, nil
}
