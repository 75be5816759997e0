package train

import (
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/pkg/errors"

	"github.com/goinception/googlenet/checkpoint"
	"github.com/goinception/googlenet/eval"
	"github.com/goinception/googlenet/graph"
	"github.com/goinception/googlenet/inception"
	"github.com/goinception/googlenet/preprocess"
)

// InitWeights are the weights a run starts from (Config.InitFrom): the
// source's configuration, weights and batch-norm statistics, labels and
// input contract.
type InitWeights struct {
	Path    string
	Config  inception.Config
	Weights *checkpoint.Checkpoint
	// Labels are the source's class names (nil when unknown).
	Labels []string
	// Input is the source's input contract (eval.Member.Contract: the one
	// it records, else the project's native one with its means and stds).
	Input preprocess.Contract
}

// LoadInit reads the weights at path for Config.Init: any file
// eval.LoadModel reads (our checkpoints, with their Polyak averages when
// they have them; torchvision state dicts as .pth, .pt or .safetensors;
// ONNX GoogLeNets).
func LoadInit(path string) (*InitWeights, error) {
	m, meta, err := eval.LoadModel(path, eval.LoadOptions{})
	if err != nil {
		return nil, errors.Wrap(err, "train: init from")
	}
	ck, err := checkpoint.FromModel(m, nil, checkpoint.Meta{})
	if err != nil {
		return nil, errors.Wrap(err, "train: init from")
	}
	return &InitWeights{Path: path, Config: m.Config(), Weights: ck, Labels: meta.Labels,
		Input: eval.Member{Model: m, Meta: meta}.Contract()}, nil
}

// contractStats folds the encoding of contract c (scale, normalisation and
// affine step, see preprocess.Contract) into the per-channel mean and
// standard deviation on the 0..255 scale that data.Transform applies,
// (pixel - mean) / std, in RGB (or gray) order, and reports whether c takes
// its channels in BGR order. The training pipeline then feeds the source's
// weights the values they were trained on, up to float32 rounding.
func contractStats(c preprocess.Contract) (means, stds []float32, bgr bool, err error) {
	n := c.Channels.Channels()
	means, stds = make([]float32, n), make([]float32, n)
	for ch := 0; ch < n; ch++ {
		s := float64(c.Scale) / 255
		m, sd, k, d := 0.0, 1.0, 1.0, 0.0
		if ch < len(c.Means) {
			m = float64(c.Means[ch])
		}
		if ch < len(c.Stds) {
			sd = float64(c.Stds[ch])
		}
		if a := c.Affine; a != nil && ch < len(a.Scale) && ch < len(a.Shift) {
			k, d = float64(a.Scale[ch]), float64(a.Shift[ch])
		}
		if !(s > 0) || sd == 0 || k == 0 {
			return nil, nil, false, errors.Errorf("train: input contract %v cannot be written as a mean and std per channel", c)
		}
		// ((p*s - m)/sd)*k + d = (p - M)/S
		S := sd / (s * k)
		means[ch], stds[ch] = float32(m/s-d*S), float32(S)
	}
	if c.Channels == preprocess.BGR {
		means[0], means[2] = means[2], means[0]
		stds[0], stds[2] = stds[2], stds[0]
		bgr = true
	}
	return means, stds, bgr, nil
}

// swapInputChannels reorders the input channels 0 and 2 of the first
// convolution's weights in ck (name), so that a network trained on BGR
// input takes RGB input and computes the same.
func swapInputChannels(ck *checkpoint.Checkpoint, name string) error {
	t, ok := ck.Weights[name]
	if !ok || len(t.Shape) != 4 || t.Shape[1] != 3 || t.Float32 == nil {
		return errors.Errorf("train: cannot reorder the input channels of %s", name)
	}
	w := append([]float32(nil), t.Float32...)
	plane := t.Shape[2] * t.Shape[3]
	for o := 0; o < t.Shape[0]; o++ {
		r, b := w[(o*3)*plane:(o*3+1)*plane], w[(o*3+2)*plane:(o*3+3)*plane]
		for i := range r {
			r[i], b[i] = b[i], r[i]
		}
	}
	t.Float32 = w
	ck.Weights[name] = t
	return nil
}

// Mult is a multiplier for the parameters whose names start with Prefix
// (Config.LRMult, Config.DecayMult); the checkpoint's recipe records them.
type Mult = checkpoint.Mult

// ParseMults parses "PREFIX=M[,PREFIX=M...]" (the --lr-mult and
// --decay-mult flags): non-empty prefixes, finite non-negative values.
func ParseMults(s string) ([]Mult, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	var ms []Mult
	for _, part := range strings.Split(s, ",") {
		p, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok || p == "" {
			return nil, errors.Errorf("%q is not PREFIX=M", part)
		}
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || !(f >= 0) || f > 1e6 {
			return nil, errors.Errorf("%q: multiplier %q is not a number in [0, 1e6]", part, v)
		}
		ms = append(ms, Mult{Prefix: p, Value: f})
	}
	return ms, nil
}

// multFor returns the value of the last entry of ms whose prefix name has,
// and whether there is one.
func multFor(ms []Mult, name string) (float64, bool) {
	v, ok := 0.0, false
	for _, m := range ms {
		if strings.HasPrefix(name, m.Prefix) {
			v, ok = m.Value, true
		}
	}
	return v, ok
}

func hasAnyPrefix(name string, prefixes []string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	return false
}

