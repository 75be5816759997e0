package torchpth

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"math/big"
	"math/bits"
	"os"
	"path"

	"github.com/nlpodyssey/gopickle/pickle"
	"github.com/nlpodyssey/gopickle/types"
	"github.com/pkg/errors"
)

// Tensor is one tensor of a state dict, converted to float32 and laid out
// contiguously in row-major (C) order.
type Tensor struct {
	// DType is the PyTorch element type of the stored data, for example
	// "float32", "float16" or "int64".
	DType string
	Shape []int
	// Data holds the values converted to float32. Integers above 2^24 lose
	// precision here; use Ints for them.
	Data []float32
	// Ints holds the exact values of integer tensors (nil otherwise).
	Ints []int64
}

// NumElements returns the product of the shape (1 for a scalar).
func (t Tensor) NumElements() int {
	n := 1
	for _, d := range t.Shape {
		n *= d
	}
	return n
}

// StateDict maps parameter and buffer names to tensors.
type StateDict struct {
	// Names lists the tensor names in the order they were saved.
	Names   []string
	Tensors map[string]Tensor
}

// CheckFinite returns an error naming the first tensor and flat index that
// holds a NaN or an infinity.
func (s *StateDict) CheckFinite() error {
	for _, name := range s.Names {
		for i, v := range s.Tensors[name].Data {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				return errors.Errorf("torchpth: tensor %q holds %v at flat index %d", name, v, i)
			}
		}
	}
	return nil
}

// storageType describes one of the allowed torch.*Storage classes.
type storageType struct {
	name     string // PyTorch dtype name
	elemSize int
	decode   func(b []byte) (float32, int64)
	isInt    bool
}

var storageTypes = map[string]*storageType{
	"FloatStorage": {name: "float32", elemSize: 4, decode: func(b []byte) (float32, int64) {
		return math.Float32frombits(binary.LittleEndian.Uint32(b)), 0
	}},
	"DoubleStorage": {name: "float64", elemSize: 8, decode: func(b []byte) (float32, int64) {
		return float32(math.Float64frombits(binary.LittleEndian.Uint64(b))), 0
	}},
	"HalfStorage": {name: "float16", elemSize: 2, decode: func(b []byte) (float32, int64) {
		return halfToFloat32(binary.LittleEndian.Uint16(b)), 0
	}},
	"BFloat16Storage": {name: "bfloat16", elemSize: 2, decode: func(b []byte) (float32, int64) {
		return math.Float32frombits(uint32(binary.LittleEndian.Uint16(b)) << 16), 0
	}},
	"LongStorage": {name: "int64", elemSize: 8, isInt: true, decode: func(b []byte) (float32, int64) {
		v := int64(binary.LittleEndian.Uint64(b))
		return float32(v), v
	}},
	"IntStorage": {name: "int32", elemSize: 4, isInt: true, decode: func(b []byte) (float32, int64) {
		v := int64(int32(binary.LittleEndian.Uint32(b)))
		return float32(v), v
	}},
	"ShortStorage": {name: "int16", elemSize: 2, isInt: true, decode: func(b []byte) (float32, int64) {
		v := int64(int16(binary.LittleEndian.Uint16(b)))
		return float32(v), v
	}},
	"CharStorage": {name: "int8", elemSize: 1, isInt: true, decode: func(b []byte) (float32, int64) {
		return float32(int8(b[0])), int64(int8(b[0]))
	}},
	"ByteStorage": {name: "uint8", elemSize: 1, isInt: true, decode: func(b []byte) (float32, int64) {
		return float32(b[0]), int64(b[0])
	}},
	"BoolStorage": {name: "bool", elemSize: 1, isInt: true, decode: func(b []byte) (float32, int64) {
		if b[0] != 0 {
			return 1, 1
		}
		return 0, 0
	}},
}

// allowedGlobal reports whether a pickle may name module.name. Nothing named
// here executes code: each maps to a Go value built by this package or by
// gopickle.
func allowedGlobal(module, name string) bool {
	switch module + "." + name {
	case "collections.OrderedDict", "torch._utils._rebuild_tensor_v2", "torch._utils._rebuild_parameter":
		return true
	}
	return module == "torch" && storageTypes[name] != nil
}

