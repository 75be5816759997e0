package cpu

import (
	"testing"

	"github.com/goinception/googlenet/ops/opstest"
)

// TestPortableKernels runs the conformance suite on the pure-Go engine with
// the assembly turned off, so the portable micro-kernel and epilogue that
// other architectures use are checked here too.
func TestPortableKernels(t *testing.T) {
	savedFMA, savedAVX := hasFMA, hasAVX
	defer func() { hasFMA, hasAVX = savedFMA, savedAVX }()
	hasFMA, hasAVX = false, false
	opstest.TestEngine(t, New(Options{PureGo: true}))
}
