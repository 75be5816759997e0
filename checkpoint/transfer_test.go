package checkpoint

import (
	"strings"
	"testing"

	"github.com/goinception/googlenet/inception"
	"github.com/goinception/googlenet/solvers"
)

// TestTransfer moves a 10-class mini model's weights into a 3-class one
// without auxiliary heads: the classifier is re-initialised, the aux heads
// dropped, everything else copied bit for bit; a misshapen trunk tensor and
// a missing one are errors that name them and change nothing.
func TestTransfer(t *testing.T) {
	src, _ := trained(t, 3)
	ck, err := FromModel(src, nil, meta())
	if err != nil {
		t.Fatal(err)
	}
	c := inception.Mini()
	c.Classes, c.BatchSize, c.Seed = 3, 2, 9
	c.Table = append([]inception.Row(nil), c.Table...)
	for i := range c.Table {
		c.Table[i].Aux = 0
	}
	dst, err := inception.New(c)
	if err != nil {
		t.Fatal(err)
	}
	head := func(n string) bool { return strings.HasPrefix(n, "loss3/classifier/") }
	rep, err := ck.Transfer(dst, TransferOptions{Reinit: head})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Reinitialized) != 2 || len(rep.Dropped) == 0 || len(rep.Loaded) == 0 {
		t.Fatalf("report %v: %v", rep, rep.Reinitialized)
	}
	for _, n := range rep.Dropped {
		if !strings.HasPrefix(n, "loss1/") && !strings.HasPrefix(n, "loss2/") {
			t.Errorf("dropped %s", n)
		}
	}
	for _, p := range dst.Params() {
		if head(p.Name) {
			continue
		}
		if !sameBits32(p.Value.Data().([]float32), ck.Weights[p.Name].Float32) {
			t.Errorf("%s not copied", p.Name)
		}
	}
	if !strings.Contains(rep.String(), "re-initialised") {
		t.Errorf("summary %q", rep)
	}

	// A 4-class source: the classifier does not fit and is not re-initialised.
	if _, err := ck.Transfer(dst, TransferOptions{}); err == nil || !strings.Contains(err.Error(), "loss3/classifier/w") {
		t.Errorf("misshapen classifier: %v", err)
	}
	w0 := dst.Params()[0].Value.Data().([]float32)
	for i := range w0 {
		w0[i]++ // differs from the source now
	}
	before := append([]float32(nil), w0...)
	bad := *ck
	bad.Weights = map[string]solvers.Tensor{}
	for k, v := range ck.Weights {
		bad.Weights[k] = v
	}
	delete(bad.Weights, "inception_3a/1x1/w")
	w := bad.Weights["inception_4a/3x3/w"]
	w.Shape = append([]int{w.Shape[0] / 2, w.Shape[1] * 2}, w.Shape[2:]...)
	bad.Weights["inception_4a/3x3/w"] = w
	_, err = bad.Transfer(dst, TransferOptions{Reinit: head})
	if err == nil || !strings.Contains(err.Error(), "inception_3a/1x1/w") || !strings.Contains(err.Error(), "inception_4a/3x3/w") {
		t.Errorf("missing and misshapen tensors: %v", err)
	}
	if !sameBits32(before, dst.Params()[0].Value.Data().([]float32)) {
		t.Error("a failed transfer changed the model")
	}
}
