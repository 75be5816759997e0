package detection

import (
	"fmt"
	"image"
	"image/color"
	"image/draw"

	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"
)

// Palette colours boxes by class.
var Palette = []color.RGBA{
	{230, 25, 75, 255}, {60, 180, 75, 255}, {255, 225, 25, 255}, {0, 130, 200, 255}, {245, 130, 48, 255},
	{145, 30, 180, 255}, {70, 240, 240, 255}, {240, 50, 230, 255}, {210, 245, 60, 255}, {250, 190, 212, 255},
	{0, 128, 128, 255}, {220, 190, 255, 255}, {170, 110, 40, 255}, {255, 250, 200, 255}, {128, 0, 0, 255},
}

// Labelled boxes for Draw.
type DrawnBox struct {
	Box   Box
	Class int     // colour index
	Label string  // drawn above the box ("" for none)
	Dash  bool    // dashed outline (e.g. ground truth)
	Score float64 // appended to the label when positive
}

// Draw returns a copy of img scaled by scale (nearest neighbour, so small
// images stay sharp) with the boxes outlined and labelled.
func Draw(img image.Image, boxes []DrawnBox, scale int) *image.RGBA {
	if scale < 1 {
		scale = 1
	}
	b := img.Bounds()
	out := image.NewRGBA(image.Rect(0, 0, b.Dx()*scale, b.Dy()*scale))
	for y := 0; y < out.Rect.Dy(); y++ {
		for x := 0; x < out.Rect.Dx(); x++ {
			out.Set(x, y, img.At(b.Min.X+x/scale, b.Min.Y+y/scale))
		}
	}
	for _, d := range boxes {
		c := Palette[((d.Class%len(Palette))+len(Palette))%len(Palette)]
		r := image.Rect(int(d.Box.X1*float64(scale)), int(d.Box.Y1*float64(scale)), int(d.Box.X2*float64(scale))-1, int(d.Box.Y2*float64(scale))-1)
		for t := 0; t < max(1, scale/2); t++ {
			rect(out, r.Inset(-t), c, d.Dash)
		}
		label := d.Label
		if d.Score > 0 {
			label = fmt.Sprintf("%s %.2f", label, d.Score)
		}
		if label != "" {
			text(out, r.Min.X, r.Min.Y-2, label, c)
		}
	}
	return out
}

func rect(img *image.RGBA, r image.Rectangle, c color.RGBA, dash bool) {
	set := func(x, y, i int) {
		if dash && (i/3)%2 == 1 {
			return
		}
		if image.Pt(x, y).In(img.Rect) {
			img.SetRGBA(x, y, c)
		}
	}
	for x := r.Min.X; x <= r.Max.X; x++ {
		set(x, r.Min.Y, x)
		set(x, r.Max.Y, x)
	}
	for y := r.Min.Y; y <= r.Max.Y; y++ {
		set(r.Min.X, y, y)
		set(r.Max.X, y, y)
	}
}

// text writes s with its baseline at y on a filled background of c.
func text(img *image.RGBA, x, y int, s string, c color.RGBA) {
	face := basicfont.Face7x13
	w := font.MeasureString(face, s).Ceil()
	if y < 11 {
		y = 11
	}
	bg := image.Rect(x, y-11, x+w+2, y+2)
	draw.Draw(img, bg.Intersect(img.Rect), &image.Uniform{c}, image.Point{}, draw.Src)
	fg := color.RGBA{0, 0, 0, 255}
	if int(c.R)*299+int(c.G)*587+int(c.B)*114 < 128000 {
		fg = color.RGBA{255, 255, 255, 255}
	}
	d := &font.Drawer{Dst: img, Src: &image.Uniform{fg}, Face: face, Dot: fixed.P(x+1, y)}
	d.DrawString(s)
}
