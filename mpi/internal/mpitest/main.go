//go:build mpi

// Command mpitest runs the checks of package mpi that need several MPI
// ranks. It is built with -tags mpi and launched by the package's tests
// through mpirun; each rank prints "rank R ok: CHECK" lines and exits 0, or
// prints "rank R FAIL: ..." and aborts the job.
//
// Modes (-mode):
//
//	collectives  barrier, broadcasts, all-reduces, all-gather, buckets,
//	             weight broadcast, hash checks, float64 averaging, and Go's
//	             nil-pointer panic still working after MPI_Init
//	sgd          K steps of data-parallel SGD on least squares, per-rank
//	             batch B: ranks bit-identical, and equal within tolerance to
//	             one process with batch Size*B on the same data order
//	googlenet    the same on the mini GoogLeNet (batch norm and dropout off)
//	spin         every rank writes its pid to -pidfile.RANK, then all-reduces
//	             forever (the test kills one rank)
//	abort        rank 1 fails and calls Abort(3); the others block in an
//	             all-reduce
//	abortbusy    rank 1 calls Abort(5) from one goroutine while another is
//	             blocked in a barrier that rank 0, busy outside MPI,
//	             never joins
//	exit         rank 1 exits with status -code (4) without MPI_Finalize; the others
//	             block in an all-reduce
//	bench        times one step's gradient all-reduce (-floats, -iters)
package main

import (
	"flag"
	"fmt"
	"math"
	"os"
	"strconv"
	"time"

	"github.com/goinception/googlenet/mpi"
)

var (
	mode    = flag.String("mode", "collectives", "collectives, sgd, googlenet, spin, abort, abortbusy, exit or bench")
	pidfile = flag.String("pidfile", "", "spin mode: write the pid to this path + \".RANK\"")
	wantNP  = flag.Int("np", 2, "expected number of ranks")
	code    = flag.Int("code", 4, "exit mode: rank 1's exit status")
)

func main() {
	flag.Parse()
	if err := mpi.Init(); err != nil {
		fmt.Fprintln(os.Stderr, "mpitest:", err)
		os.Exit(1)
	}
	c := mpi.World()
	var err error
	switch *mode {
	case "collectives":
		err = collectives(c)
	case "sgd":
		err = sgd(c)
	case "googlenet":
		err = googlenet(c)
	case "spin":
		err = spin(c)
	case "bench":
		err = bench(c)
	case "abort":
		err = abort(c)
	case "abortbusy":
		err = abortBusy(c)
	case "exit":
		err = exit(c)
	default:
		err = fmt.Errorf("unknown mode %q", *mode)
	}
	if err != nil {
		fmt.Printf("rank %d FAIL: %v\n", c.Rank(), err)
		os.Stdout.Sync()
		c.Abort(1)
		os.Exit(1)
	}
	if err := mpi.Finalize(); err != nil {
		fmt.Printf("rank %d FAIL: %v\n", c.Rank(), err)
		os.Exit(1)
	}
}

func ok(c mpi.Comm, format string, args ...interface{}) {
	fmt.Printf("rank %d ok: %s\n", c.Rank(), fmt.Sprintf(format, args...))
}

