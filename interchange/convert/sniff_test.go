package convert

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/goinception/googlenet/interchange/safetensors"
)

// TestSniffSafetensorsHeaderLength0x80: a safetensors file whose header
// length has 0x80 as its low byte (the first byte of the file, as that of a
// pickle) is still safetensors.
func TestSniffSafetensorsHeaderLength0x80(t *testing.T) {
	dir := t.TempDir()
	for pad := 0; pad < 256; pad++ {
		for _, format := range []string{CheckpointFormatName, "other"} {
			path := filepath.Join(dir, "x.safetensors")
			md := map[string]string{"format": format, "pad": strings.Repeat("x", pad)}
			tn, err := safetensors.NewF32("w", []int{1}, []float32{1})
			if err != nil {
				t.Fatal(err)
			}
			if err := safetensors.WriteFile(path, []safetensors.Tensor{tn}, md); err != nil {
				t.Fatal(err)
			}
			got, err := Sniff(path)
			want := FormatSafetensors
			if format == CheckpointFormatName {
				want = FormatCheckpoint
			}
			if err != nil || got != want {
				t.Fatalf("header padded by %d: %v, %v, want %v", pad, got, err, want)
			}
		}
	}
}
