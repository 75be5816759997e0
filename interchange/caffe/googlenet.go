package caffe

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"

	"github.com/pkg/errors"

	"github.com/goinception/googlenet/inception"
)

// Options configures ImportGoogLeNet. The zero value imports for 224x224
// inputs without a separate deploy network.
type Options struct {
	// InputSize is the model's input size; 0 means 224.
	InputSize int
	// Deploy, when set, is the deploy.prototxt network whose layer
	// parameters are checked as well as the .caffemodel's own.
	Deploy *Net
}

// ImportGoogLeNet builds our paper variant (package inception, Paper
// config: Caffe's bvlc_googlenet, whose layer names ours copy) from a
// .caffemodel's weights: layer L's first blob is parameter L/w and its
// second L/b. Input channels and classes come from conv1/7x7_s2 and
// loss3/classifier; the auxiliary heads (loss1/*, loss2/*) are optional but
// all or nothing. It is strict, and each error names the layers: every
// layer with blobs must be one of ours with exactly its weight and bias of
// the right shapes (legacy 4-D blob shapes with leading ones are accepted
// for inner products and biases), every parameter of the model must be
// present, and the structure must be GoogLeNet's: convolution strides,
// pads, groups and dilations, LRN sizes and constants, pooling methods,
// windows and strides, checked on the .caffemodel's layers and on
// o.Deploy's.
func ImportGoogLeNet(w *Net, o Options) (*inception.Model, error) {
	if w == nil {
		return nil, errors.New("caffe: nil network")
	}
	cfg := inception.Paper()
	cfg.BatchSize = 1
	if o.InputSize > 0 {
		cfg.InputSize = o.InputSize
	}
	fc := w.Layer("loss3/classifier")
	c1 := w.Layer("conv1/7x7_s2")
	if fc == nil || len(fc.Blobs) == 0 || c1 == nil || len(c1.Blobs) == 0 || len(c1.Blobs[0].Shape) != 4 {
		return nil, errors.Errorf("caffe: not a GoogLeNet (bvlc_googlenet): no blobs for conv1/7x7_s2 or loss3/classifier (%s)", w)
	}
	fs := fc.Blobs[0].Shape
	if len(fs) < 2 {
		return nil, errors.Errorf("caffe: loss3/classifier weight has shape %v", fs)
	}
	cfg.Classes = fs[len(fs)-2]
	cfg.InChannels = c1.Blobs[0].Shape[1]
	aux := false
	for _, l := range w.Layers {
		if len(l.Blobs) > 0 && (strings.HasPrefix(l.Name, "loss1/") || strings.HasPrefix(l.Name, "loss2/")) {
			aux = true
		}
	}
	if !aux {
		cfg = cfg.WithoutAux()
	}
	m, err := inception.New(cfg)
	if err != nil {
		return nil, errors.Wrap(err, "caffe: GoogLeNet")
	}
	if err := checkStructure(w); err != nil {
		return nil, err
	}
	if o.Deploy != nil {
		if err := checkStructure(o.Deploy); err != nil {
			return nil, errors.Wrap(err, "deploy network")
		}
	}
	var missing, bad []string
	used := map[string]int{}
	type copyJob struct {
		dst []float32
		src []float32
	}
	var jobs []copyJob
	for _, p := range m.Params() {
		i := strings.LastIndexByte(p.Name, '/')
		layer, kind := p.Name[:i], p.Name[i+1:]
		bi := map[string]int{"w": 0, "b": 1}[kind]
		l := w.Layer(layer)
		if l == nil || len(l.Blobs) <= bi {
			missing = append(missing, p.Name)
			continue
		}
		used[layer]++
		b := l.Blobs[bi]
		shape := squeeze(b.Shape, len(p.Shape))
		if !slices.Equal(shape, p.Shape) {
			bad = append(bad, fmt.Sprintf("%s blob %d has shape %v, want %v", layer, bi, b.Shape, p.Shape))
			continue
		}
		dst, ok := p.Value.Data().([]float32)
		if !ok {
			return nil, errors.New("caffe: the model is not float32")
		}
		jobs = append(jobs, copyJob{dst, b.Data})
	}
	var unused []string
	for _, l := range w.Layers {
		if len(l.Blobs) > 0 && used[l.Name] != len(l.Blobs) {
			unused = append(unused, fmt.Sprintf("%s (%d blobs, %d used)", l.Name, len(l.Blobs), used[l.Name]))
		}
	}
	switch {
	case len(bad) > 0:
		return nil, errors.Errorf("caffe: blobs do not fit GoogLeNet (%d inputs, %d classes): %s", cfg.InChannels, cfg.Classes, list(bad))
	case len(missing) > 0:
		return nil, errors.Errorf("caffe: the network lacks %d parameters: %s", len(missing), list(missing))
	case len(unused) > 0:
		return nil, errors.Errorf("caffe: %d layers have blobs GoogLeNet does not use: %s", len(unused), list(unused))
	}
	for _, j := range jobs {
		copy(j.dst, j.src)
	}
	return m, nil
}

