package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"
)

func runArgs(args ...string) (code int, stdout, stderr string) {
	var o, e bytes.Buffer
	code = run(args, &o, &e)
	return code, o.String(), e.String()
}

func TestUsage(t *testing.T) {
	for _, c := range []struct {
		args []string
		code int
		out  bool // usage on stdout (else stderr)
	}{
		{nil, 2, false},
		{[]string{"bogus"}, 2, false},
		{[]string{"help"}, 0, true},
		{[]string{"-h"}, 0, true},
		{[]string{"help", "bogus"}, 2, false},
	} {
		code, o, e := runArgs(c.args...)
		text := e
		if c.out {
			text = o
		}
		if code != c.code || !strings.Contains(text, "usage: googlenet") || !strings.Contains(text, "summary") {
			t.Errorf("%q: exit %d (want %d), stdout %q, stderr %q", c.args, code, c.code, o, e)
		}
	}
	code, o, _ := runArgs("help", "summary")
	if code != 0 || !strings.Contains(o, "-variant") || !strings.Contains(o, "-json") {
		t.Errorf("help summary: exit %d, %q", code, o)
	}
}

func TestSummaryText(t *testing.T) {
	for variant, want := range map[string][]string{
		"paper":       {"inception_3a", "28x28x256", "163,696", "128.0M", "total (main path): 6,998,552 params, 1.583 G", "6,379,728"},
		"torchvision": {"pool4/2x2_s2", "total (main path): 6,624,904 params, 1.498 G"},
		"mini":        {"conv1/3x3_s1", "28x28x16", "inception_4b"},
	} {
		code, o, e := runArgs("summary", "--variant", variant)
		if code != 0 {
			t.Fatalf("%s: exit %d: %s", variant, code, e)
		}
		for _, w := range want {
			if !strings.Contains(o, w) {
				t.Errorf("%s: output lacks %q:\n%s", variant, w, o)
			}
		}
	}
}

func TestSummaryJSON(t *testing.T) {
	code, o, e := runArgs("summary", "--json", "--classes", "10", "--input", "256")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, e)
	}
	var s struct {
		Variant string `json:"variant"`
		Input   []int  `json:"input"`
		Layers  []struct {
			Name   string `json:"name"`
			Output []int  `json:"output"`
			Params int64  `json:"params"`
		} `json:"layers"`
		Aux   []map[string]any `json:"aux"`
		Total struct{ Params, MACs int64 }
	}
	if err := json.Unmarshal([]byte(o), &s); err != nil {
		t.Fatalf("%v: %s", err, o)
	}
	last := s.Layers[len(s.Layers)-1]
	// 1000 classes -> 10 classes removes 990*1025 parameters.
	if s.Variant != "paper" || fmt.Sprint(s.Input) != "[3 256 256]" || last.Name != "loss3/classifier" ||
		fmt.Sprint(last.Output) != "[10 1 1]" || s.Total.Params != 6998552-990*1025 || len(s.Aux) != 10 {
		t.Fatalf("unexpected JSON: %s", o)
	}
}

func TestSummaryMisuse(t *testing.T) {
	for _, args := range [][]string{
		{"summary", "--variant", "resnet"},
		{"summary", "--classes", "-1"},
		{"summary", "--bogus"},
		{"summary", "extra"},
		{"summary", "--input", "32"}, // too small for the paper's aux heads
	} {
		code, _, e := runArgs(args...)
		if code != 2 || e == "" {
			t.Errorf("%q: exit %d, stderr %q; want 2 and a message", args, code, e)
		}
	}
	_, _, e := runArgs("summary", "--input", "32")
	if !strings.Contains(e, "too small") {
		t.Errorf("--input 32: %q does not say the input is too small", e)
	}
}

// The JSON summary's totals, as a program reading it would use them.
func Example_summary() {
	var out bytes.Buffer
	if code := run([]string{"summary", "--variant", "torchvision", "--json"}, &out, os.Stderr); code != 0 {
		return
	}
	var s struct {
		Total struct {
			Params int64 `json:"params"`
			MACs   int64 `json:"macs"`
		} `json:"total"`
	}
	if err := json.Unmarshal(out.Bytes(), &s); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%d params, %.3f G multiply-adds\n", s.Total.Params, float64(s.Total.MACs)/1e9)
	// Output:
	// 6624904 params, 1.498 G multiply-adds
}
