package torchvision

import (
	"github.com/goinception/googlenet/inception"
	"github.com/goinception/googlenet/preprocess"
)

// Contract returns the input contract of a torchvision GoogLeNet state
// dict's model, recognised by its structure: a three-channel model with
// 1000 classes is laid out like the published IMAGENET1K_V1 weights, which
// torchvision runs with transform_input on (preprocess.Torchvision); other
// three-channel ones (fine-tuned on other classes, built with
// transform_input=False) get torchvision's ImageNet normalisation without
// it (preprocess.TorchvisionNormalize). Either is scaled to the model's
// input size (preprocess.Contract.ScaledTo). nil for other channel counts.
func Contract(cfg inception.Config) *preprocess.Contract {
	if cfg.InChannels != 3 {
		return nil
	}
	c := preprocess.TorchvisionNormalize()
	if cfg.Classes == 1000 {
		c = preprocess.Torchvision()
	}
	c = c.ScaledTo(cfg.InputSize)
	return &c
}
