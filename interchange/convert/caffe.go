package convert

import (
	"github.com/pkg/errors"

	"github.com/goinception/googlenet/inception"
	"github.com/goinception/googlenet/interchange/caffe"
)

// loadCaffe reads a .caffemodel (and the optional deploy.prototxt of o)
// and maps it onto GoogLeNet (package interchange/caffe).
func loadCaffe(path string, o LoadOptions) (*inception.Model, error) {
	n, err := caffe.ReadFile(path)
	if err != nil {
		return nil, err
	}
	co := caffe.Options{InputSize: o.InputSize}
	if o.Prototxt != "" {
		if co.Deploy, err = caffe.ReadPrototxt(o.Prototxt); err != nil {
			return nil, err
		}
	}
	m, err := caffe.ImportGoogLeNet(n, co)
	if err != nil {
		return nil, errors.Wrap(err, path)
	}
	return m, nil
}
