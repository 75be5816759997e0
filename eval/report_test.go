package eval

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

func TestWriteTableAndJSON(t *testing.T) {
	base := &Result{Models: 1, Scheme: Center, Crops: 1, Cost: 1, Score: Score{Images: 100, Top1: 97, Top5: 100},
		Top1Err: 0.03, Seconds: 2, ImagesPerSecond: 50}
	ens := &Result{Models: 2, Scheme: MultiScale, Crops: 144, Cost: 288, Score: Score{Images: 100, Top1: 98, Top5: 99},
		Top1Err: 0.02, Top5Err: 0.01, Seconds: 40, ImagesPerSecond: 2.5,
		PerModel: []ModelScore{{Source: "/runs/a/seed1/model.safetensors", Score: Score{Images: 100, Top1: 96, Top5: 99}}, {Source: "b"}}}
	var b bytes.Buffer
	if err := WriteTable(&b, []*Result{base, ens}); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{"compared to base", "3.00%", "base", "-1.00%, +1.00%", "144", "288", "4.00%", "member .../seed1/model.safetensors", "member b"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
	if err := WriteTable(&b, []*Result{nil}); err == nil {
		t.Error("nil result: no error")
	}
	b.Reset()
	if err := WriteJSON(&b, []*Result{ens}); err != nil {
		t.Fatal(err)
	}
	var rows []map[string]interface{}
	if err := json.Unmarshal(b.Bytes(), &rows); err != nil {
		t.Fatal(err)
	}
	if rows[0]["scheme"] != "144" || int(rows[0]["cost"].(float64)) != 288 {
		t.Errorf("JSON %s", b.String())
	}
}
