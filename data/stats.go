package data

import (
	"math"

	"github.com/pkg/errors"
)

// MNISTMeans and MNISTStds are the usual MNIST statistics (0.1307 and
// 0.3081 on the 0..1 scale) on the 0..255 scale used by Transform.
var (
	MNISTMeans = []float32{33.3285}
	MNISTStds  = []float32{78.5655}
)

// MeanStd computes per-channel means and standard deviations (0..255 scale)
// over the first n samples of ds (all when n <= 0 or n > Len), converting
// each image to the dataset's channel count. Unreadable samples are errors.
func MeanStd(ds Dataset, n int) (means, stds []float32, err error) {
	if ds == nil || ds.Len() == 0 {
		return nil, nil, errors.New("mean/std: empty dataset")
	}
	if n <= 0 || n > ds.Len() {
		n = ds.Len()
	}
	c, _, _ := ds.Shape()
	sum := make([]float64, c)
	sq := make([]float64, c)
	var count float64
	for i := 0; i < n; i++ {
		s, err := ds.Sample(i)
		if err != nil {
			return nil, nil, errors.Wrap(err, "mean/std")
		}
		b := s.Image.Bounds()
		plane := b.Dx() * b.Dy()
		x := make([]float32, c*plane)
		if err := ToCHWInto(x, s.Image, c, nil, nil); err != nil {
			return nil, nil, errors.Wrap(err, "mean/std")
		}
		for k := 0; k < c; k++ {
			for _, v := range x[k*plane : (k+1)*plane] {
				sum[k] += float64(v)
				sq[k] += float64(v) * float64(v)
			}
		}
		count += float64(plane)
	}
	means, stds = make([]float32, c), make([]float32, c)
	for k := range means {
		m := sum[k] / count
		means[k] = float32(m)
		stds[k] = float32(math.Sqrt(math.Max(sq[k]/count-m*m, 0)))
	}
	return means, stds, nil
}