// scopes returns each name followed by "/".
func scopes(names []string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = n + "/"
	}
	return out
}

// initConfig is the network of a run that starts from w: w's architecture
// with the dataset's classes, the run's seed and batch, and the overrides
// of c.Model (InputSize and AuxWeight when not zero; a Variant, when set,
// must be w's; its Engine runs the graphs).
func (c Config) initConfig(w *InitWeights, classes, channels int) (inception.Config, error) {
	mc := w.Config
	if v := c.Model.Variant; v != "" && v != mc.Variant {
		return mc, errors.Errorf("train: init from %s: it holds a %q model, the run asks for %q", w.Path, mc.Variant, v)
	}
	if mc.InChannels != channels {
		return mc, errors.Errorf("train: init from %s: the model takes %d input channels, the dataset has %d", w.Path, mc.InChannels, channels)
	}
	if c.Model.InputSize > 0 {
		mc.InputSize = c.Model.InputSize
	}
	if c.Model.AuxWeight > 0 {
		mc.AuxWeight = c.Model.AuxWeight
	}
	mc.Classes = classes
	mc.Seed = c.Seed
	mc.Engine = c.Model.Engine // the run's engine
	return mc, nil
}

// frozenPrefixes returns the parameter-name prefixes that Freeze and
// FreezeThrough freeze in the network mc.
func (c Config) frozenPrefixes(mc inception.Config) ([]string, error) {
	ps := slices.Clone(c.Freeze)
	if c.FreezeThrough != "" {
		s, err := inception.Summarize(mc)
		if err != nil {
			return nil, errors.Wrap(err, "train: freeze through")
		}
		through, err := s.Through(c.FreezeThrough)
		if err != nil {
			return nil, errors.Wrap(err, "train: freeze through")
		}
		ps = append(ps, through...)
	}
	return ps, nil
}

// checkPrefixes reports the prefixes of Freeze, LRMult and DecayMult that
// match no parameter of m.
func (c Config) checkPrefixes(m *inception.Model) error {
	var names []string
	for _, p := range m.Params() {
		names = append(names, p.Name)
	}
	var bad []string
	check := func(flag, prefix string) {
		for _, n := range names {
			if strings.HasPrefix(n, prefix) {
				return
			}
		}
		bad = append(bad, flag+" "+strconv.Quote(prefix))
	}
	for _, p := range c.Freeze {
		check("Freeze", p)
	}
	for _, m := range c.LRMult {
		check("LRMult", m.Prefix)
	}
	for _, m := range c.DecayMult {
		check("DecayMult", m.Prefix)
	}
	if len(bad) > 0 {
		return errors.Errorf("train: no parameter of the %s model matches %s (names look like conv1/7x7_s2/w, inception_4a/3x3/w, loss3/classifier/b)",
			m.Config().Variant, strings.Join(bad, ", "))
	}
	return nil
}

// setMults sets the learning-rate and weight-decay multipliers of the
// parameters ps from Config.LRMult and Config.DecayMult (a decay
// multiplier of 0 clears Decay).
func (c Config) setMults(ps []*graph.Param) {
	for _, p := range ps {
		if v, ok := multFor(c.LRMult, p.Name); ok {
			p.LRMult = v
		}
		if v, ok := multFor(c.DecayMult, p.Name); ok {
			if v == 0 {
				p.Decay = false
			} else {
				p.DecayMult = v
			}
		}
	}
}

// transfer copies w into the new model: every tensor whose name and shape
// match; the classifiers start afresh when the classes differ (count or
// names), and the auxiliary heads may be missing from w.
func (r *run) transfer(w *InitWeights) error {
	mc := r.model.Config()
	if w.Input.Channels == preprocess.BGR {
		// Training feeds RGB: reorder conv1's input channels instead.
		ps := r.model.Params()
		if len(ps) == 0 {
			return errors.New("train: the model has no parameters")
		}
		ck := *w.Weights
		ck.Weights = maps.Clone(w.Weights.Weights)
		if err := swapInputChannels(&ck, ps[0].Name); err != nil {
			return err
		}
		r.rep.Logf("init from %s: its input is BGR (%s); %s is reordered to take RGB", w.Path, w.Input.Name, ps[0].Name)
		w = &InitWeights{Path: w.Path, Config: w.Config, Weights: &ck, Labels: w.Labels, Input: w.Input}
	}
	differ := w.Config.Classes != mc.Classes || (w.Labels != nil && !slices.Equal(w.Labels, r.classes))
	heads := scopes(inception.Classifiers)
	opt := checkpoint.TransferOptions{
		Reinit:   func(n string) bool { return differ && hasAnyPrefix(n, heads) },
		Optional: func(n string) bool { return hasAnyPrefix(n, heads) || hasAnyPrefix(n, scopes(inception.AuxHeads)) },
	}
	rep, err := w.Weights.Transfer(r.model, opt)
	if err != nil {
		return errors.Wrapf(err, "train: init from %s", w.Path)
	}
	why := ""
	if differ {
		why = " (new classes: the classifiers start afresh)"
	}
	r.rep.Logf("init from %s: %s%s", w.Path, rep, why)
	if r.cfg.Verbose {
		for _, l := range []struct {
			what  string
			names []string
		}{{"loaded", rep.Loaded}, {"re-initialised", rep.Reinitialized}, {"dropped", rep.Dropped}} {
			for _, n := range l.names {
				r.rep.Logf("  %s %s", l.what, n)
			}
		}
	}
	return nil
}
