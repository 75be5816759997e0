package eval

import (
	"github.com/pkg/errors"

	"github.com/goinception/googlenet/cuda"
	"github.com/goinception/googlenet/inception"
)

// InferDevice is Infer on a device: m's network is built as a
// device-resident cuda.Net on d for batches of batch images (0 means 32;
// never more than the input has) and runs in evaluation mode (no dropout,
// no auxiliary heads, batch norm with the running statistics); the last
// batch is padded. Only the images go to the device and the logits come
// back.
func InferDevice(d *cuda.Device, m *inception.Model, x *Array, batch int) (*Array, error) {
	cfg := m.Config()
	if err := checkInferInput(cfg, x); err != nil {
		return nil, err
	}
	if batch < 0 {
		return nil, errors.Errorf("eval: batch size %d", batch)
	}
	if batch == 0 {
		batch = 32
	}
	n := x.Shape[0]
	batch = max(1, min(batch, n))
	net, err := cuda.NewNet(d, m, batch)
	if err != nil {
		return nil, errors.Wrap(err, "eval: building the device network")
	}
	defer net.Close()
	y, err := net.Infer(x.Data, n)
	if err != nil {
		return nil, err
	}
	return &Array{Shape: []int{n, cfg.Classes}, Data: y}, nil
}
