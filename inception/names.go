package inception

import (
	"strings"

	"github.com/pkg/errors"
)

// Name mapping between this package's parameter names (Caffe's
// bvlc_googlenet layer names) and torchvision's GoogLeNet state_dict keys.

// tvLayers maps layer names outside the Inception modules.
var tvLayers = map[string]string{
	"conv1/7x7_s2":     "conv1",
	"conv2/3x3_reduce": "conv2",
	"conv2/3x3":        "conv3",
	"loss1/conv":       "aux1.conv",
	"loss1/fc":         "aux1.fc1",
	"loss1/classifier": "aux1.fc2",
	"loss2/conv":       "aux2.conv",
	"loss2/fc":         "aux2.fc1",
	"loss2/classifier": "aux2.fc2",
	"loss3/classifier": "fc",
}

// tvBranches maps the layers inside a module to torchvision's branches.
var tvBranches = map[string]string{
	"1x1":        "branch1",
	"3x3_reduce": "branch2.0",
	"3x3":        "branch2.1",
	"5x5_reduce": "branch3.0",
	"5x5":        "branch3.1",
	"pool_proj":  "branch4.1",
}

// tvSuffixes maps tensor suffixes of convolutions (torchvision's
// BasicConv2d: a conv and a bn) and of linear layers.
var (
	tvConvSuffixes = map[string]string{
		"w":               "conv.weight",
		"bn/scale":        "bn.weight",
		"bn/shift":        "bn.bias",
		"bn/running_mean": "bn.running_mean",
		"bn/running_var":  "bn.running_var",
	}
	tvLinearSuffixes = map[string]string{"w": "weight", "b": "bias"}
)

func invert(m map[string]string) map[string]string {
	r := make(map[string]string, len(m))
	for k, v := range m {
		r[v] = k
	}
	return r
}

var (
	tvLayersInv         = invert(tvLayers)
	tvBranchesInv       = invert(tvBranches)
	tvConvSuffixesInv   = invert(tvConvSuffixes)
	tvLinearSuffixesInv = invert(tvLinearSuffixes)
)

func isLinear(layer string) bool {
	return strings.HasSuffix(layer, "/fc") || strings.HasSuffix(layer, "/classifier")
}

// TorchvisionName returns the torchvision state_dict key of one of our
// tensor names in the torchvision variant: a parameter name (e.g.
// "inception_4a/3x3_reduce/w" -> "inception4a.branch2.0.conv.weight",
// "loss3/classifier/b" -> "fc.bias") or a batch-norm running statistic
// ("conv1/7x7_s2/bn/running_mean" -> "conv1.bn.running_mean").
// torchvision's num_batches_tracked counters have no counterpart.
func TorchvisionName(ours string) (string, error) {
	for _, split := range splits(ours) {
		layer, suffix := split[0], split[1]
		var tvLayer string
		if l, ok := tvLayers[layer]; ok {
			tvLayer = l
		} else if strings.HasPrefix(layer, "inception_") {
			mod, br, ok := strings.Cut(strings.TrimPrefix(layer, "inception_"), "/")
			b, known := tvBranches[br]
			if !ok || !known || mod == "" {
				continue
			}
			tvLayer = "inception" + mod + "." + b
		} else {
			continue
		}
		suffixes := tvConvSuffixes
		if isLinear(layer) {
			suffixes = tvLinearSuffixes
		}
		if s, ok := suffixes[suffix]; ok {
			return tvLayer + "." + s, nil
		}
	}
	return "", errors.Errorf("inception: %q has no torchvision counterpart", ours)
}

// FromTorchvisionName is the inverse of TorchvisionName.
func FromTorchvisionName(tv string) (string, error) {
	parts := strings.Split(tv, ".")
	// Try every split point: layer = parts[:i], suffix = parts[i:].
	for i := len(parts) - 1; i >= 1; i-- {
		layer, suffix := strings.Join(parts[:i], "."), strings.Join(parts[i:], ".")
		var ours string
		if l, ok := tvLayersInv[layer]; ok {
			ours = l
		} else if strings.HasPrefix(layer, "inception") {
			mod, br, ok := strings.Cut(strings.TrimPrefix(layer, "inception"), ".")
			b, known := tvBranchesInv[br]
			if !ok || !known || mod == "" {
				continue
			}
			ours = "inception_" + mod + "/" + b
		} else {
			continue
		}
		suffixes := tvConvSuffixesInv
		if isLinear(ours) {
			suffixes = tvLinearSuffixesInv
		}
		if s, ok := suffixes[suffix]; ok {
			return ours + "/" + s, nil
		}
	}
	return "", errors.Errorf("inception: torchvision key %q has no counterpart", tv)
}

// splits returns the (layer, suffix) splits of a name at each '/', longest
// layer first.
func splits(name string) [][2]string {
	var out [][2]string
	for i := len(name) - 1; i > 0; i-- {
		if name[i] == '/' {
			out = append(out, [2]string{name[:i], name[i+1:]})
		}
	}
	return out
}
