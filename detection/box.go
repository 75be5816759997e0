package detection

import (
	"fmt"
	"image"
	"math"
)

// Box is an axis-aligned rectangle in continuous pixel coordinates: it
// covers X1 <= x < X2 and Y1 <= y < Y2, so a box on whole pixels has width
// X2-X1 in pixels. PASCAL VOC's 1-based inclusive corners (xmin, ymin,
// xmax, ymax) are the box {xmin-1, ymin-1, xmax, ymax} (FromVOC, VOC), and
// with this convention IoU equals the VOC devkit's "+1" formula.
type Box struct {
	X1, Y1, X2, Y2 float64
}

// FromVOC converts PASCAL VOC's 1-based inclusive pixel corners to a Box.
func FromVOC(xmin, ymin, xmax, ymax float64) Box { return Box{xmin - 1, ymin - 1, xmax, ymax} }

// VOC returns the box as PASCAL VOC's 1-based inclusive pixel corners.
func (b Box) VOC() (xmin, ymin, xmax, ymax float64) { return b.X1 + 1, b.Y1 + 1, b.X2, b.Y2 }

// FromRect converts an image.Rectangle (half-open, like Box).
func FromRect(r image.Rectangle) Box {
	return Box{float64(r.Min.X), float64(r.Min.Y), float64(r.Max.X), float64(r.Max.Y)}
}

// Rect rounds the box to the pixels it touches.
func (b Box) Rect() image.Rectangle {
	return image.Rect(int(math.Floor(b.X1)), int(math.Floor(b.Y1)), int(math.Ceil(b.X2)), int(math.Ceil(b.Y2)))
}

// W and H are the width and height (0 for an empty or inverted box).
func (b Box) W() float64 { return math.Max(0, b.X2-b.X1) }

// H is the height (0 for an empty or inverted box).
func (b Box) H() float64 { return math.Max(0, b.Y2-b.Y1) }

// Area is W*H.
func (b Box) Area() float64 { return b.W() * b.H() }

// Empty reports whether the box covers no area (inverted boxes included).
func (b Box) Empty() bool { return !(b.X2 > b.X1 && b.Y2 > b.Y1) }

// Intersect returns the overlap of a and b (Empty when they do not meet).
func (b Box) Intersect(o Box) Box {
	return Box{math.Max(b.X1, o.X1), math.Max(b.Y1, o.Y1), math.Min(b.X2, o.X2), math.Min(b.Y2, o.Y2)}
}

// Union returns the smallest box holding a and b.
func (b Box) Union(o Box) Box {
	return Box{math.Min(b.X1, o.X1), math.Min(b.Y1, o.Y1), math.Max(b.X2, o.X2), math.Max(b.Y2, o.Y2)}
}

// Clip clips the box to an image of w by h pixels.
func (b Box) Clip(w, h int) Box {
	return Box{clamp(b.X1, 0, float64(w)), clamp(b.Y1, 0, float64(h)), clamp(b.X2, 0, float64(w)), clamp(b.Y2, 0, float64(h))}
}

// Center returns the centre point.
func (b Box) Center() (x, y float64) { return (b.X1 + b.X2) / 2, (b.Y1 + b.Y2) / 2 }

// Valid reports whether the box has positive area and finite corners.
func (b Box) Valid() bool {
	for _, v := range [4]float64{b.X1, b.Y1, b.X2, b.Y2} {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return false
		}
	}
	return !b.Empty()
}

// Inside reports whether the box lies within an image of w by h pixels.
func (b Box) Inside(w, h int) bool {
	return b.X1 >= 0 && b.Y1 >= 0 && b.X2 <= float64(w) && b.Y2 <= float64(h)
}

func (b Box) String() string { return fmt.Sprintf("[%g,%g %gx%g]", b.X1, b.Y1, b.W(), b.H()) }

// IoU is the intersection over union of a and b: 0 when they do not
// overlap or either is empty.
func IoU(a, b Box) float64 {
	in := a.Intersect(b)
	if in.Empty() {
		return 0
	}
	i := in.Area()
	u := a.Area() + b.Area() - i
	if u <= 0 {
		return 0
	}
	return i / u
}

// ILSVRCThreshold is the ILSVRC detection evaluation's IoU threshold for a
// ground-truth box: min(0.5, wh/((w+10)(h+10))), which loosens the
// criterion for objects smaller than about 25x25 pixels.
func ILSVRCThreshold(gt Box) float64 {
	w, h := gt.W(), gt.H()
	return math.Min(0.5, w*h/((w+10)*(h+10)))
}

func clamp(v, lo, hi float64) float64 {
	if v < lo {
		return lo
	}
	if v > hi {
		return hi
	}
	return v
}
