package torchvision

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"

	"github.com/pkg/errors"

	"github.com/goinception/googlenet/inception"
	"github.com/goinception/googlenet/interchange/safetensors"
	"github.com/goinception/googlenet/interchange/torchpth"
)

// Tensor is one tensor of a state dict, as float32 in row-major order.
type Tensor struct {
	Shape []int
	Data  []float32
	// Int reports an integer tensor (such as num_batches_tracked).
	Int bool
}

// StateDict is a PyTorch state dict: tensors by key, and the keys in file
// order.
type StateDict struct {
	Names   []string
	Tensors map[string]Tensor
}

// FromTorchPth converts a state dict read by package torchpth.
func FromTorchPth(sd *torchpth.StateDict) *StateDict {
	out := &StateDict{Names: append([]string(nil), sd.Names...), Tensors: map[string]Tensor{}}
	for k, t := range sd.Tensors {
		out.Tensors[k] = Tensor{Shape: t.Shape, Data: t.Data, Int: t.Ints != nil}
	}
	return out
}

// FromSafetensors converts a safetensors file holding a state dict
// (floating-point tensors, and I64 counters).
func FromSafetensors(f *safetensors.File) (*StateDict, error) {
	out := &StateDict{Tensors: map[string]Tensor{}}
	for _, t := range f.Tensors {
		var d Tensor
		switch t.DType {
		case safetensors.F32, safetensors.F64, safetensors.F16, safetensors.BF16:
			v, err := t.Float32s()
			if err != nil {
				return nil, errors.Wrapf(err, "torchvision: tensor %q", t.Name)
			}
			d = Tensor{Shape: t.Shape, Data: v}
		case safetensors.I64:
			v, err := t.Int64s()
			if err != nil {
				return nil, errors.Wrapf(err, "torchvision: tensor %q", t.Name)
			}
			d = Tensor{Shape: t.Shape, Data: make([]float32, len(v)), Int: true}
			for i, x := range v {
				d.Data[i] = float32(x)
			}
		default:
			return nil, errors.Errorf("torchvision: tensor %q has dtype %s, want a floating-point type", t.Name, t.DType)
		}
		out.Names = append(out.Names, t.Name)
		out.Tensors[t.Name] = d
	}
	return out, nil
}

// ImageNet normalisation of torchvision's pretrained models on the 0..255
// scale: mean (0.485, 0.456, 0.406) and std (0.229, 0.224, 0.225) times 255.
var (
	Means = []float32{123.675, 116.28, 103.53}
	Stds  = []float32{58.395, 57.12, 57.375}
)

// Options configures Import. The zero value imports for 224x224 inputs.
type Options struct {
	InputSize int // 0 means 224
}

// maxListed bounds the names an error lists.
const maxListed = 8

func list(names []string) string {
	sort.Strings(names)
	if len(names) > maxListed {
		return strings.Join(names[:maxListed], ", ") + fmt.Sprintf(" and %d more", len(names)-maxListed)
	}
	return strings.Join(names, ", ")
}

