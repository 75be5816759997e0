package checkpoint

import (
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/goinception/googlenet/interchange/safetensors"
	"github.com/goinception/googlenet/ops"
)

func trainerState() *Trainer {
	return &Trainer{
		Recipe: Recipe{Data: "mnist", Batch: 32, World: 1, LR: 0.05, Momentum: 0.9, Schedule: "poly", Polyak: true,
			PolyakStart: 10, Seed: 7, Freeze: []string{"conv1/"}, LRMult: []Mult{{Prefix: "loss3/", Value: 10}}},
		Partial: EpochSums{Steps: 3, Images: 96, Main: 4.5, Aux1: 4.6, Aux2: 4.7, Total: 7.3, Top1: 40, Top5: 90, Seconds: 1.25},
		Dropout: ops.RandState{Seed: 7, Step: 1407},
	}
}

// TestTrainerRoundTrip: the trainer's state comes back field for field.
func TestTrainerRoundTrip(t *testing.T) {
	m, opt := trained(t, 3)
	ck, err := FromModel(m, opt, meta())
	if err != nil {
		t.Fatal(err)
	}
	ck.Trainer = trainerState()
	path := filepath.Join(t.TempDir(), "ck.safetensors")
	if err := ck.Save(path); err != nil {
		t.Fatal(err)
	}
	got, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got.Trainer, ck.Trainer) {
		t.Fatalf("trainer state\n%+v\nread back as\n%+v", ck.Trainer, got.Trainer)
	}
	ck.Trainer = nil
	if err := ck.Save(path); err != nil {
		t.Fatal(err)
	}
	if got, err = Load(path); err != nil || got.Trainer != nil {
		t.Fatalf("no trainer state written, read back %+v, %v", got.Trainer, err)
	}
	ck.Meta.Extra = map[string]string{"trainer": "{}"}
	if err := ck.Save(path); err == nil || !strings.Contains(err.Error(), "reserved") {
		t.Fatalf("Extra entry \"trainer\": error %v, want reserved", err)
	}
}

// TestTrainerOldEntries: checkpoints written before the typed trainer state
// carried it as two JSON strings; they are read into Trainer, with the
// dropout state such a run had (the model's seed, one draw per step).
func TestTrainerOldEntries(t *testing.T) {
	_, f := saved(t)
	old := func(md map[string]string) {
		md[oldRecipeKey] = `{"Data":"mnist","Batch":32,"World":1,"StepsPerEpoch":0,"LR":0.05,"Momentum":0.9,"WeightDecay":0,"Schedule":"poly","StepGamma":0,"StepPeriod":0,"PolyPower":0,"WarmupEpochs":0,"WarmupStart":0,"Polyak":true,"PolyakStart":10,"PolyakDecay":0,"Augment":false,"Seed":7,"InitFrom":"","NoAux":false,"Freeze":["conv1/"],"FreezeThrough":"","LRMult":[{"Prefix":"loss3/","Value":10}],"DecayMult":null}`
		md[oldSumsKey] = `{"Steps":3,"Images":96,"Main":4.5,"Aux1":4.6,"Aux2":4.7,"Total":7.3,"Top1":40,"Top5":90,"Seconds":1.25}`
	}
	path := filepath.Join(t.TempDir(), "old.safetensors")
	ts := f.Tensors
	md := map[string]string{}
	for k, v := range f.Metadata {
		md[k] = v
	}
	old(md)
	if err := safetensors.WriteFile(path, ts, md); err != nil {
		t.Fatal(err)
	}
	ck, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	want := trainerState()
	want.Dropout = ops.RandState{Seed: ck.Meta.Config.Seed, Step: uint64(ck.Meta.Step)}
	if !reflect.DeepEqual(ck.Trainer, want) {
		t.Fatalf("old entries read as\n%+v\nwant\n%+v", ck.Trainer, want)
	}
	if _, ok := ck.Meta.Extra[oldRecipeKey]; ok {
		t.Fatal("old entry left in Extra")
	}

	for _, c := range []struct {
		name, want string
		edit       func(md map[string]string)
	}{
		{"malformed trainer", `"trainer"`, func(md map[string]string) { md[trainerKey] = `{"Recipe":` }},
		{"unknown trainer field", "Bogus", func(md map[string]string) { md[trainerKey] = `{"Bogus":1}` }},
		{"data after the trainer", "after", func(md map[string]string) { md[trainerKey] = `{} {}` }},
		{"negative partial sums", "negative", func(md map[string]string) { md[trainerKey] = `{"Partial":{"Steps":-1}}` }},
		{"old and new", "both", func(md map[string]string) { old(md); md[trainerKey] = `{}` }},
		{"old sums alone", "without", func(md map[string]string) { md[oldSumsKey] = `{}` }},
		{"malformed old recipe", oldRecipeKey, func(md map[string]string) { old(md); md[oldRecipeKey] = `[1]` }},
	} {
		err := rewrite(t, f, func(ts []safetensors.Tensor, md map[string]string) []safetensors.Tensor {
			c.edit(md)
			return ts
		})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one containing %q", c.name, err, c.want)
		}
	}
}

// FuzzTrainerMetadata: any metadata strings for the trainer state decode
// to a state or an error, never a panic, and a decoded state encodes and
// decodes to itself.
func FuzzTrainerMetadata(f *testing.F) {
	enc, err := encodeTrainer(trainerState())
	if err != nil {
		f.Fatal(err)
	}
	f.Add(enc, "", "")
	f.Add("", `{"Data":"mnist","Batch":8}`, `{"Steps":2}`)
	f.Add(`{"Partial":{"Steps":-1}}`, "", "")
	f.Fuzz(func(t *testing.T, trainer, recipe, sums string) {
		md := map[string]string{}
		for k, v := range map[string]string{trainerKey: trainer, oldRecipeKey: recipe, oldSumsKey: sums} {
			if v != "" {
				md[k] = v
			}
		}
		tr, err := decodeTrainer(md, Meta{Step: 3})
		if err != nil || tr == nil {
			return
		}
		s, err := encodeTrainer(tr)
		if err != nil {
			t.Fatal(err)
		}
		back, err := decodeTrainer(map[string]string{trainerKey: s}, Meta{})
		if err != nil || !reflect.DeepEqual(back, tr) {
			t.Fatalf("%+v encoded as %s decodes to %+v, %v", tr, s, back, err)
		}
	})
}