// storageRef is a storage named by a persistent id; its bytes are read after
// unpickling.
type storageRef struct {
	typ   *storageType
	key   string
	numel int
	data  []byte // filled in by the loader
}

// tensorRef is the result of torch._utils._rebuild_tensor_v2.
type tensorRef struct {
	storage *storageRef
	offset  int
	size    []int
	stride  []int
}

type rebuildTensor struct{}

func (rebuildTensor) Call(args ...interface{}) (interface{}, error) {
	if len(args) < 4 {
		return nil, errors.Errorf("_rebuild_tensor_v2: %d arguments, want at least 4", len(args))
	}
	s, ok := args[0].(*storageRef)
	if !ok {
		return nil, errors.Errorf("_rebuild_tensor_v2: first argument is %T, want a storage", args[0])
	}
	off, ok := args[1].(int)
	if !ok || off < 0 {
		return nil, errors.Errorf("_rebuild_tensor_v2: bad storage offset %v", args[1])
	}
	size, err := intTuple(args[2])
	if err != nil {
		return nil, errors.Wrap(err, "_rebuild_tensor_v2: size")
	}
	stride, err := intTuple(args[3])
	if err != nil {
		return nil, errors.Wrap(err, "_rebuild_tensor_v2: stride")
	}
	if len(size) != len(stride) {
		return nil, errors.Errorf("_rebuild_tensor_v2: size %v and stride %v differ in rank", size, stride)
	}
	return &tensorRef{storage: s, offset: off, size: size, stride: stride}, nil
}

type rebuildParameter struct{}

func (rebuildParameter) Call(args ...interface{}) (interface{}, error) {
	if len(args) < 1 {
		return nil, errors.New("_rebuild_parameter: no arguments")
	}
	t, ok := args[0].(*tensorRef)
	if !ok {
		return nil, errors.Errorf("_rebuild_parameter: argument is %T, want a tensor", args[0])
	}
	return t, nil
}

func intTuple(v interface{}) ([]int, error) {
	t, ok := v.(*types.Tuple)
	if !ok {
		return nil, errors.Errorf("got %T, want a tuple of ints", v)
	}
	out := make([]int, t.Len())
	for i := range out {
		x, ok := t.Get(i).(int)
		if !ok || x < 0 {
			return nil, errors.Errorf("element %d is %v, want a non-negative int", i, t.Get(i))
		}
		out[i] = x
	}
	return out, nil
}

// ReadFile loads the state dict saved with torch.save at path.
func ReadFile(filename string) (*StateDict, error) {
	b, err := os.ReadFile(filename)
	if err != nil {
		return nil, errors.Wrap(err, "torchpth")
	}
	s, err := Parse(b)
	if err != nil {
		return nil, errors.Wrapf(err, "%s", filename)
	}
	return s, nil
}

// zipMagic starts every zip archive (torch.save's default format since
// PyTorch 1.6).
var zipMagic = []byte("PK\x03\x04")

// Parse loads a state dict from the bytes of a torch.save file, in either
// the zip format or the legacy format. The saved object may be a state dict
// or a dict wrapping one under "state_dict", "model" or "model_state_dict".
func Parse(b []byte) (sd *StateDict, err error) {
	// gopickle can panic on some malformed pickles (for example an
	// unhashable dict key); report those as errors.
	defer func() {
		if r := recover(); r != nil {
			sd, err = nil, errors.Errorf("torchpth: malformed pickle (%v)", r)
		}
	}()
	switch {
	case bytes.HasPrefix(b, zipMagic):
		return parseZip(b)
	case len(b) >= 2 && b[0] == 0x80:
		return parseLegacy(b)
	}
	return nil, errors.New("torchpth: not a PyTorch file (neither a zip archive nor a legacy pickle)")
}

