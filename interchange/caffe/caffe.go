package caffe

import (
	"fmt"
	"math"
	"os"
	"strconv"

	"github.com/pkg/errors"
	"google.golang.org/protobuf/encoding/prototext"
	"google.golang.org/protobuf/proto"

	"github.com/goinception/googlenet/interchange/caffe/internal/pb"
)

// MaxFileSize bounds the .caffemodel and .prototxt files ReadFile and
// ReadPrototxt accept (bvlc_googlenet.caffemodel is 53 MB).
const MaxFileSize = 1 << 30

// maxElements bounds a blob's element count (the product of its shape).
const maxElements = 1 << 28

// Blob is one parameter tensor of a layer, in row-major order.
type Blob struct {
	Shape []int
	Data  []float32
}

// Conv holds a Convolution layer's geometry (square kernels, as GoogLeNet
// has; asymmetric ones are read as their height).
type Conv struct {
	NumOutput, Kernel, Stride, Pad, Group, Dilation int
	BiasTerm                                        bool
}

// Pool holds a Pooling layer's parameters.
type Pool struct {
	Method              string // "MAX", "AVE" or "STOCHASTIC"
	Kernel, Stride, Pad int
	Global              bool
}

// LRN holds an LRN layer's parameters.
type LRN struct {
	Size          int
	Alpha, Beta   float64
	K             float64
	WithinChannel bool
}

// Layer is one layer of a network: its name, type (the current names:
// "Convolution", "InnerProduct", ...; V1 enum types are translated), wiring,
// blobs and the parameters of the types GoogLeNet uses.
type Layer struct {
	Name, Type  string
	Bottom, Top []string
	Blobs       []Blob
	Conv        *Conv
	Pool        *Pool
	LRN         *LRN
	NumOutput   int // InnerProduct
	Dropout     float64
}

// Net is a Caffe NetParameter: from a .caffemodel (with blobs) or a
// deploy .prototxt (without).
type Net struct {
	Name   string
	Layers []Layer
	// Legacy reports that the file used the V1 `layers` field.
	Legacy bool
}

// v1Types names the V1 LayerType values by their current type names.
var v1Types = map[pb.V1LayerParameter_LayerType]string{
	pb.V1LayerParameter_CONVOLUTION: "Convolution", pb.V1LayerParameter_RELU: "ReLU",
	pb.V1LayerParameter_POOLING: "Pooling", pb.V1LayerParameter_LRN: "LRN",
	pb.V1LayerParameter_CONCAT: "Concat", pb.V1LayerParameter_DROPOUT: "Dropout",
	pb.V1LayerParameter_INNER_PRODUCT: "InnerProduct", pb.V1LayerParameter_SOFTMAX: "Softmax",
	pb.V1LayerParameter_SOFTMAX_LOSS: "SoftmaxWithLoss", pb.V1LayerParameter_ACCURACY: "Accuracy",
	pb.V1LayerParameter_DATA: "Data", pb.V1LayerParameter_SPLIT: "Split",
	pb.V1LayerParameter_IMAGE_DATA: "ImageData", pb.V1LayerParameter_MEMORY_DATA: "MemoryData",
}

// Decode parses a binary NetParameter (the contents of a .caffemodel) and
// checks every blob: a shape from `shape` or the legacy
// num/channels/height/width with positive dimensions, exactly as many
// values as the shape holds, and finite values.
func Decode(b []byte) (*Net, error) {
	var np pb.NetParameter
	if err := (proto.UnmarshalOptions{}).Unmarshal(b, &np); err != nil {
		return nil, errors.Wrap(err, "caffe: not a Caffe NetParameter")
	}
	return fromProto(&np, true)
}

// ReadFile reads a .caffemodel (binary NetParameter) with Decode.
func ReadFile(path string) (*Net, error) {
	b, err := readLimited(path)
	if err != nil {
		return nil, err
	}
	n, err := Decode(b)
	if err != nil {
		return nil, errors.Wrap(err, path)
	}
	return n, nil
}

// ParsePrototxt parses a text NetParameter (a deploy.prototxt). Fields this
// package does not model (fillers, learning-rate multipliers, data-layer
// settings) are skipped.
func ParsePrototxt(b []byte) (*Net, error) {
	var np pb.NetParameter
	if err := (prototext.UnmarshalOptions{DiscardUnknown: true}).Unmarshal(b, &np); err != nil {
		return nil, errors.Wrap(err, "caffe: prototxt")
	}
	return fromProto(&np, false)
}

