package safetensors

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/bits"
	"os"
	"sort"
	"strings"

	"github.com/goinception/googlenet/internal/atomicfile"
	"github.com/pkg/errors"
)

// MaxHeaderSize is the largest JSON header accepted, as in the reference
// implementation (100 MB).
const MaxHeaderSize = 100 << 20

// metadataKey is the reserved header entry holding string metadata.
const metadataKey = "__metadata__"

// DType names an element type as spelled in safetensors headers.
type DType string

// Element types. Only these are accepted by Parse.
const (
	F64  DType = "F64"
	F32  DType = "F32"
	F16  DType = "F16"
	BF16 DType = "BF16"
	I64  DType = "I64"
	I32  DType = "I32"
	I16  DType = "I16"
	I8   DType = "I8"
	U8   DType = "U8"
	Bool DType = "BOOL"
)

// Size returns the size of one element in bytes, or 0 for an unknown dtype.
func (d DType) Size() int {
	switch d {
	case F64, I64:
		return 8
	case F32, I32:
		return 4
	case F16, BF16, I16:
		return 2
	case I8, U8, Bool:
		return 1
	}
	return 0
}

// Tensor is one named tensor. Data holds the raw little-endian bytes in
// row-major order; len(Data) == NumElements()*DType.Size().
type Tensor struct {
	Name  string
	DType DType
	Shape []int
	Data  []byte
}

// NumElements returns the product of the shape (1 for a scalar).
func (t Tensor) NumElements() int {
	n := 1
	for _, d := range t.Shape {
		n *= d
	}
	return n
}

// Float32s returns the elements converted to float32. F32, F64, F16 and BF16
// are accepted; other dtypes are an error.
func (t Tensor) Float32s() ([]float32, error) {
	n := t.NumElements()
	if len(t.Data) != n*t.DType.Size() {
		return nil, errors.Errorf("safetensors: tensor %q: %d bytes for %d elements of %s", t.Name, len(t.Data), n, t.DType)
	}
	out := make([]float32, n)
	le := binary.LittleEndian
	switch t.DType {
	case F32:
		for i := range out {
			out[i] = math.Float32frombits(le.Uint32(t.Data[4*i:]))
		}
	case F64:
		for i := range out {
			out[i] = float32(math.Float64frombits(le.Uint64(t.Data[8*i:])))
		}
	case F16:
		for i := range out {
			out[i] = HalfToFloat32(le.Uint16(t.Data[2*i:]))
		}
	case BF16:
		for i := range out {
			out[i] = math.Float32frombits(uint32(le.Uint16(t.Data[2*i:])) << 16)
		}
	default:
		return nil, errors.Errorf("safetensors: tensor %q has dtype %s, want a floating-point dtype", t.Name, t.DType)
	}
	return out, nil
}

// Int64s returns the elements of an I64 tensor.
func (t Tensor) Int64s() ([]int64, error) {
	if t.DType != I64 {
		return nil, errors.Errorf("safetensors: tensor %q has dtype %s, want I64", t.Name, t.DType)
	}
	n := t.NumElements()
	if len(t.Data) != 8*n {
		return nil, errors.Errorf("safetensors: tensor %q: %d bytes for %d elements of I64", t.Name, len(t.Data), n)
	}
	out := make([]int64, n)
	for i := range out {
		out[i] = int64(binary.LittleEndian.Uint64(t.Data[8*i:]))
	}
	return out, nil
}

// HalfToFloat32 converts an IEEE 754 binary16 value to float32 exactly.
func HalfToFloat32(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	mant := uint32(h) & 0x3ff
	switch {
	case exp == 0x1f: // Inf or NaN
		return math.Float32frombits(sign | 0xff<<23 | mant<<13)
	case exp == 0 && mant == 0: // signed zero
		return math.Float32frombits(sign)
	case exp == 0: // subnormal: normalise
		e := uint32(127 - 15 + 1)
		for mant&0x400 == 0 {
			mant <<= 1
			e--
		}
		mant &= 0x3ff
		return math.Float32frombits(sign | e<<23 | mant<<13)
	}
	return math.Float32frombits(sign | (exp+127-15)<<23 | mant<<13)
}