// squeeze drops leading ones of shape until it has n dimensions (legacy
// blobs are 4-D: an inner product's weight is 1x1xOUTxIN, a bias
// 1x1x1xOUT).
func squeeze(shape []int, n int) []int {
	for len(shape) > n && shape[0] == 1 {
		shape = shape[1:]
	}
	return shape
}

// checkStructure compares the layer parameters of n with GoogLeNet's.
func checkStructure(n *Net) error {
	var bad []string
	for _, l := range n.Layers {
		base := l.Name[strings.LastIndexByte(l.Name, '/')+1:]
		switch l.Type {
		case "Convolution":
			c := l.Conv
			if c == nil {
				bad = append(bad, l.Name+": no convolution_param")
				continue
			}
			stride, pad := 1, (c.Kernel-1)/2
			if l.Name == "conv1/7x7_s2" {
				stride, pad = 2, 3
			}
			if c.Stride != stride || c.Pad != pad || c.Group != 1 || c.Dilation != 1 || !c.BiasTerm {
				bad = append(bad, fmt.Sprintf("%s: kernel %d stride %d pad %d group %d dilation %d bias %v (want stride %d pad %d, no groups or dilation, a bias)",
					l.Name, c.Kernel, c.Stride, c.Pad, c.Group, c.Dilation, c.BiasTerm, stride, pad))
			}
		case "LRN":
			r := l.LRN
			if r == nil || r.Size != 5 || math.Abs(r.Alpha-1e-4) > 1e-9 || math.Abs(r.Beta-0.75) > 1e-7 || r.K != 1 || r.WithinChannel {
				bad = append(bad, fmt.Sprintf("%s: LRN %+v (want across channels, size 5, alpha 1e-4, beta 0.75, k 1)", l.Name, r))
			}
		case "Pooling":
			p := l.Pool
			if p == nil {
				bad = append(bad, l.Name+": no pooling_param")
				continue
			}
			want := Pool{Method: "MAX", Kernel: 3, Stride: 2}
			switch {
			case base == "pool":
				want = Pool{Method: "MAX", Kernel: 3, Stride: 1, Pad: 1}
			case base == "ave_pool":
				want = Pool{Method: "AVE", Kernel: 5, Stride: 3}
			case strings.HasPrefix(l.Name, "pool5"):
				want = Pool{Method: "AVE", Kernel: 7, Stride: 1}
				if p.Global {
					want = Pool{Method: "AVE", Global: true, Stride: p.Stride}
				}
			}
			if want.Global != p.Global || want.Method != p.Method || (!p.Global && (want.Kernel != p.Kernel || want.Stride != p.Stride || want.Pad != p.Pad)) {
				bad = append(bad, fmt.Sprintf("%s: %s pool %d/%d pad %d (want %s %d/%d pad %d)", l.Name, p.Method, p.Kernel, p.Stride, p.Pad, want.Method, want.Kernel, want.Stride, want.Pad))
			}
		case "InnerProduct", "ReLU", "Concat", "Dropout", "Softmax", "SoftmaxWithLoss", "Accuracy",
			"Data", "Input", "ImageData", "MemoryData", "Split":
		default:
			if len(l.Blobs) > 0 {
				bad = append(bad, fmt.Sprintf("%s: layer type %s with blobs", l.Name, l.Type))
			} else {
				bad = append(bad, fmt.Sprintf("%s: layer type %s is not part of GoogLeNet", l.Name, l.Type))
			}
		}
	}
	if len(bad) > 0 {
		return errors.Errorf("caffe: not GoogLeNet's structure: %s", list(bad))
	}
	return nil
}

const maxListed = 8

func list(names []string) string {
	sort.Strings(names)
	if len(names) > maxListed {
		return strings.Join(names[:maxListed], "; ") + fmt.Sprintf("; and %d more", len(names)-maxListed)
	}
	return strings.Join(names, "; ")
}
