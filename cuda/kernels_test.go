package cuda

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestPTXCurrent checks, without nvcc, that every kernel source has its
// PTX and that the PTX was generated from the source as it is now (the
// hash scripts/cuda-ptx.sh records in the PTX's first line).
func TestPTXCurrent(t *testing.T) {
	cus, err := filepath.Glob("kernels/*.cu")
	if err != nil || len(cus) == 0 {
		t.Fatalf("no kernel sources: %v", err)
	}
	common, err := os.ReadFile("kernels/common.cuh")
	if err != nil {
		t.Fatal(err)
	}
	for _, cu := range cus {
		src, err := os.ReadFile(cu)
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(append(append([]byte(nil), common...), src...))
		name := strings.TrimSuffix(filepath.Base(cu), ".cu")
		ptx, err := PTX(name)
		if err != nil {
			t.Errorf("%s: %v", cu, err)
			continue
		}
		want := "// source-sha256: " + hex.EncodeToString(sum[:])
		if first, _, _ := strings.Cut(ptx, "\n"); first != want {
			t.Errorf("%s.ptx is stale (run `go generate ./cuda/`): first line %q, want %q", name, first, want)
		}
	}
	if len(Modules()) != len(cus) {
		t.Errorf("modules %v for %d sources", Modules(), len(cus))
	}
}

// TestKernelsInPTX checks that every kernel the Go code launches is an
// entry point of the module it names, and every entry point is known.
func TestKernelsInPTX(t *testing.T) {
	entry := regexp.MustCompile(`(?m)^\.visible \.entry (\w+)\(`)
	seen := map[string]bool{}
	for _, m := range Modules() {
		ptx, err := PTX(m)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entry.FindAllStringSubmatch(ptx, -1) {
			seen[e[1]] = true
			if Kernels[e[1]] != m {
				t.Errorf("entry %s of module %s: Kernels maps it to %q", e[1], m, Kernels[e[1]])
			}
		}
	}
	for k := range Kernels {
		if !seen[k] {
			t.Errorf("kernel %s is not in the PTX", k)
		}
	}
}