// unpickle runs gopickle on one pre-scanned pickle with the allow-list and
// returns the object and the storages it references.
func unpickle(p []byte, persistent func(*types.Tuple) (*storageRef, error)) (interface{}, error) {
	u := pickle.NewUnpickler(bytes.NewReader(p))
	u.FindClass = func(module, name string) (interface{}, error) {
		switch module + "." + name {
		case "torch._utils._rebuild_tensor_v2":
			return rebuildTensor{}, nil
		case "torch._utils._rebuild_parameter":
			return rebuildParameter{}, nil
		}
		if module == "torch" && storageTypes[name] != nil {
			return storageTypes[name], nil
		}
		return nil, errors.Errorf("pickle names global %s.%s, which is not on the allow-list", module, name)
	}
	u.PersistentLoad = func(id interface{}) (interface{}, error) {
		t, ok := id.(*types.Tuple)
		if !ok || t.Len() < 5 {
			return nil, errors.Errorf("persistent id %v is not a storage tuple", id)
		}
		if s, _ := t.Get(0).(string); s != "storage" {
			return nil, errors.Errorf("persistent id of kind %v, want \"storage\"", t.Get(0))
		}
		return persistent(t)
	}
	return u.Load()
}

// storageFromID checks a ('storage', type, key, location, numel, ...) tuple.
func storageFromID(t *types.Tuple) (*storageRef, error) {
	typ, ok := t.Get(1).(*storageType)
	if !ok {
		return nil, errors.Errorf("storage type %v is not an allowed torch storage", t.Get(1))
	}
	key, ok := t.Get(2).(string)
	if !ok {
		return nil, errors.Errorf("storage key %v is not a string", t.Get(2))
	}
	numel, ok := t.Get(4).(int)
	if !ok || numel < 0 {
		return nil, errors.Errorf("storage %q: size %v is not a non-negative int", key, t.Get(4))
	}
	return &storageRef{typ: typ, key: key, numel: numel}, nil
}

func parseZip(b []byte) (*StateDict, error) {
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		return nil, errors.Wrap(err, "torchpth: reading zip archive")
	}
	records := map[string]*zip.File{}
	var pkl *zip.File
	for _, f := range zr.File {
		records[f.Name] = f
		switch path.Base(f.Name) {
		case "data.pkl":
			if pkl != nil {
				return nil, errors.New("torchpth: archive holds more than one data.pkl")
			}
			pkl = f
		case "constants.pkl":
			return nil, errors.New("torchpth: TorchScript archives (torch.jit.save) are not supported; save the state_dict with torch.save")
		}
	}
	if pkl == nil {
		return nil, errors.New("torchpth: zip archive has no data.pkl (not a torch.save file)")
	}
	prefix := path.Dir(pkl.Name)
	if bo := records[path.Join(prefix, "byteorder")]; bo != nil {
		// PyTorch 2 records the writer's byte order; we read little-endian.
		order, err := readRecord(bo, min(bo.UncompressedSize64, 16))
		if err != nil {
			return nil, err
		}
		if string(order) != "little" {
			return nil, errors.Errorf("torchpth: storages are %q-endian; only little-endian files are supported", order)
		}
	}
	if pkl.UncompressedSize64 > maxPickleSize {
		return nil, errors.Errorf("torchpth: %s is %d bytes, over the limit of %d", pkl.Name, pkl.UncompressedSize64, maxPickleSize)
	}
	p, err := readRecord(pkl, pkl.UncompressedSize64)
	if err != nil {
		return nil, err
	}
	end, err := scanPickle(p)
	if err != nil {
		return nil, errors.Wrap(err, "torchpth: data.pkl")
	}
	storages := map[string]*storageRef{}
	obj, err := unpickle(p[:end], func(t *types.Tuple) (*storageRef, error) {
		s, err := storageFromID(t)
		if err != nil {
			return nil, err
		}
		if old, ok := storages[s.key]; ok {
			if old.typ != s.typ || old.numel != s.numel {
				return nil, errors.Errorf("storage %q referenced with different types or sizes", s.key)
			}
			return old, nil
		}
		storages[s.key] = s
		return s, nil
	})
	if err != nil {
		return nil, errors.Wrap(err, "torchpth: unpickling data.pkl")
	}
	for key, s := range storages {
		rec := records[path.Join(prefix, "data", key)]
		if rec == nil {
			return nil, errors.Errorf("torchpth: storage %q has no record %s/data/%s in the archive", key, prefix, key)
		}
		if uint64(s.numel) > rec.UncompressedSize64/uint64(s.typ.elemSize) {
			return nil, errors.Errorf("torchpth: storage %q of %d %s elements does not fit its %d-byte record", key, s.numel, s.typ.name, rec.UncompressedSize64)
		}
		want := uint64(s.numel) * uint64(s.typ.elemSize)
		data, err := readRecord(rec, want)
		if err != nil {
			return nil, err
		}
		s.data = data
	}
	return toStateDict(obj)
}