// Import builds our torchvision variant from a state dict of
// torchvision.models.googlenet: every parameter and batch-norm running
// statistic by torchvision's key (see inception.TorchvisionName). Input
// channels and classes come from conv1.conv.weight and fc.weight. The
// auxiliary heads (aux1.*, aux2.*) are optional, but all or nothing: without
// them the model has no auxiliary heads. num_batches_tracked counters are
// ignored. It is strict, and each error names the tensors: missing or
// unexpected keys, shapes that differ from the variant's, integer tensors
// where weights belong, NaN or Inf values.
func Import(sd *StateDict, o Options) (*inception.Model, error) {
	if sd == nil || len(sd.Tensors) == 0 {
		return nil, errors.New("torchvision: empty state dict")
	}
	for _, k := range sd.sorted() {
		t := sd.Tensors[k]
		for i, v := range t.Data {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				return nil, errors.Errorf("torchvision: tensor %q holds %v at flat index %d", k, v, i)
			}
		}
	}
	cfg := inception.Torchvision()
	cfg.BatchSize = 1
	if o.InputSize > 0 {
		cfg.InputSize = o.InputSize
	}
	fc, ok := sd.Tensors["fc.weight"]
	if !ok || len(fc.Shape) != 2 {
		return nil, errors.New("torchvision: not a torchvision GoogLeNet state dict: no 2-D fc.weight")
	}
	cfg.Classes = fc.Shape[0]
	c1, ok := sd.Tensors["conv1.conv.weight"]
	if !ok || len(c1.Shape) != 4 {
		return nil, errors.New("torchvision: not a torchvision GoogLeNet state dict: no 4-D conv1.conv.weight")
	}
	cfg.InChannels = c1.Shape[1]
	aux := false
	for k := range sd.Tensors {
		if strings.HasPrefix(k, "aux1.") || strings.HasPrefix(k, "aux2.") {
			aux = true
		}
	}
	if !aux {
		cfg = cfg.WithoutAux()
	}
	m, err := inception.New(cfg)
	if err != nil {
		return nil, errors.Wrap(err, "torchvision: model")
	}
	// Our tensors by torchvision key: parameters and running statistics.
	type target struct {
		name  string
		shape []int
		f32   []float32
		f64   []float64
	}
	want := map[string]target{}
	for _, p := range m.Params() {
		tv, err := inception.TorchvisionName(p.Name)
		if err != nil {
			return nil, errors.Wrap(err, "torchvision")
		}
		tg := target{name: p.Name, shape: p.Shape}
		switch d := p.Value.Data().(type) {
		case []float32:
			tg.f32 = d
		case []float64:
			tg.f64 = d
		}
		want[tv] = tg
	}
	bnPrefixes := map[string]bool{}
	for _, e := range m.BNStats() {
		for suffix, dst := range map[string][]float64{"/running_mean": e.Stats.Mean, "/running_var": e.Stats.Var} {
			tv, err := inception.TorchvisionName(e.Name + suffix)
			if err != nil {
				return nil, errors.Wrap(err, "torchvision")
			}
			want[tv] = target{name: e.Name + suffix, shape: []int{len(dst)}, f64: dst}
			bnPrefixes[strings.TrimSuffix(tv, suffix[strings.LastIndex(suffix, "/")+1:])] = true
		}
	}
	var unexpected, missing, bad []string
	for k, t := range sd.Tensors {
		if strings.HasSuffix(k, ".num_batches_tracked") && bnPrefixes[strings.TrimSuffix(k, "num_batches_tracked")] {
			continue
		}
		tg, ok := want[k]
		if !ok {
			unexpected = append(unexpected, k)
			continue
		}
		if t.Int {
			bad = append(bad, fmt.Sprintf("%s is an integer tensor", k))
		} else if !slices.Equal(t.Shape, tg.shape) {
			bad = append(bad, fmt.Sprintf("%s has shape %v, want %v", k, t.Shape, tg.shape))
		}
	}
	for k := range want {
		if _, ok := sd.Tensors[k]; !ok {
			missing = append(missing, k)
		}
	}
	switch {
	case len(bad) > 0:
		return nil, errors.Errorf("torchvision: state dict does not fit the %s variant (%d inputs, %d classes): %s",
			cfg.Variant, cfg.InChannels, cfg.Classes, list(bad))
	case len(missing) > 0:
		return nil, errors.Errorf("torchvision: state dict lacks %d tensors: %s", len(missing), list(missing))
	case len(unexpected) > 0:
		return nil, errors.Errorf("torchvision: state dict has %d unexpected tensors: %s", len(unexpected), list(unexpected))
	}
	for k, tg := range want {
		src := sd.Tensors[k].Data
		if tg.f32 != nil {
			copy(tg.f32, src)
			continue
		}
		for i, v := range src {
			tg.f64[i] = float64(v)
		}
	}
	return m, nil
}

func (sd *StateDict) sorted() []string {
	ks := make([]string, 0, len(sd.Tensors))
	for k := range sd.Tensors {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}
