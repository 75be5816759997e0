package inception

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/goinception/googlenet/graph"
)

// moduleWeights returns the weights (no biases) of a dimension-reduced
// module with k3 as the third branch's kernel.
func moduleWeights(in int, r Row, k3 int) int64 {
	return int64(in*r.C1x1 + in*r.C3x3Reduce + r.C3x3Reduce*9*r.C3x3 +
		in*r.C5x5Reduce + r.C5x5Reduce*k3*k3*r.C5x5 + in*r.PoolProj)
}

// moduleBiases returns the biases of a module (one per conv output).
func moduleBiases(r Row) int64 {
	return int64(r.C1x1 + r.C3x3Reduce + r.C3x3 + r.C5x5Reduce + r.C5x5 + r.PoolProj)
}

// TestTable1AsData checks Table 1 as data: each module's input depth is the
// previous output depth, spatial sizes follow the strides (28 -> 14 -> 7 at
// the max pools), and every module's parameters and multiply-adds match the
// formula; inception 3a has 163,328 weights (the paper's 159K with K=1024)
// and 128.0M multiply-adds at 224x224.
func TestTable1AsData(t *testing.T) {
	s, err := Summarize(Paper())
	if err != nil {
		t.Fatal(err)
	}
	in, size := 192, 28 // conv2 output after pool2
	for _, r := range Table1 {
		if r.MaxPoolBefore {
			size /= 2 // the 3x3/2 ceil-mode pool halves even sizes
		}
		l, ok := s.Layer("inception_" + r.Name)
		if !ok {
			t.Fatalf("no row for inception_%s", r.Name)
		}
		if want := [3]int{r.OutChannels(), size, size}; l.Output != want {
			t.Errorf("%s: output %v, want %v", r.Name, l.Output, want)
		}
		w := moduleWeights(in, r, 5)
		if want := w + moduleBiases(r); l.Params != want {
			t.Errorf("%s: params %d, want %d", r.Name, l.Params, want)
		}
		if want := w * int64(size*size); l.MACs != want {
			t.Errorf("%s: MACs %d, want %d", r.Name, l.MACs, want)
		}
		in = r.OutChannels()
	}
	if w := moduleWeights(192, Table1[0], 5); w != 163328 {
		t.Errorf("3a weights %d, want 163,328", w)
	}
	if l, _ := s.Layer("inception_3a"); l.MACs != 128049152 {
		t.Errorf("3a MACs %d, want 128,049,152 (128.0M)", l.MACs)
	}
	// Stem and classifier rows.
	for name, want := range map[string][3]int{
		"conv1/7x7_s2": {64, 112, 112}, "pool1/3x3_s2": {64, 56, 56}, "conv2": {192, 56, 56},
		"pool2/3x3_s2": {192, 28, 28}, "pool3/3x3_s2": {480, 14, 14}, "pool4/3x3_s2": {832, 7, 7},
		"pool5/7x7_s1": {1024, 1, 1}, "loss3/classifier": {1000, 1, 1},
		"loss1/ave_pool": {512, 4, 4}, "loss2/ave_pool": {528, 4, 4}, "loss2/classifier": {1000, 1, 1},
	} {
		if l, ok := s.Layer(name); !ok || l.Output != want {
			t.Errorf("%s: output %v (found %v), want %v", name, l.Output, ok, want)
		}
	}
	if c1, _ := s.Layer("conv1/7x7_s2"); c1.Params != 9472 || c1.MACs != 118013952 {
		t.Errorf("conv1 params %d MACs %d, want 9,472 and 118.0M", c1.Params, c1.MACs)
	}
}

// Expected totals (../shared/reference/googlenet.md): the paper topology
// with biases has 6,998,552 parameters and about 1.583 G multiply-adds, the
// auxiliary heads 6,379,728 more; torchvision's topology 6,624,904
// (torchvision's own count) and about 1.498 G.
func TestTotals(t *testing.T) {
	const macTol = 0.0005e9 // the reference quotes three decimals of a G
	for _, c := range []struct {
		cfg            Config
		params, aux    int64
		gmacs          float64
		rows, auxRows  int
		batchNormCount int
	}{
		{Paper(), 6998552, 6379728, 1.583e9, 20, 10, 0},
		{Torchvision(), 6624904, 6379984, 1.498e9, 18, 10, 0},
	} {
		s, err := Summarize(c.cfg)
		if err != nil {
			t.Fatal(err)
		}
		if s.Total.Params != c.params || s.AuxTot.Params != c.aux {
			t.Errorf("%s: params %d aux %d, want %d and %d", c.cfg.Variant, s.Total.Params, s.AuxTot.Params, c.params, c.aux)
		}
		if d := float64(s.Total.MACs) - c.gmacs; d > macTol || d < -macTol {
			t.Errorf("%s: %d MACs, want about %g", c.cfg.Variant, s.Total.MACs, c.gmacs)
		}
		if len(s.Layers) != c.rows || len(s.Aux) != c.auxRows {
			t.Errorf("%s: %d rows + %d aux rows, want %d + %d", c.cfg.Variant, len(s.Layers), len(s.Aux), c.rows, c.auxRows)
		}
	}
}