func collectives(c mpi.Comm) error {
	r, p := c.Rank(), c.Size()
	if !c.Available() || p != *wantNP || r < 0 || r >= p {
		return fmt.Errorf("world: Available %v, rank %d, size %d, want size %d", c.Available(), r, p, *wantNP)
	}
	ok(c, "world size %d", p)
	if err := c.Barrier(); err != nil {
		return err
	}
	ok(c, "barrier")

	// Byte broadcast from the last rank.
	msg := make([]byte, 16)
	if r == p-1 {
		copy(msg, "hello from "+strconv.Itoa(p-1))
	}
	if err := c.BcastBytes(msg, p-1); err != nil {
		return err
	}
	if want := "hello from " + strconv.Itoa(p-1); string(msg[:len(want)]) != want {
		return fmt.Errorf("BcastBytes: got %q", msg)
	}
	ok(c, "bcast bytes")

	// Float broadcast from rank 0: bit patterns must arrive unchanged.
	f := make([]float32, 1000)
	for i := range f {
		if r == 0 {
			f[i] = float32(math.Sin(float64(i))) * 1e-3
		} else {
			f[i] = -1
		}
	}
	if err := c.BcastFloat32(f, 0); err != nil {
		return err
	}
	for i, v := range f {
		if math.Float32bits(v) != math.Float32bits(float32(math.Sin(float64(i)))*1e-3) {
			return fmt.Errorf("BcastFloat32: element %d is %v", i, v)
		}
	}
	ok(c, "bcast float32")

	// Sums of small integers are exact in float32 and float64.
	s32 := make([]float32, 100003) // not a multiple of any segment size
	s64 := make([]float64, 513)
	for i := range s32 {
		s32[i] = float32((r + 1) * (i % 7))
	}
	for i := range s64 {
		s64[i] = float64((r + 1) * i)
	}
	if err := c.AllreduceSumFloat32(s32); err != nil {
		return err
	}
	if err := c.AllreduceSumFloat64(s64); err != nil {
		return err
	}
	tri := p * (p + 1) / 2
	for i, v := range s32 {
		if v != float32(tri*(i%7)) { // exact: integers below 2^24
			return fmt.Errorf("AllreduceSumFloat32: element %d is %v, want %d", i, v, tri*(i%7))
		}
	}
	for i, v := range s64 {
		if v != float64(tri*i) {
			return fmt.Errorf("AllreduceSumFloat64: element %d is %v, want %d", i, v, tri*i)
		}
	}
	ok(c, "allreduce sum float32 and float64")

	recv := make([]byte, 3*p)
	if err := c.Allgather([]byte{byte(r), byte(2 * r), 7}, recv); err != nil {
		return err
	}
	for q := 0; q < p; q++ {
		if recv[3*q] != byte(q) || recv[3*q+1] != byte(2*q) || recv[3*q+2] != 7 {
			return fmt.Errorf("Allgather: got %v", recv)
		}
	}
	ok(c, "allgather")

	// Buckets: three buckets of at most 40 bytes for slices of 3, 7, 2, 12
	// floats; rank r's gradient element is (r+1)*(i+1)*k, the mean is
	// (p+1)/2*(i+1)*k, exact for p=2 (divisions by 2).
	names := []string{"a/w", "a/b", "b/w", "fc/w"}
	lens := []int{3, 7, 2, 12}
	b, err := mpi.NewBuckets(names, lens, 40)
	if err != nil {
		return err
	}
	if err := b.CheckLayout(c); err != nil {
		return err
	}
	grads := make([][]float32, len(lens))
	for k, n := range lens {
		grads[k] = make([]float32, n)
		for i := range grads[k] {
			grads[k][i] = float32((r + 1) * (i + 1) * (k + 1))
		}
	}
	if err := b.AllreduceMean(c, grads); err != nil {
		return err
	}
	for k := range grads {
		for i, v := range grads[k] {
			want := float32(float64(p+1) / 2 * float64((i+1)*(k+1)))
			if math.Abs(float64(v-want)) > 1e-6*math.Abs(float64(want)) {
				return fmt.Errorf("AllreduceMean: %s[%d] = %v, want %v", names[k], i, v, want)
			}
		}
	}
	ok(c, "bucketed allreduce mean over %d buckets", b.Len())

	// A rank with another layout is detected, on every rank.
	other := names
	if r == 1 {
		other = []string{"a/w", "a/b", "b/w", "fc/W"}
	}
	ob, err := mpi.NewBuckets(other, lens, 40)
	if err != nil {
		return err
	}
	if err := ob.CheckLayout(c); err == nil {
		return fmt.Errorf("CheckLayout: a different layout on rank 1 went unnoticed")
	}
	ok(c, "layout mismatch detected")

	// Weights: rank 0's initial values reach everyone, then the hash check
	// passes; a one-ulp change on the last rank makes it fail everywhere.
	weights := make([][]float32, len(lens))
	for k, n := range lens {
		weights[k] = make([]float32, n)
		for i := range weights[k] {
			weights[k][i] = float32(r*1000 + k*10 + i)
		}
	}
	if err := b.Broadcast(c, 0, weights); err != nil {
		return err
	}
	for k := range weights {
		for i, v := range weights[k] {
			if v != float32(k*10+i) {
				return fmt.Errorf("Broadcast: %s[%d] = %v", names[k], i, v)
			}
		}
	}
	if err := mpi.CheckIdentical(c, "weights after broadcast", weights...); err != nil {
		return err
	}
	if r == p-1 {
		weights[3][5] = math.Nextafter32(weights[3][5], 100)
	}
	if err := mpi.CheckIdentical(c, "weights after a one-ulp change", weights...); err == nil {
		return fmt.Errorf("CheckIdentical: a one-ulp difference went unnoticed")
	}
	ok(c, "weight broadcast and identity check")

	// Batch-norm statistics: averaged over ranks.
	mean := []float64{float64(r), 1}
	variance := []float64{float64(2 * r), 3, 4}
	if err := mpi.AverageFloat64s(c, [][]float64{mean, variance}); err != nil {
		return err
	}
	avg := float64(p-1) / 2
	if math.Abs(mean[0]-avg) > 1e-12 || mean[1] != 1 || math.Abs(variance[0]-2*avg) > 1e-12 || variance[1] != 3 || variance[2] != 4 {
		return fmt.Errorf("AverageFloat64s: mean %v var %v", mean, variance)
	}
	ok(c, "float64 averaging")

	// Go's own SIGSEGV handling must survive MPI_Init.
	if err := nilDeref(); err == nil {
		return fmt.Errorf("nil dereference did not panic")
	}
	ok(c, "nil dereference is still a Go panic")
	return c.Barrier()
}

