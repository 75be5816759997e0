package data

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/goinception/googlenet/internal/atomicfile"

	"github.com/pkg/errors"
)

// Idx element type codes (the third byte of an idx header).
const (
	IdxUint8   byte = 0x08
	IdxInt8    byte = 0x09
	IdxInt16   byte = 0x0B
	IdxInt32   byte = 0x0C
	IdxFloat32 byte = 0x0D
	IdxFloat64 byte = 0x0E
)

// maxIdxElements bounds the element count a header may declare (4 GiB of
// bytes at most), so a malformed header cannot ask for an absurd allocation.
const maxIdxElements = 1 << 32

// maxIdxDims is the largest number of dimensions accepted in a header.
const maxIdxDims = 8

// Idx is one decoded idx array: the element type, the dimensions (outermost
// first) and the raw big-endian element bytes.
type Idx struct {
	Type byte
	Dims []int
	Data []byte
}

// idxElemSize returns the size in bytes of one element of type t, or 0 for
// an unknown type.
func idxElemSize(t byte) int {
	switch t {
	case IdxUint8, IdxInt8:
		return 1
	case IdxInt16:
		return 2
	case IdxInt32, IdxFloat32:
		return 4
	case IdxFloat64:
		return 8
	}
	return 0
}

// Len returns the number of elements declared by the dimensions.
func (x *Idx) Len() int {
	n := 1
	for _, d := range x.Dims {
		n *= d
	}
	return n
}

// parseIdxHeader validates a header and returns the type, dims and data size.
func parseIdxHeader(r io.Reader) (byte, []int, int64, error) {
	var magic [4]byte
	if _, err := io.ReadFull(r, magic[:]); err != nil {
		return 0, nil, 0, errors.Wrap(err, "reading magic number")
	}
	if magic[0] != 0 || magic[1] != 0 {
		return 0, nil, 0, errors.Errorf("bad magic number % x (want 00 00 <type> <ndims>)", magic)
	}
	t := magic[2]
	size := idxElemSize(t)
	if size == 0 {
		return 0, nil, 0, errors.Errorf("unknown element type 0x%02x", t)
	}
	nd := int(magic[3])
	if nd < 1 || nd > maxIdxDims {
		return 0, nil, 0, errors.Errorf("%d dimensions (want 1..%d)", nd, maxIdxDims)
	}
	dims := make([]int, nd)
	total := int64(1)
	for i := range dims {
		var d uint32
		if err := binary.Read(r, binary.BigEndian, &d); err != nil {
			return 0, nil, 0, errors.Wrapf(err, "reading dimension %d", i)
		}
		if d == 0 || d > 1<<31-1 {
			return 0, nil, 0, errors.Errorf("dimension %d is %d (want 1..2^31-1)", i, d)
		}
		dims[i] = int(d)
		total *= int64(d)
		if total > maxIdxElements {
			return 0, nil, 0, errors.Errorf("dimensions %v exceed %d elements", dims[:i+1], int64(maxIdxElements))
		}
	}
	return t, dims, total * int64(size), nil
}

// ReadIdx decodes one idx array from r. The stream must hold exactly the
// header and the data the header declares: a short stream and trailing
// bytes are both errors. Memory grows only as data arrives, so a header that
// declares more data than the stream holds costs no large allocation.
func ReadIdx(r io.Reader) (*Idx, error) {
	t, dims, n, err := parseIdxHeader(r)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	got, err := io.Copy(&buf, io.LimitReader(r, n+1))
	if err != nil {
		return nil, errors.Wrap(err, "reading data")
	}
	if got < n {
		return nil, errors.Errorf("data has %d bytes, header %v declares %d", got, dims, n)
	}
	if got > n {
		return nil, errors.Errorf("trailing bytes after the %d data bytes declared by header %v", n, dims)
	}
	return &Idx{Type: t, Dims: dims, Data: buf.Bytes()}, nil
}

