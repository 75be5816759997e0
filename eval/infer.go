package eval

import (
	"bytes"
	"fmt"
	"io"
	"math"
	"os"
	"reflect"
	"strings"

	"github.com/pkg/errors"
	"github.com/sbinet/npyio"

	"github.com/goinception/googlenet/cuda"
	"github.com/goinception/googlenet/inception"
	"github.com/goinception/googlenet/internal/atomicfile"
)

// maxNpyBytes bounds the .npy files ReadNpy accepts (4 GiB).
const maxNpyBytes = 4 << 30

// Array is an n-dimensional float32 array in row-major (C) order.
type Array struct {
	Shape []int
	Data  []float32
}

// ReadNpy reads a NumPy .npy file of float32 values ('<f4', '>f4') or
// float64 values ('<f8', '>f8'), in C order. Float64 values are converted to
// float32 (rounded to nearest); a value beyond float32's range is an error,
// so the conversion never creates infinities. Other dtypes, Fortran order, a
// truncated file and trailing bytes are errors that name the file.
func ReadNpy(path string) (*Array, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, errors.Wrap(err, "eval: npy")
	}
	if st.Size() > maxNpyBytes {
		return nil, errors.Errorf("eval: %s: %d bytes, over the %d-byte limit", path, st.Size(), int64(maxNpyBytes))
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, errors.Wrap(err, "eval: npy")
	}
	a, err := decodeNpy(b)
	if err != nil {
		return nil, errors.Wrapf(err, "eval: %s", path)
	}
	return a, nil
}

// decodeNpy checks the header of a .npy image before handing it to npyio,
// whose parser trusts it.
func decodeNpy(b []byte) (a *Array, err error) {
	// npyio's header parser slices without bounds checks; a malformed
	// header must be an error, not a crash.
	defer func() {
		if r := recover(); r != nil {
			a, err = nil, errors.Errorf("malformed .npy header (%v)", r)
		}
	}()
	if len(b) < 10 || !bytes.Equal(b[:6], npyio.Magic[:]) {
		return nil, errors.New("not a .npy file (no \\x93NUMPY magic)")
	}
	var hlen, off int
	switch b[6] {
	case 1:
		hlen, off = int(b[8])|int(b[9])<<8, 10
	case 2, 3:
		if len(b) < 12 {
			return nil, errors.New("truncated .npy header")
		}
		hlen, off = int(b[8])|int(b[9])<<8|int(b[10])<<16|int(b[11])<<24, 12
	default:
		return nil, errors.Errorf(".npy format version %d.%d not supported", b[6], b[7])
	}
	if off+hlen > len(b) {
		return nil, errors.Errorf(".npy header of %d bytes beyond the end of the file (%d bytes)", hlen, len(b))
	}
	if !bytes.Contains(b[off:off+hlen], []byte("\n")) {
		return nil, errors.New("malformed .npy header (no terminating newline)")
	}
	r, err := npyio.NewReader(bytes.NewReader(b))
	if err != nil {
		return nil, errors.Wrap(err, "npy header")
	}
	h := r.Header.Descr
	if h.Fortran {
		return nil, errors.New("Fortran-ordered array: save it in C order (numpy.ascontiguousarray)")
	}
	typ := strings.TrimLeft(h.Type, "<>|=")
	if (typ == "f4" || typ == "f8") && strings.HasPrefix(h.Type, "|") {
		return nil, errors.Errorf("dtype %q has no byte order", h.Type)
	}
	var size int
	switch typ {
	case "f4":
		size = 4
	case "f8":
		size = 8
	default:
		return nil, errors.Errorf("dtype %q not supported: want float32 ('<f4') or float64 ('<f8')", h.Type)
	}
	n := 1
	for _, d := range h.Shape {
		if d < 0 || (d > 0 && n > maxNpyBytes/d) {
			return nil, errors.Errorf("bad shape %v", h.Shape)
		}
		n *= d
	}
	if want, got := n*size, len(b)-off-hlen; want != got {
		return nil, errors.Errorf("shape %v of %s needs %d data bytes, the file has %d", h.Shape, h.Type, want, got)
	}
	a = &Array{Shape: append([]int{}, h.Shape...)}
	if n == 0 {
		a.Data = []float32{}
		return a, nil
	}
	if size == 4 {
		if err := r.Read(&a.Data); err != nil && err != io.EOF {
			return nil, errors.Wrap(err, "npy data")
		}
	} else {
		var d []float64
		if err := r.Read(&d); err != nil && err != io.EOF {
			return nil, errors.Wrap(err, "npy data")
		}
		a.Data = make([]float32, len(d))
		for i, v := range d {
			f := float32(v)
			if math.IsInf(float64(f), 0) && !math.IsInf(v, 0) {
				return nil, errors.Errorf("float64 value %g at index %d is beyond float32's range", v, i)
			}
			a.Data[i] = f
		}
	}
	if len(a.Data) != n {
		return nil, errors.Errorf("read %d values, shape %v has %d", len(a.Data), h.Shape, n)
	}
	return a, nil
}