func nilDeref() (err error) {
	defer func() {
		if e := recover(); e != nil {
			err = fmt.Errorf("%v", e)
		}
	}()
	var p *[4]float32
	_ = p[1]
	return nil
}

func writePid(c mpi.Comm) error {
	if *pidfile == "" {
		return nil
	}
	path := fmt.Sprintf("%s.%d", *pidfile, c.Rank())
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(strconv.Itoa(os.Getpid())), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// spin all-reduces until killed.
func spin(c mpi.Comm) error {
	if err := writePid(c); err != nil {
		return err
	}
	buf := make([]float32, 1<<16)
	for {
		if err := c.AllreduceSumFloat32(buf); err != nil {
			return err
		}
		time.Sleep(time.Millisecond)
	}
}

// abort: rank 1 fails the way a trainer should, the others wait in a
// collective that will never complete.
func abort(c mpi.Comm) error {
	if c.Rank() == 1 {
		time.Sleep(200 * time.Millisecond)
		fmt.Printf("rank %d: simulated failure, calling Abort(3)\n", c.Rank())
		os.Stdout.Sync()
		c.Abort(3)
		return fmt.Errorf("Abort returned")
	}
	buf := make([]float32, 10)
	err := c.AllreduceSumFloat32(buf)
	return fmt.Errorf("all-reduce with an aborted rank returned (err %v)", err)
}

// abortBusy: Abort must work while this rank's MPI thread is blocked in a
// collective (a watchdog or a failing goroutine beside a stuck step), and
// must end a rank that is busy outside MPI.
func abortBusy(c mpi.Comm) error {
	if c.Rank() == 1 {
		go c.Barrier()
		time.Sleep(300 * time.Millisecond)
		fmt.Printf("rank %d: calling Abort(5) while the MPI thread waits in a barrier\n", c.Rank())
		os.Stdout.Sync()
		c.Abort(5)
		return fmt.Errorf("Abort returned")
	}
	time.Sleep(45 * time.Second) // "computing"
	return fmt.Errorf("rank 0 outlived an aborted job by 45 s")
}

// exit: rank 1 leaves without MPI_Finalize.
func exit(c mpi.Comm) error {
	if c.Rank() == 1 {
		time.Sleep(200 * time.Millisecond)
		fmt.Printf("rank %d: exiting with status %d without MPI_Finalize\n", c.Rank(), *code)
		os.Stdout.Sync()
		os.Exit(*code)
	}
	buf := make([]float32, 10)
	err := c.AllreduceSumFloat32(buf)
	return fmt.Errorf("all-reduce with an exited rank returned (err %v)", err)
}
