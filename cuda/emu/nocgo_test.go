//go:build !cgo

package emu_test

import "testing"

func TestEmulation(t *testing.T) {
	t.Skip("cuda/emu needs cgo: the kernel emulation is not built with CGO_ENABLED=0")
}
