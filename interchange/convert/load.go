package convert

import (
	"bytes"
	"encoding/binary"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/pkg/errors"

	"github.com/goinception/googlenet/inception"
	"github.com/goinception/googlenet/interchange/onnx"
	"github.com/goinception/googlenet/interchange/onnximport"
	"github.com/goinception/googlenet/interchange/safetensors"
	"github.com/goinception/googlenet/interchange/torchpth"
	"github.com/goinception/googlenet/interchange/torchvision"
	"github.com/goinception/googlenet/preprocess"
)

// CheckpointFormatName is the "format" metadata value of package
// checkpoint's files (checkpoint.FormatName; a test there keeps the two
// equal). Package convert reads foreign formats and never imports
// checkpoint: the arrow between them points one way, from checkpoint to the
// file formats of package interchange.
const CheckpointFormatName = "googlenet-checkpoint"

// Format is a weight-file format.
type Format string

// Formats that Load reads.
const (
	FormatCheckpoint  Format = "checkpoint"  // ours: safetensors with googlenet-checkpoint metadata
	FormatSafetensors Format = "safetensors" // a torchvision state dict in safetensors
	FormatPth         Format = "pth"         // a torchvision state dict saved with torch.save
	FormatONNX        Format = "onnx"
	FormatCaffe       Format = "caffe" // a .caffemodel (binary Caffe NetParameter)
)

// Sniff tells the format of the weight file at path from its first bytes
// (and, for safetensors, its metadata): a zip archive or a pickle is a
// torch.save file, a safetensors header is ours when its metadata says
// format "googlenet-checkpoint" and a state dict otherwise, anything else
// with the .onnx extension (or a protobuf-looking start) is ONNX.
func Sniff(path string) (Format, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", errors.Wrap(err, "convert")
	}
	defer f.Close()
	head := make([]byte, 16)
	n, err := io.ReadFull(f, head)
	if err == io.EOF {
		return "", errors.Errorf("convert: %s is an empty file", path)
	}
	if err != nil && err != io.ErrUnexpectedEOF {
		return "", errors.Wrapf(err, "convert: reading %s", path)
	}
	head = head[:n]
	// A safetensors file is tested first: its first byte is the low byte of
	// its header's length, which may be 0x80 like a pickle's first byte.
	switch {
	case len(head) >= 9 && head[8] == '{':
		hlen := binary.LittleEndian.Uint64(head)
		st, err := f.Stat()
		if err != nil {
			return "", errors.Wrap(err, "convert")
		}
		if hlen > safetensors.MaxHeaderSize || int64(hlen) > st.Size()-8 {
			return "", errors.Errorf("convert: %s: safetensors header of %d bytes beyond the end of the %d-byte file", path, hlen, st.Size())
		}
		hdr := make([]byte, hlen)
		if _, err := f.ReadAt(hdr, 8); err != nil {
			return "", errors.Wrapf(err, "convert: reading %s", path)
		}
		if bytes.Contains(hdr, []byte(`"`+CheckpointFormatName+`"`)) {
			return FormatCheckpoint, nil
		}
		return FormatSafetensors, nil
	case bytes.HasPrefix(head, []byte("PK\x03\x04")), len(head) > 0 && head[0] == 0x80:
		return FormatPth, nil
	case strings.EqualFold(filepath.Ext(path), ".caffemodel"), isCaffeStart(head):
		return FormatCaffe, nil
	case strings.EqualFold(filepath.Ext(path), ".onnx"), len(head) > 0 && head[0] == 0x08:
		return FormatONNX, nil
	}
	return "", errors.Errorf("convert: %s: unknown weight format (want a .pth/.pt torch.save file, .safetensors, .onnx or .caffemodel)", path)
}

// isCaffeStart reports whether head starts like a Caffe NetParameter: a
// length-delimited name (field 1), legacy layers (2), input (3), input_dim
// (4) or layer (100); an ONNX ModelProto starts with its ir_version varint.
func isCaffeStart(head []byte) bool {
	if len(head) < 2 {
		return false
	}
	switch head[0] {
	case 0x0a, 0x12, 0x1a, 0x22:
		return true
	}
	return head[0] == 0xa2 && head[1] == 0x06
}