// readRecord reads the first n bytes of a zip record, which must hold at
// least n bytes.
func readRecord(f *zip.File, n uint64) ([]byte, error) {
	if f.UncompressedSize64 < n {
		return nil, errors.Errorf("torchpth: %s holds %d bytes, need %d", f.Name, f.UncompressedSize64, n)
	}
	r, err := f.Open()
	if err != nil {
		return nil, errors.Wrapf(err, "torchpth: opening %s", f.Name)
	}
	defer r.Close()
	b, err := io.ReadAll(io.LimitReader(r, int64(n)))
	if err != nil {
		return nil, errors.Wrapf(err, "torchpth: reading %s", f.Name)
	}
	if uint64(len(b)) != n {
		return nil, errors.Errorf("torchpth: %s: read %d bytes, want %d", f.Name, len(b), n)
	}
	return b, nil
}

// legacyMagic is the magic number pickled at the start of legacy files.
const legacyMagic = "1950a86a20f9469cfc6c"

func parseLegacy(b []byte) (*StateDict, error) {
	pos := 0
	next := func(what string) ([]byte, error) {
		end, err := scanPickle(b[pos:])
		if err != nil {
			return nil, errors.Wrapf(err, "torchpth: legacy %s", what)
		}
		p := b[pos : pos+end]
		pos += end
		return p, nil
	}
	p, err := next("magic number")
	if err != nil {
		return nil, err
	}
	magic, err := unpickle(p, nil)
	if n, ok := magic.(*big.Int); err != nil || !ok || n.Text(16) != legacyMagic {
		return nil, errors.New("torchpth: wrong magic number (not a legacy torch.save file)")
	}
	if p, err = next("protocol version"); err != nil {
		return nil, err
	}
	if v, err := unpickle(p, nil); err != nil || v != 1001 {
		return nil, errors.Errorf("torchpth: unsupported legacy protocol version %v", v)
	}
	if p, err = next("system info"); err != nil {
		return nil, err
	}
	if _, err := unpickle(p, nil); err != nil {
		return nil, errors.Wrap(err, "torchpth: legacy system info")
	}
	if p, err = next("object"); err != nil {
		return nil, err
	}
	storages := map[string]*storageRef{}
	obj, err := unpickle(p, func(t *types.Tuple) (*storageRef, error) {
		if t.Len() >= 6 && t.Get(5) != nil {
			return nil, errors.New("storage views in legacy files are not supported")
		}
		s, err := storageFromID(t)
		if err != nil {
			return nil, err
		}
		if old, ok := storages[s.key]; ok {
			if old.typ != s.typ || old.numel != s.numel {
				return nil, errors.Errorf("storage %q referenced with different types or sizes", s.key)
			}
			return old, nil
		}
		storages[s.key] = s
		return s, nil
	})
	if err != nil {
		return nil, errors.Wrap(err, "torchpth: unpickling legacy object")
	}
	if p, err = next("storage keys"); err != nil {
		return nil, err
	}
	keysObj, err := unpickle(p, nil)
	if err != nil {
		return nil, errors.Wrap(err, "torchpth: legacy storage keys")
	}
	keys, ok := keysObj.(*types.List)
	if !ok {
		return nil, errors.Errorf("torchpth: legacy storage keys are %T, want a list", keysObj)
	}
	for _, k := range *keys {
		key, ok := k.(string)
		if !ok {
			return nil, errors.Errorf("torchpth: legacy storage key %v is not a string", k)
		}
		s := storages[key]
		if s == nil {
			return nil, errors.Errorf("torchpth: legacy storage %q is not referenced by the object", key)
		}
		if len(b)-pos < 8 {
			return nil, errors.Errorf("torchpth: legacy storage %q: truncated size", key)
		}
		numel := binary.LittleEndian.Uint64(b[pos:])
		pos += 8
		if numel != uint64(s.numel) {
			return nil, errors.Errorf("torchpth: legacy storage %q has %d elements, the object says %d", key, numel, s.numel)
		}
		if numel > uint64(len(b)-pos)/uint64(s.typ.elemSize) {
			return nil, errors.Errorf("torchpth: legacy storage %q of %d elements runs past the end of the file (truncated?)", key, numel)
		}
		want := numel * uint64(s.typ.elemSize)
		if want > uint64(len(b)-pos) {
			return nil, errors.Errorf("torchpth: legacy storage %q needs %d bytes, %d remain (truncated file?)", key, want, len(b)-pos)
		}
		s.data = b[pos : pos+int(want)]
		pos += int(want)
	}
	for key, s := range storages {
		if s.data == nil {
			return nil, errors.Errorf("torchpth: legacy storage %q has no data", key)
		}
	}
	return toStateDict(obj)
}