// NewF32 returns an F32 tensor with a copy of data. The shape's product
// must equal len(data).
func NewF32(name string, shape []int, data []float32) (Tensor, error) {
	n, err := shapeElements(shape)
	if err != nil {
		return Tensor{}, errors.Wrapf(err, "safetensors: tensor %q", name)
	}
	if n != uint64(len(data)) {
		return Tensor{}, errors.Errorf("safetensors: tensor %q: shape %v holds %d elements, got %d values", name, shape, n, len(data))
	}
	b := make([]byte, 4*len(data))
	for i, v := range data {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(v))
	}
	return Tensor{Name: name, DType: F32, Shape: append([]int(nil), shape...), Data: b}, nil
}

// NewI64 returns an I64 tensor with a copy of data. The shape's product must
// equal len(data).
func NewI64(name string, shape []int, data []int64) (Tensor, error) {
	n, err := shapeElements(shape)
	if err != nil {
		return Tensor{}, errors.Wrapf(err, "safetensors: tensor %q", name)
	}
	if n != uint64(len(data)) {
		return Tensor{}, errors.Errorf("safetensors: tensor %q: shape %v holds %d elements, got %d values", name, shape, n, len(data))
	}
	b := make([]byte, 8*len(data))
	for i, v := range data {
		binary.LittleEndian.PutUint64(b[8*i:], uint64(v))
	}
	return Tensor{Name: name, DType: I64, Shape: append([]int(nil), shape...), Data: b}, nil
}

// File is the parsed contents of a safetensors file.
type File struct {
	// Metadata is the header's "__metadata__" map (empty if absent).
	Metadata map[string]string
	// Tensors are in the order of their data in the file.
	Tensors []Tensor
}

// Tensor returns the tensor with the given name.
func (f *File) Tensor(name string) (Tensor, bool) {
	for _, t := range f.Tensors {
		if t.Name == name {
			return t, true
		}
	}
	return Tensor{}, false
}

// Names returns the tensor names in file order.
func (f *File) Names() []string {
	names := make([]string, len(f.Tensors))
	for i, t := range f.Tensors {
		names[i] = t.Name
	}
	return names
}

// CheckFinite returns an error naming the first tensor and flat index holding
// a NaN or an infinity. Non-floating-point tensors are skipped.
func (f *File) CheckFinite() error {
	for _, t := range f.Tensors {
		switch t.DType {
		case F32, F64, F16, BF16:
		default:
			continue
		}
		v, err := t.Float32s()
		if err != nil {
			return err
		}
		for i, x := range v {
			if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
				return errors.Errorf("safetensors: tensor %q holds %v at flat index %d", t.Name, x, i)
			}
		}
	}
	return nil
}

// headerEntry is one tensor's entry in the JSON header.
type headerEntry struct {
	DType       DType    `json:"dtype"`
	Shape       []int64  `json:"shape"`
	DataOffsets []uint64 `json:"data_offsets"`
}

// ReadFile reads and parses the safetensors file at path.
func ReadFile(path string) (*File, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, errors.Wrap(err, "safetensors: reading file")
	}
	f, err := Parse(b)
	if err != nil {
		return nil, errors.Wrapf(err, "%s", path)
	}
	return f, nil
}

// Parse parses a complete safetensors file held in b. The returned tensors'
// Data slices alias b.
func Parse(b []byte) (*File, error) {
	if len(b) < 8 {
		return nil, errors.Errorf("safetensors: file is %d bytes, shorter than the 8-byte header length", len(b))
	}
	n := binary.LittleEndian.Uint64(b)
	if n > uint64(len(b)-8) {
		return nil, errors.Errorf("safetensors: header length %d runs beyond the end of the %d-byte file", n, len(b))
	}
	if n > MaxHeaderSize {
		return nil, errors.Errorf("safetensors: header length %d exceeds the limit of %d", n, MaxHeaderSize)
	}
	header := b[8 : 8+n]
	data := b[8+n:]
	if len(header) == 0 || header[0] != '{' {
		return nil, errors.New("safetensors: header does not start with '{' (not a safetensors file?)")
	}
	entries, order, meta, err := parseHeader(header)
	if err != nil {
		return nil, err
	}
	f := &File{Metadata: meta}
	for _, name := range order {
		e := entries[name]
		t, err := checkEntry(name, e, uint64(len(data)))
		if err != nil {
			return nil, err
		}
		t.Data = data[e.DataOffsets[0]:e.DataOffsets[1]:e.DataOffsets[1]]
		f.Tensors = append(f.Tensors, t)
	}
	sort.SliceStable(f.Tensors, func(i, j int) bool {
		return entries[f.Tensors[i].Name].DataOffsets[0] < entries[f.Tensors[j].Name].DataOffsets[0]
	})
	// The tensors must tile the data buffer exactly: no overlap, no holes.
	var end uint64
	prev := ""
	for _, t := range f.Tensors {
		off := entries[t.Name].DataOffsets
		if off[0] < end {
			return nil, errors.Errorf("safetensors: tensor %q (bytes %d..%d) overlaps tensor %q (ending at %d)", t.Name, off[0], off[1], prev, end)
		}
		if off[0] > end {
			return nil, errors.Errorf("safetensors: hole in the data buffer before tensor %q (bytes %d..%d, previous data ends at %d)", t.Name, off[0], off[1], end)
		}
		end, prev = off[1], t.Name
	}
	if end != uint64(len(data)) {
		return nil, errors.Errorf("safetensors: tensors cover %d bytes of a %d-byte data buffer", end, len(data))
	}
	return f, nil
}