// ReadPrototxt reads a deploy.prototxt with ParsePrototxt.
func ReadPrototxt(path string) (*Net, error) {
	b, err := readLimited(path)
	if err != nil {
		return nil, err
	}
	n, err := ParsePrototxt(b)
	if err != nil {
		return nil, errors.Wrap(err, path)
	}
	return n, nil
}

func readLimited(path string) ([]byte, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, errors.Wrap(err, "caffe")
	}
	if st.Size() > MaxFileSize {
		return nil, errors.Errorf("caffe: %s is %d bytes, over the %d-byte limit", path, st.Size(), int64(MaxFileSize))
	}
	b, err := os.ReadFile(path)
	return b, errors.Wrap(err, "caffe")
}

func fromProto(np *pb.NetParameter, blobs bool) (*Net, error) {
	n := &Net{Name: np.GetName()}
	if len(np.Layer) > 0 && len(np.Layers) > 0 {
		return nil, errors.New("caffe: the network has both `layer` and legacy `layers` entries")
	}
	for i, l := range np.Layer {
		ly := Layer{Name: l.GetName(), Type: l.GetType(), Bottom: l.Bottom, Top: l.Top}
		if err := ly.params(l.ConvolutionParam, l.PoolingParam, l.LrnParam, l.InnerProductParam, l.DropoutParam); err != nil {
			return nil, errors.Wrapf(err, "caffe: layer %d (%s)", i, ly.Name)
		}
		if err := ly.blobs(l.Blobs); err != nil {
			return nil, errors.Wrapf(err, "caffe: layer %d (%s)", i, ly.Name)
		}
		n.Layers = append(n.Layers, ly)
	}
	for i, l := range np.Layers {
		n.Legacy = true
		typ, ok := v1Types[l.GetType()]
		if !ok {
			typ = "V1:" + l.GetType().String()
		}
		ly := Layer{Name: l.GetName(), Type: typ, Bottom: l.Bottom, Top: l.Top}
		if err := ly.params(l.ConvolutionParam, l.PoolingParam, l.LrnParam, l.InnerProductParam, l.DropoutParam); err != nil {
			return nil, errors.Wrapf(err, "caffe: layer %d (%s)", i, ly.Name)
		}
		if err := ly.blobs(l.Blobs); err != nil {
			return nil, errors.Wrapf(err, "caffe: layer %d (%s)", i, ly.Name)
		}
		n.Layers = append(n.Layers, ly)
	}
	if len(n.Layers) == 0 {
		return nil, errors.New("caffe: the network has no layers")
	}
	seen := map[string]bool{}
	for _, l := range n.Layers {
		if l.Name == "" {
			return nil, errors.Errorf("caffe: a %s layer has no name", l.Type)
		}
		if seen[l.Name] {
			return nil, errors.Errorf("caffe: two layers named %q", l.Name)
		}
		seen[l.Name] = true
	}
	return n, nil
}

// first returns v[0], or def when v is empty.
func first(v []uint32, def uint32) uint32 {
	if len(v) == 0 {
		return def
	}
	return v[0]
}

