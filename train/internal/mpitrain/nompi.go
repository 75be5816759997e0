//go:build !mpi

// Command mpitrain needs the MPI binding: build it with -tags mpi (see
// main.go). Without the tag it only says so.
package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Fprintln(os.Stderr, "mpitrain: built without -tags mpi")
	os.Exit(2)
}