func TestTorchvisionDeviations(t *testing.T) {
	s, err := Summarize(Torchvision())
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := s.Layer("pool1/norm1"); ok {
		t.Error("torchvision has an LRN")
	}
	if l, ok := s.Layer("pool4/2x2_s2"); !ok || l.Output != [3]int{832, 7, 7} {
		t.Errorf("pool before 5a: %+v %v, want 2x2/2 to 7x7", l, ok)
	}
	// Branch 3 is 3x3 and every conv has BN (2 per channel) instead of a bias.
	l, _ := s.Layer("inception_3a")
	r := Table1[0]
	if want := moduleWeights(192, r, 3) + 2*moduleBiases(r); l.Params != want {
		t.Errorf("torchvision 3a params %d, want %d", l.Params, want)
	}
}

func TestMini(t *testing.T) {
	for _, in := range []struct{ c, s int }{{1, 28}, {3, 32}, {3, 64}} {
		c := Mini()
		c.InChannels, c.InputSize = in.c, in.s
		s, err := Summarize(c)
		if err != nil {
			t.Fatalf("mini %dx%d: %v", in.c, in.s, err)
		}
		if len(s.Aux) != 10 {
			t.Errorf("mini: %d aux rows, want two heads of 5", len(s.Aux))
		}
		if in.s == 28 && s.Total.MACs > 5e6 {
			t.Errorf("mini at 28x28: %d MACs per image, want < 5M (about 1 ms per image)", s.Total.MACs)
		}
	}
}

func TestInputTooSmall(t *testing.T) {
	for _, c := range []struct {
		variant string
		size    int
	}{{VariantPaper, 64}, {VariantTorchvision, 16}, {VariantMini, 4}} {
		cfg, _ := ConfigFor(c.variant)
		cfg.InputSize = c.size
		_, err := Summarize(cfg)
		if err == nil || !strings.Contains(err.Error(), "too small") || !strings.Contains(err.Error(), c.variant) {
			t.Errorf("%s at %d: err = %v, want a 'too small' error naming the variant", c.variant, c.size, err)
		}
	}
}

func TestValidate(t *testing.T) {
	bad := map[string]func(*Config){
		"classes": func(c *Config) { c.Classes = 0 },
		"dropout": func(c *Config) { c.Dropout = 1 },
		"empty":   func(c *Config) { c.Table = nil },
		"aux twice": func(c *Config) {
			c.Table = []Row{{Name: "a", C1x1: 1, C3x3Reduce: 1, C3x3: 1, C5x5Reduce: 1, C5x5: 1, PoolProj: 1, Aux: 1}, {Name: "b", C1x1: 1, C3x3Reduce: 1, C3x3: 1, C5x5Reduce: 1, C5x5: 1, PoolProj: 1, Aux: 1}}
		},
		"even k3": func(c *Config) { c.Branch3Kernel = 4 },
		"bn eps":  func(c *Config) { c.BatchNorm, c.BNEps = true, 0 },
	}
	for name, mod := range bad {
		c := Paper()
		mod(&c)
		if err := c.Validate(); err == nil {
			t.Errorf("%s: accepted", name)
		}
		if _, err := New(c); err == nil {
			t.Errorf("%s: New accepted", name)
		}
	}
	if _, err := ConfigFor("resnet"); err == nil {
		t.Error("unknown variant accepted")
	}
}

func TestNaiveModule(t *testing.T) {
	b := graph.New(graph.Options{ShapesOnly: true})
	x := b.Input("data", 1, 192, 28, 28)
	r := Table1[0]
	y := Module(b, "inception_3a", x, r, ModuleOpts{Naive: true})
	if err := b.Err(); err != nil {
		t.Fatal(err)
	}
	// Figure 2(a): 1x1, 3x3 and 5x5 outputs plus the pooled input depth.
	if want := r.C1x1 + r.C3x3 + r.C5x5 + 192; y.Shape[1] != want {
		t.Fatalf("naive output depth %d, want %d", y.Shape[1], want)
	}
	if want := int64(192*(r.C1x1+9*r.C3x3+25*r.C5x5) + r.C1x1 + r.C3x3 + r.C5x5); b.NumParams() != want {
		t.Fatalf("naive params %d, want %d", b.NumParams(), want)
	}
}