// parseHeader decodes the JSON header, rejecting duplicate keys (which
// encoding/json would silently merge).
func parseHeader(header []byte) (map[string]headerEntry, []string, map[string]string, error) {
	dec := json.NewDecoder(bytes.NewReader(header))
	tok, err := dec.Token()
	if err != nil || tok != json.Delim('{') {
		return nil, nil, nil, errors.New("safetensors: header is not a JSON object")
	}
	entries := map[string]headerEntry{}
	var order []string
	meta := map[string]string{}
	seenMeta := false
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, nil, nil, errors.Wrap(err, "safetensors: malformed header JSON")
		}
		name, ok := tok.(string)
		if !ok {
			return nil, nil, nil, errors.Errorf("safetensors: malformed header JSON: key %v", tok)
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, nil, nil, errors.Wrapf(err, "safetensors: malformed header JSON at %q", name)
		}
		if name == metadataKey {
			if seenMeta {
				return nil, nil, nil, errors.New("safetensors: duplicate __metadata__ in header")
			}
			seenMeta = true
			if err := json.Unmarshal(raw, &meta); err != nil {
				return nil, nil, nil, errors.Wrap(err, "safetensors: __metadata__ must map strings to strings")
			}
			if meta == nil { // "__metadata__": null
				meta = map[string]string{}
			}
			continue
		}
		if _, dup := entries[name]; dup {
			return nil, nil, nil, errors.Errorf("safetensors: duplicate tensor name %q in header", name)
		}
		var e headerEntry
		d := json.NewDecoder(bytes.NewReader(raw))
		d.DisallowUnknownFields()
		if err := d.Decode(&e); err != nil {
			return nil, nil, nil, errors.Wrapf(err, "safetensors: tensor %q: malformed header entry", name)
		}
		entries[name] = e
		order = append(order, name)
	}
	if _, err := dec.Token(); err != nil { // closing brace
		return nil, nil, nil, errors.Wrap(err, "safetensors: malformed header JSON")
	}
	// Only space padding may follow the object.
	rest, _ := io.ReadAll(dec.Buffered())
	if strings.TrimRight(string(rest), " \t\r\n") != "" {
		return nil, nil, nil, errors.New("safetensors: trailing bytes after the header JSON object")
	}
	return entries, order, meta, nil
}

// checkEntry validates one header entry against a data buffer of dataLen
// bytes and returns the tensor without data.
func checkEntry(name string, e headerEntry, dataLen uint64) (Tensor, error) {
	size := e.DType.Size()
	if size == 0 {
		return Tensor{}, errors.Errorf("safetensors: tensor %q has unknown dtype %q", name, e.DType)
	}
	if e.Shape == nil {
		return Tensor{}, errors.Errorf("safetensors: tensor %q has no shape", name)
	}
	if len(e.DataOffsets) != 2 {
		return Tensor{}, errors.Errorf("safetensors: tensor %q: data_offsets has %d values, want 2", name, len(e.DataOffsets))
	}
	begin, end := e.DataOffsets[0], e.DataOffsets[1]
	if begin > end || end > dataLen {
		return Tensor{}, errors.Errorf("safetensors: tensor %q: data_offsets [%d, %d] out of range for a %d-byte data buffer", name, begin, end, dataLen)
	}
	shape := make([]int, len(e.Shape))
	for i, d := range e.Shape {
		if d < 0 {
			return Tensor{}, errors.Errorf("safetensors: tensor %q: dimension %d is negative (%d)", name, i, d)
		}
		shape[i] = int(d)
	}
	n, err := shapeElements(shape)
	if err != nil {
		return Tensor{}, errors.Wrapf(err, "safetensors: tensor %q", name)
	}
	hi, nbytes := bits.Mul64(n, uint64(size))
	if hi != 0 || nbytes != end-begin {
		return Tensor{}, errors.Errorf("safetensors: tensor %q: shape %v of %s needs %d×%d bytes, data_offsets give %d", name, shape, e.DType, n, size, end-begin)
	}
	return Tensor{Name: name, DType: e.DType, Shape: shape}, nil
}

