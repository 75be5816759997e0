package serve

import (
	"bytes"
	"fmt"
	"image"
	_ "image/jpeg" // decoders for DecodeImage
	_ "image/png"
	"io"

	"github.com/pkg/errors"
)

// Errors of DecodeImage (compare with errors.Is).
var (
	ErrEmpty       = errors.New("empty body")
	ErrNotImage    = errors.New("not a JPEG or PNG image")
	ErrCorrupt     = errors.New("corrupt or truncated image")
	ErrTooLarge    = errors.New("image has too many pixels")
	errNonPositive = errors.New("image has no pixels")
)

// DecodeImage decodes one JPEG or PNG image from r, refusing it before
// any pixel is decoded when its header claims more than maxPixels pixels
// (a 60000x60000 PNG is a few kilobytes and would need 14 GB). The reader
// should already be bounded (http.MaxBytesReader). It returns the format
// name with the image.
func DecodeImage(r io.Reader, maxPixels int64) (image.Image, string, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, "", err
	}
	return decodeBytes(b, maxPixels)
}

func decodeBytes(b []byte, maxPixels int64) (image.Image, string, error) {
	if len(b) == 0 {
		return nil, "", ErrEmpty
	}
	cfg, format, err := image.DecodeConfig(bytes.NewReader(b))
	if errors.Is(err, image.ErrFormat) {
		return nil, "", ErrNotImage
	}
	if err != nil {
		return nil, "", wrapf(ErrCorrupt, "header: %v", err)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 {
		return nil, "", wrapf(errNonPositive, "%s of %dx%d", format, cfg.Width, cfg.Height)
	}
	if px := int64(cfg.Width) * int64(cfg.Height); px > maxPixels {
		return nil, "", wrapf(ErrTooLarge, "%s of %dx%d = %d pixels, the limit is %d", format, cfg.Width, cfg.Height, px, maxPixels)
	}
	img, _, err := image.Decode(bytes.NewReader(b))
	if err != nil {
		return nil, "", wrapf(ErrCorrupt, "%s: %v", format, err)
	}
	if got := img.Bounds(); got.Dx() != cfg.Width || got.Dy() != cfg.Height {
		return nil, "", wrapf(ErrCorrupt, "%s header says %dx%d, the pixels are %dx%d", format, cfg.Width, cfg.Height, got.Dx(), got.Dy())
	}
	return img, format, nil
}

// wrapf returns an error that reads "base: detail" and matches base.
func wrapf(base error, format string, a ...any) error {
	return &detailError{base: base, detail: fmt.Sprintf(format, a...)}
}

type detailError struct {
	base   error
	detail string
}

func (e *detailError) Error() string { return e.base.Error() + ": " + e.detail }
func (e *detailError) Unwrap() error { return e.base }
