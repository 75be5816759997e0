package inception

import (
	"fmt"
	"slices"

	"github.com/pkg/errors"
	"gorgonia.org/tensor"

	"github.com/goinception/googlenet/graph"
	"github.com/goinception/googlenet/ops"
)

// Variant names a preset configuration.
const (
	VariantPaper       = "paper"       // Caffe bvlc_googlenet, the paper's release (default)
	VariantTorchvision = "torchvision" // torchvision.models.googlenet (batch norm)
	VariantMini        = "mini"        // small images (MNIST, CIFAR)
)

// Variants lists the preset names.
var Variants = []string{VariantPaper, VariantTorchvision, VariantMini}

// Config describes a GoogLeNet. Start from a preset (Paper, Torchvision,
// Mini or ConfigFor) and change fields; every field that departs from the
// paper is a named option below.
type Config struct {
	Variant    string // a name for summaries
	InChannels int    // image channels (3 for RGB)
	InputSize  int    // input height = width (224 in the paper)
	Classes    int    // output classes (1000 for ImageNet)
	// BatchSize is the batch of the training graph (Model.Step). Inference
	// graphs are built for whatever batch Forward receives.
	BatchSize int
	Dtype     tensor.Dtype // tensor.Float32 (default) or tensor.Float64
	Seed      uint64       // initialisation and dropout masks
	Init      graph.Initializer
	// Engine runs the float32 kernels of every graph of the model (see
	// graph.Options.Engine): nil is ops.Reference, the pure-Go
	// specification; cpu.New gives the fast CPU engine, cuda.NewEngine the
	// GPU. It is not part of the model's description: checkpoints and ONNX
	// metadata do not store it.
	Engine ops.Engine `json:"-"`
	// AuxWeight weighs the auxiliary losses: loss = main + AuxWeight*(aux1+aux2).
	// The paper uses 0.3. Model.SetAuxWeight changes it between steps.
	AuxWeight float64

	// Stem widths: conv1 (7x7/2), conv2 reduce (1x1) and conv2 (3x3).
	Conv1, Conv2Reduce, Conv2 int
	// Table lists the Inception modules in order (Table1 for the paper).
	Table []Row

	// Deviations from the paper (each applied at one line of build).

	// SmallStem replaces the paper's stem (conv 7x7/2, pool, conv 1x1, conv
	// 3x3, pool: a 16x reduction) with conv 3x3/1 and one 3x3/2 max pool
	// (2x), for small images. Mini only.
	SmallStem bool
	// NoLRN drops the two local response normalisations of the stem
	// (torchvision has none).
	NoLRN bool
	// BatchNorm makes every convolution conv (no bias) -> batch norm ->
	// ReLU, as torchvision's BasicConv2d, with epsilon BNEps.
	BatchNorm bool
	BNEps     float64
	// Branch3Kernel is the kernel of the third branch's convolution: 5 in
	// the paper; torchvision uses 3 (pytorch/vision#906, a bug inherited
	// from the TensorFlow port that its weights need).
	Branch3Kernel int
	// LastPoolKernel is the max pool before the last stage (before 5a in
	// Table 1): 3 (3x3/2) in the paper, 2 (2x2/2) in torchvision.
	LastPoolKernel int
	// Dropout before the classifier: 0.4 in the paper, 0.2 in torchvision.
	Dropout float64
	// Auxiliary classifiers: pool, 1x1 conv with AuxConv channels, fully
	// connected AuxFC + ReLU, dropout AuxDropout, linear to Classes.
	// AuxAdaptivePool 0 is the paper's average pool 5x5/3; n > 0 is an
	// adaptive average pool to n x n (torchvision: 4).
	AuxAdaptivePool int
	AuxConv         int     // 128 in the paper
	AuxFC           int     // 1024 in the paper
	AuxDropout      float64 // 0.7 in the paper
	// Naive builds the modules of Figure 2(a) (no 1x1 reductions) instead
	// of the dimension-reduced ones of Figure 2(b).
	Naive bool
}

// Paper returns the paper's GoogLeNet as released by Caffe (bvlc_googlenet):
// 3x224x224 input, 1000 classes, LRN, 5x5 branches, ceil-mode pools, a 3x3/2
// pool before 5a, dropout 0.4, auxiliary heads with an average pool 5x5/3,
// xavier initialisation with bias 0.2.
func Paper() Config {
	return Config{
		Variant: VariantPaper, InChannels: 3, InputSize: 224, Classes: 1000, BatchSize: 32,
		Dtype: tensor.Float32, Init: graph.Caffe{BiasValue: 0.2}, AuxWeight: 0.3,
		Conv1: 64, Conv2Reduce: 64, Conv2: 192, Table: Table1,
		Branch3Kernel: 5, LastPoolKernel: 3, Dropout: 0.4,
		AuxConv: 128, AuxFC: 1024, AuxDropout: 0.7,
	}
}

// Torchvision returns the topology of torchvision.models.googlenet, whose
// pretrained weights need it: batch norm (eps 1e-3) after every convolution,
// no LRN, 3x3 in the third branch, a 2x2/2 pool before 5a, dropout 0.2,
// auxiliary heads with an adaptive 4x4 average pool, torchvision's init.
func Torchvision() Config {
	c := Paper()
	c.Variant = VariantTorchvision
	c.Init = graph.Torchvision{}
	c.NoLRN = true
	c.BatchNorm, c.BNEps = true, 1e-3
	c.Branch3Kernel = 3
	c.LastPoolKernel = 2
	c.Dropout = 0.2
	c.AuxAdaptivePool = 4
	return c
}

