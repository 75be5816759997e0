package mpi

import (
	"errors"
	"strings"
	"testing"
)

// TestLocal: one rank; collectives leave buffers alone or copy; argument
// errors are still reported.
func TestLocal(t *testing.T) {
	var c Comm = Local{}
	if c.Rank() != 0 || c.Size() != 1 || c.Available() {
		t.Errorf("Local: rank %d size %d available %v", c.Rank(), c.Size(), c.Available())
	}
	if err := c.Barrier(); err != nil {
		t.Error(err)
	}
	f := []float32{1.5, -2}
	d := []float64{3.25}
	b := []byte("xy")
	if err := c.BcastFloat32(f, 0); err != nil {
		t.Error(err)
	}
	if err := c.BcastBytes(b, 0); err != nil {
		t.Error(err)
	}
	if err := c.AllreduceSumFloat32(f); err != nil {
		t.Error(err)
	}
	if err := c.AllreduceSumFloat64(d); err != nil {
		t.Error(err)
	}
	if f[0] != 1.5 || f[1] != -2 || d[0] != 3.25 || string(b) != "xy" {
		t.Errorf("buffers changed: %v %v %q", f, d, b)
	}
	recv := make([]byte, 2)
	if err := c.Allgather(b, recv); err != nil || string(recv) != "xy" {
		t.Errorf("Allgather: %q, %v", recv, err)
	}
	if err := c.Allgather(b, make([]byte, 3)); err == nil {
		t.Error("Allgather accepted a recv of the wrong length")
	}
	for _, root := range []int{-1, 1} {
		if err := c.BcastFloat32(f, root); err == nil || !strings.Contains(err.Error(), "out of range") {
			t.Errorf("BcastFloat32 root %d: %v", root, err)
		}
		if err := c.BcastBytes(b, root); err == nil {
			t.Errorf("BcastBytes root %d accepted", root)
		}
	}
	if err := c.Abort(3); err != nil {
		t.Error(err)
	}
}

// TestWorldDefault: before Init (and always without the mpi tag) World is
// Local.
func TestWorldDefault(t *testing.T) {
	if c := World(); c.Available() || c.Size() != 1 {
		t.Errorf("World before Init: available %v size %d", c.Available(), c.Size())
	}
}

func clearLaunchEnv(t *testing.T) {
	for _, k := range []string{"OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE", "PMI_RANK", "PMI_SIZE"} {
		t.Setenv(k, "")
	}
}

func TestLaunched(t *testing.T) {
	clearLaunchEnv(t)
	if l, ok := Launched(); ok {
		t.Errorf("no launcher variables: got %+v", l)
	}
	t.Setenv("PMI_RANK", "2")
	t.Setenv("PMI_SIZE", "4")
	if l, ok := Launched(); !ok || l != (Launch{Rank: 2, Size: 4, Launcher: "PMI"}) {
		t.Errorf("PMI: got %+v %v", l, ok)
	}
	t.Setenv("OMPI_COMM_WORLD_RANK", "1")
	t.Setenv("OMPI_COMM_WORLD_SIZE", "3")
	if l, ok := Launched(); !ok || l != (Launch{Rank: 1, Size: 3, Launcher: "Open MPI"}) {
		t.Errorf("Open MPI first: got %+v %v", l, ok)
	}
	t.Setenv("OMPI_COMM_WORLD_RANK", "3") // out of range: ignored
	if l, _ := Launched(); l.Launcher != "PMI" {
		t.Errorf("rank 3 of 3 accepted: %+v", l)
	}
}

// TestInitRefusesMultiRankWithoutMPI: a binary built without the mpi tag,
// started as one of several ranks, must not train alone.
func TestInitRefusesMultiRankWithoutMPI(t *testing.T) {
	if Compiled() {
		t.Skip("MPI compiled in")
	}
	clearLaunchEnv(t)
	if err := Init(); err != nil {
		t.Fatalf("Init without launcher: %v", err)
	}
	if err := Finalize(); err != nil {
		t.Fatal(err)
	}
	t.Setenv("OMPI_COMM_WORLD_RANK", "0")
	t.Setenv("OMPI_COMM_WORLD_SIZE", "2")
	err := Init()
	if !errors.Is(err, ErrNotCompiled) || !strings.Contains(err.Error(), "rank 0 of 2") {
		t.Errorf("Init as rank 0 of 2 without MPI: %v", err)
	}
	t.Setenv("OMPI_COMM_WORLD_SIZE", "1")
	if err := Init(); err != nil {
		t.Errorf("Init as rank 0 of 1: %v", err)
	}
}

func TestErrorMessage(t *testing.T) {
	e := &Error{Op: "MPI_Allreduce", Code: 15, Class: 15, Msg: "MPI_ERR_TRUNCATE: message truncated"}
	want := "mpi: MPI_Allreduce: MPI_ERR_TRUNCATE: message truncated (code 15, class 15)"
	if e.Error() != want {
		t.Errorf("got %q, want %q", e.Error(), want)
	}
}
