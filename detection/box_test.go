package detection

import (
	"math"
	"testing"
)

const tol = 1e-12

func TestIoU(t *testing.T) {
	a := Box{0, 0, 10, 10}
	cases := []struct {
		b    Box
		want float64
	}{
		{Box{0, 0, 10, 10}, 1},
		{Box{5, 0, 15, 10}, 50.0 / 150},
		{Box{10, 0, 20, 10}, 0}, // touching edges do not overlap
		{Box{2, 2, 4, 4}, 4.0 / 100},
		{Box{5, 5, 4, 4}, 0}, // inverted
		{Box{-5, -5, 5, 5}, 25.0 / 175},
	}
	for _, c := range cases {
		if got := IoU(a, c.b); math.Abs(got-c.want) > tol {
			t.Errorf("IoU(%v, %v) = %g, want %g", a, c.b, got, c.want)
		}
		if got := IoU(c.b, a); math.Abs(got-c.want) > tol {
			t.Errorf("IoU not symmetric for %v", c.b)
		}
	}
}

// The VOC devkit computes overlaps on 1-based inclusive corners with +1 in
// widths; FromVOC boxes give the same numbers with plain differences.
func TestIoUMatchesDevkitFormula(t *testing.T) {
	devkit := func(a, b [4]float64) float64 {
		iw := math.Min(a[2], b[2]) - math.Max(a[0], b[0]) + 1
		ih := math.Min(a[3], b[3]) - math.Max(a[1], b[1]) + 1
		if iw <= 0 || ih <= 0 {
			return 0
		}
		ua := (a[2]-a[0]+1)*(a[3]-a[1]+1) + (b[2]-b[0]+1)*(b[3]-b[1]+1) - iw*ih
		return iw * ih / ua
	}
	pairs := [][2][4]float64{
		{{1, 1, 10, 10}, {5, 5, 20, 20}},
		{{48, 240, 195, 371}, {8, 12, 352, 498}},
		{{1, 1, 1, 1}, {1, 1, 1, 1}},
		{{3, 7, 30, 40}, {31, 7, 60, 40}},
	}
	for _, p := range pairs {
		a, b := FromVOC(p[0][0], p[0][1], p[0][2], p[0][3]), FromVOC(p[1][0], p[1][1], p[1][2], p[1][3])
		if got, want := IoU(a, b), devkit(p[0], p[1]); math.Abs(got-want) > tol {
			t.Errorf("IoU %v %v = %g, devkit %g", p[0], p[1], got, want)
		}
	}
}

func TestILSVRCThreshold(t *testing.T) {
	for _, c := range []struct {
		b    Box
		want float64
	}{
		{Box{0, 0, 10, 10}, 100.0 / 400},
		{Box{0, 0, 100, 100}, 0.5},
		{Box{0, 0, 20, 30}, 600.0 / (30 * 40)},
	} {
		if got := ILSVRCThreshold(c.b); math.Abs(got-c.want) > tol {
			t.Errorf("ILSVRCThreshold(%v) = %g, want %g", c.b, got, c.want)
		}
	}
}

func TestNMS(t *testing.T) {
	boxes := []Box{
		{0, 0, 10, 10},   // 0: score .9
		{1, 0, 11, 10},   // 1: IoU .818 with 0: suppressed
		{20, 20, 30, 30}, // 2
		{5, 0, 15, 10},   // 3: IoU 1/3 with 0: kept at .5, dropped at .3
		{20, 20, 30, 30}, // 4: same box and score as 2: the earlier one stays
	}
	scores := []float64{0.9, 0.8, 0.7, 0.6, 0.7}
	got := NMS(boxes, scores, 0.5)
	want := []int{0, 2, 3}
	if len(got) != len(want) {
		t.Fatalf("NMS = %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("NMS = %v, want %v", got, want)
		}
	}
	if got := NMS(boxes, scores, 0.3); len(got) != 2 || got[0] != 0 || got[1] != 2 {
		t.Errorf("NMS at 0.3 = %v, want [0 2]", got)
	}
	// Per class: the same boxes in two classes do not suppress each other.
	dets := []Detection{
		{Image: "a", Class: 0, Box: boxes[0], Score: .9},
		{Image: "a", Class: 1, Box: boxes[1], Score: .8},
		{Image: "a", Class: 0, Box: boxes[1], Score: .7},
		{Image: "b", Class: 0, Box: boxes[1], Score: .1},
	}
	kept := NMSPerClass(dets, 0.5)
	if len(kept) != 3 || kept[0].Score != .9 || kept[1].Score != .8 || kept[2].Image != "b" {
		t.Errorf("NMSPerClass = %+v", kept)
	}
}
