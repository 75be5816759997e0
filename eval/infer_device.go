package eval

import (
	"github.com/goinception/googlenet/cuda"
	"github.com/goinception/googlenet/inception"
)

// InferDevice is Infer on a device: m's network is built as a
// device-resident cuda.Net on d for batches of batch images (0 means 32;
// never more than the input has) and runs in evaluation mode (no dropout,
// no auxiliary heads, batch norm with the running statistics); the last
// batch is padded. Only the images go to the device and the logits come
// back. Evaluate (Options.Device) and Predictor run their forward passes
// the same way.
func InferDevice(d *cuda.Device, m *inception.Model, x *Array, batch int) (*Array, error) {
	return infer(d, m, x, batch)
}
