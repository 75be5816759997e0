package main

import (
	"flag"
	"fmt"
	"strings"

	"github.com/goinception/googlenet/eval"
	"github.com/goinception/googlenet/inception"
	"github.com/goinception/googlenet/preprocess"
)

// contractFlags override fields of a model's input contract (package
// preprocess); each flag left empty keeps the field the weights carry.
type contractFlags struct {
	name, channels, means, stds, resize, interp, affine *string
	scale                                               *float64
	size                                                *int
}

func addContractFlags(fs *flag.FlagSet) *contractFlags {
	f := addEncodingFlags(fs)
	interps := make([]string, len(preprocess.Interps))
	for i, m := range preprocess.Interps {
		interps[i] = string(m)
	}
	f.resize = fs.String("input-resize", "", "resize policy: shorter (shorter side to --input-resize-to, centre crop), whole (whole image to S x S, centre crop) or square")
	f.size = fs.Int("input-resize-to", 0, "the resize size S (the crop is the model's input size)")
	f.interp = fs.String("input-interp", "", "interpolation: "+strings.Join(interps, ", "))
	return f
}

// addEncodingFlags registers the contract flags that say how pixels are
// encoded, not the geometry ones (--input-resize, --input-resize-to,
// --input-interp): train's, whose geometry is the training pipeline's.
func addEncodingFlags(fs *flag.FlagSet) *contractFlags {
	return &contractFlags{
		name:     fs.String("input", "", "input contract to use instead of the one the weights carry: torchvision, imagenet (torchvision without transform_input), onnx-zoo, caffe or native;\nthe --input-* flags below then change single fields (see docs/pretrained.md)"),
		channels: fs.String("input-channels", "", "channel order of the model input: RGB, BGR or gray"),
		scale:    fs.Float64("input-scale", 0, "pixel scale before normalisation: 1 (0..1) or 255 (0..255)"),
		means:    fs.String("input-mean", "", "per-channel means on the --input-scale, in the model's channel order, comma-separated"),
		stds:     fs.String("input-std", "", "per-channel standard deviations on the --input-scale, comma-separated (\"none\": no division)"),
		resize:   new(string), size: new(int), interp: new(string),
		affine: fs.String("input-affine", "", "fixed affine step after normalisation: torchvision (transform_input) or none"),
	}
}

// set reports whether any flag was given.
func (f *contractFlags) set() bool {
	return *f.name != "" || *f.channels != "" || *f.scale != 0 || *f.means != "" || *f.stds != "" ||
		*f.resize != "" || *f.size != 0 || *f.interp != "" || *f.affine != ""
}

// apply returns c with the flags' overrides for a model of configuration
// cfg, validated against it.
func (f *contractFlags) apply(c preprocess.Contract, cfg inception.Config) (preprocess.Contract, error) {
	if *f.name != "" {
		if *f.name == "native" {
			m, s := c.Means255()
			c = preprocess.Native(cfg.InChannels, cfg.InputSize, m, s)
		} else {
			n, err := preprocess.Named(*f.name)
			if err != nil {
				return c, err
			}
			c = n
			if c.Crop != cfg.InputSize {
				c.Size = max(cfg.InputSize, c.Size*cfg.InputSize/c.Crop)
				c.Crop = cfg.InputSize
			}
		}
	}
	changed := *f.name != ""
	if *f.channels != "" {
		switch strings.ToLower(*f.channels) {
		case "rgb":
			c.Channels = preprocess.RGB
		case "bgr":
			c.Channels = preprocess.BGR
		case "gray", "grey":
			c.Channels = preprocess.Gray
		default:
			return c, fmt.Errorf("--input-channels %q: want RGB, BGR or gray", *f.channels)
		}
		changed = true
	}
	if *f.scale != 0 {
		c.Scale, changed = float32(*f.scale), true
	}
	if *f.means != "" {
		v, err := parseFloats(*f.means)
		if err != nil {
			return c, fmt.Errorf("--input-mean: %v", err)
		}
		c.Means, changed = v, true
	}
	if *f.stds != "" {
		if *f.stds == "none" {
			c.Stds = nil
		} else {
			v, err := parseFloats(*f.stds)
			if err != nil {
				return c, fmt.Errorf("--input-std: %v", err)
			}
			c.Stds = v
		}
		changed = true
	}
	if *f.resize != "" {
		c.Resize, changed = preprocess.ResizeMode(*f.resize), true
	}
	if *f.size != 0 {
		c.Size, changed = *f.size, true
	}
	if *f.interp != "" {
		c.Interp, changed = preprocess.Interp(*f.interp), true
	}
	switch *f.affine {
	case "":
	case "none":
		c.Affine, changed = nil, true
	case "torchvision":
		c.Affine, changed = preprocess.TransformInput(), true
	default:
		return c, fmt.Errorf("--input-affine %q: want torchvision or none", *f.affine)
	}
	if changed && *f.name == "" && !strings.HasSuffix(c.Name, " (changed)") && c.Name != "" {
		c.Name += " (changed)"
	}
	if err := c.Fits(cfg.InChannels, cfg.InputSize); err != nil {
		return c, err
	}
	return c, nil
}

// applyMembers sets every member's input contract (the one its weights
// carry, with the flags' overrides) and returns the first member's, for the
// one stderr line that says which contract is in use.
func (f *contractFlags) applyMembers(members []eval.Member) (preprocess.Contract, error) {
	var first preprocess.Contract
	for i := range members {
		c, err := f.apply(members[i].Contract(), members[i].Model.Config())
		if err != nil {
			return c, fmt.Errorf("%s: %v", members[i].Name(), err)
		}
		members[i].Meta.Input = &c
		if i == 0 {
			first = c
		}
	}
	return first, nil
}