// Mini returns a small GoogLeNet for 28x28 to 64x64 images (default: MNIST,
// 1x28x28, 10 classes): a small stem (conv 3x3 with 16 channels, one max
// pool), the four modules of MiniTable with batch norm, two auxiliary heads
// (adaptive 4x4 pool, 1x1 conv 32, fc 64), dropout 0.2.
func Mini() Config {
	return Config{
		Variant: VariantMini, InChannels: 1, InputSize: 28, Classes: 10, BatchSize: 32,
		Dtype: tensor.Float32, Init: graph.Torchvision{}, AuxWeight: 0.3,
		Conv1: 16, Table: MiniTable, SmallStem: true, NoLRN: true,
		BatchNorm: true, BNEps: 1e-3, Branch3Kernel: 5, LastPoolKernel: 3, Dropout: 0.2,
		AuxAdaptivePool: 4, AuxConv: 32, AuxFC: 64, AuxDropout: 0.5,
	}
}

// ConfigFor returns the preset named variant ("" means paper).
func ConfigFor(variant string) (Config, error) {
	switch variant {
	case "", VariantPaper:
		return Paper(), nil
	case VariantTorchvision:
		return Torchvision(), nil
	case VariantMini:
		return Mini(), nil
	}
	return Config{}, errors.Errorf("inception: unknown variant %q (want one of %v)", variant, Variants)
}

// WithoutAux returns c without auxiliary classifiers: its own copy of
// the table with every row's Aux cleared (c's table is not changed).
func (c Config) WithoutAux() Config {
	c.Table = slices.Clone(c.Table)
	for i := range c.Table {
		c.Table[i].Aux = 0
	}
	return c
}

// Validate checks the configuration (sizes positive, rates in range, aux
// heads numbered 1 and 2 at most once each). Input sizes too small for the
// network are reported by the build, naming the layer that does not fit.
func (c Config) Validate() error {
	var bad []string
	check := func(ok bool, format string, args ...interface{}) {
		if !ok {
			bad = append(bad, fmt.Sprintf(format, args...))
		}
	}
	check(c.InChannels > 0, "InChannels %d must be positive", c.InChannels)
	check(c.InputSize > 0, "InputSize %d must be positive", c.InputSize)
	check(c.Classes > 0, "Classes %d must be positive", c.Classes)
	check(c.BatchSize > 0, "BatchSize %d must be positive", c.BatchSize)
	check(c.Dtype == tensor.Float32 || c.Dtype == tensor.Float64 || c.Dtype == (tensor.Dtype{}), "Dtype %v not supported", c.Dtype)
	check(c.AuxWeight >= 0, "AuxWeight %g must not be negative", c.AuxWeight)
	check(c.Conv1 > 0, "Conv1 %d must be positive", c.Conv1)
	check(c.SmallStem || (c.Conv2Reduce > 0 && c.Conv2 > 0), "Conv2Reduce %d and Conv2 %d must be positive", c.Conv2Reduce, c.Conv2)
	check(len(c.Table) > 0, "Table is empty")
	check(c.Branch3Kernel > 0 && c.Branch3Kernel%2 == 1, "Branch3Kernel %d must be odd", c.Branch3Kernel)
	check(c.LastPoolKernel > 0, "LastPoolKernel %d must be positive", c.LastPoolKernel)
	check(c.Dropout >= 0 && c.Dropout < 1, "Dropout %g must be in [0,1)", c.Dropout)
	check(c.AuxDropout >= 0 && c.AuxDropout < 1, "AuxDropout %g must be in [0,1)", c.AuxDropout)
	check(c.AuxAdaptivePool >= 0, "AuxAdaptivePool %d must not be negative", c.AuxAdaptivePool)
	check(!c.BatchNorm || c.BNEps > 0, "BNEps %g must be positive with BatchNorm", c.BNEps)
	seen := map[int]bool{}
	names := map[string]bool{}
	for i, r := range c.Table {
		check(r.Name != "" && !names[r.Name], "Table[%d]: name %q empty or repeated", i, r.Name)
		names[r.Name] = true
		check(r.C1x1 > 0 && r.C3x3 > 0 && r.C5x5 > 0 && r.PoolProj > 0, "Table[%d] (%s): branch widths must be positive", i, r.Name)
		check(c.Naive || (r.C3x3Reduce > 0 && r.C5x5Reduce > 0), "Table[%d] (%s): reduce widths must be positive", i, r.Name)
		check(r.Aux >= 0 && r.Aux <= 2 && !(r.Aux > 0 && seen[r.Aux]), "Table[%d] (%s): Aux %d must be 0, 1 or 2, each once", i, r.Name, r.Aux)
		seen[r.Aux] = true
		if r.Aux > 0 {
			check(c.AuxConv > 0 && c.AuxFC > 0, "AuxConv %d and AuxFC %d must be positive", c.AuxConv, c.AuxFC)
		}
	}
	if seen[2] && !seen[1] {
		bad = append(bad, "Aux 2 without Aux 1")
	}
	if len(bad) > 0 {
		return errors.Errorf("inception: invalid config: %v", bad)
	}
	return nil
}

func (c Config) dtype() tensor.Dtype {
	if c.Dtype == (tensor.Dtype{}) {
		return tensor.Float32
	}
	return c.Dtype
}