// checkPlain walks the unpickled object and rejects anything other than
// plain data, tensors and storages, so that no global outside the allow-list
// (including those gopickle resolves itself) can shape the result. It uses
// an explicit stack: a small pickle can nest containers millions deep.
func checkPlain(root interface{}) error {
	seen := map[interface{}]bool{}
	stack := []interface{}{root}
	push := func(container interface{}, items ...interface{}) {
		if !seen[container] {
			seen[container] = true
			stack = append(stack, items...)
		}
	}
	for len(stack) > 0 {
		v := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		switch x := v.(type) {
		case nil, bool, int, float64, string, []byte, *big.Int, *tensorRef, *storageRef:
		case *types.Tuple:
			push(x, *x...)
		case *types.List:
			push(x, *x...)
		case *types.Dict:
			if !seen[x] {
				seen[x] = true
				for _, e := range *x {
					stack = append(stack, e.Key, e.Value)
				}
			}
		case *types.OrderedDict:
			if !seen[x] {
				seen[x] = true
				for e := x.List.Front(); e != nil; e = e.Next() {
					entry := e.Value.(*types.OrderedDictEntry)
					stack = append(stack, entry.Key, entry.Value)
				}
				for _, a := range x.PyDict { // e.g. the state dict's _metadata
					stack = append(stack, a)
				}
			}
		default:
			return errors.Errorf("pickle builds a %s, which is not allowed", describe(v))
		}
	}
	return nil
}

func describe(v interface{}) string {
	if g, ok := v.(*types.GenericObject); ok {
		return fmt.Sprintf("%s.%s object", g.Class.Module, g.Class.Name)
	}
	return fmt.Sprintf("%T", v)
}

// wrapperKeys are the keys under which training scripts commonly nest a
// state dict.
var wrapperKeys = []string{"state_dict", "model", "model_state_dict"}

// entries returns the string-keyed items of a dict or OrderedDict in order.
func entries(v interface{}) ([]string, []interface{}, bool) {
	var keys []string
	var vals []interface{}
	switch d := v.(type) {
	case *types.OrderedDict:
		for e := d.List.Front(); e != nil; e = e.Next() {
			entry := e.Value.(*types.OrderedDictEntry)
			k, ok := entry.Key.(string)
			if !ok {
				return nil, nil, false
			}
			keys, vals = append(keys, k), append(vals, entry.Value)
		}
	case *types.Dict:
		for _, e := range *d {
			k, ok := e.Key.(string)
			if !ok {
				return nil, nil, false
			}
			keys, vals = append(keys, k), append(vals, e.Value)
		}
	default:
		return nil, nil, false
	}
	return keys, vals, true
}

// maxWrapperDepth bounds how deeply wrapper dicts may nest a state dict.
const maxWrapperDepth = 4

func toStateDict(obj interface{}) (*StateDict, error) {
	if err := checkPlain(obj); err != nil {
		return nil, errors.Wrap(err, "torchpth")
	}
	return findStateDict(obj, 0)
}

