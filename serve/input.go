package serve

import (
	"image"

	"github.com/pkg/errors"

	"github.com/goinception/googlenet/eval"
	"github.com/goinception/googlenet/inception"
	"github.com/goinception/googlenet/labels"
	"github.com/goinception/googlenet/preprocess"
)

// contractOf returns the input contract the classifier applies:
// Options.Input, else the one stored with the weights (meta.Input), else
// the project's native contract with meta's means and stds, as `googlenet
// predict --crops 1` does. It must fit the model.
func contractOf(m *inception.Model, meta eval.Meta, o Options) (preprocess.Contract, error) {
	c := eval.Member{Model: m, Meta: meta}.Contract()
	if o.Input != nil {
		c = o.Input.Clone()
	}
	if err := c.Validate(); err != nil {
		return c, errors.Wrap(err, "serve: input contract")
	}
	cfg := m.Config()
	if err := c.Fits(cfg.InChannels, cfg.InputSize); err != nil {
		return c, errors.Wrap(err, "serve: input contract")
	}
	return c, nil
}

// labelsOf returns the class names: Options.Labels, else those stored with
// the weights, else the ImageNet names for 1000 classes, else nil (class
// numbers).
func labelsOf(cfg inception.Config, meta eval.Meta, o Options) ([]string, error) {
	l := o.Labels
	if l == nil {
		l = meta.Labels
	}
	if l == nil {
		l = labels.For(cfg.Classes)
	}
	if l != nil && len(l) != cfg.Classes {
		return nil, errors.Errorf("serve: %d labels for %d classes", len(l), cfg.Classes)
	}
	return l, nil
}

// render writes the model input of img into dst under the contract. A
// preprocess.Contract is a value read by every caller at once: it is safe
// for concurrent use.
func render(c preprocess.Contract, dst []float32, img image.Image) error {
	return c.ApplyInto(dst, img)
}
