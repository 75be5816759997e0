package ops_test

import (
	"testing"

	"github.com/goinception/googlenet/ops"
	"github.com/goinception/googlenet/ops/opstest"
)

func TestReferenceEngine(t *testing.T) { opstest.TestEngine(t, ops.Reference{}) }

func BenchmarkReferenceConv3x3(b *testing.B) {
	// inception 3a's 3x3 branch at batch 1: 96 -> 128 channels, 28x28.
	g := ops.ConvGeom{N: 1, C: 96, H: 28, W: 28, K: 128, R: 3, S: 3, StrideH: 1, StrideW: 1, PadTop: 1, PadLeft: 1, OutH: 28, OutW: 28}
	opstest.BenchmarkConv(b, ops.Reference{}, g)
}

// TestReferenceOps runs the op conformance table on the reference engine,
// with the finite-difference checks of the float64 specification.
func TestReferenceOps(t *testing.T) { opstest.TestOps(t, ops.Reference{}) }