func TestSummaryJSON(t *testing.T) {
	s, err := Summarize(Paper())
	if err != nil {
		t.Fatal(err)
	}
	raw, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Variant string `json:"variant"`
		Input   []int  `json:"input"`
		Layers  []struct {
			Name   string `json:"name"`
			Type   string `json:"type"`
			Output []int  `json:"output"`
			Params int64  `json:"params"`
			MACs   int64  `json:"macs"`
		} `json:"layers"`
		Aux   []json.RawMessage `json:"aux"`
		Total struct {
			Params int64 `json:"params"`
			MACs   int64 `json:"macs"`
		} `json:"total"`
	}
	if err := json.Unmarshal(raw, &got); err != nil {
		t.Fatal(err)
	}
	if got.Variant != "paper" || len(got.Input) != 3 || got.Input[1] != 224 || got.Total.Params != 6998552 ||
		len(got.Layers) != 20 || len(got.Aux) != 10 || got.Layers[0].Name != "conv1/7x7_s2" || len(got.Layers[0].Output) != 3 {
		t.Fatalf("JSON summary: %s", raw)
	}
}

func TestTorchvisionNames(t *testing.T) {
	b := graph.New(graph.Options{ShapesOnly: true})
	c := Torchvision()
	if _, err := buildChecked(b, c, b.Input("data", 1, 3, 224, 224), true); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	var names []string
	for _, p := range b.Params() {
		names = append(names, p.Name)
	}
	for _, e := range b.BNStats() {
		names = append(names, e.Name+"/running_mean", e.Name+"/running_var")
	}
	for _, n := range names {
		tv, err := TorchvisionName(n)
		if err != nil {
			t.Errorf("%s: %v", n, err)
			continue
		}
		if seen[tv] {
			t.Errorf("%s: torchvision name %s used twice", n, tv)
		}
		seen[tv] = true
		back, err := FromTorchvisionName(tv)
		if err != nil || back != n {
			t.Errorf("%s -> %s -> %s (%v)", n, tv, back, err)
		}
	}
	// torchvision's state_dict without num_batches_tracked: 59 BasicConv2d
	// (conv1-3, 9 modules x 6, 2 aux convs) x 5 tensors, and weight and bias
	// of aux1.fc1, aux1.fc2, aux2.fc1, aux2.fc2 and fc.
	if want := 59*5 + 10; len(seen) != want {
		t.Errorf("%d names, want %d", len(seen), want)
	}
	for ours, want := range map[string]string{
		"conv1/7x7_s2/w":                   "conv1.conv.weight",
		"conv2/3x3/bn/running_var":         "conv3.bn.running_var",
		"inception_3a/1x1/w":               "inception3a.branch1.conv.weight",
		"inception_4a/3x3_reduce/w":        "inception4a.branch2.0.conv.weight",
		"inception_5b/5x5/bn/scale":        "inception5b.branch3.1.bn.weight",
		"inception_4e/pool_proj/bn/shift":  "inception4e.branch4.1.bn.bias",
		"loss1/conv/w":                     "aux1.conv.conv.weight",
		"loss2/fc/b":                       "aux2.fc1.bias",
		"loss1/classifier/w":               "aux1.fc2.weight",
		"loss3/classifier/b":               "fc.bias",
		"conv2/3x3_reduce/bn/running_mean": "conv2.bn.running_mean",
	} {
		if got, err := TorchvisionName(ours); got != want || err != nil {
			t.Errorf("TorchvisionName(%s) = %s, %v; want %s", ours, got, err, want)
		}
	}
	for _, bad := range []string{"conv9/w", "inception_3a/7x7/w", "fc.weight.x", ""} {
		if _, err := TorchvisionName(bad); err == nil {
			t.Errorf("TorchvisionName(%q) accepted", bad)
		}
	}
	if _, err := FromTorchvisionName("conv1.bn.num_batches_tracked"); err == nil {
		t.Error("num_batches_tracked mapped")
	}
}

func TestWithoutAux(t *testing.T) {
	c := Paper()
	n := 0
	for _, r := range c.Table {
		if r.Aux != 0 {
			n++
		}
	}
	if n != 2 {
		t.Fatalf("paper table has %d aux rows, want 2", n)
	}
	d := c.WithoutAux()
	for i, r := range d.Table {
		if r.Aux != 0 {
			t.Errorf("row %d (%s) still feeds aux %d", i, r.Name, r.Aux)
		}
	}
	m := 0
	for _, r := range c.Table {
		if r.Aux != 0 {
			m++
		}
	}
	if m != 2 {
		t.Errorf("WithoutAux changed the original table: %d aux rows left, want 2", m)
	}
}
