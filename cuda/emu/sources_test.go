package emu

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"sort"
	"testing"
)

// TestSourcesCurrent fails when a kernel source changed after the last
// `go generate ./cuda/` (scripts/cuda-ptx.sh), since the go command does
// not see the emulation's #includes and would test stale kernels.
func TestSourcesCurrent(t *testing.T) {
	cus, err := filepath.Glob("../kernels/*.cu")
	if err != nil || len(cus) == 0 {
		t.Fatalf("no kernel sources: %v", err)
	}
	sort.Strings(cus)
	h := sha256.New()
	for _, f := range append([]string{"../kernels/common.cuh"}, cus...) {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		h.Write(b)
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != kernelSourceHash {
		t.Fatalf("kernel sources changed since the last `go generate ./cuda/`: hash %s, compiled %s", got, kernelSourceHash)
	}
}
