package eval_test

// This test trains a model with package train, which itself loads weights
// through package eval: it lives in the external test package.

import (
	"context"
	"math"
	"testing"

	"github.com/goinception/googlenet/data"
	"github.com/goinception/googlenet/eval"
	"github.com/goinception/googlenet/train"
)

// accTol is the tolerance on an accuracy recomputed from counts: the same
// images and predictions, so only the float division differs.
const accTol = 1e-12

// A short training run (mini GoogLeNet, synthetic 28x28 gray images, Polyak
// averaging), then: evaluating its last checkpoint with the crop training
// validates on reproduces the validation accuracy in its metrics.jsonl; the
// checkpoint's Polyak averages are used, and equal the final model's weights.
func TestEvalReproducesTrainingRun(t *testing.T) {
	if testing.Short() {
		t.Skip("trains a model for a few seconds")
	}
	out := t.TempDir()
	const spec = "synthetic:classes=4,train=96,val=40,size=28,channels=1,seed=5"
	res, err := train.Run(context.Background(), train.Config{
		Data: spec, Epochs: 2, Batch: 16, StepsPerEpoch: 3, LR: 0.05, Polyak: true, PolyakStart: 2,
		Seed: 3, Out: out, Workers: 2,
	}, train.Nop{})
	if err != nil {
		t.Fatal(err)
	}
	last := res.Metrics[len(res.Metrics)-1]
	if !last.Polyak {
		t.Fatal("the run did not validate with Polyak averages")
	}
	splits, err := data.Open(context.Background(), spec)
	if err != nil {
		t.Fatal(err)
	}
	score := func(path string, o eval.LoadOptions) (*eval.Result, eval.Meta) {
		t.Helper()
		m, meta, err := eval.LoadModel(path, o)
		if err != nil {
			t.Fatal(err)
		}
		r, err := eval.Evaluate(context.Background(), []eval.Member{{Model: m, Meta: meta}}, splits.Val, eval.Options{Crops: eval.Full})
		if err != nil {
			t.Fatal(err)
		}
		return r, meta
	}
	r, meta := score(res.Checkpoint, eval.LoadOptions{})
	if !meta.Polyak {
		t.Error("the checkpoint's Polyak averages were not used")
	}
	if r.Score.Images != last.ValImages {
		t.Fatalf("evaluated %d images, the run validated on %d", r.Score.Images, last.ValImages)
	}
	if math.Abs(r.Score.Top1Acc()-last.ValTop1) > accTol || math.Abs(r.Score.Top5Acc()-last.ValTop5) > accTol {
		t.Errorf("top-1 %v top-5 %v, the run recorded %v and %v", r.Score.Top1Acc(), r.Score.Top5Acc(), last.ValTop1, last.ValTop5)
	}
	// The final model holds the same averaged weights, without solver state.
	fm, fmeta := score(res.Model, eval.LoadOptions{})
	if fmeta.Polyak || fm.Score != r.Score {
		t.Errorf("final model: Polyak %v, score %+v; checkpoint %+v", fmeta.Polyak, fm.Score, r.Score)
	}
	// The last iterate is another model.
	_, lmeta := score(res.Checkpoint, eval.LoadOptions{LastIterate: true})
	if lmeta.Polyak {
		t.Error("LastIterate still loaded the averages")
	}
	m1, _, _ := eval.LoadModel(res.Checkpoint, eval.LoadOptions{})
	m2, _, _ := eval.LoadModel(res.Checkpoint, eval.LoadOptions{LastIterate: true})
	w1, _ := m1.Param("loss3/classifier/w")
	w2, _ := m2.Param("loss3/classifier/w")
	if w1 == nil || w2 == nil {
		t.Fatal("no classifier weights")
	}
	if sameBits(w1.Value.Data().([]float32), w2.Value.Data().([]float32)) {
		t.Error("the Polyak average equals the last iterate")
	}
	if meta.Labels == nil || meta.Labels[0] != "class0" || len(meta.Means) != 1 {
		t.Errorf("metadata %+v", meta)
	}
}

func sameBits(a, b []float32) bool {
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			return false
		}
	}
	return true
}
