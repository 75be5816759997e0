package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/goinception/googlenet/checkpoint"
	"github.com/goinception/googlenet/data"
	"github.com/goinception/googlenet/inception"
)

const evalSynth = "synthetic:classes=4,train=8,val=10,size=28,channels=1,seed=2"

// testCheckpoint saves an untrained mini GoogLeNet (1x28x28, 4 classes
// named as the synthetic dataset's) and returns its path.
func testCheckpoint(t *testing.T, dir string, seed uint64) string {
	t.Helper()
	cfg := inception.Mini()
	cfg.Classes, cfg.BatchSize, cfg.Seed = 4, 1, seed
	m, err := inception.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ck, err := checkpoint.FromModel(m, nil, checkpoint.Meta{
		Classes: []string{"class0", "class1", "class2", "class3"}, Means: data.MNISTMeans, Stds: data.MNISTStds,
	})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "m"+string(rune('0'+seed))+".safetensors")
	if err := ck.Save(path); err != nil {
		t.Fatal(err)
	}
	return path
}

func checkNoTrace(t *testing.T, args []string, stderr string) {
	t.Helper()
	if strings.Contains(stderr, "goroutine ") || strings.Contains(stderr, "panic") {
		t.Errorf("%q: stack trace in %q", args, stderr)
	}
}

func TestEvalExitCodes(t *testing.T) {
	dir := t.TempDir()
	ck := testCheckpoint(t, dir, 1)
	for _, c := range []struct {
		args []string
		code int
		want string // in stderr
	}{
		{[]string{"eval", "--bogus"}, 2, "flag provided but not defined"},
		{[]string{"eval"}, 2, "--weights is required"},
		{[]string{"eval", "--weights", ck, "extra"}, 2, "unexpected arguments"},
		{[]string{"eval", "--weights", ck, "--crops", "5"}, 2, `--crops "5"`},
		{[]string{"eval", "--weights", ck, "--crops", "1,,10"}, 2, `--crops ""`},
		{[]string{"eval", "--weights", ck, "--limit", "-1"}, 2, "--limit"},
		{[]string{"eval", "--weights", ck, "--split", "test"}, 2, `--split "test"`},
		{[]string{"eval", "--weights", ck, "--engine", "tpu"}, 2, `--engine "tpu"`},
		{[]string{"eval", "--weights", ck, "--progress", "fancy"}, 2, `--progress "fancy"`},
		{[]string{"eval", "--weights", filepath.Join(dir, "missing.safetensors"), "--data", evalSynth, "--engine", "reference"}, 1, "missing.safetensors"},
		{[]string{"eval", "--weights", ck, "--variant", "paper", "--data", evalSynth, "--engine", "reference"}, 1, `not "paper"`},
		{[]string{"eval", "--weights", ck, "--data", "folder:" + filepath.Join(dir, "nothing"), "--engine", "reference"}, 1, "nothing"},
		// Three classes in the data, four labels in the model.
		{[]string{"eval", "--weights", ck, "--data", "synthetic:classes=3,size=28,channels=1", "--engine", "reference"}, 1, "classes"},
	} {
		code, _, e := runArgs(c.args...)
		if code != c.code || !strings.Contains(e, c.want) {
			t.Errorf("%q: exit %d (want %d), stderr %q (want %q)", c.args, code, c.code, e, c.want)
		}
		checkNoTrace(t, c.args, e)
	}
	code, o, _ := runArgs("help", "eval")
	if code != 0 || !strings.Contains(o, "-crops") || !strings.Contains(o, "-weights") {
		t.Errorf("help eval: exit %d, %q", code, o)
	}
}

// An ensemble of two checkpoints, two crop schemes: a table, and JSON rows
// whose numbers agree with each other.
func TestEvalRun(t *testing.T) {
	dir := t.TempDir()
	a, b := testCheckpoint(t, dir, 1), testCheckpoint(t, dir, 2)
	args := []string{"eval", "--weights", a + "," + b, "--data", evalSynth, "--crops", "1,10", "--engine", "reference", "--progress", "log"}
	code, o, e := runArgs(args...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, e)
	}
	if !strings.Contains(o, "top-5 error") || !strings.Contains(o, "compared to base") || !strings.Contains(o, "m1.safetensors") {
		t.Errorf("table:\n%s", o)
	}
	if !strings.Contains(e, "10/10 images") {
		t.Errorf("no progress line in %q", e)
	}
	code, o, e = runArgs(append(args, "--json", "--progress", "none")...)
	if code != 0 {
		t.Fatalf("--json: exit %d: %s", code, e)
	}
	var rows []struct {
		Models, Crops, Cost int
		Score               struct{ Images int }
		Top1Err             float64                   `json:"top1_error"`
		PerModel            []struct{ Source string } `json:"per_model"`
	}
	if err := json.Unmarshal([]byte(o), &rows); err != nil {
		t.Fatalf("%v in %q", err, o)
	}
	if len(rows) != 2 || rows[0].Crops != 1 || rows[1].Crops != 10 || rows[1].Cost != 20 || rows[1].Models != 2 ||
		rows[0].Score.Images != 10 || len(rows[1].PerModel) != 2 || rows[1].PerModel[1].Source != b {
		t.Errorf("rows %+v", rows)
	}
	if e != "" {
		t.Errorf("--progress none wrote %q", e)
	}
}
