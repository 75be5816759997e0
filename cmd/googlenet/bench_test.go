package main

import (
	"bytes"
	"encoding/json"
	"math"
	"strings"
	"testing"
)

func TestBenchJSON(t *testing.T) {
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
		{"--rounds", "0"},
		{"--mode", "train", "--peer", "ort_googlenet_bench.mjs"}, // ONNX Runtime: inference only
	} {
		var out, errb bytes.Buffer
		code := run(append([]string{"bench"}, args...), &out, &errb)
		if code != 2 {
			t.Errorf("bench %v: exit %d, want 2 (usage)", args, code)
		}
	}
}

// TestBenchRounds checks that --rounds repeats the measurement and reports
// every round and their median.
func TestBenchRounds(t *testing.T) {
	var out, errb bytes.Buffer
	code := run([]string{"bench", "--variant", "mini", "--batch", "2", "--iters", "3", "--warmup", "0", "--rounds", "3", "--json"}, &out, &errb)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	var r struct {
		Rounds  int       `json:"rounds"`
		ImgPerS float64   `json:"img_per_s"`
		Each    []float64 `json:"round_img_per_s"`
	}
	if err := json.Unmarshal(out.Bytes(), &r); err != nil {
		t.Fatalf("output %q: %v", out.String(), err)
	}
	if r.Rounds != 3 || len(r.Each) != 3 {
		t.Fatalf("rounds %d with %d per-round rates, want 3 and 3: %s", r.Rounds, len(r.Each), out.String())
	}
	lo, hi := r.Each[0], r.Each[0]
	for _, v := range r.Each {
		lo, hi = min(lo, v), max(hi, v)
	}
	if !(r.ImgPerS >= lo && r.ImgPerS <= hi) || r.ImgPerS <= 0 {
		t.Errorf("median %v outside the rounds' range [%v, %v]", r.ImgPerS, lo, hi)
	}
	out.Reset()
	errb.Reset()
	if code := run([]string{"bench", "--variant", "mini", "--batch", "2", "--iters", "1", "--rounds", "2"}, &out, &errb); code != 0 {
		t.Fatalf("text: exit %d: %s", code, errb.String())
	}
	if !strings.Contains(out.String(), "median of 2 rounds") || !strings.Contains(errb.String(), "round 2/2") {
		t.Errorf("text output lacks the rounds: stdout %q, stderr %q", out.String(), errb.String())
	}
}

func TestMedianOf(t *testing.T) {
	id := func(x float64) float64 { return x }
	for _, c := range []struct {
		xs   []float64
		want float64
	}{{[]float64{3}, 3}, {[]float64{5, 1, 3}, 3}, {[]float64{4, 1, 3, 2}, 2.5}} {
		if got := medianOf(c.xs, id); math.Abs(got-c.want) > 1e-12 {
			t.Errorf("medianOf(%v) = %v, want %v", c.xs, got, c.want)
		}
	}
}