// LoadOptions configures Load. The zero value is the default.
type LoadOptions struct {
	// InputSize is the input size of models whose file does not fix it
	// (state dicts, ONNX with symbolic sizes); 0 means 224.
	InputSize int
	// Prototxt is an optional Caffe deploy.prototxt whose structure a
	// .caffemodel is also checked against.
	Prototxt string
}

// Loaded is a model read from a foreign weight file, with what the file
// says about its inputs and outputs.
type Loaded struct {
	Format Format
	Model  *inception.Model
	// Labels, Means and Stds (0..255 scale) when known: torchvision's
	// ImageNet normalisation for torchvision state dicts, the metadata of
	// files written by package interchange/onnxexport.
	Labels      []string
	Means, Stds []float32
	// Softmax: the ONNX file's output is probabilities; Model returns
	// logits.
	Softmax bool
	// Input is the input contract the file's publisher uses, recognised
	// from the file (torchvision.Contract, the ONNX zoo's, Caffe's, or the
	// one onnxexport stored); nil when the file does not say.
	Input *preprocess.Contract
}

// Load reads a foreign weight file (see Sniff): a torchvision GoogLeNet
// state dict (.pth, .pt or .safetensors, see torchvision.Import), an ONNX
// GoogLeNet (see onnximport.GoogLeNet) or a Caffe .caffemodel (see
// caffe.ImportGoogLeNet; LoadOptions.Prototxt adds its deploy.prototxt).
// Our own checkpoints are an error here: read
// them with package checkpoint (LoadForeign tells them apart).
func Load(path string, o LoadOptions) (*Loaded, error) {
	f, err := Sniff(path)
	if err != nil {
		return nil, err
	}
	if f == FormatCheckpoint {
		return nil, errors.Errorf("convert: %s is a googlenet checkpoint; read it with package checkpoint", path)
	}
	return loadForeign(path, f, o)
}

// LoadForeign is Load for callers that also read checkpoints: it returns
// (nil, nil) when path is one of our checkpoints, so that
//
//	if ld, err := convert.LoadForeign(path, convert.LoadOptions{}); err != nil || ld != nil { ... }
//
// routes every other format here.
func LoadForeign(path string, o LoadOptions) (*Loaded, error) {
	f, err := Sniff(path)
	if err != nil {
		return nil, err
	}
	if f == FormatCheckpoint {
		return nil, nil
	}
	return loadForeign(path, f, o)
}

func loadForeign(path string, f Format, o LoadOptions) (*Loaded, error) {
	ld := &Loaded{Format: f}
	switch f {
	case FormatPth, FormatSafetensors:
		var sd *torchvision.StateDict
		if f == FormatPth {
			p, err := torchpth.ReadFile(path)
			if err != nil {
				return nil, err
			}
			sd = torchvision.FromTorchPth(p)
		} else {
			st, err := safetensors.ReadFile(path)
			if err != nil {
				return nil, err
			}
			if sd, err = torchvision.FromSafetensors(st); err != nil {
				return nil, errors.Wrap(err, path)
			}
		}
		m, err := torchvision.Import(sd, torchvision.Options{InputSize: o.InputSize})
		if err != nil {
			return nil, errors.Wrap(err, path)
		}
		ld.Model = m
		if m.Config().InChannels == 3 {
			ld.Means = append([]float32(nil), torchvision.Means...)
			ld.Stds = append([]float32(nil), torchvision.Stds...)
		}
		ld.Input = torchvision.Contract(m.Config())
	case FormatONNX:
		om, err := onnx.ReadFile(path)
		if err != nil {
			return nil, err
		}
		imp, err := onnximport.GoogLeNet(om, o.InputSize)
		if err != nil {
			return nil, errors.Wrap(err, path)
		}
		ld.Model, ld.Labels, ld.Means, ld.Stds, ld.Softmax, ld.Input = imp.Model, imp.Labels, imp.Means, imp.Stds, imp.Softmax, imp.Input
	case FormatCaffe:
		m, err := loadCaffe(path, o)
		if err != nil {
			return nil, err
		}
		ld.Model = m
		c := preprocess.Caffe().ScaledTo(m.Config().InputSize)
		ld.Input = &c
	default:
		return nil, errors.Errorf("convert: format %q", f)
	}
	return ld, nil
}