// shapeElements returns the product of shape, rejecting negative dimensions
// and overflow.
func shapeElements(shape []int) (uint64, error) {
	n := uint64(1)
	for i, d := range shape {
		if d < 0 {
			return 0, errors.Errorf("dimension %d is negative (%d)", i, d)
		}
		hi, lo := bits.Mul64(n, uint64(d))
		if hi != 0 || lo > math.MaxInt64 {
			return 0, errors.Errorf("shape %v overflows", shape)
		}
		n = lo
	}
	return n, nil
}

// Encode writes a safetensors file holding tensors, in the given order, and
// metadata (which may be nil) to w. Names must be unique, non-empty and not
// "__metadata__"; each tensor's data length must match its shape and dtype.
func Encode(w io.Writer, tensors []Tensor, metadata map[string]string) error {
	header := map[string]any{}
	if len(metadata) > 0 {
		header[metadataKey] = metadata
	}
	var offset uint64
	for _, t := range tensors {
		if t.Name == "" || t.Name == metadataKey {
			return errors.Errorf("safetensors: invalid tensor name %q", t.Name)
		}
		if _, dup := header[t.Name]; dup {
			return errors.Errorf("safetensors: duplicate tensor name %q", t.Name)
		}
		size := t.DType.Size()
		if size == 0 {
			return errors.Errorf("safetensors: tensor %q has unknown dtype %q", t.Name, t.DType)
		}
		n, err := shapeElements(t.Shape)
		if err != nil {
			return errors.Wrapf(err, "safetensors: tensor %q", t.Name)
		}
		if hi, nb := bits.Mul64(n, uint64(size)); hi != 0 || nb != uint64(len(t.Data)) {
			return errors.Errorf("safetensors: tensor %q: shape %v of %s needs %d bytes, has %d", t.Name, t.Shape, t.DType, n*uint64(size), len(t.Data))
		}
		shape := t.Shape
		if shape == nil {
			shape = []int{}
		}
		header[t.Name] = map[string]any{
			"dtype":        t.DType,
			"shape":        shape,
			"data_offsets": [2]uint64{offset, offset + uint64(len(t.Data))},
		}
		offset += uint64(len(t.Data))
	}
	hj, err := json.Marshal(header) // map keys are sorted: deterministic output
	if err != nil {
		return errors.Wrap(err, "safetensors: encoding header")
	}
	// Pad with spaces so the data buffer starts 8-byte aligned, as the
	// reference implementation does.
	if pad := (8 - len(hj)%8) % 8; pad > 0 {
		hj = append(hj, bytes.Repeat([]byte{' '}, pad)...)
	}
	var lenBuf [8]byte
	binary.LittleEndian.PutUint64(lenBuf[:], uint64(len(hj)))
	if _, err := w.Write(lenBuf[:]); err != nil {
		return errors.Wrap(err, "safetensors: writing header length")
	}
	if _, err := w.Write(hj); err != nil {
		return errors.Wrap(err, "safetensors: writing header")
	}
	for _, t := range tensors {
		if _, err := w.Write(t.Data); err != nil {
			return errors.Wrapf(err, "safetensors: writing tensor %q", t.Name)
		}
	}
	return nil
}

// Marshal returns the bytes of a safetensors file; see Encode.
func Marshal(tensors []Tensor, metadata map[string]string) ([]byte, error) {
	var buf bytes.Buffer
	if err := Encode(&buf, tensors, metadata); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// WriteFile writes tensors and metadata to path atomically: on error, path is
// left as it was.
func WriteFile(path string, tensors []Tensor, metadata map[string]string) error {
	// Encode to memory first so that invalid input never creates a file.
	b, err := Marshal(tensors, metadata)
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(path, 0o644, func(w io.Writer) error {
		_, err := w.Write(b)
		return err
	})
}

// String describes the tensor briefly, for example `conv1.weight F32 [64 3 7 7]`.
func (t Tensor) String() string {
	return fmt.Sprintf("%s %s %v", t.Name, t.DType, t.Shape)
}
