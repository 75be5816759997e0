package cuda

import (
	"errors"
	"strings"
	"testing"

	"github.com/goinception/googlenet/ops"
)

// TestNewPoolGeomErrors checks that bad pooling options are errors.
func TestNewPoolGeomErrors(t *testing.T) {
	for _, o := range []ops.PoolOpts{
		{},
		{KernelH: 3, KernelW: 3, StrideH: -1},
		{KernelH: 3, KernelW: 3, Pad: ops.Same(3)},
		{KernelH: 9, KernelW: 9},
	} {
		if _, err := NewPoolGeom(1, 1, 4, 4, o); err == nil {
			t.Errorf("NewPoolGeom(%+v): no error", o)
		}
	}
}

// TestLaunchValidate checks the hardware limits.
func TestLaunchValidate(t *testing.T) {
	ok := Launch{Kernel: "k", Grid: Dim3{1, 1, 1}, Block: Dim3{256, 1, 1}}
	if err := ok.Validate(); err != nil {
		t.Error(err)
	}
	for _, l := range []Launch{
		{Kernel: "k", Grid: Dim3{0, 1, 1}, Block: Dim3{1, 1, 1}},
		{Kernel: "k", Grid: Dim3{1, 70000, 1}, Block: Dim3{1, 1, 1}},
		{Kernel: "k", Grid: Dim3{1, 1, 1}, Block: Dim3{32, 32, 2}},
	} {
		if err := l.Validate(); err == nil {
			t.Errorf("%v: no error", l)
		}
	}
}

// countingExec is an Executor that only counts allocations.
type countingExec struct {
	next          Ptr
	allocs, frees int
}

func (c *countingExec) Name() string { return "counting" }
func (c *countingExec) Alloc(bytes int64) (Ptr, error) {
	c.allocs++
	c.next += 1 << 40
	return c.next, nil
}
func (c *countingExec) Free(Ptr) error                   { c.frees++; return nil }
func (c *countingExec) Upload(Ptr, []float32) error      { return nil }
func (c *countingExec) UploadInt32(Ptr, []int32) error   { return nil }
func (c *countingExec) Download([]float32, Ptr) error    { return nil }
func (c *countingExec) DownloadInt32([]int32, Ptr) error { return nil }
func (c *countingExec) Launch(Launch) error              { return nil }
func (c *countingExec) Sync() error                      { return nil }

// TestPoolReuse checks that a second training step allocates nothing and
// that bad puts are errors.
func TestPoolReuse(t *testing.T) {
	ex := &countingExec{}
	p := NewPool(ex)
	step := func() {
		var got []Ptr
		for _, n := range []int{10, 1000, 5000, 1 << 20, 10} {
			b, err := p.GetFloats(n)
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, b)
		}
		for _, b := range got {
			if err := p.Put(b); err != nil {
				t.Fatal(err)
			}
		}
	}
	step()
	first := ex.allocs
	step()
	if ex.allocs != first {
		t.Errorf("second step allocated %d more buffers", ex.allocs-first)
	}
	if err := p.Put(12345); err == nil {
		t.Error("Put of a foreign pointer: no error")
	}
	if _, err := p.Get(0); err == nil {
		t.Error("Get(0): no error")
	}
	if err := p.Release(); err != nil {
		t.Fatal(err)
	}
	if ex.frees != first || p.Held() != 0 {
		t.Errorf("Release freed %d of %d buffers, %d bytes still held", ex.frees, first, p.Held())
	}
}

// TestEngineFor checks the --device values (the default build has no GPU).
func TestEngineFor(t *testing.T) {
	if e, err := EngineFor("cpu"); e != nil || err != nil {
		t.Errorf("EngineFor(cpu) = %v, %v", e, err)
	}
	if _, err := EngineFor("tpu"); err == nil {
		t.Error("EngineFor(tpu): no error")
	}
	if !Built {
		if _, err := EngineFor("gpu"); err != ErrNotBuilt {
			t.Errorf("EngineFor(gpu) without the gpu tag: %v, want ErrNotBuilt", err)
		}
	}
}

// TestSizeClass checks the rounding: never down, at most 12.5% up.
func TestSizeClass(t *testing.T) {
	for _, b := range []int64{1, 4096, 4097, 5000, 8191, 8192, 1 << 20, 1<<20 + 1, 3 << 29, 123456789} {
		c := sizeClass(b)
		if c < b || (b > 4096 && float64(c) > 1.125*float64(b)) {
			t.Errorf("sizeClass(%d) = %d", b, c)
		}
		if sizeClass(c) != c {
			t.Errorf("sizeClass(%d) = %d is not a fixed point", c, sizeClass(c))
		}
	}
}

// TestPoolStats checks the held and in-use figures and their peaks.
func TestPoolStats(t *testing.T) {
	p := NewPool(&countingExec{})
	a, _ := p.Get(4096)
	b, _ := p.Get(8192)
	if s := p.Stats(); s.Held != 12288 || s.InUse != 12288 || s.PeakInUse != 12288 || s.PeakHeld != 12288 {
		t.Errorf("two buffers: %+v", s)
	}
	if err := p.Put(b); err != nil {
		t.Fatal(err)
	}
	if s := p.Stats(); s.Held != 12288 || s.InUse != 4096 || s.PeakInUse != 12288 {
		t.Errorf("after a Put: %+v", s)
	}
	p.ResetPeak()
	c, _ := p.Get(8192) // reused: nothing new held
	if s := p.Stats(); s.Held != 12288 || s.InUse != 12288 || s.PeakInUse != 12288 || s.PeakHeld != 12288 {
		t.Errorf("reuse after ResetPeak: %+v", s)
	}
	_ = p.Put(a)
	_ = p.Put(c)
	if err := p.Release(); err != nil {
		t.Fatal(err)
	}
	if s := p.Stats(); s.Held != 0 || s.InUse != 0 || s.PeakHeld != 12288 {
		t.Errorf("after Release: %+v", s)
	}
}

// lateErrExec allocates, but its next Alloc reports an earlier launch's
// failure with the pointer, as the GPU does.
type lateErrExec struct{ countingExec }

func (l *lateErrExec) Alloc(bytes int64) (Ptr, error) {
	p, _ := l.countingExec.Alloc(bytes)
	if l.allocs == 1 {
		return p, &LaunchError{Launch: "misc.fill", At: "cuMemAlloc", Err: errors.New("illegal address")}
	}
	return p, nil
}

// TestPoolKeepsPointerOnLaunchError: an allocation that reports an
// earlier launch's failure returns the error (a *LaunchError), and the
// pool keeps the buffer it got for reuse instead of leaking it.
func TestPoolKeepsPointerOnLaunchError(t *testing.T) {
	ex := &lateErrExec{}
	p := NewPool(ex)
	if _, err := p.Get(4096); !IsLaunchError(err) || !strings.Contains(err.Error(), "earlier kernel launch (misc.fill)") {
		t.Fatalf("Get: %v", err)
	}
	if p.Held() != 4096 {
		t.Errorf("held %d after the failed Get, want the buffer kept", p.Held())
	}
	if _, err := p.Get(4096); err != nil || ex.allocs != 1 {
		t.Errorf("second Get: %v, %d allocations (want the kept buffer)", err, ex.allocs)
	}
}
