package serve

import (
	"image"

	"github.com/pkg/errors"

	"github.com/goinception/googlenet/eval"
)

// pipeline turns one decoded image into the model's input: CHW float32
// values, input x input, normalised as the weights expect. It is the one
// place the Classifier learns the input contract of its weights.
type pipeline interface {
	// render writes the input plane of img into dst (channels*input*input
	// values). It must be safe for concurrent use.
	render(dst []float32, img image.Image) error
	// describe says what render does, for logs and docs.
	describe() string
}

// centerCrop is the pipeline of `googlenet predict --crops 1` and of
// training's validation: the central square covering 224/256 of the
// shorter side, bilinearly scaled to the input size, converted to the
// model's channels and normalised by the means and stds stored with the
// weights (0..255 scale).
type centerCrop struct {
	input, channels int
	means, stds     []float32
}

func newPipeline(meta eval.Meta) pipeline {
	c := meta.Config
	return centerCrop{input: c.InputSize, channels: c.InChannels, means: meta.Means, stds: meta.Stds}
}

func (p centerCrop) render(dst []float32, img image.Image) error {
	b := img.Bounds()
	cs, err := eval.CenterCrops(b.Dx(), b.Dy(), p.input)
	if err != nil {
		return errors.Wrap(err, "serve: crop")
	}
	return eval.Render(dst, img, cs, p.input, p.channels, p.means, p.stds)
}

func (p centerCrop) describe() string {
	return "center crop (224/256 of the shorter side), bilinear, mean/std from the weights"
}
