package inception

// Row is one Inception module: a row of the paper's Table 1 with the
// paper's column names. A user's own table is a []Row too.
type Row struct {
	// Name is the module's name in the paper ("3a"); the module's layers
	// are named "inception_<Name>/...".
	Name string
	// MaxPoolBefore puts a stride-2 max pool in front of the module (the
	// "max pool 3x3/2" rows of Table 1).
	MaxPoolBefore bool
	// Branch widths (output channels). C3x3Reduce and C5x5Reduce are the
	// 1x1 reductions in front of the 3x3 and 5x5 convolutions, PoolProj the
	// 1x1 projection after the 3x3 max pool.
	C1x1, C3x3Reduce, C3x3, C5x5Reduce, C5x5, PoolProj int
	// Aux, when 1 or 2, attaches auxiliary classifier Aux to the output of
	// this module (training graphs only).
	Aux int
}

// OutChannels returns the depth of the module's output: the four branches
// concatenated (dimension-reduced module of Figure 2(b)).
func (r Row) OutChannels() int { return r.C1x1 + r.C3x3 + r.C5x5 + r.PoolProj }

// Table1 is the Inception part of Table 1 of Szegedy et al. (2014): the
// nine modules of GoogLeNet, in order, with the max pools between stages
// and the two auxiliary classifiers on 4a and 4d.
var Table1 = []Row{
	{Name: "3a", C1x1: 64, C3x3Reduce: 96, C3x3: 128, C5x5Reduce: 16, C5x5: 32, PoolProj: 32},
	{Name: "3b", C1x1: 128, C3x3Reduce: 128, C3x3: 192, C5x5Reduce: 32, C5x5: 96, PoolProj: 64},
	{Name: "4a", MaxPoolBefore: true, C1x1: 192, C3x3Reduce: 96, C3x3: 208, C5x5Reduce: 16, C5x5: 48, PoolProj: 64, Aux: 1},
	{Name: "4b", C1x1: 160, C3x3Reduce: 112, C3x3: 224, C5x5Reduce: 24, C5x5: 64, PoolProj: 64},
	{Name: "4c", C1x1: 128, C3x3Reduce: 128, C3x3: 256, C5x5Reduce: 24, C5x5: 64, PoolProj: 64},
	{Name: "4d", C1x1: 112, C3x3Reduce: 144, C3x3: 288, C5x5Reduce: 32, C5x5: 64, PoolProj: 64, Aux: 2},
	{Name: "4e", C1x1: 256, C3x3Reduce: 160, C3x3: 320, C5x5Reduce: 32, C5x5: 128, PoolProj: 128},
	{Name: "5a", MaxPoolBefore: true, C1x1: 256, C3x3Reduce: 160, C3x3: 320, C5x5Reduce: 32, C5x5: 128, PoolProj: 128},
	{Name: "5b", C1x1: 384, C3x3Reduce: 192, C3x3: 384, C5x5Reduce: 48, C5x5: 128, PoolProj: 128},
}

// MiniTable is the module table of the mini variant: four modules with
// widths about an eighth of Table 1, sized for 28x28 to 64x64 inputs
// (MNIST, CIFAR). The auxiliary classifiers tap 3b and 4a (a third and two
// thirds of the depth, as 4a and 4d do in Table 1).
var MiniTable = []Row{
	{Name: "3a", C1x1: 8, C3x3Reduce: 8, C3x3: 16, C5x5Reduce: 4, C5x5: 8, PoolProj: 8},
	{Name: "3b", C1x1: 16, C3x3Reduce: 16, C3x3: 24, C5x5Reduce: 4, C5x5: 8, PoolProj: 8, Aux: 1},
	{Name: "4a", MaxPoolBefore: true, C1x1: 24, C3x3Reduce: 16, C3x3: 32, C5x5Reduce: 4, C5x5: 8, PoolProj: 8, Aux: 2},
	{Name: "4b", C1x1: 32, C3x3Reduce: 24, C3x3: 48, C5x5Reduce: 8, C5x5: 16, PoolProj: 16},
}