func findStateDict(obj interface{}, depth int) (*StateDict, error) {
	keys, vals, ok := entries(obj)
	if !ok {
		return nil, errors.Errorf("torchpth: saved object is %s, want a state dict (a dict of tensors)", describe(obj))
	}
	// A wrapper such as {"state_dict": ..., "epoch": 3}?
	isStateDict := len(keys) > 0
	for _, v := range vals {
		if _, ok := v.(*tensorRef); !ok {
			isStateDict = false
		}
	}
	if !isStateDict {
		for _, w := range wrapperKeys {
			for i, k := range keys {
				if k == w {
					if _, _, ok := entries(vals[i]); ok && depth < maxWrapperDepth {
						sd, err := findStateDict(vals[i], depth+1)
						return sd, errors.Wrapf(err, "under key %q", w)
					}
				}
			}
		}
		for i, v := range vals {
			if _, ok := v.(*tensorRef); !ok {
				return nil, errors.Errorf("torchpth: entry %q is %s, not a tensor, and no %q key holds a state dict", keys[i], describe(v), wrapperKeys)
			}
		}
		return nil, errors.New("torchpth: saved dict is empty")
	}
	sd := &StateDict{Tensors: map[string]Tensor{}}
	for i, k := range keys {
		t, err := materialize(vals[i].(*tensorRef))
		if err != nil {
			return nil, errors.Wrapf(err, "torchpth: tensor %q", k)
		}
		if _, dup := sd.Tensors[k]; dup {
			return nil, errors.Errorf("torchpth: duplicate tensor name %q", k)
		}
		sd.Names = append(sd.Names, k)
		sd.Tensors[k] = t
	}
	return sd, nil
}

// materialize copies a possibly strided view out of its storage into a
// contiguous tensor, checking every index stays inside the storage.
func materialize(r *tensorRef) (Tensor, error) {
	s := r.storage
	if s.data == nil && s.numel > 0 {
		return Tensor{}, errors.Errorf("storage %q has no data", s.key)
	}
	n := uint64(1)
	for _, d := range r.size {
		hi, lo := bits.Mul64(n, uint64(d))
		if hi != 0 {
			return Tensor{}, errors.Errorf("shape %v overflows", r.size)
		}
		n = lo
	}
	if n > 0 {
		// The largest index the view touches must lie inside the storage.
		maxIndex := uint64(r.offset)
		for i, d := range r.size {
			hi, lo := bits.Mul64(uint64(d-1), uint64(r.stride[i]))
			sum, carry := bits.Add64(maxIndex, lo, 0)
			if hi != 0 || carry != 0 {
				return Tensor{}, errors.Errorf("view (shape %v, stride %v) overflows", r.size, r.stride)
			}
			maxIndex = sum
		}
		if maxIndex >= uint64(s.numel) {
			return Tensor{}, errors.Errorf("view (offset %d, shape %v, stride %v) reaches past its storage of %d elements", r.offset, r.size, r.stride, s.numel)
		}
		// Views that repeat storage elements (stride 0) would let a tiny
		// file demand an enormous tensor; state dicts never hold them.
		if n > uint64(s.numel) {
			return Tensor{}, errors.Errorf("view of shape %v has more elements than its storage (%d); overlapping views are not supported", r.size, s.numel)
		}
	}
	t := Tensor{DType: s.typ.name, Shape: append([]int{}, r.size...), Data: make([]float32, n)}
	if s.typ.isInt {
		t.Ints = make([]int64, n)
	}
	idx := make([]int, len(r.size))
	es := s.typ.elemSize
	for i := 0; i < int(n); i++ {
		off := r.offset
		for d, j := range idx {
			off += j * r.stride[d]
		}
		f, v := s.typ.decode(s.data[off*es : off*es+es])
		t.Data[i] = f
		if t.Ints != nil {
			t.Ints[i] = v
		}
		for d := len(idx) - 1; d >= 0; d-- {
			idx[d]++
			if idx[d] < r.size[d] {
				break
			}
			idx[d] = 0
		}
	}
	return t, nil
}

// halfToFloat32 converts an IEEE 754 binary16 value to float32 exactly.
func halfToFloat32(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	mant := uint32(h) & 0x3ff
	switch {
	case exp == 0x1f:
		return math.Float32frombits(sign | 0xff<<23 | mant<<13)
	case exp == 0 && mant == 0:
		return math.Float32frombits(sign)
	case exp == 0:
		e := uint32(127 - 15 + 1)
		for mant&0x400 == 0 {
			mant <<= 1
			e--
		}
		return math.Float32frombits(sign | e<<23 | (mant&0x3ff)<<13)
	}
	return math.Float32frombits(sign | (exp+127-15)<<23 | mant<<13)
}

// String describes the tensor briefly, for example `float32 [64 3 7 7]`.
func (t Tensor) String() string {
	return fmt.Sprintf("%s %v", t.DType, t.Shape)
}
