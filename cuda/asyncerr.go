package cuda

import (
	"fmt"
	"sync"

	"github.com/pkg/errors"
)

// LaunchError is the failure of an earlier, asynchronous kernel launch,
// reported by a later synchronous call (a copy, an allocation, a Sync).
// Kernel launches return before the kernel runs, so a kernel fault
// surfaces in whatever the host does next; this error says so instead of
// blaming that call. Launch names the first launch that failed when the
// executor knows it (a failed cuLaunchKernel); a fault found only by the
// driver later names no launch: rerun with CUDA_LAUNCH_BLOCKING=1 to find
// it (scripts/gpu-check.sh --blocking).
type LaunchError struct {
	Launch string // the launch that failed, "" when unknown
	At     string // the synchronous call that reported it
	Err    error
}

func (e *LaunchError) Error() string {
	which := "an earlier kernel launch"
	if e.Launch != "" {
		which = "an earlier kernel launch (" + e.Launch + ")"
	}
	return fmt.Sprintf("cuda: %s failed, reported by %s: %v", which, e.At, e.Err)
}

// Unwrap returns the driver's (or the emulation's) error.
func (e *LaunchError) Unwrap() error { return e.Err }

// IsLaunchError reports whether err is, or wraps, a *LaunchError.
func IsLaunchError(err error) bool {
	var le *LaunchError
	return errors.As(err, &le)
}

// AsyncErrors keeps the first failure of asynchronous launches until a
// synchronous call reports it (GPU and the emulation's asynchronous mode
// share it). Safe for concurrent use.
type AsyncErrors struct {
	mu      sync.Mutex
	pending *LaunchError
}

// Keep records a failed launch (the first one wins).
func (a *AsyncErrors) Keep(l Launch, err error) {
	if err == nil {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.pending == nil {
		a.pending = &LaunchError{Launch: l.String(), Err: err}
	}
}

// KeepFault records a kernel fault the driver reported without naming
// the launch (a sticky error returned by a later call).
func (a *AsyncErrors) KeepFault(err error) {
	if err == nil {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.pending == nil {
		a.pending = &LaunchError{Err: err}
	}
}

// Report returns the pending launch failure labelled as reported by the
// call at (and clears it), or err when none is pending. When both failed,
// the launch failure is returned: it is the cause.
func (a *AsyncErrors) Report(at string, err error) error {
	a.mu.Lock()
	p := a.pending
	a.pending = nil
	a.mu.Unlock()
	if p == nil {
		return err
	}
	p.At = at
	return p
}