// ReadIdxFile reads an idx file, gzip-compressed when its name ends in
// ".gz". For an uncompressed file the declared data size is checked against
// the file size before any data is read. Errors name the file.
func ReadIdxFile(path string) (*Idx, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, errors.Wrap(err, "idx")
	}
	defer f.Close()
	var r io.Reader = bufio.NewReader(f)
	if strings.HasSuffix(path, ".gz") {
		zr, err := gzip.NewReader(r)
		if err != nil {
			return nil, errors.Wrapf(err, "idx %s: gzip", path)
		}
		defer zr.Close()
		r = zr
	} else {
		st, err := f.Stat()
		if err != nil {
			return nil, errors.Wrapf(err, "idx %s", path)
		}
		hr := bufio.NewReader(f)
		t, dims, n, err := parseIdxHeader(hr)
		if err != nil {
			return nil, errors.Wrapf(err, "idx %s", path)
		}
		hdr := int64(4 + 4*len(dims))
		if st.Size() != hdr+n {
			return nil, errors.Errorf("idx %s: file has %d bytes, header %v declares %d", path, st.Size(), dims, hdr+n)
		}
		data := make([]byte, n)
		if _, err := io.ReadFull(hr, data); err != nil {
			return nil, errors.Wrapf(err, "idx %s: reading data", path)
		}
		return &Idx{Type: t, Dims: dims, Data: data}, nil
	}
	x, err := ReadIdx(r)
	if err != nil {
		return nil, errors.Wrapf(err, "idx %s", path)
	}
	return x, nil
}

// WriteIdx encodes x to w. It checks that the data length matches the
// dimensions and element type.
func WriteIdx(w io.Writer, x *Idx) error {
	if x == nil {
		return errors.New("idx: nil array")
	}
	size := idxElemSize(x.Type)
	if size == 0 {
		return errors.Errorf("idx: unknown element type 0x%02x", x.Type)
	}
	if len(x.Dims) < 1 || len(x.Dims) > maxIdxDims {
		return errors.Errorf("idx: %d dimensions (want 1..%d)", len(x.Dims), maxIdxDims)
	}
	n := int64(1)
	for i, d := range x.Dims {
		if d < 1 || d > 1<<31-1 {
			return errors.Errorf("idx: dimension %d is %d", i, d)
		}
		n *= int64(d)
		if n > maxIdxElements {
			return errors.Errorf("idx: dimensions %v exceed %d elements", x.Dims, int64(maxIdxElements))
		}
	}
	if int64(len(x.Data)) != n*int64(size) {
		return errors.Errorf("idx: %d data bytes, dimensions %v need %d", len(x.Data), x.Dims, n*int64(size))
	}
	hdr := make([]byte, 4+4*len(x.Dims))
	hdr[2], hdr[3] = x.Type, byte(len(x.Dims))
	for i, d := range x.Dims {
		binary.BigEndian.PutUint32(hdr[4+4*i:], uint32(d))
	}
	if _, err := w.Write(hdr); err != nil {
		return errors.Wrap(err, "idx: writing header")
	}
	if _, err := w.Write(x.Data); err != nil {
		return errors.Wrap(err, "idx: writing data")
	}
	return nil
}

// WriteIdxFile writes x to path atomically (a temporary file in the same
// folder, then a rename), gzip-compressed when the name ends in ".gz".
func WriteIdxFile(path string, x *Idx) error {
	return writeAtomic(path, func(w io.Writer) error {
		if !strings.HasSuffix(path, ".gz") {
			return WriteIdx(w, x)
		}
		zw := gzip.NewWriter(w)
		if err := WriteIdx(zw, x); err != nil {
			return err
		}
		return errors.Wrap(zw.Close(), "gzip")
	})
}

// writeAtomic writes a file through fill, buffered, into a temporary file
// beside path and renames it into place, so readers never see a partial file.
func writeAtomic(path string, fill func(io.Writer) error) error {
	return atomicfile.WriteFile(path, 0o644, func(w io.Writer) error {
		bw := bufio.NewWriter(w)
		if err := fill(bw); err != nil {
			return err
		}
		return bw.Flush()
	})
}

// idxString is a short description used in error messages.
func idxString(x *Idx) string { return fmt.Sprintf("type 0x%02x dims %v", x.Type, x.Dims) }
