package cuda

import "github.com/pkg/errors"

// BNGeom is one batch normalisation over (N, H·W) per channel of an NCHW
// tensor [N, C, HW].
type BNGeom struct {
	N, C, HW int
	Eps      float64
}

func (g BNGeom) check() error {
	if g.N <= 0 || g.C <= 0 || g.HW <= 0 || !(g.Eps > 0) {
		return errors.Errorf("cuda: bad batch norm %+v", g)
	}
	return checkInt("batch norm", g.N*g.C*g.HW)
}

func (g BNGeom) reduce(kernel string, args ...Arg) Launch {
	return Launch{Module: Kernels[kernel], Kernel: kernel, Grid: Dim3{g.C, 1, 1}, Block: Dim3{threads, 1, 1}, Args: args}
}

// BNStats writes the batch statistics of x per channel: mean, the biased
// variance bvar and invstd = 1/sqrt(bvar + eps) (each [C]).
func (d *Device) BNStats(g BNGeom, x, mean, invstd, bvar Ptr) error {
	if err := g.check(); err != nil {
		return err
	}
	return d.run(g.reduce("bn_stats", PtrArg(x), PtrArg(mean), PtrArg(invstd), PtrArg(bvar),
		Int32Arg(g.N), Int32Arg(g.C), Int32Arg(g.HW), FloatArg(float32(g.Eps))))
}

// BNApply writes y = gamma·invstd·(x − mean) + beta per channel, then
// max(0, ·) if relu.
func (d *Device) BNApply(g BNGeom, x, y, gamma, beta, mean, invstd Ptr, relu bool) error {
	if err := g.check(); err != nil {
		return err
	}
	r := 0
	if relu {
		r = 1
	}
	return d.run(launch1D("bn_apply", g.N*g.C*g.HW, PtrArg(x), PtrArg(y), PtrArg(gamma), PtrArg(beta), PtrArg(mean),
		PtrArg(invstd), Int32Arg(g.N), Int32Arg(g.C), Int32Arg(g.HW), Int32Arg(r)))
}

// BNRunning updates running statistics after a training forward with
// momentum mom (PyTorch's: the new batch's weight), the variance unbiased
// by m/(m−1), m = N·HW.
func (d *Device) BNRunning(g BNGeom, rmean, rvar, mean, bvar Ptr, mom float64) error {
	if err := g.check(); err != nil {
		return err
	}
	m := float64(g.N * g.HW)
	if m < 2 {
		return errors.Errorf("cuda: batch norm training needs more than one value per channel, got %d", int(m))
	}
	return d.run(launch1D("bn_running", g.C, PtrArg(rmean), PtrArg(rvar), PtrArg(mean), PtrArg(bvar), Int32Arg(g.C),
		FloatArg(float32(mom)), FloatArg(float32(m/(m-1)))))
}

// BNInvStd writes invstd = 1/sqrt(v + eps) over C channels (evaluation
// with the running variance v).
func (d *Device) BNInvStd(g BNGeom, v, invstd Ptr) error {
	if err := g.check(); err != nil {
		return err
	}
	return d.run(launch1D("bn_invstd", g.C, PtrArg(v), PtrArg(invstd), Int32Arg(g.C), FloatArg(float32(g.Eps))))
}

// BNBackward computes the gradients of a training batch norm from x, the
// output gradient dy and the forward's mean and invstd: dgamma, dbeta
// (overwritten) and dx (overwritten; may not alias dy).
func (d *Device) BNBackward(g BNGeom, x, dy, gamma, mean, invstd, dgamma, dbeta, dx Ptr) error {
	if err := g.check(); err != nil {
		return err
	}
	if err := d.run(g.reduce("bn_bwd_reduce", PtrArg(x), PtrArg(dy), PtrArg(mean), PtrArg(invstd), PtrArg(dgamma),
		PtrArg(dbeta), Int32Arg(g.N), Int32Arg(g.C), Int32Arg(g.HW))); err != nil {
		return err
	}
	return d.run(launch1D("bn_bwd_data", g.N*g.C*g.HW, PtrArg(x), PtrArg(dy), PtrArg(gamma), PtrArg(mean),
		PtrArg(invstd), PtrArg(dgamma), PtrArg(dbeta), PtrArg(dx), Int32Arg(g.N), Int32Arg(g.C), Int32Arg(g.HW)))
}
