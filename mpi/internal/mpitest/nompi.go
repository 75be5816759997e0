//go:build !mpi

// Command mpitest needs the MPI binding: build it with -tags mpi (see
// main.go). Without the tag it only says so.
package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Fprintln(os.Stderr, "mpitest: built without -tags mpi")
	os.Exit(2)
}
