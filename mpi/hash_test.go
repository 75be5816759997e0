package mpi

import (
	"encoding/binary"
	"math"
	"strings"
	"testing"
)

func TestHashFloat32s(t *testing.T) {
	a := []float32{1, 2, 3}
	h := HashFloat32s(a)
	if h != HashFloat32s([]float32{1, 2, 3}) {
		t.Error("equal values, different hashes")
	}
	for name, other := range map[string][][]float32{
		"one ulp":   {{1, 2, math.Nextafter32(3, 4)}},
		"split":     {{1, 2}, {3}},
		"reordered": {{1, 3, 2}},
	} {
		if HashFloat32s(other...) == h {
			t.Errorf("%s: same hash", name)
		}
	}
	if HashFloat32s([]float32{0}) == HashFloat32s([]float32{float32(math.Copysign(0, -1))}) {
		t.Error("-0 and +0 hash alike")
	}
	if HashFloat64s([]float64{1, 2}, []float64{3}) == HashFloat64s([]float64{1}, []float64{2, 3}) {
		t.Error("HashFloat64s ignores slice boundaries")
	}
}

// gatherComm simulates ranks whose hashes are given: Allgather returns them.
type gatherComm struct {
	fakeComm
	hashes []uint64
}

func (g *gatherComm) Allgather(send, recv []byte) error {
	if err := checkGather(g, send, recv); err != nil {
		return err
	}
	for r, h := range g.hashes {
		binary.LittleEndian.PutUint64(recv[8*r:], h)
	}
	return nil
}

func TestCheckSame(t *testing.T) {
	if err := CheckSame(Local{}, 42); err != nil {
		t.Error(err)
	}
	if err := CheckIdentical(Local{}, "weights", []float32{1}); err != nil {
		t.Error(err)
	}
	g := &gatherComm{fakeComm: fakeComm{size: 3}, hashes: []uint64{7, 7, 7}}
	if err := CheckSame(g, 7); err != nil {
		t.Error(err)
	}
	g.hashes = []uint64{7, 7, 9}
	err := CheckSame(g, 7)
	if err == nil || !strings.Contains(err.Error(), "rank 2 has 0000000000000009") || strings.Contains(err.Error(), "rank 1") {
		t.Errorf("rank 2 differs: got %v", err)
	}
}

// TestAverageFloat64s: with Size ranks holding the same values the
// average is the value (sum then division, exact for these inputs); lists
// are packed into one call.
func TestAverageFloat64s(t *testing.T) {
	mean := []float64{0.5, -1.25, 3}
	variance := []float64{2, 0.75}
	f := &fakeComm{size: 4}
	if err := AverageFloat64s(f, [][]float64{mean, variance}); err != nil {
		t.Fatal(err)
	}
	if f.calls != 1 {
		t.Errorf("%d all-reduce calls, want 1", f.calls)
	}
	want := []float64{0.5, -1.25, 3, 2, 0.75}
	got := append(append([]float64(nil), mean...), variance...)
	for i := range want {
		if math.Abs(got[i]-want[i]) > 1e-15 {
			t.Errorf("element %d: %v, want %v", i, got[i], want[i])
		}
	}
	if err := AverageFloat64s(Local{}, [][]float64{mean}); err != nil || mean[0] != 0.5 {
		t.Errorf("one rank: %v %v", mean, err)
	}
	// Different lengths on another rank: refused before the all-reduce.
	g := &gatherComm{fakeComm: fakeComm{size: 2}, hashes: []uint64{HashFloat64s([]float64{3, 2}), 1}}
	if err := AverageFloat64s(g, [][]float64{mean, variance}); err == nil || g.calls != 0 {
		t.Errorf("length mismatch: err %v after %d all-reduces", err, g.calls)
	}
}
