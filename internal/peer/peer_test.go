package peer

import (
	"fmt"
	"testing"
)

// fakeTB records what Missing does instead of ending the test.
type fakeTB struct{ skipped, failed string }

func (f *fakeTB) Helper()                   {}
func (f *fakeTB) Skipf(s string, a ...any)  { f.skipped = fmt.Sprintf(s, a...) }
func (f *fakeTB) Fatalf(s string, a ...any) { f.failed = fmt.Sprintf(s, a...) }

func TestPythonMissingSkipsOrFails(t *testing.T) {
	t.Setenv("GOOGLENET_PYTHON", "/bin/false")
	t.Setenv("GOOGLENET_REQUIRE_PEERS", "")
	var f fakeTB
	Python(&f, "torch")
	if f.skipped == "" || f.failed != "" {
		t.Fatalf("without GOOGLENET_REQUIRE_PEERS: skipped=%q failed=%q, want a skip", f.skipped, f.failed)
	}
	t.Setenv("GOOGLENET_REQUIRE_PEERS", "1")
	f = fakeTB{}
	Python(&f, "torch")
	if f.failed == "" || f.skipped != "" {
		t.Fatalf("with GOOGLENET_REQUIRE_PEERS=1: skipped=%q failed=%q, want a failure", f.skipped, f.failed)
	}
}

func TestNodeMissingFails(t *testing.T) {
	t.Setenv("GOOGLENET_NODE", "/bin/false")
	t.Setenv("GOOGLENET_ORT_DIR", t.TempDir())
	t.Setenv("GOOGLENET_REQUIRE_PEERS", "1")
	var f fakeTB
	Node(&f)
	if f.failed == "" {
		t.Fatalf("an empty ORT folder with GOOGLENET_REQUIRE_PEERS=1 must fail; skipped=%q", f.skipped)
	}
}

func TestPythonPathDefault(t *testing.T) {
	t.Setenv("GOOGLENET_PYTHON", "")
	if got := PythonPath(); got != DefaultPython {
		t.Fatalf("PythonPath() = %q, want %q", got, DefaultPython)
	}
}
