package convert

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/goinception/googlenet/interchange/onnx"
)

// FuzzLoad writes arbitrary bytes under each extension Sniff looks at and
// loads them: every outcome is a model or an error, never a panic, and a
// file Sniff rejects is one Load rejects.
func FuzzLoad(f *testing.F) {
	good, err := onnx.Marshal(tinyONNX())
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good, uint8(0))
	f.Add([]byte("PK\x03\x04 truncated zip"), uint8(1))
	f.Add([]byte{0x80, 0x02, 'c', 'o', 's', '\n'}, uint8(1))
	f.Add([]byte("\x10\x00\x00\x00\x00\x00\x00\x00{\"a\":{}}       "), uint8(2))
	f.Add([]byte{0x0a, 0x03, 'n', 'e', 't'}, uint8(3))
	f.Add([]byte{}, uint8(4))
	exts := []string{".onnx", ".pth", ".safetensors", ".caffemodel", ".bin"}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, b []byte, ext uint8) {
		path := filepath.Join(dir, "w"+exts[int(ext)%len(exts)])
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		_, serr := Sniff(path)
		ld, err := Load(path, LoadOptions{InputSize: 32})
		if serr != nil && err == nil {
			t.Fatalf("Sniff: %v, but Load succeeded", serr)
		}
		if err == nil && (ld == nil || ld.Model == nil) {
			t.Fatal("Load: no error and no model")
		}
	})
}
