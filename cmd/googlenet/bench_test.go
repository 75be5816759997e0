package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/goinception/googlenet/ops"
)

func TestBenchJSON(t *testing.T) {
	defer ops.SetEngine(nil)
	var out, errb bytes.Buffer
	code := run([]string{"bench", "--variant", "mini", "--mode", "train", "--batch", "2", "--iters", "1", "--warmup", "0", "--json"}, &out, &errb)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	var r map[string]any
	if err := json.Unmarshal(out.Bytes(), &r); err != nil {
		t.Fatalf("output %q: %v", out.String(), err)
	}
	for _, k := range []string{"mode", "variant", "batch", "img_per_s", "ms_per_batch", "peak_rss_bytes"} {
		if _, ok := r[k]; !ok {
			t.Errorf("JSON lacks %q: %s", k, out.String())
		}
	}
	if r["mode"] != "train" || r["variant"] != "mini" || r["batch"] != 2.0 {
		t.Errorf("JSON describes %v %v %v", r["mode"], r["variant"], r["batch"])
	}
}

func TestBenchText(t *testing.T) {
	defer ops.SetEngine(nil)
	var out, errb bytes.Buffer
	if code := run([]string{"bench", "--variant", "mini", "--batch", "2", "--iters", "1"}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	if s := out.String(); !strings.Contains(s, "img/s") || !strings.Contains(s, "peak RSS") {
		t.Errorf("output %q lacks img/s or peak RSS", s)
	}
}

func TestBenchUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{"--mode", "fast"},
		{"--batch", "0"},
		{"--variant", "alexnet"},
		{"--engine", "gpu"},
		{"extra"},
	} {
		var out, errb bytes.Buffer
		code := run(append([]string{"bench"}, args...), &out, &errb)
		if code != 2 {
			t.Errorf("bench %v: exit %d, want 2 (usage)", args, code)
		}
	}
	ops.SetEngine(nil)
}
