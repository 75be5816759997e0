package labels

import (
	_ "embed"
	"strings"
)

//go:embed imagenet1k.txt
var imagenet1k string

// ImageNetClasses is the number of ImageNet-1k classes.
const ImageNetClasses = 1000

// ImageNet returns the 1000 ImageNet-1k class names, index i being output
// i of the published GoogLeNets. The slice is a fresh copy.
func ImageNet() []string {
	return strings.Split(strings.TrimSuffix(imagenet1k, "\n"), "\n")
}

// For returns the labels a model with the given number of classes should
// show when it carries none of its own: the ImageNet names for 1000
// classes, nil otherwise (callers print class numbers).
func For(classes int) []string {
	if classes == ImageNetClasses {
		return ImageNet()
	}
	return nil
}
