package serve

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"image"
	"image/jpeg"
	"image/png"
	"testing"
)

// pngHeader returns a PNG file of w x h pixels that ends after its IHDR
// chunk: what a decompression bomb looks like before its data.
func pngHeader(w, h uint32) []byte {
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], w)
	binary.BigEndian.PutUint32(ihdr[4:], h)
	ihdr[8], ihdr[9] = 8, 2 // 8-bit RGB
	chunk := append([]byte("IHDR"), ihdr...)
	binary.Write(&b, binary.BigEndian, uint32(len(ihdr)))
	b.Write(chunk)
	binary.Write(&b, binary.BigEndian, crc32.ChecksumIEEE(chunk))
	return b.Bytes()
}

func encodedImages(t testing.TB) (pngData, jpegData []byte) {
	img := image.NewRGBA(image.Rect(0, 0, 64, 48))
	for i := range img.Pix {
		img.Pix[i] = uint8(i * 7)
	}
	var p, j bytes.Buffer
	if err := png.Encode(&p, img); err != nil {
		t.Fatal(err)
	}
	if err := jpeg.Encode(&j, img, nil); err != nil {
		t.Fatal(err)
	}
	return p.Bytes(), j.Bytes()
}

func TestDecodeImage(t *testing.T) {
	p, j := encodedImages(t)
	for _, tc := range []struct {
		name string
		data []byte
		want error
	}{
		{"png", p, nil},
		{"jpeg", j, nil},
		{"empty", nil, ErrEmpty},
		{"text", []byte("hello, world"), ErrNotImage},
		{"truncated png", p[:len(p)/2], ErrCorrupt},
		{"truncated jpeg", j[:len(j)/2], ErrCorrupt},
		{"png header only", p[:40], ErrCorrupt},
		{"60000x60000 png", pngHeader(60000, 60000), ErrTooLarge},
	} {
		img, _, err := DecodeImage(bytes.NewReader(tc.data), 1<<26)
		if tc.want == nil {
			if err != nil || img.Bounds().Dx() != 64 {
				t.Errorf("%s: %v", tc.name, err)
			}
			continue
		}
		if !errors.Is(err, tc.want) {
			t.Errorf("%s: error %v, want %v", tc.name, err, tc.want)
		}
	}
}

// FuzzDecodeImage: any bytes give an image within the limit or an error,
// never a panic or an image over the pixel limit.
func FuzzDecodeImage(f *testing.F) {
	p, j := encodedImages(f)
	f.Add(p)
	f.Add(j)
	f.Add(pngHeader(60000, 60000))
	f.Add([]byte("GIF89a"))
	f.Fuzz(func(t *testing.T, b []byte) {
		img, _, err := DecodeImage(bytes.NewReader(b), 1<<16)
		if err != nil {
			return
		}
		r := img.Bounds()
		if r.Empty() || int64(r.Dx())*int64(r.Dy()) > 1<<16 {
			t.Fatalf("decoded %v", r)
		}
	})
}
