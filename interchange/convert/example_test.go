package convert_test

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/goinception/googlenet/inception"
	"github.com/goinception/googlenet/interchange/convert"
	"github.com/goinception/googlenet/interchange/onnx"
	"github.com/goinception/googlenet/interchange/onnxexport"
)

// Tell a weight file's format and load it, whatever it is: here an ONNX
// file written by package onnxexport, which comes back as our mini variant
// with its labels.
func Example() {
	dir, err := os.MkdirTemp("", "convert-example")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	cfg := inception.Mini()
	cfg.BatchSize = 1
	m, err := inception.New(cfg)
	if err != nil {
		panic(err)
	}
	om, err := onnxexport.GoogLeNet(m, onnxexport.Options{Labels: []string{"zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"}})
	if err != nil {
		panic(err)
	}
	path := filepath.Join(dir, "digits.model") // the format is in the bytes, not the name
	if err := onnx.WriteFile(path, om); err != nil {
		panic(err)
	}

	format, err := convert.Sniff(path)
	if err != nil {
		panic(err)
	}
	ld, err := convert.Load(path, convert.LoadOptions{})
	if err != nil {
		panic(err)
	}
	fmt.Println("format", format, "variant", ld.Model.Config().Variant, "labels", ld.Labels[:3], "softmax", ld.Softmax)
	// Output:
	// format onnx variant mini labels [zero one two] softmax false
}