// WriteNpy writes a as a float32 ('<f4') .npy file in C order, atomically:
// a temporary file in the same folder, renamed over path once complete.
func WriteNpy(path string, a *Array) (err error) {
	n := 1
	for _, d := range a.Shape {
		if d <= 0 {
			return errors.Errorf("eval: write %s: shape %v", path, a.Shape)
		}
		n *= d
	}
	if len(a.Shape) == 0 || n != len(a.Data) {
		return errors.Errorf("eval: write %s: shape %v with %d values", path, a.Shape, len(a.Data))
	}
	val := nest(a.Data, a.Shape).Interface()
	return errors.Wrap(atomicfile.WriteFile(path, 0o644, func(w io.Writer) error {
		return npyio.Write(w, val)
	}), "eval: write npy")
}

// nest returns data as a pointer to a nested Go array ([d0][d1]...float32,
// a type made at run time) of the given shape: npyio writes the shape of
// nested arrays (it cannot write nested slices). One dimension stays a slice.
func nest(data []float32, shape []int) reflect.Value {
	if len(shape) == 1 {
		return reflect.ValueOf(data)
	}
	t := reflect.TypeOf(float32(0))
	for i := len(shape) - 1; i >= 0; i-- {
		t = reflect.ArrayOf(shape[i], t)
	}
	v := reflect.New(t)
	fill(v.Elem(), data)
	return v
}

// fill copies data into the nested array v, row by row.
func fill(v reflect.Value, data []float32) {
	if v.Type().Elem().Kind() == reflect.Float32 {
		reflect.Copy(v, reflect.ValueOf(data))
		return
	}
	step := len(data) / v.Len()
	for i := 0; i < v.Len(); i++ {
		fill(v.Index(i), data[i*step:(i+1)*step])
	}
}

// CheckInput checks that shape is a batch the model of cfg takes:
// [N, InChannels, InputSize, InputSize] with N >= 1.
func CheckInput(shape []int, cfg inception.Config) error {
	want := fmt.Sprintf("[N, %d, %d, %d]", cfg.InChannels, cfg.InputSize, cfg.InputSize)
	if len(shape) != 4 {
		return errors.Errorf("eval: input of shape %v, the %s model takes NCHW %s", shape, cfg.Variant, want)
	}
	if shape[0] < 1 {
		return errors.Errorf("eval: input of shape %v holds no images", shape)
	}
	if shape[1] != cfg.InChannels || shape[2] != cfg.InputSize || shape[3] != cfg.InputSize {
		return errors.Errorf("eval: input of shape %v, the %s model takes NCHW %s", shape, cfg.Variant, want)
	}
	return nil
}

// Infer runs the model on a batch x of shape [N, C, H, W] (the model's
// channels and input size), batch images per forward pass (0: 32), and
// returns the logits as an [N, classes] array. Non-finite inputs are an
// error (they would make every logit of their image NaN).
func Infer(m *inception.Model, x *Array, batch int) (*Array, error) { return infer(nil, m, x, batch) }

// infer is Infer on d (nil: the model's graph), see newForwarder.
func infer(d *cuda.Device, m *inception.Model, x *Array, batch int) (*Array, error) {
	cfg := m.Config()
	if err := checkInferInput(cfg, x); err != nil {
		return nil, err
	}
	plane := cfg.InChannels * cfg.InputSize * cfg.InputSize
	n := x.Shape[0]
	if batch < 0 {
		return nil, errors.Errorf("eval: batch size %d", batch)
	}
	if batch == 0 {
		batch = 32
	}
	batch = min(batch, n)
	f, err := newForwarder(d, m, batch)
	if err != nil {
		return nil, err
	}
	defer f.close()
	out := &Array{Shape: []int{n, cfg.Classes}, Data: make([]float32, 0, n*cfg.Classes)}
	for i := 0; i < n; i += batch {
		j := min(n, i+batch)
		y, err := f.run(x.Data[i*plane:j*plane], j-i)
		if err != nil {
			return nil, err
		}
		for _, v := range y {
			out.Data = append(out.Data, float32(v))
		}
	}
	return out, nil
}

// checkInferInput checks x's shape against cfg and that every value is
// finite.
func checkInferInput(cfg inception.Config, x *Array) error {
	if err := CheckInput(x.Shape, cfg); err != nil {
		return err
	}
	plane := cfg.InChannels * cfg.InputSize * cfg.InputSize
	if len(x.Data) != x.Shape[0]*plane {
		return errors.Errorf("eval: input shape %v with %d values", x.Shape, len(x.Data))
	}
	for i, v := range x.Data {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return errors.Errorf("eval: input value %v at image %d, index %d", v, i/plane, i%plane)
		}
	}
	return nil
}
