//go:build mpi

package mpi

import (
	"errors"
	"strings"
	"testing"
)

// TestErrorFromCode checks that MPI return codes become *Error values that
// carry MPI's own message and class.
// It initialises MPI as a singleton (Open MPI forbids MPI_Error_string
// before MPI_Init) and finalises it at the end.
func TestErrorFromCode(t *testing.T) {
	if err := Init(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := Finalize(); err != nil {
			t.Error(err)
		}
		if World().Available() {
			t.Error("World is still MPI after Finalize")
		}
		if err := Init(); err == nil {
			t.Error("Init after Finalize succeeded")
		}
	}()
	if c := World(); !c.Available() || c.Size() != 1 || c.Rank() != 0 {
		t.Errorf("singleton world: Available %v Size %d Rank %d", c.Available(), c.Size(), c.Rank())
	}
	var x []float32
	if err := World().AllreduceSumFloat32(x); err != nil {
		t.Errorf("empty all-reduce: %v", err)
	}
	err := errorFromCode("MPI_Bcast", errCount)
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("got %T %v, want *Error", err, err)
	}
	if e.Code != errCount || e.Class != errCount || e.Op != "MPI_Bcast" {
		t.Errorf("got %+v, want code and class %d", e, errCount)
	}
	if !strings.Contains(strings.ToLower(e.Msg), "count") {
		t.Errorf("message %q does not mention the count", e.Msg)
	}
	if !Compiled() {
		t.Error("Compiled() is false in the mpi build")
	}
}