func (l *Layer) params(cp *pb.ConvolutionParameter, pp *pb.PoolingParameter, lp *pb.LRNParameter, ip *pb.InnerProductParameter, dp *pb.DropoutParameter) error {
	const big = 1 << 20
	if cp != nil {
		c := &Conv{NumOutput: int(cp.GetNumOutput()), Kernel: int(first(cp.KernelSize, cp.GetKernelH())),
			Stride: int(first(cp.Stride, 1)), Pad: int(first(cp.Pad, cp.GetPadH())), Group: int(cp.GetGroup()),
			Dilation: int(first(cp.Dilation, 1)), BiasTerm: cp.GetBiasTerm()}
		if cp.StrideH != nil {
			c.Stride = int(cp.GetStrideH())
		}
		for _, v := range []int{c.NumOutput, c.Kernel, c.Stride, c.Pad, c.Group, c.Dilation} {
			if v < 0 || v > big {
				return errors.Errorf("convolution parameter %d out of range", v)
			}
		}
		l.Conv = c
	}
	if pp != nil {
		p := &Pool{Method: pp.GetPool().String(), Kernel: int(pp.GetKernelSize()), Stride: int(pp.GetStride()),
			Pad: int(pp.GetPad()), Global: pp.GetGlobalPooling()}
		if pp.KernelH != nil {
			p.Kernel = int(pp.GetKernelH())
		}
		if pp.StrideH != nil {
			p.Stride = int(pp.GetStrideH())
		}
		if pp.PadH != nil {
			p.Pad = int(pp.GetPadH())
		}
		for _, v := range []int{p.Kernel, p.Stride, p.Pad} {
			if v < 0 || v > big {
				return errors.Errorf("pooling parameter %d out of range", v)
			}
		}
		l.Pool = p
	}
	if lp != nil {
		l.LRN = &LRN{Size: int(lp.GetLocalSize()), Alpha: decimal(lp.GetAlpha()), Beta: decimal(lp.GetBeta()),
			K: decimal(lp.GetK()), WithinChannel: lp.GetNormRegion() == pb.LRNParameter_WITHIN_CHANNEL}
	}
	if ip != nil {
		if ip.GetTranspose() || ip.GetAxis() != 1 {
			return errors.New("inner product with transpose or axis other than 1 is not supported")
		}
		l.NumOutput = int(ip.GetNumOutput())
	}
	if dp != nil {
		l.Dropout = decimal(dp.GetDropoutRatio())
	}
	return nil
}

// decimal returns the float64 of a float32's shortest decimal form (the
// prototxt's 0.0001, not 9.999999747378752e-05).
func decimal(v float32) float64 {
	f, _ := strconv.ParseFloat(strconv.FormatFloat(float64(v), 'g', -1, 32), 64)
	return f
}

func (l *Layer) blobs(bs []*pb.BlobProto) error {
	for i, b := range bs {
		var shape []int
		if b.Shape != nil {
			for _, d := range b.Shape.Dim {
				if d <= 0 || d > maxElements {
					return errors.Errorf("blob %d: dimension %d in shape %v", i, d, b.Shape.Dim)
				}
				shape = append(shape, int(d))
			}
		} else {
			for _, d := range []int32{b.GetNum(), b.GetChannels(), b.GetHeight(), b.GetWidth()} {
				if d <= 0 || d > maxElements {
					return errors.Errorf("blob %d: legacy shape %dx%dx%dx%d", i, b.GetNum(), b.GetChannels(), b.GetHeight(), b.GetWidth())
				}
				shape = append(shape, int(d))
			}
		}
		n := 1
		for _, d := range shape {
			if n > maxElements/d {
				return errors.Errorf("blob %d: shape %v holds over %d values", i, shape, maxElements)
			}
			n *= d
		}
		var data []float32
		switch {
		case len(b.Data) > 0 && len(b.DoubleData) > 0:
			return errors.Errorf("blob %d has both float and double data", i)
		case len(b.DoubleData) > 0:
			data = make([]float32, len(b.DoubleData))
			for j, v := range b.DoubleData {
				data[j] = float32(v)
			}
		default:
			data = b.Data
		}
		if len(data) != n {
			return errors.Errorf("blob %d: shape %v holds %d values, the blob %d", i, shape, n, len(data))
		}
		for j, v := range data {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				return errors.Errorf("blob %d holds %v at flat index %d", i, v, j)
			}
		}
		l.Blobs = append(l.Blobs, Blob{Shape: shape, Data: data})
	}
	return nil
}

// Layer returns the layer called name, or nil.
func (n *Net) Layer(name string) *Layer {
	for i := range n.Layers {
		if n.Layers[i].Name == name {
			return &n.Layers[i]
		}
	}
	return nil
}

// String summarises the network: its name, layer count, form and the
// number of layers with blobs.
func (n *Net) String() string {
	form := "layer"
	if n.Legacy {
		form = "legacy V1 layers"
	}
	blobs := 0
	for _, l := range n.Layers {
		if len(l.Blobs) > 0 {
			blobs++
		}
	}
	return fmt.Sprintf("%q: %d layers (%s), %d with blobs", n.Name, len(n.Layers), form, blobs)
}
